// Scripted network faults: refused and blackholed connects, reset after N bytes, segmentation, at exact instants.
#include <faultline/net.hpp>

#include "net_test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <faultline/chaos.hpp>
#include <faultline/steady_timer.hpp>

#include <string>
#include <vector>

namespace asio = boost::asio;
namespace net = faultline::net;
using boost::system::error_code;
using faultline::at;
using faultline_test::use_tuple;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

struct scripted_hosts : faultline_test::db_app_hosts {
  using db_app_hosts::db_app_hosts;
  // A connect from a fresh client socket, given up after 1s: its error and when it ended.
  std::pair<error_code, faultline::sim_clock::time_point> try_connect() {
    net::tcp::socket s(app.get_executor());
    auto r = sim.run([&]() -> asio::awaitable<error_code> {
      faultline::steady_timer timeout(app.get_executor(), 1s);
      auto v = co_await (s.async_connect(endpoint(), use_tuple) || timeout.async_wait(use_tuple));
      co_return v.index() == 0 ? std::get<0>(std::get<0>(v)) : error_code(asio::error::timed_out);
    });
    return {r.value(), sim.now()};
  }
};

TEST(NetRefuse, ConnectsAreRefusedOneRoundTripLaterEvenWithAListenerUntilUnblocked) {
  scripted_hosts h;
  h.network.refuse("db", 5432);
  EXPECT_EQ(h.try_connect(), std::make_pair(error_code(asio::error::connection_refused), at(10ms)));
  h.network.unblock("db", 5432);
  const auto start = h.sim.now();
  EXPECT_EQ(h.try_connect(), std::make_pair(error_code(), start + 10ms));
  EXPECT_TRUE(h.has("t=0.000s network net: refuse connects to db:5432"));
}

TEST(NetRefuse, PortZeroRefusesEveryPortAndUnblockOfTheHostLiftsEveryRule) {
  scripted_hosts h;
  h.network.refuse("db");
  h.network.blackhole("db", 80);
  EXPECT_EQ(h.try_connect().first, asio::error::connection_refused);
  h.network.unblock("db");
  EXPECT_FALSE(h.try_connect().first);
}

TEST(NetBlackhole, TheSynIsDroppedAndTheConnectWaitsForItsTimeout) {
  scripted_hosts h;
  h.network.blackhole("db", 5432);
  EXPECT_EQ(h.try_connect(), std::make_pair(error_code(asio::error::timed_out), at(1s)));
  EXPECT_TRUE(h.has("t=0.005s network net: blackhole db:5432: syn from app:49152 dropped"));
  h.network.unblock("db", 5432);
  EXPECT_FALSE(h.try_connect().first);
}

TEST(NetResetAfter, TheConnectionCarriesNBytesThenBothEndsSeeConnectionReset) {
  scripted_hosts h;
  h.network.link("app", "db").reset_after(5);
  h.connect();
  std::string got;
  error_code server_ec;
  faultline::sim_clock::time_point reset_at;
  h.sim.spawn("reader", [&]() -> asio::awaitable<void> {
    for (;;) {
      char buf[16];
      auto [ec, n] = co_await h.server.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) {
        server_ec = ec;
        reset_at = h.sim.now();
        co_return;
      }
      got.append(buf, n);
    }
  });
  const auto writes = h.sim.run([&]() -> asio::awaitable<std::vector<std::size_t>> {
    auto [ec1, n1] = co_await h.client.async_write_some(asio::buffer("abcdefg", 7), use_tuple);  // crosses the limit
    auto [ec2, n2] = co_await h.client.async_write_some(asio::buffer("h", 1), use_tuple);
    EXPECT_FALSE(ec1);
    EXPECT_EQ(ec2, asio::error::connection_reset);
    co_return std::vector<std::size_t>{n1, n2};
  });
  h.sim.run();
  EXPECT_EQ(writes.value(), (std::vector<std::size_t>{5, 0}));  // a short write up to the limit
  EXPECT_EQ(got, "abcde");
  EXPECT_EQ(server_ec, asio::error::connection_reset);
  EXPECT_EQ(reset_at, at(15ms));
}

TEST(NetResetAfter, ZeroFailsTheFirstWriteAndOtherDirectionsAreUnaffected) {
  scripted_hosts h;
  h.network.link("db", "app").reset_after(0);
  h.network.link("db", "app").clear();
  h.network.link("app", "db").reset_after(0);
  h.connect();
  error_code ec;
  h.client.async_write_some(asio::buffer("a", 1), [&](error_code e, std::size_t) { ec = e; });
  h.sim.run();
  EXPECT_EQ(ec, asio::error::connection_reset);
}

TEST(NetSegment, EachWriteArrivesInPiecesAGapApartSoReadsAreShort) {
  scripted_hosts h;
  h.network.link("app", "db").segment(2, 1ms);
  h.connect();
  EXPECT_EQ(h.reads_of("hello", 3), (std::vector<std::string>{"t=0.015s he", "t=0.016s ll", "t=0.017s o"}));
}

TEST(NetSegment, WithoutAGapTheFirstReadGetsTheFirstSegmentOnly) {
  scripted_hosts h;
  h.network.link("app", "db").segment(3);
  h.connect();
  std::string first;
  char buf[16];
  h.server.async_read_some(asio::buffer(buf), [&](error_code, std::size_t n) { first.assign(buf, n); });
  asio::async_write(h.client, asio::buffer("abcdefg", 7), [](error_code, std::size_t) {});
  h.sim.run();
  EXPECT_EQ(first, "abc");
  EXPECT_EQ(h.server.available(), 4u);
}

// The server's reads until eof, each as "t=0.115s 100" (bytes read) or "t=1.015s eof".
std::vector<std::string> server_reads(scripted_hosts& h) {
  std::vector<std::string> log;
  h.sim.spawn("reader", [&]() -> asio::awaitable<void> {
    for (;;) {
      char buf[256];
      auto [ec, n] = co_await h.server.async_read_some(asio::buffer(buf), use_tuple);
      log.push_back(faultline::to_string(h.sim.now()) + " " + (ec ? std::string("eof") : std::to_string(n)));
      if (ec) co_return;
    }
  });
  h.sim.run();
  return log;
}

TEST(NetBandwidth, WritesGoOutOneAfterAnotherAtTheRateAndArriveWholeInOrder) {
  scripted_hosts h;
  h.network.link("app", "db").bandwidth(1000);  // 1 byte a millisecond
  h.connect();                                  // t=10ms
  const std::string hundred(100, 'a'), fifty(50, 'b');
  h.client.async_write_some(asio::buffer(hundred), [](error_code, std::size_t) {});
  h.client.async_write_some(asio::buffer(fifty), [](error_code, std::size_t) {});
  h.sim.run_until(at(20ms));
  h.client.shutdown(asio::socket_base::shutdown_send);  // the FIN follows the bytes
  // 100 bytes through at t=110ms, then 50 more at t=160ms; each 5ms of latency later.
  EXPECT_EQ(server_reads(h), (std::vector<std::string>{"t=0.115s 100", "t=0.165s 50", "t=0.165s eof"}));
}

TEST(NetSlowClose, TheFinReachesThePeerThatLateAfterTheBytes) {
  scripted_hosts h;
  h.network.link("app", "db").slow_close(1s);
  h.connect();
  asio::async_write(h.client, asio::buffer("bye", 3), [](error_code, std::size_t) {});
  h.client.close();
  EXPECT_EQ(server_reads(h), (std::vector<std::string>{"t=0.015s 3", "t=1.015s eof"}));
  EXPECT_EQ(h.network.link("app", "db").slow_close_delay(), 1s);
  h.network.link("app", "db").clear();
  EXPECT_EQ(h.network.link("app", "db").slow_close_delay(), 0s);
  EXPECT_FALSE(h.network.link("app", "db").bandwidth_limit());
}

// Seeded with `seed`, app -> db drawing each write's extra latency from `d`: the server's reads of
// four 1-byte writes made at t=10ms, then eof.
std::vector<std::string> drawn_reads(std::uint64_t seed, const faultline::latency_dist& d) {
  faultline::sim_options o;
  o.seed = seed;
  scripted_hosts h(o);
  h.network.link("app", "db").latency(d);
  h.connect();
  for (const char* byte : {"a", "b", "c", "d"}) h.client.async_write_some(asio::buffer(byte, 1), [](error_code, std::size_t) {});
  h.client.shutdown(asio::socket_base::shutdown_send);
  return server_reads(h);
}

TEST(NetLinkLatency, AFixedDistributionAddsItsDelayToEachWrite) {
  EXPECT_EQ(drawn_reads(1, faultline::latency_dist::fixed(3ms)),
            (std::vector<std::string>{"t=0.018s 1", "t=0.018s 3", "t=0.018s eof"}));
}

TEST(NetLinkLatency, EachWriteDrawsFromTheSeedInOrderAndTheSameSeedDrawsTheSame) {
  const auto d = faultline::latency_dist::uniform(0ms, 20ms);
  const auto first = drawn_reads(7, d);
  EXPECT_EQ(drawn_reads(7, d), first);
  EXPECT_NE(drawn_reads(8, d), first);
  std::string bytes_seen;
  faultline::sim_clock::time_point last{};
  for (const auto& r : first) {
    // "t=0.023s 1": in [15ms, 35ms], never before the read before it.
    const auto t = faultline::sim_clock::time_point(std::chrono::microseconds(std::stoll(r.substr(2, 1)) * 1000000 +
                                                                             std::stoll(r.substr(4, 3)) * 1000));
    EXPECT_GE(t, at(15ms)) << r;
    EXPECT_LE(t, at(35ms)) << r;
    EXPECT_GE(t, last) << r;
    last = t;
  }
  EXPECT_EQ(first.back().substr(first.back().size() - 3), "eof");
}

TEST(NetLinkFaultMisuse, BadSettingsSayWhy) {
  try {
    scripted_hosts h;
    h.network.link("app", "db").bandwidth(0);
    FAIL() << "bandwidth(0) was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "faultline: link_faults(\"app\" -> \"db\")::bandwidth(0): a link carries at least 1 byte a "
                           "second; use clear() for no limit");
  }
  scripted_hosts h;
  try {
    h.network.link("app", "db").segment(0);
    FAIL() << "segment(0) was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: link_faults(\"app\" -> \"db\")::segment(0, 0.000s): a segment holds at least 1 byte; use "
                 "clear() for whole writes");
  }
  EXPECT_THROW(h.network.link("app", "db").segment(1, -1ms), std::invalid_argument);
  EXPECT_THROW(h.network.link("app", "db").slow_close(-1ms), std::invalid_argument);
  // The chaos plan's check and texts (ChaosPlan.RefusesABadLatencyDistributionNamingTheValues), after the caller.
  const auto latency_message = [&](const faultline::latency_dist& d) -> std::string {
    try {
      h.network.link("app", "db").latency(d);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string call = "faultline: link_faults(\"app\" -> \"db\")::latency: ";
  EXPECT_EQ(latency_message(faultline::latency_dist::fixed(1ms, 1.5)),
            call + "the latency probability 1.500000 is not in [0, 1]; use a value in [0, 1]");
  EXPECT_EQ(latency_message(faultline::latency_dist::uniform(-1ms, 0ms)),
            call + "a latency bound is negative (-0.001s, 0.000s); use durations >= 0");
  EXPECT_EQ(latency_message(faultline::latency_dist::uniform(5ms, 1ms)),
            call + "uniform latency from 0.005s to 0.001s has its bounds reversed; give the low end first");
  EXPECT_THROW(h.network.link("app", "nowhere"), std::invalid_argument);
  EXPECT_THROW(h.network.refuse("nowhere"), std::invalid_argument);
  EXPECT_THROW(h.network.blackhole("nowhere", 1), std::invalid_argument);
  EXPECT_THROW(h.network.unblock("nowhere"), std::invalid_argument);
}

}  // namespace
