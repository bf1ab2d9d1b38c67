// Accelerator types and the catalog that names them (data/accelerators.csv).
//
// A TypeId is a dense index into the catalog (at most 64 types, so a set of types is one word).
// Names resolve case-insensitively, with spaces/underscores folded to '-', by model name, by an
// alias listed in the catalog's `aliases` column, or by a unique prefix ending at a '-'
// ("V100" -> V100-SXM2-32GB). An ambiguous short name ("A100") is an error listing the options.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zs {

using TypeId = std::uint16_t;
inline constexpr std::size_t kMaxAcceleratorTypes = 64;

struct AcceleratorType {
  std::string vendor, model, arch;
  std::optional<int> year, pcie_gen;
  // Empty catalog cells stay empty: "no public figure", never zero.
  std::optional<double> memory_gib, memory_bw_gbs, fp32_tflops, tf32_tflops, bf16_tflops,
      fp16_tflops, int8_tops, tdp_w, interconnect_bw_gbs;
  std::string interconnect;         // "NVLink 3.0", "MLU-Link", "none", ...
  std::string visible_devices_env;  // CUDA_VISIBLE_DEVICES, MLU_VISIBLE_DEVICES, ...
  std::vector<std::string> aliases;
  std::string source;
};

class Catalog {
 public:
  // Parses the catalog CSV (columns as in data/accelerators.csv). Throws InputError naming
  // source:line and column on a malformed row, a duplicate model or more than 64 types.
  static Catalog parse(std::string_view csv_text, const std::string& source);
  // The catalog compiled into the binary from data/accelerators.csv.
  static const Catalog& builtin();

  std::size_t size() const { return types_.size(); }
  const AcceleratorType& type(TypeId id) const { return types_.at(id); }
  const std::string& name(TypeId id) const { return types_.at(id).model; }

  std::optional<TypeId> find(std::string_view name) const;
  // Like find, but throws InputError("where", "unknown accelerator type 'X' (did you mean ...)").
  TypeId resolve(std::string_view name, const std::string& where) const;

 private:
  std::vector<AcceleratorType> types_;
  std::vector<std::pair<std::string, TypeId>> names_;  // normalized model names and aliases
};

}  // namespace zs
