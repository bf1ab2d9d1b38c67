// The JSON codec of the live-cluster records: full round trips, field names, and every strict
// decoding error with the JSON path of the field it names. A bounded fuzz checks that decoding
// never throws anything but InputError and that what it accepts encodes back to itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "api/json_codec.h"
#include "api/json_limits.h"
#include "api/json_text.h"
#include "core/input_error.h"

namespace zs {
namespace {

using nlohmann::json;

JobRecord full_record() {
  JobRecord r;
  r.id = 4242;
  JobSpec& s = r.spec;
  s.name = "训练-résumé 🚀";
  s.user = "ada";
  s.tenant = "lab-λ";
  s.unix_user = "ada";
  s.partition = "gpu";
  s.argv = {"python", "train.py", "--lr=3e-4", "", "quote\"back\\slash\nnewline\ttab"};
  s.script = "#!/bin/bash\n#ZS -N 2\nsrun python train.py \"$@\"\n";
  s.work_dir = "/home/ada/проект";
  s.env = {"A=1", "EMPTY=", "U=ünï"};
  s.accel_type = "A100-80G";
  s.accel_count = 16;
  s.nodes = 2;
  s.accel_per_node = 8;
  s.tasks_per_node = 8;
  s.ntasks = 16;
  s.cpus_per_task = 2.5;
  s.mem_mib = 512 * 1024;
  s.walltime = 36 * 3600 * 1000LL;
  s.stdout_path = "out-%j-%a.txt";
  s.stderr_path = "err-%x-%%.txt";
  s.array = "0-15:2,20%4";
  s.after_ok = {1, 2, kMaxJobId};
  s.max_retries = 3;
  s.priority = std::numeric_limits<std::int32_t>::min();
  s.begin_ms = 1'700'000'360'000;
  s.hold = true;
  s.nodelist = {"node1", "node3"};
  s.exclude = {"gpu07"};
  s.signal = 10;
  s.signal_time_s = 90;
  s.signal_batch = true;
  r.state = JobState::node_fail;
  r.submit_ms = 1'700'000'000'000;
  r.start_ms = 1'700'000'001'000;
  r.end_ms = 1'700'000'002'000;
  r.attempt = 2;
  r.exit_code = 137;
  r.reason = "node b lost";
  r.assignment = {{"a", {0, 1, 2, 3, 4, 5, 6, 7}}, {"b", {7}}, {"c", {}}};
  r.master_port = 29500;
  r.array_job_id = 4240;
  r.array_task_id = 2;
  return r;
}

NodeRecord full_node() {
  NodeRecord n;
  n.name = "gpu-07";
  n.address = "10.0.0.7";
  n.leaf = "leaf-2";
  n.spine = "pod-a";
  n.logs_url = "http://10.0.0.7:41234";
  n.accel_type = "H100";
  n.accel_count = 8;
  n.unhealthy = std::numeric_limits<std::uint64_t>::max();
  n.cpus = 95.5;
  n.mem_mib = 2'000'000;
  n.state = NodeStatus::drained;
  n.reason = "maintenance: 换风扇";
  n.drain_reason = "maintenance: 换风扇";
  n.last_seen_ms = 1'700'000'000'123;
  n.boot_id = "4f9c-boot";
  return n;
}

// Through text, as the API and the store use it.
JobRecord through_text(const JobRecord& r) {
  return job_record_from_json(json::parse(to_json(r).dump()));
}

template <class R>
std::string compact(const R& r) {
  std::string out;
  append_compact_json(out, r);
  return out;
}

struct Failure {
  std::string where, what;
};
template <class F>
Failure failure_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return {e.where(), e.what()};
  }
  ADD_FAILURE() << "expected an InputError";
  return {};
}
Failure spec_error(const std::string& text) {
  return failure_of([&] { job_spec_from_json(json::parse(text)); });
}
Failure record_error(const std::string& text) {
  return failure_of([&] { job_record_from_json(json::parse(text)); });
}
Failure node_error(const std::string& text) {
  return failure_of([&] { node_record_from_json(json::parse(text)); });
}

#define EXPECT_FAILS_AT(failure, path, message)                                    \
  do {                                                                             \
    Failure f_ = (failure);                                                        \
    EXPECT_EQ(f_.where, path) << f_.what;                                          \
    EXPECT_NE(f_.what.find(message), std::string::npos) << "message: " << f_.what; \
  } while (0)

TEST(JsonCodec, FullJobRecordRoundTrips) {
  JobRecord r = full_record();
  EXPECT_EQ(through_text(r), r);
  EXPECT_EQ(job_record_from_json(to_json(r)), r);
}

TEST(JsonCodec, EveryJobStateRoundTrips) {
  for (int i = 0; i <= static_cast<int>(JobState::node_fail); ++i) {
    JobRecord r;
    r.state = static_cast<JobState>(i);
    EXPECT_EQ(through_text(r), r) << i;
  }
}

TEST(JsonCodec, DefaultRecordRoundTrips) {
  EXPECT_EQ(through_text(JobRecord{}), JobRecord{});
}

TEST(JsonCodec, NodeRecordRoundTrips) {
  NodeRecord n = full_node();
  EXPECT_EQ(node_record_from_json(json::parse(to_json(n).dump())), n);
  for (NodeStatus st : {NodeStatus::up, NodeStatus::drained, NodeStatus::down}) {
    n.state = st;
    EXPECT_EQ(node_record_from_json(to_json(n)), n);
  }
}

TEST(JsonCodec, UsageRecordRoundTripsWithItsFieldNames) {
  UsageRecord u;
  u.tenant = "lab-λ";
  u.user = "ådä";
  u.job = kMaxJobId;
  u.attempt = 3;
  u.accel_type = "A100-SXM4-80GB";
  u.accel_count = 16;
  u.start_ms = 1'700'000'000'000;
  u.end_ms = 1'700'000'360'000;
  u.exit_code = -9;
  u.state = "preempted";
  u.price_per_hour = 8.123456789012345;
  EXPECT_EQ(usage_record_from_json(json::parse(to_json(u).dump())), u);
  json j = to_json(u);
  EXPECT_EQ(j["job"], kMaxJobId);
  EXPECT_EQ(j["accel_type"], "A100-SXM4-80GB");
  EXPECT_EQ(j["price_per_hour"], 8.123456789012345);
  EXPECT_EQ(j.size(), 11u);  // every UsageRecord field
  EXPECT_EQ(usage_record_from_json(json::object()), UsageRecord{});
  try {
    usage_record_from_json(json::parse(R"({"price_per_hour":-1})"));
    ADD_FAILURE() << "decoded a negative price";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "price_per_hour");
  }
  u.accel_count = -1;
  EXPECT_THROW(check_codec_limits(u), InputError);
}

TEST(JsonCodec, SpecRoundTripsAlone) {
  JobSpec s = full_record().spec;
  EXPECT_EQ(job_spec_from_json(json::parse(to_json(s).dump())), s);
}

TEST(JsonCodec, FieldNamesAreTheCxxNames) {
  json j = to_json(full_record());
  EXPECT_EQ(j["id"], 4242);
  EXPECT_EQ(j["state"], "node_fail");
  EXPECT_EQ(j["submit_ms"], 1'700'000'000'000);
  EXPECT_EQ(j["spec"]["accel_count"], 16);
  EXPECT_EQ(j["spec"]["walltime"], 36 * 3600 * 1000LL);
  EXPECT_EQ(j["spec"]["argv"][1], "train.py");
  EXPECT_EQ(j["spec"]["after_ok"][2], kMaxJobId);
  EXPECT_EQ(j["assignment"][0]["node"], "a");
  EXPECT_EQ(j["assignment"][1]["devices"], json::array({7}));
  EXPECT_EQ(j["array_task_id"], 2);
  EXPECT_EQ(j["spec"]["hold"], true);
  EXPECT_EQ(j["spec"]["begin_ms"], 1'700'000'360'000);
  EXPECT_EQ(j["spec"]["nodelist"], json::array({"node1", "node3"}));
  EXPECT_EQ(j["spec"]["exclude"][0], "gpu07");
  EXPECT_EQ(j["spec"]["unix_user"], "ada");
  EXPECT_EQ(j["spec"]["signal"], 10);
  EXPECT_EQ(j["spec"]["signal_time"], 90);
  EXPECT_EQ(j["spec"]["signal_batch"], true);
  EXPECT_EQ(j["spec"].size(), 31u);  // every JobSpec field
  EXPECT_EQ(j.size(), 13u);          // every JobRecord field
  json n = to_json(full_node());
  EXPECT_EQ(n["state"], "drained");
  EXPECT_EQ(n["unhealthy"], std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(n.size(), 15u);  // every NodeRecord field
  EXPECT_EQ(to_json(NodeAssignment{"x", {1}}), json::parse(R"({"node":"x","devices":[1]})"));
}

TEST(JsonCodec, MissingFieldsKeepDefaults) {
  EXPECT_EQ(job_spec_from_json(json::object()), JobSpec{});
  EXPECT_EQ(job_spec_from_json(json::object()).tasks_per_node, 1);
  EXPECT_EQ(job_record_from_json(json::object()).array_task_id, -1);
  JobSpec s = job_spec_from_json(json::parse(R"({"argv":["sleep","1"],"accel_count":4})"));
  EXPECT_EQ(s.argv, (std::vector<std::string>{"sleep", "1"}));
  EXPECT_EQ(s.accel_count, 4);
  EXPECT_EQ(s.nodes, 0);
  // A record stored before --signal existed: no checkpoint signal.
  EXPECT_EQ(s.signal, 0);
  EXPECT_EQ(s.signal_time_s, 0);
  EXPECT_FALSE(s.signal_batch);
}

TEST(JsonCodec, IntegralFloatsAreIntegers) {
  EXPECT_EQ(job_spec_from_json(json::parse(R"({"accel_count":4.0})")).accel_count, 4);
  EXPECT_EQ(job_spec_from_json(json::parse(R"({"mem_mib":1e3})")).mem_mib, 1000);
  EXPECT_EQ(job_spec_from_json(json::parse(R"({"cpus_per_task":3})")).cpus_per_task, 3.0);
}

TEST(JsonCodec, LimitsAreInclusive) {
  JobSpec s;
  s.accel_count = kMaxJsonCount;
  s.argv.assign(kMaxJsonListEntries, "x");
  s.name.assign(kMaxJsonStringBytes, 'n');
  s.script.assign(kMaxJsonScriptBytes, 's');
  s.priority = std::numeric_limits<std::int32_t>::max();
  EXPECT_EQ(job_spec_from_json(json::parse(to_json(s).dump())), s);
  JobRecord r;
  r.id = kMaxJobId;
  r.array_task_id = -1;
  r.exit_code = -1;
  EXPECT_EQ(through_text(r), r);
}

TEST(JsonCodec, CompactTextIsTheSameJsonWithoutDefaults) {
  JobRecord r = full_record();
  EXPECT_EQ(job_record_from_json(json::parse(compact(r))), r);
  r.assignment.pop_back();  // node "c" holds no devices, the default; now no field does
  EXPECT_EQ(json::parse(compact(r)), to_json(r));
  EXPECT_EQ(json::parse(compact(full_node())), to_json(full_node()));
  EXPECT_EQ(compact(JobRecord{}), "{}");
  EXPECT_EQ(compact(NodeRecord{}), "{}");
  JobRecord small;
  small.id = 3;
  small.spec.argv = {"sleep", "1"};
  small.spec.tasks_per_node = 0;  // not its default (1)
  small.state = JobState::running;
  EXPECT_EQ(compact(small),
            R"({"id":3,"spec":{"argv":["sleep","1"],"tasks_per_node":0},"state":"running"})");
  EXPECT_EQ(job_record_from_json(json::parse(compact(small))), small);
  small.spec.name = "ctl\x01\x1f\x7f \"q\" \\ \b\f\n\r\t é";
  small.spec.cpus_per_task = 0.1;
  small.spec.priority = -7;
  small.assignment = {{"a", {0, 3}}, {"", {}}};
  EXPECT_EQ(job_record_from_json(json::parse(compact(small))), small);
}

TEST(JsonCodec, TopLevelMustBeAnObject) {
  for (const char* text : {"[]", "null", "1", "\"job\"", "true", "[{}]"}) {
    Failure f = spec_error(text);
    EXPECT_EQ(f.where, "") << text;
    EXPECT_EQ(f.what, "expected a JSON object") << text;
    EXPECT_EQ(record_error(text).what, "expected a JSON object") << text;
    EXPECT_EQ(node_error(text).what, "expected a JSON object") << text;
  }
  EXPECT_EQ(failure_of([] {
              job_spec_from_json(json::binary({1, 2}));
            }).what,
            "expected a JSON object");
}

TEST(JsonCodec, WrongTypesNameTheField) {
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":"4"})"), "accel_count",
                  "expected an integer, got a string");
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":2.5})"), "accel_count",
                  "expected an integer, got 2.5");
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":true})"), "accel_count", "got a boolean");
  EXPECT_FAILS_AT(spec_error(R"({"name":null})"), "name", "expected a string, got null");
  EXPECT_FAILS_AT(spec_error(R"({"name":["a"]})"), "name", "expected a string, got an array");
  EXPECT_FAILS_AT(spec_error(R"({"argv":"python x.py"})"), "argv",
                  "expected an array, got a string");
  EXPECT_FAILS_AT(spec_error(R"({"argv":["a","b","c",5]})"), "argv[3]", "expected a string, got 5");
  EXPECT_FAILS_AT(spec_error(R"({"env":[{}]})"), "env[0]", "expected a string, got an object");
  EXPECT_FAILS_AT(spec_error(R"({"cpus_per_task":"2"})"), "cpus_per_task", "expected a number");
  EXPECT_FAILS_AT(spec_error(R"({"after_ok":[1,"2"]})"), "after_ok[1]", "expected an integer");
  EXPECT_FAILS_AT(spec_error(R"({"hold":1})"), "hold", "expected true or false, got 1");
  EXPECT_FAILS_AT(spec_error(R"({"hold":"yes"})"), "hold", "expected true or false, got a string");
  EXPECT_FAILS_AT(spec_error(R"({"nodelist":"node[1-2]"})"), "nodelist",
                  "expected an array, got a string");
  EXPECT_FAILS_AT(spec_error(R"({"begin_ms":-5})"), "begin_ms", "");
  EXPECT_FAILS_AT(record_error(R"({"spec":[]})"), "spec", "expected a JSON object");
  EXPECT_FAILS_AT(record_error(R"({"state":1})"), "state", "expected a string, got 1");
  EXPECT_FAILS_AT(record_error(R"({"assignment":{}})"), "assignment", "expected an array");
  EXPECT_FAILS_AT(record_error(R"({"assignment":["a"]})"), "assignment[0]",
                  "expected a JSON object");
  EXPECT_FAILS_AT(record_error(R"({"assignment":[{"node":"a","devices":[0,"1"]}]})"),
                  "assignment[0].devices[1]", "expected an integer");
  EXPECT_FAILS_AT(node_error(R"({"cpus":null})"), "cpus", "expected a number, got null");
  EXPECT_FAILS_AT(failure_of([] {
                    job_spec_from_json(json{{"name", json::binary({0})}});
                  }),
                  "name", "got binary");
}

TEST(JsonCodec, NegativeAndAbsurdNumbersNameTheField) {
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":-1})"), "accel_count",
                  "must not be negative, got -1");
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":1000001})"), "accel_count",
                  "must be at most 1000000, got 1000001");
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":1e300})"), "accel_count", "must be at most 1000000");
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":-1e300})"), "accel_count", "must not be negative");
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":18446744073709551615})"), "accel_count",
                  "must be at most 1000000");
  EXPECT_FAILS_AT(spec_error(R"({"nodes":-3})"), "nodes", "must not be negative");
  EXPECT_FAILS_AT(spec_error(R"({"signal":65})"), "signal", "must be at most 64, got 65");
  EXPECT_FAILS_AT(spec_error(R"({"signal_time":65536})"), "signal_time",
                  "must be at most 65535, got 65536");
  EXPECT_FAILS_AT(spec_error(R"({"signal_time":-1})"), "signal_time", "must not be negative");
  EXPECT_FAILS_AT(spec_error(R"({"tasks_per_node":-1})"), "tasks_per_node", "must not be negative");
  EXPECT_FAILS_AT(spec_error(R"({"ntasks":2000000})"), "ntasks", "must be at most");
  EXPECT_FAILS_AT(spec_error(R"({"mem_mib":-1})"), "mem_mib", "must not be negative");
  EXPECT_FAILS_AT(spec_error(R"({"walltime":-1000})"), "walltime", "must not be negative");
  EXPECT_FAILS_AT(spec_error(R"({"walltime":9223372036854775807})"), "walltime", "must be at most");
  EXPECT_FAILS_AT(spec_error(R"({"cpus_per_task":-0.5})"), "cpus_per_task",
                  "must not be negative, got -0.5");
  EXPECT_FAILS_AT(spec_error(R"({"cpus_per_task":1e9})"), "cpus_per_task", "must be at most");
  EXPECT_FAILS_AT(spec_error(R"({"max_retries":-1})"), "max_retries", "must not be negative");
  EXPECT_FAILS_AT(spec_error(R"({"priority":2147483648})"), "priority",
                  "must be at most 2147483647");
  EXPECT_FAILS_AT(spec_error(R"({"priority":-2147483649})"), "priority",
                  "must be at least -2147483648");
  EXPECT_FAILS_AT(spec_error(R"({"after_ok":[3,-4]})"), "after_ok[1]", "must not be negative");
  EXPECT_FAILS_AT(record_error(R"({"id":-1})"), "id", "must not be negative");
  EXPECT_FAILS_AT(record_error(R"({"id":9223372036854775808})"), "id",
                  "must be at most 9223372036854775807");
  EXPECT_FAILS_AT(record_error(R"({"array_task_id":-2})"), "array_task_id", "must be at least -1");
  EXPECT_FAILS_AT(record_error(R"({"attempt":-1})"), "attempt", "must not be negative");
  EXPECT_FAILS_AT(record_error(R"({"end_ms":-1})"), "end_ms", "must not be negative");
  EXPECT_FAILS_AT(record_error(R"({"master_port":65536})"), "master_port", "must be at most 65535");
  EXPECT_FAILS_AT(record_error(R"({"assignment":[{"node":"a","devices":[0,-1]}]})"),
                  "assignment[0].devices[1]", "must not be negative");
  EXPECT_FAILS_AT(record_error(R"({"spec":{"accel_count":-8}})"), "spec.accel_count",
                  "must not be negative");
  EXPECT_FAILS_AT(node_error(R"({"accel_count":-1})"), "accel_count", "must not be negative");
  EXPECT_FAILS_AT(node_error(R"({"unhealthy":-1})"), "unhealthy", "must not be negative");
  EXPECT_FAILS_AT(node_error(R"({"last_seen_ms":-5})"), "last_seen_ms", "must not be negative");
  EXPECT_EQ(node_record_from_json(json::parse(R"({"unhealthy":1e19})")).unhealthy,
            10'000'000'000'000'000'000ULL);
}

TEST(JsonCodec, NonFiniteNumbersAreRejected) {
  // JSON text cannot hold them, but a json built in code can.
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    EXPECT_FAILS_AT(failure_of([&] {
                      job_spec_from_json(json{{"cpus_per_task", bad}});
                    }),
                    "cpus_per_task", "must be a finite number");
    EXPECT_FAILS_AT(failure_of([&] {
                      job_spec_from_json(json{{"accel_count", bad}});
                    }),
                    "accel_count", "must be a finite number");
    EXPECT_FAILS_AT(failure_of([&] {
                      node_record_from_json(json{{"cpus", bad}});
                    }),
                    "cpus", "must be a finite number");
  }
}

TEST(JsonCodec, BadStringsNameTheField) {
  EXPECT_FAILS_AT(spec_error(R"({"argv":["ok","a\u0000b"]})"), "argv[1]", "contains a NUL byte");
  EXPECT_FAILS_AT(spec_error(R"({"name":"\u0000"})"), "name", "contains a NUL byte");
  EXPECT_FAILS_AT(record_error(R"({"assignment":[{"node":"x\u0000"}]})"), "assignment[0].node",
                  "contains a NUL byte");
  EXPECT_FAILS_AT(failure_of([] {
                    job_spec_from_json(json{{"user", "caf\xe9"}});
                  }),
                  "user", "is not valid UTF-8");
  EXPECT_FAILS_AT(failure_of([] {
                    job_spec_from_json(json{{"env", {"A=\xed\xa0\x80"}}});
                  }),
                  "env[0]", "is not valid UTF-8");  // an encoded surrogate
}

TEST(JsonCodec, AbsurdSizesNameTheField) {
  JobSpec s;
  s.argv.assign(kMaxJsonListEntries + 1, "x");
  EXPECT_FAILS_AT(spec_error(to_json(s).dump()), "argv", "has 10001 entries, more than the limit");
  s = {};
  s.name.assign(kMaxJsonStringBytes + 1, 'n');
  EXPECT_FAILS_AT(spec_error(to_json(s).dump()), "name", "is longer than the limit of 1 MiB");
  s = {};
  s.env = {"A=1", std::string(kMaxJsonStringBytes + 1, 'e')};
  EXPECT_FAILS_AT(spec_error(to_json(s).dump()), "env[1]", "is longer than the limit of 1 MiB");
  s = {};
  s.script.assign(kMaxJsonScriptBytes + 1, 's');
  EXPECT_FAILS_AT(spec_error(to_json(s).dump()), "script", "is longer than the limit of 4 MiB");
  s = {};
  s.after_ok.assign(kMaxJsonListEntries + 1, 1);
  EXPECT_FAILS_AT(spec_error(to_json(s).dump()), "after_ok", "more than the limit of 10000");
  JobRecord r;
  r.assignment.assign(1, NodeAssignment{"a", std::vector<int>(kMaxJsonListEntries + 1, 0)});
  EXPECT_FAILS_AT(record_error(to_json(r).dump()), "assignment[0].devices", "more than the limit");
}

TEST(JsonCodec, UnknownFieldsAreRejected) {
  EXPECT_FAILS_AT(spec_error(R"({"accel_count":1,"acel_count":1})"), "acel_count", "unknown field");
  EXPECT_FAILS_AT(record_error(R"({"spec":{"gpus":2}})"), "spec.gpus", "unknown field");
  EXPECT_FAILS_AT(record_error(R"({"assignment":[{"node":"a"},{"node":"b","gpu":1}]})"),
                  "assignment[1].gpu", "unknown field");
  EXPECT_FAILS_AT(node_error(R"({"name":"a","status":"up"})"), "status", "unknown field");
  // A record's fields are not a spec's, and the other way round.
  EXPECT_FAILS_AT(spec_error(R"({"state":"running"})"), "state", "unknown field");
  EXPECT_FAILS_AT(record_error(R"({"argv":["x"]})"), "argv", "unknown field");
}

TEST(JsonCodec, UnknownEnumValuesListTheChoices) {
  EXPECT_FAILS_AT(
      record_error(R"({"state":"RUNNING"})"), "state",
      "unknown value \"RUNNING\" (expected one of: pending, running, completed, failed, "
      "cancelled, timeout, node_fail)");
  EXPECT_FAILS_AT(node_error(R"({"state":"sleeping"})"), "state",
                  "(expected one of: up, drained, down)");
}

TEST(JsonCodec, CheckCodecLimitsMatchesTheDecoder) {
  EXPECT_NO_THROW(check_codec_limits(full_record()));
  EXPECT_NO_THROW(check_codec_limits(full_node()));
  JobRecord r = full_record();
  r.spec.env[1] = std::string("X=\0", 3);
  EXPECT_FAILS_AT(failure_of([&] { check_codec_limits(r); }), "spec.env[1]", "contains a NUL byte");
  r = full_record();
  r.assignment[1].devices.push_back(-1);
  EXPECT_FAILS_AT(failure_of([&] { check_codec_limits(r); }), "assignment[1].devices[1]",
                  "must not be negative");
  r = full_record();
  r.spec.cpus_per_task = std::nan("");
  EXPECT_FAILS_AT(failure_of([&] { check_codec_limits(r); }), "spec.cpus_per_task", "finite");
  r = full_record();
  r.id = kMaxJobId + 1;
  EXPECT_FAILS_AT(failure_of([&] { check_codec_limits(r); }), "id", "must be at most");
  NodeRecord n = full_node();
  n.name = "bad\xff";
  EXPECT_FAILS_AT(failure_of([&] { check_codec_limits(n); }), "name", "is not valid UTF-8");
}

// Replaces one randomly chosen value somewhere inside `j` (or adds a key) with a random one.
void mutate(json& j, std::mt19937_64& rng) {
  static const std::vector<json> kValues = {nullptr,
                                            true,
                                            0,
                                            -1,
                                            1,
                                            7,
                                            2.5,
                                            -0.0,
                                            1e300,
                                            -1e300,
                                            9223372036854775807LL,
                                            18446744073709551615ULL,
                                            "",
                                            "x",
                                            std::string("\0", 1),
                                            "running",
                                            "up",
                                            json::array(),
                                            json::array({1, "a"}),
                                            json::object(),
                                            json::object({{"node", "a"}}),
                                            json::binary({1})};
  json* at = &j;
  while ((at->is_object() || at->is_array()) && !at->empty() && rng() % 3 != 0) {
    std::size_t k = rng() % at->size();
    at = at->is_array() ? &(*at)[k] : &std::next(at->begin(), static_cast<long>(k)).value();
  }
  if (at->is_object() && rng() % 4 == 0)
    (*at)["zz" + std::to_string(rng() % 3)] = kValues[rng() % kValues.size()];
  else
    *at = kValues[rng() % kValues.size()];
}

TEST(JsonCodec, FuzzedValuesOnlyEverThrowInputError) {
  std::mt19937_64 rng(20240611);
  const json job = to_json(full_record());
  const json node = to_json(full_node());
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    json j = i % 4 == 3 ? node : job;
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0; --m) mutate(j, rng);
    try {
      if (i % 4 == 3) {
        NodeRecord n = node_record_from_json(j);
        check_codec_limits(n);
        EXPECT_EQ(node_record_from_json(json::parse(to_json(n).dump())), n);
        EXPECT_EQ(node_record_from_json(json::parse(compact(n))), n);
      } else {
        JobRecord r = job_record_from_json(j);
        check_codec_limits(r);
        EXPECT_EQ(through_text(r), r);
        EXPECT_EQ(job_record_from_json(json::parse(compact(r))), r);
      }
      ++accepted;
    } catch (const InputError& e) {
      EXPECT_FALSE(std::string(e.what()).empty());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an InputError: " << e.what() << " for " << j.dump().substr(0, 300);
    }
  }
  EXPECT_GT(accepted, 100);  // the mutations do not all break the record
}

}  // namespace
}  // namespace zs
