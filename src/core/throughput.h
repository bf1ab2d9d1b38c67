// Per-model training throughput on each accelerator type (e.g. Gavel's measured table), used
// to scale a job's duration when it runs on a type other than the one it was recorded on, and
// by the `hetero` policy to prefer the type a job runs fastest on.
//
// File: CSV with header `model,accel_count,accel_type,throughput[,source]`; throughput in any
// unit that is consistent within one model (Gavel: steps per second).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"

namespace zs {

class ThroughputTable {
 public:
  static ThroughputTable parse(std::string_view csv_text, const std::string& source,
                               const Catalog& catalog);
  static const ThroughputTable& builtin();  // data/throughputs.csv, compiled in

  std::size_t model_count() const { return models_.size(); }
  const std::string& model_name(int model) const {
    return models_.at(static_cast<std::size_t>(model));
  }
  // Exact name, else case-insensitive, else a unique model whose name starts with `name`
  // followed by " (" (so "ResNet-50" finds "ResNet-50 (batch size 64)" only when unique).
  std::optional<int> find_model(std::string_view name) const;

  // Throughput of `model` on `type` for a gang of `accel_count`: the entry with the largest
  // count <= accel_count (else the smallest). nullopt if the model was never measured there.
  std::optional<double> throughput(int model, TypeId type, int accel_count) const;

  // Factor to multiply a duration measured on `from` to get the duration on `to`
  // (= throughput(from) / throughput(to)); 1.0 when either is unknown.
  double duration_factor(int model, int from, TypeId to, int accel_count) const;

 private:
  struct Entry {
    int model;
    int accel_count;
    TypeId type;
    double throughput;
  };
  std::vector<std::string> models_;
  std::vector<Entry> entries_;  // sorted by (model, type, accel_count)
};

}  // namespace zs
