// zs catalog: lists the accelerator types the catalog knows (names usable in clusters/traces).
#include <fmt/format.h>

#include <string>

#include "cli/commands.h"
#include "core/accelerator.h"

namespace zs::cli {

void register_catalog(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("catalog", "List the accelerator types of the built-in catalog");
  cmd->callback([&exit_code] {
    const Catalog& c = Catalog::builtin();
    fmt::print("{:<38} {:<16} {:>8} {:>10} {:<28} {}\n", "model", "vendor", "mem GiB", "bf16 TF",
               "visible-devices env", "aliases");
    for (TypeId t = 0; t < c.size(); ++t) {
      const auto& a = c.type(t);
      std::string aliases;
      for (const auto& x : a.aliases) aliases += (aliases.empty() ? "" : ", ") + x;
      auto num = [](const std::optional<double>& v) {
        return v ? fmt::format("{:g}", *v) : std::string("-");
      };
      fmt::print("{:<38} {:<16} {:>8} {:>10} {:<28} {}\n", a.model, a.vendor, num(a.memory_gib),
                 num(a.bf16_tflops ? a.bf16_tflops : a.fp16_tflops), a.visible_devices_env,
                 aliases);
    }
    exit_code = 0;
  });
}

}  // namespace zs::cli
