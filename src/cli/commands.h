// Subcommands of `zs`. Each registers itself on the CLI11 app; the returned callback runs it.
#pragma once
#include <CLI/CLI.hpp>

#include "api/api_error.h"

namespace zs::cli {

// Exit codes: 0 ok, 1 runtime failure, 2 bad input (flags, files), 70 internal error.
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInternal = 70;

// Prints an API error; returns 2 for a rejected request (4xx), 1 otherwise (unreachable, 5xx).
int report_api_error(const ApiError& e);

void register_sim(CLI::App& app, int& exit_code);
void register_bench(CLI::App& app, int& exit_code);
void register_bench_submit(CLI::App& bench, int& exit_code);
void register_catalog(CLI::App& app, int& exit_code);
void register_controller(CLI::App& app, int& exit_code);
void register_agent(CLI::App& app, int& exit_code);
void register_submit(CLI::App& app, int& exit_code);
int run_submit(const std::vector<std::string>& words);  // `zs submit ...` (not via CLI11)
int run_srun(const std::vector<std::string>& words);    // `zs srun ...`, inside a job
void register_queue(CLI::App& app, int& exit_code);
void register_job(CLI::App& app, int& exit_code);
void register_cancel(CLI::App& app, int& exit_code);
void register_hold(CLI::App& app, int& exit_code);  // zs hold, zs release
void register_logs(CLI::App& app, int& exit_code);
void register_nodes(CLI::App& app, int& exit_code);
void register_usage(CLI::App& app, int& exit_code);  // zs usage (accounting)
void register_up(CLI::App& app, int& exit_code);
void register_admin(CLI::App& app, int& exit_code);  // zs admin tenant|user|token|node-token
void register_admin_shares(CLI::App* admin, int& exit_code);  // zs admin apply|shares
void register_login(CLI::App& app, int& exit_code);
void register_whoami(CLI::App& app, int& exit_code);

}  // namespace zs::cli
