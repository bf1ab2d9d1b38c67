// How the CLI reaches the controller as someone (issue 15): the controller URL (--controller,
// $ZS_CONTROLLER, http://127.0.0.1:7070) and the token, from --token-file, else $ZS_TOKEN, else
// ~/.config/zs/token (written by `zs login`). A token file others may read is refused, with
// the chmod that fixes it.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "api/http_client.h"

namespace zs::cli {

// Adds --token-file and --ca-file to a subcommand (one setting each for the whole process; the
// CA file is tls::set_client_ca_file's).
void add_token_file_option(CLI::App* cmd);
// The same for commands that parse their own words (zs submit).
void set_token_file(const std::string& path);

// The token to send: "" when none is configured (a controller run with --insecure-no-auth).
// Throws InputError for a token file that cannot be used.
std::string configured_token();
// ~/.config/zs/token ($XDG_CONFIG_HOME/zs/token when set).
std::string default_token_path();

// A client of the controller at `url_flag` (or the default), with the configured token.
ApiClient controller_client(const std::string& url_flag, int timeout_ms = 30'000);

}  // namespace zs::cli
