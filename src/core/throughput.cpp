#include "core/throughput.h"

#include <algorithm>

#include "core/csv.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs {

ThroughputTable ThroughputTable::parse(std::string_view csv_text, const std::string& source,
                                       const Catalog& catalog) {
  CsvReader reader(csv_text, source);
  auto header_rec = reader.next();
  if (!header_rec) throw InputError(source, "empty throughput table: expected a header row");
  CsvHeader header(*header_rec, source, {"model", "accel_count", "accel_type", "throughput"},
                   {"source"});
  ThroughputTable table;
  const int c_model = header.index("model"), c_count = header.index("accel_count"),
            c_type = header.index("accel_type"), c_tp = header.index("throughput");
  while (auto rec = reader.next()) {
    const std::string where = source + ":" + std::to_string(rec->line);
    if (rec->fields.size() != header.size())
      throw InputError(where, "expected " + std::to_string(header.size()) + " fields, found " +
                                  std::to_string(rec->fields.size()));
    std::string model(trim(rec->fields[c_model]));
    if (model.empty()) throw InputError(where, "column model: empty");
    auto count = parse_int(rec->fields[c_count]);
    if (!count || *count <= 0 || *count > 1'000'000)
      throw InputError(
          where, "column accel_count: '" + rec->fields[c_count] + "' is not a positive integer");
    TypeId type = catalog.resolve(trim(rec->fields[c_type]), where + ": column accel_type");
    auto tp = parse_double(rec->fields[c_tp]);
    if (!tp)
      throw InputError(where, "column throughput: '" + rec->fields[c_tp] + "' is not a number");
    // <= 0: measured as infeasible there (e.g. out of memory). Kept, so that this gang size
    // does not fall back to another size's figure; throughput() then reports it unknown.
    auto it = std::find(table.models_.begin(), table.models_.end(), model);
    int m = static_cast<int>(it - table.models_.begin());
    if (it == table.models_.end()) table.models_.push_back(model);
    table.entries_.push_back({m, static_cast<int>(*count), type, *tp});
  }
  // Stable, so that of repeated (model, type, count) rows the first one in the file is kept.
  std::stable_sort(table.entries_.begin(), table.entries_.end(),
                   [](const Entry& a, const Entry& b) {
                     if (a.model != b.model) return a.model < b.model;
                     if (a.type != b.type) return a.type < b.type;
                     return a.accel_count < b.accel_count;
                   });
  // A repeated (model, type, count) keeps its first row; later ones are dropped.
  table.entries_.erase(std::unique(table.entries_.begin(), table.entries_.end(),
                                   [](const Entry& a, const Entry& b) {
                                     return a.model == b.model && a.type == b.type &&
                                            a.accel_count == b.accel_count;
                                   }),
                       table.entries_.end());
  return table;
}

std::optional<int> ThroughputTable::find_model(std::string_view name) const {
  for (std::size_t i = 0; i < models_.size(); ++i)
    if (models_[i] == name) return static_cast<int>(i);
  const std::string key = to_lower(trim(name));
  if (key.empty()) return std::nullopt;
  for (std::size_t i = 0; i < models_.size(); ++i)
    if (to_lower(models_[i]) == key) return static_cast<int>(i);
  std::optional<int> hit;
  for (std::size_t i = 0; i < models_.size(); ++i) {
    std::string m = to_lower(models_[i]);
    if (m.size() > key.size() + 1 && m.compare(0, key.size(), key) == 0 &&
        m.compare(key.size(), 2, " (") == 0) {
      if (hit) return std::nullopt;
      hit = static_cast<int>(i);
    }
  }
  return hit;
}

std::optional<double> ThroughputTable::throughput(int model, TypeId type, int accel_count) const {
  if (model < 0) return std::nullopt;
  auto lo = std::lower_bound(entries_.begin(), entries_.end(), std::pair{model, type},
                             [](const Entry& e, const std::pair<int, TypeId>& k) {
                               return e.model != k.first ? e.model < k.first : e.type < k.second;
                             });
  const Entry* best = nullptr;
  for (auto it = lo; it != entries_.end() && it->model == model && it->type == type; ++it) {
    if (it->accel_count <= accel_count || best == nullptr) best = &*it;
    if (it->accel_count > accel_count) break;
  }
  if (!best || best->throughput <= 0) return std::nullopt;
  return best->throughput;
}

double ThroughputTable::duration_factor(int model, int from, TypeId to, int accel_count) const {
  if (model < 0 || from < 0 || from == to) return 1.0;
  auto a = throughput(model, static_cast<TypeId>(from), accel_count);
  auto b = throughput(model, to, accel_count);
  if (!a || !b) return 1.0;
  return *a / *b;
}

}  // namespace zs
