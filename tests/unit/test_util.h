// Small helpers shared by the unit tests.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/accelerator.h"
#include "core/input_error.h"

namespace zs::test {

// The message of the InputError that `f` throws ("" and a test failure if it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

inline const Catalog& cat() {
  return Catalog::builtin();
}
inline TypeId type_of(const char* name) {
  return cat().resolve(name, "test");
}

}  // namespace zs::test
