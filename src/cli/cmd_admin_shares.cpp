// zs admin apply FILE and zs admin shares: the tenants' shares of a live controller
// (docs/tenants.md), over /api/v1/shares. The file is read here and parsed by the controller,
// so that errors name the file as the user gave it and the check is against the real cluster.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/client_auth.h"
#include "cli/commands.h"
#include "core/input_error.h"
#include "core/text.h"
#include "sim/tenants_file.h"

namespace zs::cli {
namespace {

using nlohmann::json;

// The file's text ("-": standard input), at most what a tenants file may hold. Only a regular
// file is read: a FIFO or a device would block or never end.
std::string read_tenants_text(const std::string& path) {
  std::string text;
  if (path == "-") {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
      text.append(buf, n);
      if (text.size() > kMaxTenantsFileBytes) break;
    }
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      throw InputError(path, "cannot read the file (no such file?)");
    if (!S_ISREG(st.st_mode)) throw InputError(path, "not a regular file");
    if (static_cast<std::size_t>(st.st_size) > kMaxTenantsFileBytes)
      throw InputError(path, "larger than a tenants file may be (16 MiB)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "cannot read the file");
    std::ostringstream all;
    all << in.rdbuf();
    text = all.str();
  }
  if (text.size() > kMaxTenantsFileBytes)
    throw InputError(path, "larger than a tenants file may be (16 MiB)");
  return text;
}

std::string listed(const json& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n.get<std::string>();
  return terminal_safe(out);
}

}  // namespace

void register_admin_shares(CLI::App* admin, int& exit_code) {
  struct Flags {
    std::string controller, file;
    bool json = false, dry_run = false;
  };
  auto f = std::make_shared<Flags>();
  auto* apply = admin->add_subcommand(
      "apply",
      "Apply a tenants file (quotas, weights, prices; docs/tenants.md), like kubectl apply");
  apply->add_option("file", f->file, "The tenants file ('-' reads standard input)")->required();
  apply->add_option("--controller", f->controller, "Controller URL");
  add_token_file_option(apply);
  apply->add_flag("--dry-run", f->dry_run,
                  "Check the file and say what would change; change nothing");
  apply->add_flag("--json", f->json, "JSON for scripts");
  apply->callback([f, &exit_code] {
    const std::string text = read_tenants_text(f->file);
    json answer = controller_client(f->controller)
                      .post("/api/v1/shares", json{{"yaml", text},
                                                   {"source", f->file == "-" ? "<stdin>" : f->file},
                                                   {"dry_run", f->dry_run}});
    exit_code = 0;
    if (f->json) {
      std::printf("%s\n", answer.dump(2).c_str());
      return;
    }
    auto line = [&](const char* done, const char* to_do, const json& names) {
      if (!names.empty()) std::printf("%s: %s\n", f->dry_run ? to_do : done, listed(names).c_str());
    };
    std::printf("%s %s\n", terminal_safe(f->file).c_str(),
                f->dry_run ? "checked (dry run: nothing changed)" : "applied");
    line("tenants added", "tenants to add", answer.at("added"));
    line("tenants changed", "tenants to change", answer.at("changed"));
    line("tenants unchanged", "tenants unchanged", answer.at("unchanged"));
    line("tenants created", "tenants to create", answer.at("created_tenants"));
    if (answer.value("settings_changed", false))
      std::printf("settings (default, prices, fair share, preemption) %s\n",
                  f->dry_run ? "would change" : "changed");
    for (const auto& w : answer.at("warnings"))
      std::printf("warning: %s\n", terminal_safe(w.get<std::string>()).c_str());
  });

  auto show = std::make_shared<Flags>();
  auto* shares = admin->add_subcommand(
      "shares", "Print the tenants' shares the controller enforces (a tenants file)");
  shares->add_option("--controller", show->controller, "Controller URL");
  add_token_file_option(shares);
  shares->add_flag("--json", show->json, "JSON for scripts");
  shares->callback([show, &exit_code] {
    json answer = controller_client(show->controller).get("/api/v1/shares");
    exit_code = 0;
    if (show->json) {
      std::printf("%s\n", answer.dump(2).c_str());
      return;
    }
    if (!answer.value("enabled", false)) {
      std::printf("# no tenants' shares: every tenant may use any idle device (zs admin apply)\n");
      return;
    }
    for (const auto& s : answer.at("shortfall"))
      std::printf("# shortfall: %s\n", terminal_safe(s.get<std::string>()).c_str());
    std::fputs(answer.at("yaml").get<std::string>().c_str(), stdout);
  });
}

}  // namespace zs::cli
