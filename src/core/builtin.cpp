// The catalog and throughput table compiled into the binary (see cmake/embed_data.cmake).
#include <string_view>

#include "core/accelerator.h"
#include "core/throughput.h"

namespace zs {
namespace builtin_data {
extern const std::string_view kAcceleratorsCsv;
extern const std::string_view kThroughputsCsv;
}  // namespace builtin_data

const Catalog& Catalog::builtin() {
  static const Catalog catalog =
      Catalog::parse(builtin_data::kAcceleratorsCsv, "data/accelerators.csv");
  return catalog;
}

const ThroughputTable& ThroughputTable::builtin() {
  static const ThroughputTable table = ThroughputTable::parse(
      builtin_data::kThroughputsCsv, "data/throughputs.csv", Catalog::builtin());
  return table;
}

}  // namespace zs
