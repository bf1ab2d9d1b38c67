// Subcommands of `zs`. Each registers itself on the CLI11 app; the returned callback runs it.
#pragma once
#include <CLI/CLI.hpp>

namespace zs::cli {

// Exit codes: 0 ok, 1 runtime failure, 2 bad input (flags, files), 70 internal error.
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInternal = 70;

void register_sim(CLI::App& app, int& exit_code);
void register_bench(CLI::App& app, int& exit_code);
void register_catalog(CLI::App& app, int& exit_code);

}  // namespace zs::cli
