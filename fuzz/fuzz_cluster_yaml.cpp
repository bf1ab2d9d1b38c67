// libFuzzer target: YAML cluster files (parse_cluster_yaml, then build_cluster).
#include <cstddef>
#include <cstdint>

#include "core/input_error.h"
#include "fuzz_common.h"
#include "sim/cluster_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const zs::Catalog& cat = zs::Catalog::builtin();
  try {
    zs::Cluster c = zs::parse_cluster_yaml(zs::fuzz::as_text(data, size), "fuzz.yaml", cat);
    zs::fuzz::check_cluster(c, cat);
  } catch (const zs::InputError&) {
  }
  return 0;
}
