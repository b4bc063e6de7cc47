// A deliberately failing test: the check_timeline script compares the timeline it prints with a golden file.
#include <faultline/gtest.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// Not part of the test suite (ctest runs it through check_timeline.cmake):
// it must fail, and the listener must print the sim's timeline at the failure.
FAULTLINE_TEST(TimelineDemo, ARetryThatGivesUp) {
  faultline::async_fake<std::string(std::string)> fetch(sim(), "fetch");
  fetch.on_call().after(100ms).throws(std::runtime_error("503")).times(2);
  std::string body;
  for (int attempt = 1; attempt <= 2 && body.empty(); ++attempt) {
    try {
      body = co_await fetch("/a");
    } catch (const std::runtime_error&) {
    }
    co_await faultline::sleep_for(500ms);
  }
  EXPECT_EQ(body, "ok");
}

}  // namespace
