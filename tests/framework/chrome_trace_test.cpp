// Tests that the Chrome trace-event export is valid JSON with the slices and instants Perfetto needs.
#include <faultline/trace.hpp>

#include <faultline/fake.hpp>
#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/json/src.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;

TEST(ChromeTrace, ExportsTasksAndCallsAsSlicesAndTheRestAsInstants) {
  faultline::sim_context sim;
  faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
  fetch.on_call().after(1250ms).throws(std::runtime_error("quote \" and\nnewline"));
  sim.run([&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(1500us);
    try {
      co_await fetch("/a");
    } catch (const std::exception&) {
    }
  });
  std::ostringstream out;
  sim.trace().write_chrome_json(out);
  json::value doc = json::parse(out.str());  // throws on invalid JSON
  const auto& events = doc.at("traceEvents").as_array();
  ASSERT_EQ(events.size(), sim.trace().events().size());

  const auto& begin = events[0].as_object();  // main spawned
  EXPECT_EQ(begin.at("ph").as_string(), "b");
  EXPECT_EQ(begin.at("cat").as_string(), "task");
  EXPECT_EQ(begin.at("name").as_string(), "main");

  const auto& fired = events[2].as_object();  // timer fired at 1.5 ms
  EXPECT_EQ(fired.at("ph").as_string(), "i");
  EXPECT_EQ(fired.at("name").as_string(), "timer#1 fired");
  EXPECT_DOUBLE_EQ(fired.at("ts").to_number<double>(), 1500.0);

  const auto& threw = events[4].as_object();  // fetch("/a") -> threw at 1.5 ms + 1.25 s
  EXPECT_EQ(threw.at("ph").as_string(), "e");
  EXPECT_EQ(threw.at("cat").as_string(), "call");
  EXPECT_EQ(threw.at("id"), events[3].as_object().at("id"));  // closes the slice its call opened
  EXPECT_DOUBLE_EQ(threw.at("ts").to_number<double>(), 1251500.0);
  EXPECT_EQ(threw.at("args").at("detail").as_string(), "std::runtime_error: quote \" and\nnewline");
}

TEST(ChromeTrace, KeepsNanosecondsAsAFractionOfAMicrosecond) {
  faultline::sim_context sim;
  sim.run_for(1234567ns);
  sim.trace().note("n");
  std::ostringstream out;
  sim.trace().write_chrome_json(out);
  auto doc = json::parse(out.str());
  EXPECT_DOUBLE_EQ(doc.at("traceEvents").as_array()[0].at("ts").to_number<double>(), 1234.567);
}

TEST(ChromeTrace, WritesAFileAndNamesAPathItCannotWrite) {
  faultline::sim_context sim;
  sim.trace().note("x");
  const std::string path = ::testing::TempDir() + "faultline_chrome_trace_test.json";
  sim.trace().write_chrome_json(path);
  std::ifstream f(path);
  std::stringstream content;
  content << f.rdbuf();
  EXPECT_NO_THROW(json::parse(content.str()));
  std::remove(path.c_str());
  try {
    sim.trace().write_chrome_json("/nonexistent-dir/x.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "faultline: trace::write_chrome_json: cannot write /nonexistent-dir/x.json");
  }
}

}  // namespace
