// samples/bugs - what the planted-bug scenario files share.
#pragma once

#include <faultline/fake.hpp>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

// An overload set (a function template) as one object, so that a scenario takes either the
// sample's function or its buggy copy.
#define LIFT(f) [](auto&&... args) { return f(std::forward<decltype(args)>(args)...); }

namespace bugs_test {
/// The double the fetch-shaped scenarios script.
using fetch_fake = faultline::async_fake<std::string(std::string)>;

/// Seeds for a sweep whose stated bound needs `at_least`: FAULTLINE_SEEDS
/// when it asks for more (a benchmark run checks the correct samples over
/// 1,000 seeds: tests/bench/samples_no_false_positives.sh), else `at_least`.
inline std::uint64_t sweep_seeds(std::uint64_t at_least) {
  const char* v = std::getenv("FAULTLINE_SEEDS");
  std::uint64_t n = 0;
  if (!v || std::from_chars(v, v + std::strlen(v), n).ec != std::errc()) return at_least;
  return n > at_least ? n : at_least;
}
}  // namespace bugs_test
