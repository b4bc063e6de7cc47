// faultline - what the misuse tests share: the message a call throws, or "(no exception)".
#pragma once

#include <exception>
#include <string>

namespace faultline_test {

// Misuse must end in a message that names the value and the fix; tests compare the text.
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace faultline_test
