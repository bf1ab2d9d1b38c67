// The conformance suite every zs::Store implementation must pass (store_conformance_test.cpp).
// An implementation joins it with one line in any test file:
//
//   INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance,
//                            ::testing::Values(StoreFactory{"postgres", &open_test_pg_store}),
//                            StoreConformance::name_of);
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "scratch_dir.h"
#include "store/store.h"

namespace zs::test {

struct StoreFactory {
  std::string name;  // a test-name suffix: letters, digits and '_'
  // Opens the store whose data belongs to `dir`: a fresh, empty store the first time, the same
  // data again on every later call with the same dir. A file store keeps its files in dir; a
  // server store can derive a database or schema name from it. Called from forked children
  // too, so it must not rely on state shared with the parent (such as an open connection).
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
};

inline void PrintTo(const StoreFactory& f, std::ostream* os) {
  *os << f.name;
}

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 public:
  static std::string name_of(const ::testing::TestParamInfo<StoreFactory>& info) {
    return info.param.name;
  }

 protected:
  std::unique_ptr<Store> open() { return GetParam().open(dir_.path()); }
  ScratchDir dir_;
};

}  // namespace zs::test
