// samples/bugs - what the planted-bug scenario files share.
#pragma once

#include <faultline/fake.hpp>

#include <string>
#include <utility>

// An overload set (a function template) as one object, so that a scenario takes either the
// sample's function or its buggy copy.
#define LIFT(f) [](auto&&... args) { return f(std::forward<decltype(args)>(args)...); }

namespace bugs_test {
/// The double the fetch-shaped scenarios script.
using fetch_fake = faultline::async_fake<std::string(std::string)>;
}  // namespace bugs_test
