// RequestIds: small numbers for the requests of waiting jobs (types, count, shape, CPU and
// memory), so that a pass of a preemptive policy can tell that a job asks for what a job before
// it in the same pass already failed to get (LasIndex, KeyedIndex and the pass's Skipper).
#pragma once
#include <cstdint>
#include <unordered_map>

#include "core/job.h"

namespace zs {

class RequestIds {
 public:
  // The id of jobs that are never skipped as a group: with node constraints (they differ by
  // their node sets) or naming an unknown type.
  static constexpr std::uint32_t kNoRequest = 0;
  // The same request as RequestCache compares (the preemptive policies do not rank types by
  // speed, so the model does not matter); ids from 1 up, in order of first sight.
  std::uint32_t of(const Job& job);
  // Ids are below this.
  std::size_t count() const { return ids_.size() + 1; }

 private:
  struct Request {
    std::uint64_t types;
    bool any;
    int accel_count, nodes, per_node;
    double cpu, mem;
    bool operator==(const Request&) const = default;
  };
  struct Hash {
    std::size_t operator()(const Request& r) const;
  };
  std::unordered_map<Request, std::uint32_t, Hash> ids_;
};

}  // namespace zs
