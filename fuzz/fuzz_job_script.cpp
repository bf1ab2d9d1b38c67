// libFuzzer target: batch scripts (parse_job_script, with and without the catalog), the same
// text as command-line words (read_option_args, apply_option, finish_job_spec), and its first
// line through each Slurm value parser. Whatever is accepted must be a sane JobSpec.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/input_error.h"
#include "core/job_script.h"
#include "core/signal_name.h"
#include "core/slurm_values.h"
#include "fuzz_common.h"

namespace {

void check_spec(const zs::JobSpec& s) {
  ZS_FUZZ_CHECK(s.nodes >= 0 && s.nodes <= zs::kMaxJobNodes);
  ZS_FUZZ_CHECK(s.accel_count >= 0 && s.accel_count <= zs::kMaxJobAccels);
  ZS_FUZZ_CHECK(s.accel_per_node >= 0 && s.accel_per_node <= zs::kMaxDevicesPerNode);
  if (s.nodes > 0 && s.accel_count > 0)
    ZS_FUZZ_CHECK(static_cast<std::int64_t>(s.nodes) * s.accel_per_node == s.accel_count);
  if (s.accel_count == 0) ZS_FUZZ_CHECK(s.accel_type.empty() && s.accel_per_node == 0);
  ZS_FUZZ_CHECK(s.tasks_per_node >= 1 && s.ntasks >= 0 && s.ntasks <= zs::kMaxJobTasks);
  if (s.nodes > 0 && s.ntasks > 0)
    ZS_FUZZ_CHECK(s.ntasks <= static_cast<std::int64_t>(s.nodes) * s.tasks_per_node &&
                  s.ntasks > static_cast<std::int64_t>(s.nodes - 1) * s.tasks_per_node);
  ZS_FUZZ_CHECK(std::isfinite(s.cpus_per_task) && s.cpus_per_task >= 0);
  ZS_FUZZ_CHECK(s.mem_mib >= 0 && s.mem_mib <= zs::kMaxMemMib);
  ZS_FUZZ_CHECK(s.walltime >= 0 && s.walltime <= zs::kMaxTimeS * 1000);
  ZS_FUZZ_CHECK(s.max_retries >= 0 && s.max_retries <= zs::kMaxRetries);
  ZS_FUZZ_CHECK(std::is_sorted(s.after_ok.begin(), s.after_ok.end()));
  ZS_FUZZ_CHECK(std::adjacent_find(s.after_ok.begin(), s.after_ok.end()) == s.after_ok.end());
  ZS_FUZZ_CHECK(s.after_ok.empty() || s.after_ok.front() > 0);
  if (!s.array.empty()) ZS_FUZZ_CHECK(!zs::parse_array_spec(s.array).indices.empty());
}

template <class F>
void expect_input_error_or_ok(F&& f) {
  try {
    f();
  } catch (const zs::InputError& e) {
    ZS_FUZZ_CHECK(!e.where().empty());
  }
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = zs::fuzz::as_text(data, size);

  for (zs::CatalogSource cat : {zs::CatalogSource{nullptr}, &zs::Catalog::builtin}) {
    try {
      zs::JobScript r = zs::parse_job_script(text, "job.sh", {}, cat);
      ZS_FUZZ_CHECK(r.spec.script == text);
      check_spec(r.spec);
      for (const auto& d : r.directives)
        ZS_FUZZ_CHECK(d.line >= 1 && d.where.rfind("job.sh:", 0) == 0);
      for (const auto& w : r.warnings) ZS_FUZZ_CHECK(w.where.rfind("job.sh:", 0) == 0);
      // The directives alone, applied again, give the same spec: the parse is deterministic.
      zs::JobOptions again;
      again.spec.script = std::string(text);
      again.spec.name = "job.sh";
      for (const auto& d : r.directives) zs::apply_option(again, d);
      ZS_FUZZ_CHECK(zs::finish_job_spec(again, cat) == r.spec);
    } catch (const zs::InputError& e) {
      ZS_FUZZ_CHECK(e.where().rfind("job.sh", 0) == 0);
    }
  }

  expect_input_error_or_ok([&] {
    std::size_t operands = 0;
    const auto words = words_of(text);
    auto ds = zs::read_option_args(words, &operands);
    ZS_FUZZ_CHECK(operands <= words.size());
    zs::JobOptions opts;
    for (const auto& d : ds) zs::apply_option(opts, d);
    check_spec(zs::finish_job_spec(opts));
  });

  const std::string_view line = text.substr(0, std::min(text.find('\n'), std::size_t{256}));
  expect_input_error_or_ok([&] {
    const zs::TimeMs t = zs::parse_slurm_time(line);
    ZS_FUZZ_CHECK(t >= 0 && t <= zs::kMaxTimeS * 1000);
  });
  expect_input_error_or_ok([&] {
    const zs::ArraySpec a = zs::parse_array_spec(line);
    ZS_FUZZ_CHECK(!a.indices.empty() && a.indices.size() <= zs::kMaxArrayTasks);
    ZS_FUZZ_CHECK(std::is_sorted(a.indices.begin(), a.indices.end()));
    ZS_FUZZ_CHECK(a.indices.front() >= 0 && a.indices.back() <= zs::kMaxArrayIndex);
    ZS_FUZZ_CHECK(a.max_concurrent >= 0);
  });
  expect_input_error_or_ok([&] {
    const std::int64_t m = zs::parse_slurm_memory_mib(line);
    ZS_FUZZ_CHECK(m >= 0 && m <= zs::kMaxMemMib);
  });
  expect_input_error_or_ok([&] {
    const auto g = zs::parse_gres(line, zs::kMaxDevicesPerNode, "--gres");
    if (g.accel) ZS_FUZZ_CHECK(g.accel->count >= 0 && g.accel->count <= zs::kMaxDevicesPerNode);
  });
  expect_input_error_or_ok([&] {
    const auto ids = zs::parse_dependency(line, "--dependency");
    ZS_FUZZ_CHECK(!ids.empty() && ids.front() > 0);
  });
  expect_input_error_or_ok([&] { zs::parse_export(line, "--export"); });
  expect_input_error_or_ok([&] {
    const zs::SignalRequest s = zs::parse_slurm_signal(line);
    ZS_FUZZ_CHECK(s.signal >= 1 && s.signal <= zs::kMaxSignalNumber &&
                  zs::catchable_signal(s.signal));
    ZS_FUZZ_CHECK(s.time_s >= 0 && s.time_s <= zs::kMaxSignalTimeS);
  });
  return 0;
}
