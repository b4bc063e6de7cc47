// faultline - what the failpoint-spec tests share: "this spec is rejected at this column, saying this".
#pragma once

#include <faultline/failpoint_spec.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace faultline_test {

// Succeeds if `spec` is rejected at `position` with `part` in the message. Long specs and
// messages are cut in the failure text (the megabyte tests would print megabytes).
inline testing::AssertionResult rejects(std::string_view spec, std::size_t position, std::string_view part) {
  try {
    auto fps = faultline::parse_failpoints(spec);
    return testing::AssertionFailure() << "\"" << spec.substr(0, 200) << "\" parsed into " << fps.size()
                                       << " failpoint(s)";
  } catch (const faultline::failpoint_spec_error& e) {
    const std::string what = e.what();
    if (e.position() != position || what.find(part) == std::string::npos)
      return testing::AssertionFailure() << "\"" << spec.substr(0, 200) << "\" was rejected at column "
                                         << e.position() << " (want " << position << ") with\n"
                                         << what.substr(0, 400) << "\n(want \"" << part << "\")";
    return testing::AssertionSuccess();
  }
}

}  // namespace faultline_test
