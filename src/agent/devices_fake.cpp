// The fake backend: the devices a spec declares, with health taken from a file the operator (or
// a test) edits while the agent runs, so failure handling can be exercised without hardware.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "agent/device_parsers.h"
#include "agent/devices.h"
#include "core/cluster.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs {

FakeSpec parse_fake_spec(std::string_view spec, const Catalog& catalog) {
  spec = trim(spec);
  FakeSpec out;
  if (spec.empty() || spec == "0") return out;
  const std::string where = "fake devices '" + std::string(spec) + "'";
  auto x = spec.find('x');
  if (x == std::string_view::npos || x == 0 || x + 1 >= spec.size())
    throw InputError(where, "expected COUNTxTYPE, e.g. 8xMLU590, or 0 for none");
  auto count = parse_int(spec.substr(0, x));
  if (!count || *count < 0 || *count > kMaxDevicesPerNode)
    throw InputError(where, "device count '" + std::string(spec.substr(0, x)) +
                                "' is not a number in 0.." + std::to_string(kMaxDevicesPerNode));
  TypeId type = catalog.resolve(spec.substr(x + 1), where);
  if (*count == 0) return out;
  out.count = static_cast<int>(*count);
  out.type = type;
  return out;
}

HealthMarks parse_health_file(std::string_view text, const std::string& source, int device_count) {
  HealthMarks marks;
  int line_no = 0;
  for (auto raw : split(text, '\n')) {
    ++line_no;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto space = line.find_first_of(" \t");
    auto index = parse_int(line.substr(0, space));
    const std::string where = source + ":" + std::to_string(line_no) + ": ";
    if (!index) {
      marks.warnings.push_back(where + "expected '<device index> [problem]', got '" +
                               std::string(line) + "'");
      continue;
    }
    if (*index < 0 || *index >= device_count) {
      marks.warnings.push_back(where + "no device " + std::to_string(*index) + " (devices are 0.." +
                               std::to_string(device_count - 1) + ")");
      continue;
    }
    std::string problem(space == std::string_view::npos ? "" : trim(line.substr(space)));
    if (problem.empty()) problem = "marked unhealthy in " + source;
    std::string& slot = marks.problems[static_cast<int>(*index)];
    slot = slot.empty() ? problem : slot + "; " + problem;
  }
  return marks;
}

namespace {

class FakeDiscovery : public DeviceDiscovery {
 public:
  FakeDiscovery(std::string spec, FakeSpec parsed, std::string health_file, const Catalog& catalog)
      : spec_(std::move(spec)), parsed_(parsed), health_file_(std::move(health_file)) {
    if (parsed_.type) {
      type_ = *parsed_.type;
      name_ = catalog.name(*parsed_.type);
    }
  }

  Inventory discover() override {
    Inventory inv;
    inv.source = "fake " + (parsed_.count ? spec_ : std::string("(no accelerators)"));
    if (parsed_.count == 0) return inv;
    inv.accel_type = name_;
    inv.type = type_;
    HealthMarks marks = read_marks(inv.warnings);
    for (int i = 0; i < parsed_.count; ++i) {
      Device d;
      d.index = i;
      d.uuid = "FAKE-" + name_ + "-" + std::to_string(i);
      if (auto it = marks.problems.find(i); it != marks.problems.end()) {
        d.healthy = false;
        d.problem = it->second;
      }
      inv.devices.push_back(std::move(d));
    }
    for (auto& w : marks.warnings) inv.warnings.push_back(std::move(w));
    return inv;
  }

 private:
  // Absent file = every device healthy; an unreadable one is a warning, never a crash.
  HealthMarks read_marks(std::vector<std::string>& warnings) const {
    if (health_file_.empty()) return {};
    std::error_code ec;
    if (!std::filesystem::exists(health_file_, ec)) return {};
    std::ifstream in(health_file_);
    if (!in || std::filesystem::is_directory(health_file_, ec)) {
      warnings.push_back("cannot read health file " + health_file_);
      return {};
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse_health_file(text.str(), health_file_, parsed_.count);
  }

  std::string spec_;
  FakeSpec parsed_;
  std::string health_file_;
  std::string name_;
  TypeId type_ = 0;
};

}  // namespace

std::unique_ptr<DeviceDiscovery> make_fake_discovery(std::string_view spec, std::string health_file,
                                                     const Catalog& catalog) {
  FakeSpec parsed = parse_fake_spec(spec, catalog);
  return std::make_unique<FakeDiscovery>(std::string(trim(spec)), parsed, std::move(health_file),
                                         catalog);
}

}  // namespace zs
