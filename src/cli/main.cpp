// zs: the Zhisuan command. Subcommands live in cmd_*.cpp.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "cli/commands.h"
#include "core/input_error.h"
#include "core/text.h"
#include "store/store.h"

namespace {

// Runs a command; what it throws becomes a message and an exit code (2 = bad input).
template <class F>
int guarded(F&& run) {
  try {
    return run();
  } catch (const CLI::ParseError&) {
    throw;  // CLI11 prints its own usage message
  } catch (const zs::ApiError& e) {
    return zs::cli::report_api_error(e);
  } catch (const zs::InputError& e) {
    std::fprintf(stderr, "zs: error: %s\n", zs::terminal_safe(e.what()).c_str());
    return zs::cli::kExitBadInput;
  } catch (const zs::StoreError& e) {  // e.g. the state database is in use or unreadable
    std::fprintf(stderr, "zs: error: %s\n", zs::terminal_safe(e.what()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zs: internal error: %s\n", zs::terminal_safe(e.what()).c_str());
    return zs::cli::kExitInternal;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // `zs submit` first, before building the CLI11 app: it is the command scripts call thousands
  // of times, and it parses sbatch's grammar itself.
  if (argc >= 2 && std::string_view(argv[1]) == "submit")
    return guarded([&] { return zs::cli::run_submit({argv + 2, argv + argc}); });
  // `srun` in job scripts: its options and the command's own must reach it untouched.
  if (argc >= 2 && std::string_view(argv[1]) == "srun")
    return guarded([&] { return zs::cli::run_srun({argv + 2, argv + argc}); });

  CLI::App app{"Zhisuan (智算): resource manager and scheduler for AI computing centers", "zs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "zs 0.1.0");
  int exit_code = 0;
  zs::cli::register_sim(app, exit_code);
  zs::cli::register_bench(app, exit_code);
  zs::cli::register_catalog(app, exit_code);
  zs::cli::register_controller(app, exit_code);
  zs::cli::register_agent(app, exit_code);
  zs::cli::register_submit(app, exit_code);
  zs::cli::register_queue(app, exit_code);
  zs::cli::register_job(app, exit_code);
  zs::cli::register_cancel(app, exit_code);
  zs::cli::register_hold(app, exit_code);
  zs::cli::register_logs(app, exit_code);
  zs::cli::register_nodes(app, exit_code);
  zs::cli::register_usage(app, exit_code);
  zs::cli::register_up(app, exit_code);
  zs::cli::register_admin(app, exit_code);
  zs::cli::register_login(app, exit_code);
  zs::cli::register_whoami(app, exit_code);
  try {
    return guarded([&] {
      app.parse(argc, argv);
      return exit_code;
    });
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : zs::cli::kExitBadInput;
  }
}
