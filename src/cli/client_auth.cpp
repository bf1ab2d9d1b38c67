#include "cli/client_auth.h"

#include <pwd.h>
#include <unistd.h>

#include <sys/stat.h>
#include <cerrno>
#include <cstdlib>

#include "api/tls_socket.h"
#include "api/token_file.h"
#include "core/input_error.h"

namespace zs::cli {
namespace {

std::string& token_file_flag() {
  static std::string path;
  return path;
}

std::string home_dir() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_dir;
  return "";
}

}  // namespace

void add_token_file_option(CLI::App* cmd) {
  cmd->add_option("--token-file", token_file_flag(),
                  "File holding your API token (default $ZS_TOKEN, else ~/.config/zs/token)");
  cmd->add_option_function<std::string>(
      "--ca-file", [](const std::string& path) { tls::set_client_ca_file(path); },
      "CA certificates (PEM) to verify an https:// controller with (default $ZS_CA_FILE, else "
      "the system's CA store)");
}

void set_token_file(const std::string& path) {
  token_file_flag() = path;
}

std::string default_token_path() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg && xdg[0] == '/')
    return std::string(xdg) + "/zs/token";
  const std::string home = home_dir();
  return home.empty() ? "" : home + "/.config/zs/token";
}

std::string configured_token() {
  if (!token_file_flag().empty()) return read_token_file(token_file_flag(), "--token-file");
  if (const char* env = std::getenv("ZS_TOKEN"); env && *env) return env;
  const std::string path = default_token_path();
  struct stat st {};
  if (path.empty() || ::lstat(path.c_str(), &st) != 0) return "";  // none: the server says 401
  return read_token_file(path, path);
}

ApiClient controller_client(const std::string& url_flag, int timeout_ms) {
  ApiClient client(default_controller_url(url_flag), timeout_ms);
  if (std::string token = configured_token(); !token.empty()) {
    try {
      client.set_token(token);
    } catch (const InputError&) {
      throw InputError("token",
                       "the configured token is not one word of printable characters "
                       "(check --token-file, $ZS_TOKEN or " +
                           default_token_path() + ")");
    }
  }
  return client;
}

}  // namespace zs::cli
