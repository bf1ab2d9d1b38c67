// Every field of the live-cluster records with its JSON name and bounds, in one place. The
// encoder and decoder (json_codec.cpp) and the limit checker (json_limits.cpp) all walk these
// lists, so a field added here is encoded, decoded and checked alike.
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "api/json_limits.h"
#include "core/accounting.h"
#include "core/identity_record.h"
#include "core/job_record.h"
#include "core/signal_name.h"

namespace zs::json_fields {

// Inclusive bounds of an integer field; lo is signed and hi unsigned so that one type covers
// int32 priorities, int64 times and uint64 bit masks.
struct IntBounds {
  std::int64_t lo;
  std::uint64_t hi;
};
template <class T>
constexpr IntBounds full_range() {
  return {std::numeric_limits<T>::min(), std::numeric_limits<T>::max()};
}
inline constexpr IntBounds kCount{0, kMaxJsonCount};
inline constexpr IntBounds kTime{0, kMaxJsonTimeMs};
inline constexpr IntBounds kId{0, kMaxJobId};
inline constexpr IntBounds kMem{0, kMaxJsonMemMib};
inline constexpr std::size_t kText = kMaxJsonStringBytes;

template <class S, class T>
concept Is = std::same_as<std::remove_const_t<S>, T>;

// The number of members of an aggregate: the most initializers T{...} accepts.
struct AnyField {
  template <class T>
  operator T() const;
};
template <class T, class... A>
consteval std::size_t field_count() {
  if constexpr (requires { T{A{}..., AnyField{}}; })
    return field_count<T, A..., AnyField>();
  else
    return sizeof...(A);
}
// A member added to a record but not to its list below would silently vanish from the API and
// the store; these make it a compile error. Update the list, then the count.
static_assert(field_count<JobSpec>() == 31, "JobSpec changed: update visit(JobSpec) below");
static_assert(field_count<NodeAssignment>() == 2, "NodeAssignment changed: update visit below");
static_assert(field_count<JobRecord>() == 13, "JobRecord changed: update visit(JobRecord) below");
static_assert(field_count<NodeRecord>() == 15, "NodeRecord changed: update visit(NodeRecord)");
static_assert(field_count<TenantRecord>() == 2, "TenantRecord changed: update visit below");
static_assert(field_count<UserRecord>() == 5, "UserRecord changed: update visit below");
static_assert(field_count<TokenRecord>() == 7, "TokenRecord changed: update visit below");
static_assert(field_count<UsageRecord>() == 11, "UsageRecord changed: update visit below");

// A visitor provides, for S possibly const:
//   text(name, std::string&, max_bytes)   strings(name, std::vector<std::string>&)
//   integer(name, T&, IntBounds)          integers(name, std::vector<T>&, IntBounds)
//   number(name, double&, lo, hi)         enumeration(name, E&)     flag(name, bool&)
//   object(name, S&)                      objects(name, std::vector<S>&)
template <class S, class V>
requires Is<S, JobSpec>
void visit(S& s, V& v) {
  v.text("name", s.name, kText);
  v.text("user", s.user, kText);
  v.text("tenant", s.tenant, kText);
  v.text("unix_user", s.unix_user, kText);
  v.text("partition", s.partition, kText);
  v.strings("argv", s.argv);
  v.text("script", s.script, kMaxJsonScriptBytes);
  v.text("work_dir", s.work_dir, kText);
  v.strings("env", s.env);
  v.text("accel_type", s.accel_type, kText);
  v.integer("accel_count", s.accel_count, kCount);
  v.integer("nodes", s.nodes, kCount);
  v.integer("accel_per_node", s.accel_per_node, kCount);
  v.integer("tasks_per_node", s.tasks_per_node, kCount);
  v.integer("ntasks", s.ntasks, kCount);
  v.number("cpus_per_task", s.cpus_per_task, 0.0, double{kMaxJsonCount});
  v.integer("mem_mib", s.mem_mib, kMem);
  v.integer("walltime", s.walltime, kTime);
  v.text("stdout_path", s.stdout_path, kText);
  v.text("stderr_path", s.stderr_path, kText);
  v.text("array", s.array, kText);
  v.integers("after_ok", s.after_ok, kId);
  v.integer("max_retries", s.max_retries, kCount);
  v.integer("priority", s.priority, full_range<std::int32_t>());
  v.integer("begin_ms", s.begin_ms, kTime);
  v.flag("hold", s.hold);
  v.strings("nodelist", s.nodelist);
  v.strings("exclude", s.exclude);
  v.integer("signal", s.signal, IntBounds{0, kMaxSignalNumber});
  v.integer("signal_time", s.signal_time_s, IntBounds{0, kMaxSignalTimeS});
  v.flag("signal_batch", s.signal_batch);
}

template <class S, class V>
requires Is<S, NodeAssignment>
void visit(S& a, V& v) {
  v.text("node", a.node, kText);
  v.integers("devices", a.devices, kCount);
}

template <class S, class V>
requires Is<S, JobRecord>
void visit(S& r, V& v) {
  v.integer("id", r.id, kId);
  v.object("spec", r.spec);
  v.enumeration("state", r.state);
  v.integer("submit_ms", r.submit_ms, kTime);
  v.integer("start_ms", r.start_ms, kTime);
  v.integer("end_ms", r.end_ms, kTime);
  v.integer("attempt", r.attempt, IntBounds{0, std::numeric_limits<int>::max()});
  v.integer("exit_code", r.exit_code, full_range<int>());
  v.text("reason", r.reason, kText);
  v.objects("assignment", r.assignment);
  v.integer("master_port", r.master_port, IntBounds{0, 65535});
  v.integer("array_job_id", r.array_job_id, kId);
  v.integer("array_task_id", r.array_task_id, IntBounds{-1, std::numeric_limits<int>::max()});
}

template <class S, class V>
requires Is<S, NodeRecord>
void visit(S& n, V& v) {
  v.text("name", n.name, kText);
  v.text("address", n.address, kText);
  v.text("leaf", n.leaf, kText);
  v.text("spine", n.spine, kText);
  v.text("logs_url", n.logs_url, kText);
  v.text("accel_type", n.accel_type, kText);
  v.integer("accel_count", n.accel_count, kCount);
  v.integer("unhealthy", n.unhealthy, full_range<std::uint64_t>());
  v.number("cpus", n.cpus, 0.0, double{kMaxJsonCount});
  v.integer("mem_mib", n.mem_mib, kMem);
  v.enumeration("state", n.state);
  v.text("reason", n.reason, kText);
  v.text("drain_reason", n.drain_reason, kText);
  v.integer("last_seen_ms", n.last_seen_ms, kTime);
  v.text("boot_id", n.boot_id, kText);
}

template <class S, class V>
requires Is<S, TenantRecord>
void visit(S& t, V& v) {
  v.text("name", t.name, kText);
  v.integer("created_ms", t.created_ms, kTime);
}

template <class S, class V>
requires Is<S, UserRecord>
void visit(S& u, V& v) {
  v.text("name", u.name, kText);
  v.enumeration("role", u.role);
  v.strings("tenants", u.tenants);
  v.text("unix_user", u.unix_user, kText);
  v.integer("created_ms", u.created_ms, kTime);
}

template <class S, class V>
requires Is<S, TokenRecord>
void visit(S& t, V& v) {
  v.text("id", t.id, kText);
  v.enumeration("kind", t.kind);
  v.text("subject", t.subject, kText);
  v.text("hash", t.hash, kText);
  v.integer("created_ms", t.created_ms, kTime);
  v.integer("expires_ms", t.expires_ms, kTime);
  v.integer("revoked_ms", t.revoked_ms, kTime);
}

template <class S, class V>
requires Is<S, UsageRecord>
void visit(S& u, V& v) {
  v.text("tenant", u.tenant, kText);
  v.text("user", u.user, kText);
  v.integer("job", u.job, kId);
  v.integer("attempt", u.attempt, IntBounds{0, std::numeric_limits<int>::max()});
  v.text("accel_type", u.accel_type, kText);
  v.integer("accel_count", u.accel_count, kCount);
  v.integer("start_ms", u.start_ms, kTime);
  v.integer("end_ms", u.end_ms, kTime);
  v.integer("exit_code", u.exit_code, full_range<int>());
  v.text("state", u.state, kText);
  v.number("price_per_hour", u.price_per_hour, 0.0, kMaxUsagePrice);
}

// The enums' names, for "expected one of" messages.
std::string choices(JobState);
std::string choices(NodeStatus);
std::string choices(Role);
std::string choices(TokenKind);

// What is wrong with a value, or "" when it is fine.
std::string int_problem(std::int64_t x, IntBounds b);
std::string uint_problem(std::uint64_t x, IntBounds b);
std::string number_problem(double x, double lo, double hi);
std::string text_problem(std::string_view s, std::size_t max_bytes);
std::string list_problem(std::size_t entries);

// `s` made safe to show in a message: at most `max_bytes`, invalid UTF-8 replaced by '?'.
std::string printable(std::string_view s, std::size_t max_bytes = 64);

// A JSON path ("assignment[0].devices[1]") built on the stack and rendered only on error.
class Path {
 public:
  Path() = default;
  Path(const Path& parent, std::string_view key) : parent_(&parent), key_(key) {}
  Path(const Path& parent, std::size_t index) : parent_(&parent), index_(index), is_index_(true) {}
  std::string str() const;

 private:
  const Path* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = 0;
  bool is_index_ = false;
};

}  // namespace zs::json_fields
