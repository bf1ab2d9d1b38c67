// zs usage: accounting reports (like sreport/sacct), from GET /api/v1/usage. The window and
// the names are resolved by the controller, so that "now" is its clock and a user sees the
// tenants its role allows.
#include <cstdio>

#include "api/http_client.h"
#include "cli/client_auth.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "cli/url_encode.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs::cli {

namespace {

using nlohmann::json;

// Milli-units as a decimal with three places, exactly (no float rounding on a bill).
std::string money(std::int64_t milli) {
  const bool negative = milli < 0;
  const std::uint64_t m = negative ? 0 - static_cast<std::uint64_t>(milli) : milli;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%03llu", negative ? "-" : "",
                static_cast<unsigned long long>(m / 1000),
                static_cast<unsigned long long>(m % 1000));
  return buf;
}

std::string hours(const json& row) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.3f", row.value("accel_ms", std::int64_t{0}) / 3.6e6);
  return buf;
}

// A CSV cell: quoted when it holds a comma, a quote or a line break (names are anyone's text).
std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

std::string cell(const json& row, const std::string& key) {
  auto it = row.find(key);
  if (it == row.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

void register_usage(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string controller, account, user, start, end, by = "tenant";
    bool json = false, csv = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand(
      "usage", "Accounting: accelerator-hours and cost by tenant, user, type, day or job");
  cmd->add_option("--controller", f->controller, "Controller URL");
  add_token_file_option(cmd);
  cmd->add_option("-A,--account", f->account, "Only these tenants (comma list)");
  cmd->add_option("-u,--user", f->user, "Only these users (comma list)");
  cmd->add_option("-S,--starttime", f->start,
                  "Start of the report (UTC): YYYY-MM, YYYY-MM-DD[THH:MM[:SS]], now-7days, "
                  "today, yesterday, @SECONDS; default: the first day of this month");
  cmd->add_option("-E,--endtime", f->end,
                  "End of the report (exclusive, same forms); default: now");
  cmd->add_option("--by", f->by, "Rows by tenant (default), user, type, day or job");
  cmd->add_flag("--json", f->json, "JSON for scripts");
  cmd->add_flag("--csv", f->csv, "CSV, one row per group, no total (for pandas)");
  cmd->callback([f, &exit_code] {
    if (f->json && f->csv) throw InputError("--csv", "choose --json or --csv, not both");
    std::string q = "?by=" + url_encode(f->by);
    if (!f->account.empty()) q += "&account=" + url_encode(f->account);
    if (!f->user.empty()) q += "&user=" + url_encode(f->user);
    if (!f->start.empty()) q += "&start=" + url_encode(f->start);
    if (!f->end.empty()) q += "&end=" + url_encode(f->end);
    ApiClient client = controller_client(f->controller);
    json answer;
    try {
      answer = client.get("/api/v1/usage" + q);
    } catch (const ApiError& e) {
      // The API names its parameters; the user typed flags.
      static const std::pair<const char*, const char*> kFlags[] = {{"start", "-S/--starttime"},
                                                                   {"end", "-E/--endtime"},
                                                                   {"by", "--by"},
                                                                   {"account", "-A/--account"},
                                                                   {"user", "-u/--user"}};
      for (const auto& [param, flag] : kFlags)
        if (e.field() == param) throw InputError(flag, e.what());
      throw;
    }
    exit_code = 0;
    if (f->json) {
      std::printf("%s\n", answer.dump(2).c_str());
      return;
    }
    const std::string by = answer.value("by", "tenant");
    const json& rows = answer.at("rows");
    // The group's own column, then its tenant and user when the group has one.
    std::vector<std::string> columns{by};
    if (by != "tenant") columns.push_back("tenant");
    if (by != "user" && by != "tenant") columns.push_back("user");
    if (f->csv) {
      std::string line;
      for (const auto& c : columns) line += c + ",";
      std::printf("%sjobs,attempts,accel_ms,accel_hours,cost_milli,cost\n", line.c_str());
      for (const auto& r : rows) {
        line.clear();
        for (const auto& c : columns) line += csv_cell(cell(r, c)) + ",";
        std::printf("%s%s,%s,%s,%s,%s,%s\n", line.c_str(), cell(r, "jobs").c_str(),
                    cell(r, "attempts").c_str(), cell(r, "accel_ms").c_str(), hours(r).c_str(),
                    cell(r, "cost_milli").c_str(),
                    money(r.value("cost_milli", std::int64_t{0})).c_str());
      }
      return;
    }
    std::printf("Usage from %s to %s (UTC), by %s\n", answer.value("start", "").c_str(),
                answer.value("end", "").c_str(), by.c_str());
    std::vector<std::string> header;
    for (const auto& c : columns) header.push_back(upper(c));
    for (const char* h : {"JOBS", "ATTEMPTS", "ACCEL_HOURS", "COST"}) header.push_back(h);
    Table t(header);
    auto add = [&](const json& r, bool total) {
      std::vector<std::string> line;
      for (std::size_t i = 0; i < columns.size(); ++i)
        line.push_back(total ? (i == 0 ? "TOTAL" : "") : cell(r, columns[i]));
      line.push_back(cell(r, "jobs"));
      line.push_back(cell(r, "attempts"));
      line.push_back(hours(r));
      line.push_back(money(r.value("cost_milli", std::int64_t{0})));
      t.add(std::move(line));
    };
    for (const auto& r : rows) add(r, false);
    add(answer.at("total"), true);
    t.print();
    for (const auto& s : answer.value("shortfall", std::vector<std::string>{}))
      std::printf("shortfall: %s\n", terminal_safe(s).c_str());
  });
}

}  // namespace zs::cli
