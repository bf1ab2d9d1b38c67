// zs admin: tenants, users, tokens and node credentials (issue 15), over /api/v1/{tenants,
// users,tokens}; and zs login, which keeps a token in ~/.config/zs/token. A created token is
// printed alone on stdout, so that `zs admin node-token create n1 > n1.token` makes the file.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "api/token_file.h"
#include "cli/client_auth.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "core/input_error.h"

namespace zs::cli {
namespace {

using nlohmann::json;

struct Common {
  std::string controller;
  bool json = false;
};

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("--controller", c.controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_flag("--json", c.json, "JSON for scripts");
}

// "30d", "12h", "90m", "3600s": a lifetime in seconds.
long long parse_lifetime(const std::string& text) {
  long long n = 0;
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && n < 1'000'000'000)
    n = n * 10 + (text[i++] - '0');
  const std::string unit = text.substr(i);
  const long long scale = unit == "s"                   ? 1
                          : unit == "m"                 ? 60
                          : unit == "h"                 ? 3600
                          : unit == "d" || unit.empty() ? 86'400
                          : unit == "w"                 ? 7 * 86'400
                                                        : 0;
  if (i == 0 || scale == 0 || n <= 0 || n * scale > 100LL * 365 * 86'400)
    throw InputError("--expires",
                     "expected a lifetime like 30d, 12h, 90m or 3600s (up to 100 "
                     "years), got '" +
                         text + "'");
  return n * scale;
}

std::string when(long long ms) {
  return ms == 0 ? "-" : local_time_text(ms);
}

std::string joined(const json& list) {
  std::string out;
  for (const auto& x : list) out += (out.empty() ? "" : ",") + x.get<std::string>();
  return out.empty() ? "-" : out;
}

void print_json(const json& j) {
  std::printf("%s\n", j.dump(2).c_str());
}

void register_tenant(CLI::App* admin, int& exit_code) {
  auto c = std::make_shared<Common>();
  auto name = std::make_shared<std::string>();
  auto* tenant = admin->add_subcommand("tenant", "Tenants: who pays (sbatch -A)");
  tenant->require_subcommand(1);
  auto* create = tenant->add_subcommand("create", "Create a tenant");
  create->add_option("name", *name, "Tenant name")->required();
  add_common(create, *c);
  create->callback([=, &exit_code] {
    json out = controller_client(c->controller).post("/api/v1/tenants", json{{"name", *name}});
    if (c->json)
      print_json(out);
    else
      std::printf("tenant %s created\n", terminal_safe(*name).c_str());
    exit_code = 0;
  });
  auto* list = tenant->add_subcommand("list", "List tenants");
  add_common(list, *c);
  list->callback([=, &exit_code] {
    json out = controller_client(c->controller).get("/api/v1/tenants");
    if (c->json) {
      print_json(out);
    } else {
      Table t({"TENANT", "CREATED"});
      for (const auto& x : out.at("tenants"))
        t.add({x.at("name").get<std::string>(), when(x.at("created_ms").get<long long>())});
      t.print();
    }
    exit_code = 0;
  });
  auto* del = tenant->add_subcommand("delete", "Delete a tenant (no user may belong to it)");
  del->add_option("name", *name, "Tenant name")->required();
  add_common(del, *c);
  del->callback([=, &exit_code] {
    controller_client(c->controller).del("/api/v1/tenants/" + *name);
    std::printf("tenant %s deleted\n", terminal_safe(*name).c_str());
    exit_code = 0;
  });
}

void register_user(CLI::App* admin, int& exit_code) {
  struct Flags : Common {
    std::string name, role, unix_user;
    std::vector<std::string> tenants;
  };
  auto f = std::make_shared<Flags>();
  auto* user = admin->add_subcommand("user", "Users: who submits, and with which role");
  user->require_subcommand(1);
  auto* create = user->add_subcommand("create", "Create a user");
  create->add_option("name", f->name, "User name")->required();
  create->add_option("--tenant", f->tenants,
                     "A tenant it belongs to (repeat for several; the first is its default)");
  create->add_option("--role", f->role, "viewer, member, tenant-admin, operator or cluster-admin")
      ->required();
  create->add_option("--unix-user", f->unix_user,
                     "The Unix account its jobs run as (default: its name; root only if named)");
  add_common(create, *f);
  create->callback([f, &exit_code] {
    json body{{"name", f->name}, {"role", f->role}, {"tenants", f->tenants}};
    if (!f->unix_user.empty()) body["unix_user"] = f->unix_user;
    json out = controller_client(f->controller).post("/api/v1/users", body);
    if (f->json) {
      print_json(out);
    } else {
      const json& u = out.at("user");
      std::printf("user %s created: %s of %s, jobs run as Unix user %s\n",
                  terminal_safe(u.at("name").get<std::string>()).c_str(),
                  u.at("role").get<std::string>().c_str(),
                  terminal_safe(joined(u.at("tenants"))).c_str(),
                  terminal_safe(u.at("unix_user").get<std::string>()).c_str());
    }
    exit_code = 0;
  });
  auto* update = user->add_subcommand(
      "update", "Change a user's role, tenants or Unix user (its tokens stay valid)");
  update->add_option("name", f->name, "User name")->required();
  update->add_option("--tenant", f->tenants,
                     "Its tenants from now on (repeat; the first is the "
                     "default)");
  update->add_option("--role", f->role, "Its role from now on");
  update->add_option("--unix-user", f->unix_user, "The Unix account its jobs run as");
  add_common(update, *f);
  update->callback([f, update, &exit_code] {
    json body = json::object();
    if (!f->role.empty()) body["role"] = f->role;
    if (update->count("--tenant") > 0) body["tenants"] = f->tenants;
    if (update->count("--unix-user") > 0) body["unix_user"] = f->unix_user;
    if (body.empty())
      throw InputError("update", "nothing to change: give --role, --tenant or --unix-user");
    json out = controller_client(f->controller).patch("/api/v1/users/" + f->name, body);
    if (f->json) {
      print_json(out);
    } else {
      const json& u = out.at("user");
      std::printf("user %s: %s of %s, jobs run as Unix user %s\n",
                  terminal_safe(u.at("name").get<std::string>()).c_str(),
                  u.at("role").get<std::string>().c_str(),
                  terminal_safe(joined(u.at("tenants"))).c_str(),
                  terminal_safe(u.at("unix_user").get<std::string>()).c_str());
    }
    exit_code = 0;
  });
  auto* list = user->add_subcommand("list", "List users");
  add_common(list, *f);
  list->callback([f, &exit_code] {
    json out = controller_client(f->controller).get("/api/v1/users");
    if (f->json) {
      print_json(out);
    } else {
      Table t({"USER", "ROLE", "TENANTS", "UNIX_USER", "CREATED"});
      for (const auto& u : out.at("users"))
        t.add({u.at("name").get<std::string>(), u.at("role").get<std::string>(),
               joined(u.at("tenants")), u.at("unix_user").get<std::string>(),
               when(u.at("created_ms").get<long long>())});
      t.print();
    }
    exit_code = 0;
  });
  auto* del = user->add_subcommand("delete", "Delete a user and revoke its tokens");
  del->add_option("name", f->name, "User name")->required();
  add_common(del, *f);
  del->callback([f, &exit_code] {
    controller_client(f->controller).del("/api/v1/users/" + f->name);
    std::printf("user %s deleted; its tokens are revoked\n", terminal_safe(f->name).c_str());
    exit_code = 0;
  });
}

// Prints the new token alone (stdout is often redirected to the token file).
void create_token(const Common& c, json body, const std::string& expires) {
  if (!expires.empty()) body["expires_in_s"] = parse_lifetime(expires);
  json out = controller_client(c.controller).post("/api/v1/tokens", body);
  if (c.json) {
    print_json(out);
    return;
  }
  std::printf("%s\n", out.at("token").at("token").get<std::string>().c_str());
  std::fflush(stdout);
  if (::isatty(STDOUT_FILENO))
    std::fprintf(stderr,
                 "(token %s: shown once, keep it private; the controller keeps only a "
                 "hash)\n",
                 out.at("token").at("id").get<std::string>().c_str());
}

void register_token(CLI::App* admin, int& exit_code) {
  struct Flags : Common {
    std::string user, id, expires;
  };
  auto f = std::make_shared<Flags>();
  auto* token = admin->add_subcommand("token", "API tokens of users");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Create a token for a user (printed once)");
  create->add_option("--user", f->user, "Whose token")->required();
  create->add_option("--expires", f->expires, "Lifetime, e.g. 30d, 12h (default: none)");
  add_common(create, *f);
  create->callback([f, &exit_code] {
    create_token(*f, json{{"user", f->user}}, f->expires);
    exit_code = 0;
  });
  auto* list = token->add_subcommand("list", "List tokens (ids, never the secrets)");
  add_common(list, *f);
  list->callback([f, &exit_code] {
    json out = controller_client(f->controller).get("/api/v1/tokens");
    if (f->json) {
      print_json(out);
    } else {
      Table t({"ID", "KIND", "FOR", "CREATED", "EXPIRES", "REVOKED"});
      for (const auto& x : out.at("tokens"))
        t.add({x.at("id").get<std::string>(), x.at("kind").get<std::string>(),
               x.at("subject").get<std::string>(), when(x.at("created_ms").get<long long>()),
               when(x.at("expires_ms").get<long long>()),
               when(x.at("revoked_ms").get<long long>())});
      t.print();
    }
    exit_code = 0;
  });
  auto* revoke = token->add_subcommand("revoke", "Revoke a token (at once)");
  revoke->add_option("id", f->id, "Token id (zs admin token list)")->required();
  add_common(revoke, *f);
  revoke->callback([f, &exit_code] {
    controller_client(f->controller).post("/api/v1/tokens/" + f->id + "/revoke", json::object());
    std::printf("token %s revoked\n", terminal_safe(f->id).c_str());
    exit_code = 0;
  });

  auto g = std::make_shared<Flags>();
  auto* node = admin->add_subcommand("node-token", "Credentials of agents, bound to a node");
  node->require_subcommand(1);
  auto* node_create = node->add_subcommand(
      "create", "Print a credential for node NAME (zs agent --name NAME --token-file F)");
  node_create->add_option("name", g->user, "Node name")->required();
  node_create->add_option("--expires", g->expires, "Lifetime, e.g. 365d (default: none)");
  add_common(node_create, *g);
  node_create->callback([g, &exit_code] {
    create_token(*g, json{{"node", g->user}}, g->expires);
    exit_code = 0;
  });
}

}  // namespace

void register_admin(CLI::App& app, int& exit_code) {
  auto* admin = app.add_subcommand("admin", "Tenants, users, tokens and node credentials");
  admin->require_subcommand(1);
  register_tenant(admin, exit_code);
  register_user(admin, exit_code);
  register_token(admin, exit_code);
  register_admin_shares(admin, exit_code);
}

void register_whoami(CLI::App& app, int& exit_code) {
  auto c = std::make_shared<Common>();
  auto* cmd = app.add_subcommand("whoami", "Who the controller takes you for (your token's user)");
  add_common(cmd, *c);
  cmd->callback([c, &exit_code] {
    json me = controller_client(c->controller).get("/api/v1/whoami");
    if (c->json) {
      print_json(me);
    } else if (me.value("kind", "") == "node") {
      std::printf("node %s (a node credential)\n",
                  terminal_safe(me.at("name").get<std::string>()).c_str());
    } else {
      std::printf("%s: %s of %s, jobs run as Unix user %s\n",
                  terminal_safe(me.at("name").get<std::string>()).c_str(),
                  me.at("role").get<std::string>().c_str(),
                  terminal_safe(joined(me.at("tenants"))).c_str(),
                  terminal_safe(me.at("unix_user").get<std::string>()).c_str());
    }
    exit_code = 0;
  });
}

void register_login(CLI::App& app, int& exit_code) {
  auto controller = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "login",
      "Keep a token for later commands in ~/.config/zs/token (from --token-file, $ZS_TOKEN, "
      "or standard input)");
  cmd->add_option("--controller", *controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->callback([controller, &exit_code] {
    std::string token;
    const std::string configured = configured_token();
    const std::string path = default_token_path();
    if (path.empty()) throw InputError("login", "no home directory to keep the token in");
    if (!configured.empty()) {
      token = configured;
    } else {
      if (::isatty(STDIN_FILENO)) std::fprintf(stderr, "Token: ");
      // One short line: a token is 64 characters; anything past 4 KiB is not one.
      for (int c; token.size() <= 4096 && (c = std::getchar()) != EOF && c != '\n';)
        token += static_cast<char>(c);
      while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
      if (token.empty() || token.size() > 4096)
        throw InputError("login", "no token given (pipe one line in, or use --token-file)");
    }
    ApiClient client = controller_client(*controller);
    client.set_token(token);
    json me = client.get("/api/v1/whoami");
    write_token_file(path, token, "login");
    std::printf("logged in as %s (%s) at %s; token kept in %s\n",
                terminal_safe(me.at("name").get<std::string>()).c_str(),
                me.value("role", me.value("kind", "")).c_str(), client.base_url().c_str(),
                path.c_str());
    exit_code = 0;
  });
}

}  // namespace zs::cli
