#include "core/accelerator.h"

#include <algorithm>

#include "core/csv.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs {

namespace {
const std::vector<std::string> kRequired = {"vendor", "model", "visible_devices_env"};
const std::vector<std::string> kOptional = {"arch",          "year",         "memory_gib",
                                            "memory_bw_gbs", "fp32_tflops",  "tf32_tflops",
                                            "bf16_tflops",   "fp16_tflops",  "int8_tops",
                                            "tdp_w",         "interconnect", "interconnect_bw_gbs",
                                            "pcie_gen",      "aliases",      "source"};
}  // namespace

Catalog Catalog::parse(std::string_view csv_text, const std::string& source) {
  CsvReader reader(csv_text, source);
  auto header_rec = reader.next();
  if (!header_rec) throw InputError(source, "empty catalog: expected a header row");
  CsvHeader header(*header_rec, source, kRequired, kOptional);
  Catalog cat;
  while (auto rec = reader.next()) {
    const std::string where = source + ":" + std::to_string(rec->line);
    if (rec->fields.size() != header.size())
      throw InputError(where, "expected " + std::to_string(header.size()) + " fields, found " +
                                  std::to_string(rec->fields.size()));
    auto text = [&](const char* col) -> std::string {
      int i = header.index(col);
      return i < 0 ? std::string() : std::string(trim(rec->fields[static_cast<std::size_t>(i)]));
    };
    auto number = [&](const char* col) -> std::optional<double> {
      std::string t = text(col);
      if (t.empty()) return std::nullopt;
      auto v = parse_double(t);
      if (!v || *v < 0)
        throw InputError(
            where, std::string("column ") + col + ": '" + t + "' is not a non-negative number");
      return v;
    };
    AcceleratorType t;
    t.vendor = text("vendor");
    t.model = text("model");
    t.arch = text("arch");
    if (t.model.empty()) throw InputError(where, "column model: empty model name");
    if (auto y = number("year")) {
      if (*y < 1900 || *y > 2200)
        throw InputError(where, "column year: " + text("year") + " is not a year (1900..2200)");
      t.year = static_cast<int>(*y);
    }
    if (auto g = number("pcie_gen")) {
      if (*g < 1 || *g > 20)
        throw InputError(
            where, "column pcie_gen: " + text("pcie_gen") + " is not a PCIe generation (1..20)");
      t.pcie_gen = static_cast<int>(*g);
    }
    t.memory_gib = number("memory_gib");
    t.memory_bw_gbs = number("memory_bw_gbs");
    t.fp32_tflops = number("fp32_tflops");
    t.tf32_tflops = number("tf32_tflops");
    t.bf16_tflops = number("bf16_tflops");
    t.fp16_tflops = number("fp16_tflops");
    t.int8_tops = number("int8_tops");
    t.tdp_w = number("tdp_w");
    t.interconnect_bw_gbs = number("interconnect_bw_gbs");
    t.interconnect = text("interconnect");
    t.visible_devices_env = text("visible_devices_env");
    t.source = text("source");
    const std::string aliases = text("aliases");
    for (auto a : split(aliases, '|'))
      if (!trim(a).empty()) t.aliases.emplace_back(trim(a));
    if (cat.types_.size() >= kMaxAcceleratorTypes)
      throw InputError(where, "too many accelerator types (at most 64)");
    if (cat.find(t.model)) throw InputError(where, "model '" + t.model + "' is already defined");
    auto id = static_cast<TypeId>(cat.types_.size());
    cat.names_.emplace_back(normalize_name(t.model), id);
    for (const auto& a : t.aliases) {
      if (auto other = cat.find(a); other && *other != id)
        throw InputError(where, "alias '" + a + "' already names " + cat.types_[*other].model);
      cat.names_.emplace_back(normalize_name(a), id);
    }
    cat.types_.push_back(std::move(t));
  }
  return cat;
}

std::optional<TypeId> Catalog::find(std::string_view name) const {
  const std::string key = normalize_name(name);
  if (key.empty()) return std::nullopt;
  for (const auto& [n, id] : names_)
    if (n == key) return id;
  // Unique prefix that ends at a '-' boundary of the model name: "v100" -> "v100-sxm2-32gb".
  std::optional<TypeId> hit;
  for (TypeId id = 0; id < types_.size(); ++id) {
    std::string model = normalize_name(types_[id].model);
    if (model.size() > key.size() && model.compare(0, key.size(), key) == 0 &&
        model[key.size()] == '-') {
      if (hit) return std::nullopt;  // ambiguous
      hit = id;
    }
  }
  return hit;
}

TypeId Catalog::resolve(std::string_view name, const std::string& where) const {
  if (auto id = find(name)) return *id;
  const std::string key = normalize_name(name);
  std::vector<std::string> candidates;
  for (const auto& t : types_) {
    std::string model = normalize_name(t.model);
    if (!key.empty() && model.find(key) != std::string::npos) candidates.push_back(t.model);
  }
  std::string msg = "unknown accelerator type '" + std::string(name) + "'";
  if (candidates.size() > 1) {
    msg = "ambiguous accelerator type '" + std::string(name) + "': it could be";
    for (std::size_t i = 0; i < candidates.size(); ++i) msg += (i ? ", " : " ") + candidates[i];
  } else if (candidates.size() == 1) {
    msg += " (did you mean " + candidates[0] + "?)";
  } else {
    msg += " (not in the accelerator catalog; `zs catalog` lists the known types)";
  }
  throw InputError(where, msg);
}

}  // namespace zs
