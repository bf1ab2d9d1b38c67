// libFuzzer target: the CSV layer and the CSV tables built into zs: CsvReader (',' and tab),
// Catalog::parse (data/accelerators.csv) and ThroughputTable::parse (data/throughputs.csv).
#include <cstddef>
#include <cstdint>

#include "core/accelerator.h"
#include "core/csv.h"
#include "core/input_error.h"
#include "core/throughput.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = zs::fuzz::as_text(data, size);
  for (char sep : {',', '\t'}) {
    try {
      zs::CsvReader reader(text, "fuzz.csv", sep);
      std::size_t last = 0;
      while (auto rec = reader.next()) {
        ZS_FUZZ_CHECK(rec->line > last && !rec->fields.empty());
        last = rec->line;
      }
    } catch (const zs::InputError&) {
    }
  }
  try {
    zs::Catalog c = zs::Catalog::parse(text, "fuzz.csv");
    ZS_FUZZ_CHECK(c.size() <= zs::kMaxAcceleratorTypes);
    for (zs::TypeId id = 0; id < c.size(); ++id) {
      ZS_FUZZ_CHECK(c.find(c.name(id)) == id);
      for (const auto& a : c.type(id).aliases) ZS_FUZZ_CHECK(c.find(a) == id);
    }
  } catch (const zs::InputError&) {
  }
  const zs::Catalog& cat = zs::Catalog::builtin();
  try {
    zs::ThroughputTable t = zs::ThroughputTable::parse(text, "fuzz.csv", cat);
    for (int m = 0; m < static_cast<int>(t.model_count()); ++m) {
      ZS_FUZZ_CHECK(t.find_model(t.model_name(m)) == m);
      for (zs::TypeId ty = 0; ty < cat.size(); ++ty) {
        if (auto v = t.throughput(m, ty, 8)) ZS_FUZZ_CHECK(std::isfinite(*v) && *v > 0);
        const double f = t.duration_factor(m, 0, ty, 8);
        ZS_FUZZ_CHECK(std::isfinite(f) && f > 0);
      }
    }
  } catch (const zs::InputError&) {
  }
  return 0;
}
