// libFuzzer target: inline cluster specs such as "64x8xMLU590+32x8xA100-SXM4-80GB"
// (looks_like_inline_cluster, parse_inline_cluster, build_cluster).
#include <cstddef>
#include <cstdint>

#include "core/cluster.h"
#include "core/input_error.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const zs::Catalog& cat = zs::Catalog::builtin();
  const auto text = zs::fuzz::as_text(data, size);
  (void)zs::looks_like_inline_cluster(text);
  try {
    auto groups = zs::parse_inline_cluster(text);
    ZS_FUZZ_CHECK(!groups.empty());
    long long nodes = 0;
    for (const auto& g : groups) {
      ZS_FUZZ_CHECK(g.count >= 1 && g.accel_count >= 1 && g.accel_count <= 64);
      nodes += g.count;
    }
    // Valid million-node clusters take ~1 s each under ASan: keep the fuzzer fast.
    if (nodes > 100'000) return 0;
    zs::Cluster c = zs::build_cluster(groups, cat, "fuzz");
    ZS_FUZZ_CHECK(static_cast<long long>(c.nodes.size()) == nodes);
    zs::fuzz::check_cluster(c, cat);
  } catch (const zs::InputError&) {
  }
  return 0;
}
