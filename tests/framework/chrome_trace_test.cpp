// Tests that the Chrome trace-event export is valid JSON with the slices and instants Perfetto needs.
#include <faultline/trace.hpp>

#include <faultline/fake.hpp>
#include <faultline/gtest.hpp>
#include <faultline/net.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
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

// The one event of `events` with phase `ph` and name `name`; fails the test if there is not exactly one.
json::object chrome_event(const json::array& events, std::string_view ph, std::string_view name) {
  json::object found;
  int count = 0;
  for (const auto& v : events) {
    const auto& e = v.as_object();
    if (e.at("ph").as_string() == ph && e.at("name").as_string() == name) {
      found = e;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "events with ph " << ph << " named " << name;
  return found;
}

TEST(ChromeTrace, GivesEachHostAProcessAndEachConnectionASliceFromItsFirstEventToClose) {
  namespace net = faultline::net;
  faultline::sim_context sim;
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  auto& app = network.add_host("app");
  network.set_latency("app", "db", 5ms);
  net::tcp::acceptor acceptor(db.get_executor(), {asio::ip::tcp::v4(), 5432});
  db.spawn("server", [&]() -> asio::awaitable<void> {
    auto peer = co_await acceptor.async_accept(asio::use_awaitable);
    char buf[4];
    co_await asio::async_read(peer, asio::buffer(buf), asio::use_awaitable);  // t=15ms, then closes
  });
  sim.run([&]() -> asio::awaitable<void> {
    net::tcp::socket s(app.get_executor());
    co_await s.async_connect({db.addresses().front(), 5432}, asio::use_awaitable);  // SYN at db 5ms, back 10ms
    co_await asio::async_write(s, asio::buffer("ping", 4), asio::use_awaitable);
    co_await faultline::sleep_for(20ms);  // closes at 30ms
  });
  std::ostringstream out;
  sim.trace().write_chrome_json(out);
  const json::value doc = json::parse(out.str());
  const auto& events = doc.at("traceEvents").as_array();

  const auto pid_named = [&](std::string_view name) {
    for (const auto& v : events) {
      const auto& e = v.as_object();
      if (e.at("ph").as_string() == "M" && e.at("name").as_string() == "process_name" &&
          e.at("args").at("name").as_string() == name)
        return e.at("pid").to_number<int>();
    }
    ADD_FAILURE() << "no process named " << name;
    return -1;
  };
  const auto thread_name = [&](const json::object& on) {
    for (const auto& v : events) {
      const auto& e = v.as_object();
      if (e.at("ph").as_string() == "M" && e.at("name").as_string() == "thread_name" && e.at("pid") == on.at("pid") &&
          e.at("tid") == on.at("tid"))
        return std::string(e.at("args").at("name").as_string());
    }
    return std::string("(none)");
  };
  EXPECT_EQ(pid_named("sim"), 1);
  const int db_pid = pid_named("db");
  const int app_pid = pid_named("app");
  EXPECT_EQ(db_pid, 2);  // listen came first
  EXPECT_EQ(app_pid, 3);

  // The client's connection: from connect at 0 to close at 30 ms, on app.
  const std::string client = "app:49152 -> db:5432";
  const auto client_begin = chrome_event(events, "B", client);
  EXPECT_EQ(client_begin.at("pid").to_number<int>(), app_pid);
  EXPECT_DOUBLE_EQ(client_begin.at("ts").to_number<double>(), 0.0);
  EXPECT_EQ(client_begin.at("args").at("detail").as_string(), "connect");
  const auto client_end = chrome_event(events, "E", client + " close");
  EXPECT_EQ(client_end.at("pid"), client_begin.at("pid"));
  EXPECT_EQ(client_end.at("tid"), client_begin.at("tid"));
  EXPECT_DOUBLE_EQ(client_end.at("ts").to_number<double>(), 30000.0);
  const auto wrote = chrome_event(events, "i", client + " write 4 bytes");
  EXPECT_EQ(wrote.at("tid"), client_begin.at("tid"));
  EXPECT_DOUBLE_EQ(wrote.at("ts").to_number<double>(), 10000.0);

  // The server's: from the SYN's arrival at 5 ms to its close after the read at 15 ms, on db.
  const std::string server = "db:5432 <- app:49152";
  const auto server_begin = chrome_event(events, "B", server);
  EXPECT_EQ(server_begin.at("pid").to_number<int>(), db_pid);
  EXPECT_DOUBLE_EQ(server_begin.at("ts").to_number<double>(), 5000.0);
  EXPECT_DOUBLE_EQ(chrome_event(events, "E", server + " close").at("ts").to_number<double>(), 15000.0);
  const auto arrived = chrome_event(events, "i", server + " arrived 4 bytes");
  EXPECT_EQ(arrived.at("pid").to_number<int>(), db_pid);
  EXPECT_EQ(arrived.at("tid"), server_begin.at("tid"));
  EXPECT_NE(arrived.at("tid"), json::value(1));  // thread 1 is the host's own: listen, accept
  EXPECT_EQ(chrome_event(events, "i", "db:5432 accept app:49152").at("tid").to_number<int>(), 1);
  EXPECT_EQ(thread_name(server_begin), server);
  EXPECT_EQ(thread_name(client_begin), client);
}

}  // namespace
