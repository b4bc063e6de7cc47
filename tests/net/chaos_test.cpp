// Network chaos points (connect, accept, data, segment): each kind replayed from a schedule at exact instants.
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

// The shared hosts, replaying `schedule`.
struct chaos_hosts : faultline_test::db_app_hosts {
  explicit chaos_hosts(const char* schedule) {
    faultline::chaos(sim).replay(faultline::fault_schedule::parse(schedule));
  }
  // Seeded with `seed`, drawing from `plan`.
  chaos_hosts(std::uint64_t seed, faultline::chaos_plan plan) : db_app_hosts(seeded(seed)) {
    faultline::chaos(sim).use(std::move(plan));
  }
  static faultline::sim_options seeded(std::uint64_t seed) {
    faultline::sim_options o;
    o.seed = seed;
    return o;
  }
  // Connects client and server (the accept with a timeout of `patience`); the connect's result.
  error_code connect_within(faultline::sim_clock::duration patience = 10s) {
    return sim.run([&]() -> asio::awaitable<error_code> {
      auto accepting = [&]() -> asio::awaitable<error_code> {
        faultline::steady_timer timeout(db.get_executor(), patience);
        co_await (acceptor.async_accept(server, use_tuple) || timeout.async_wait(use_tuple));
        co_return error_code();
      };
      auto connecting = [&]() -> asio::awaitable<error_code> {
        auto [ec] = co_await client.async_connect(endpoint(), use_tuple);
        co_return ec;
      };
      auto [ec, unused] = co_await (connecting() && accepting());
      co_return ec;
    }).value();
  }
};

TEST(NetChaosConnect, AnErrorIsConnectionRefusedOneRoundTripLater) {
  chaos_hosts h("net:app->db:connect#0=error");
  EXPECT_EQ(h.connect_within(20ms), asio::error::connection_refused);
  EXPECT_TRUE(h.has("t=0.000s app:49152 -> db:5432 fault: chaos: error injected_fault at call #0"));
  EXPECT_TRUE(h.has("t=0.010s app:49152 -> db:5432 net: connect failed: connection_refused"));
  EXPECT_FALSE(h.server.is_open());
}

TEST(NetChaosConnect, AnErrorWithACodeFailsWithThatCode) {
  chaos_hosts h("net:app->db:connect#0=error(network_unreachable)");
  EXPECT_EQ(h.connect_within(20ms), asio::error::network_unreachable);
  EXPECT_TRUE(h.has("t=0.010s app:49152 -> db:5432 net: connect failed: network_unreachable"));
}

TEST(NetChaosConnect, AHangIsADroppedSynTheConnectWaitsForItsTimeout) {
  chaos_hosts h("net:app->db:connect#0=hang");
  const auto r = h.sim.run([&]() -> asio::awaitable<int> {
    faultline::steady_timer timeout(h.app.get_executor(), 3s);
    auto v = co_await (h.client.async_connect(h.endpoint(), use_tuple) || timeout.async_wait(use_tuple));
    co_return static_cast<int>(v.index());
  });
  EXPECT_EQ(r.value(), 1);  // the timeout won
  EXPECT_EQ(h.sim.now(), at(3s));
  EXPECT_TRUE(h.has("t=0.000s app:49152 -> db:5432 net: syn dropped (chaos)"));
  EXPECT_FALSE(h.has("connection from"));
}

TEST(NetChaosConnect, LatencyMakesTheSynLate) {
  chaos_hosts h("net:app->db:connect#0=latency(100ms)");
  EXPECT_FALSE(h.connect_within());
  EXPECT_TRUE(h.has("t=0.105s db:5432 <- app:49152 net: connection from app:49152"));
  EXPECT_TRUE(h.has("t=0.110s app:49152 -> db:5432 net: connected"));
}

TEST(NetChaosConnect, CancelEndsTheConnectAtOnce) {
  chaos_hosts h("net:app->db:connect#0=cancel");
  EXPECT_EQ(h.connect_within(1s), asio::error::operation_aborted);
  EXPECT_TRUE(h.has("t=0.000s app:49152 -> db:5432 net: connect cancelled (chaos)"));
}

TEST(NetChaosAccept, AnErrorKeepsTheConnectionInTheBacklogForTheNextAccept) {
  chaos_hosts h("net:db:5432:accept#0=error");
  error_code first, second;
  faultline::sim_clock::time_point first_at, second_at;
  h.acceptor.async_accept(h.server, [&](error_code ec) {
    first = ec;
    first_at = h.sim.now();
    h.acceptor.async_accept(h.server, [&](error_code ec2) {
      second = ec2;
      second_at = h.sim.now();
    });
  });
  h.client.async_connect(h.endpoint(), [](error_code) {});
  h.sim.run();
  EXPECT_EQ(first, asio::error::no_descriptors);
  EXPECT_EQ(first_at, at(5ms));
  EXPECT_FALSE(second);
  EXPECT_EQ(second_at, at(5ms));
  EXPECT_EQ(h.server.remote_endpoint().port(), 49152);
  EXPECT_TRUE(h.has("t=0.005s db:5432 net: accept failed: no_descriptors (chaos); app:49152 stays in the backlog"));
}

TEST(NetChaosAccept, AHangHoldsTheAcceptUntilCancelledAndTheConnectionWaits) {
  chaos_hosts h("net:db:5432:accept#0=hang");
  EXPECT_FALSE(h.connect_within(1s));  // the client connected at 10ms; the accept timed out at 1s
  EXPECT_FALSE(h.server.is_open());
  EXPECT_EQ(h.sim.now(), at(1s));
  const auto second = h.sim.run([&]() -> asio::awaitable<error_code> {
    auto [ec] = co_await h.acceptor.async_accept(h.server, use_tuple);
    co_return ec;
  });
  EXPECT_FALSE(second.value());
  EXPECT_EQ(h.sim.now(), at(1s));
  EXPECT_TRUE(h.has("t=0.005s db:5432 net: accept held (chaos) until cancelled or closed"));
}

TEST(NetChaosAccept, LatencyMakesTheAcceptLate) {
  chaos_hosts h("net:db:5432:accept#0=latency(50ms)");
  EXPECT_FALSE(h.connect_within());
  EXPECT_TRUE(h.server.is_open());
  EXPECT_TRUE(h.has("t=0.055s db:5432 net: accept app:49152"));
}

// Connected at 10ms; the client writes "ab" then "cd"; what the server reads, and when.
struct read_log {
  std::string bytes;
  std::vector<faultline::sim_clock::time_point> instants;
  error_code error;
};

// `log` outlives the sim's run: the reader keeps writing to it.
void write_twice_and_read(chaos_hosts& h, read_log& log, faultline::sim_clock::duration read_for) {
  EXPECT_FALSE(h.connect_within());
  h.sim.spawn("reader", [&]() -> asio::awaitable<void> {
    for (;;) {
      char buf[16];
      auto [ec, n] = co_await h.server.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) {
        log.error = ec;
        co_return;
      }
      log.bytes.append(buf, n);
      log.instants.push_back(h.sim.now());
    }
  });
  asio::async_write(h.client, asio::buffer("ab", 2), [](error_code, std::size_t) {});
  asio::async_write(h.client, asio::buffer("cd", 2), [](error_code, std::size_t) {});
  h.sim.run_until(at(10ms) + read_for);
}

TEST(NetChaosData, LatencyMakesBytesLateAndKeepsTheirOrder) {
  chaos_hosts h("net:app->db:data#0=latency(100ms)");
  read_log log;
  write_twice_and_read(h, log, 1s);
  EXPECT_EQ(log.bytes, "abcd");
  ASSERT_FALSE(log.instants.empty());
  EXPECT_EQ(log.instants.front(), at(115ms));  // "cd" waited behind "ab"
  EXPECT_EQ(log.instants.back(), at(115ms));
}

TEST(NetChaosData, AnErrorResetsTheConnectionBothEndsSeeConnectionReset) {
  chaos_hosts h("net:app->db:data#0=error");
  EXPECT_FALSE(h.connect_within());
  error_code server_ec;
  faultline::sim_clock::time_point server_at;
  char buf[4];
  h.server.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) {
    server_ec = ec;
    server_at = h.sim.now();
  });
  const auto w = h.sim.run([&]() -> asio::awaitable<error_code> {
    auto [ec, n] = co_await h.client.async_write_some(asio::buffer("ab", 2), use_tuple);
    co_return ec;
  });
  EXPECT_EQ(w.value(), asio::error::connection_reset);
  h.sim.run();
  EXPECT_EQ(server_ec, asio::error::connection_reset);
  EXPECT_EQ(server_at, at(15ms));  // the RST took one latency
  // Reported once: later writes on both ends find a dead connection.
  error_code again;
  h.client.async_write_some(asio::buffer("x", 1), [&](error_code ec, std::size_t) { again = ec; });
  h.sim.run();
  EXPECT_EQ(again, asio::error::broken_pipe);
}

TEST(NetChaosData, AHangHoldsTheBytesAndEverythingAfterThemEvenTheFin) {
  chaos_hosts h("net:app->db:data#1=hang");
  read_log log;
  write_twice_and_read(h, log, 0ms);
  h.client.close();
  h.sim.run_until(at(10s));
  EXPECT_EQ(log.bytes, "ab");  // "cd" and the FIN never arrive
  EXPECT_FALSE(log.error);
  EXPECT_TRUE(h.has("t=0.010s app:49152 -> db:5432 net: write 2 bytes held (chaos hang)"));
}

TEST(NetChaosData, CancelFailsTheWriteAndSendsNothing) {
  chaos_hosts h("net:app->db:data#0=cancel");
  read_log log;
  write_twice_and_read(h, log, 1s);
  EXPECT_EQ(log.bytes, "cd");
}

// Connects, writes "a" to "d" as four writes, and returns what the server read, one byte per read.
std::vector<std::string> four_one_byte_writes(chaos_hosts& h) {
  h.connect_within();
  std::vector<std::string> reads;
  h.sim.spawn("reader", [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 4; ++i) {
      char buf[1];
      auto [ec, n] = co_await h.server.async_read_some(asio::buffer(buf), use_tuple);
      reads.push_back(std::string(buf, n));
    }
  });
  for (const char* b : {"a", "b", "c", "d"})
    asio::async_write(h.client, asio::buffer(b, 1), [](error_code, std::size_t) {});
  h.sim.run();
  return reads;
}

TEST(NetChaosData, APlanDrawsEachWritesLatencyFromADistributionKeepingOrderAndTheSeedReplays) {
  auto plan = faultline::chaos_plan().point(
      "net:app->db:data", faultline::fault_rates().latency(faultline::latency_dist::uniform(1ms, 50ms)));
  chaos_hosts h(7, plan);
  EXPECT_EQ(four_one_byte_writes(h), (std::vector<std::string>{"a", "b", "c", "d"}));
  const auto& injected = faultline::chaos(h.sim).injected();
  ASSERT_EQ(injected.size(), 4u);  // probability 1: every write was late, by 1ms to 50ms
  faultline::sim_clock::duration latest{};
  for (const auto& f : injected.faults()) {
    EXPECT_EQ(f.kind, faultline::fault_kind::latency);
    EXPECT_GE(f.latency, 1ms);
    EXPECT_LE(f.latency, 50ms);
    latest = std::max(latest, f.latency);
  }
  // Order is kept: the last byte arrives one link latency plus the largest lateness after the writes.
  EXPECT_TRUE(h.has(faultline::to_string(at(15ms) + latest) + " db:5432 <- app:49152 net: read 1 byte"));

  chaos_hosts again(injected.to_string().c_str());
  four_one_byte_writes(again);
  EXPECT_EQ(faultline::chaos(again.sim).injected(), injected);
  EXPECT_EQ(again.sim.trace().hash(), h.sim.trace().hash());
}

TEST(NetChaosSegment, AFaultSplitsTheWriteInTwoALatencySpacesTheHalves) {
  chaos_hosts h("net:app->db:segment#0=latency(3ms)");
  EXPECT_FALSE(h.connect_within());
  EXPECT_EQ(h.reads_of("hello", 2), (std::vector<std::string>{"t=0.015s hel", "t=0.018s lo"}));
}

TEST(NetChaosSchedule, NetPointNamesRoundTripBareOrQuoted) {
  const auto s = faultline::fault_schedule::parse(
      "net:app->db:connect#0=error(connection_refused);net:db:5432:accept#2=hang;net:db->app:data#1=latency(5ms)");
  EXPECT_EQ(s.faults().size(), 3u);
  EXPECT_EQ(s.faults()[0].point, "net:app->db:connect");
  EXPECT_EQ(s.faults()[1].point, "net:db:5432:accept");
  EXPECT_EQ(s.to_string(),
            "net:app->db:connect#0=error(connection_refused);net:db:5432:accept#2=hang;net:db->app:data#1=latency(5ms)");
  // A host name a bare point cannot hold is quoted and still parses back.
  faultline::fault f;
  f.point = "net:web server->db;1:data";
  f.kind = faultline::fault_kind::hang;
  const faultline::fault_schedule odd({f});
  EXPECT_EQ(faultline::fault_schedule::parse(odd.to_string()), odd);
}

// The shared hosts replaying `schedule`, with an echo server booted on db:7000 (the fixture holds 5432).
struct chaos_booted : chaos_hosts {
  std::vector<faultline::sim_clock::time_point> boots;
  explicit chaos_booted(const char* schedule) : chaos_hosts(schedule) {
    db.boot("echo", [this]() -> asio::awaitable<void> {
      boots.push_back(sim.now());
      net::tcp::acceptor a(db.get_executor(), {asio::ip::tcp::v4(), 7000});
      for (;;) {
        auto peer = co_await a.async_accept(asio::use_awaitable);
        char buf[8];
        auto [ec, n] = co_await peer.async_read_some(asio::buffer(buf), use_tuple);
        if (!ec) co_await asio::async_write(peer, asio::buffer(buf, n), use_tuple);
      }
    });
  }
  // One echo of "ping" from app, given up after 3s: the reply, or "timed out".
  std::string ping() {
    return sim.run([&]() -> asio::awaitable<std::string> {
      net::tcp::socket s(app.get_executor());
      std::string reply(4, '?');
      auto exchange = [&]() -> asio::awaitable<void> {
        co_await s.async_connect({db.addresses().front(), 7000}, asio::use_awaitable);
        co_await asio::async_write(s, asio::buffer("ping", 4), asio::use_awaitable);
        co_await asio::async_read(s, asio::buffer(reply), asio::use_awaitable);
      };
      faultline::steady_timer timeout(app.get_executor(), 3s);
      auto v = co_await (exchange() || timeout.async_wait(asio::use_awaitable));
      co_return v.index() == 0 ? reply : "timed out";
    }).value();
  }
};

TEST(NetChaosCrash, LatencyCrashesTheHostRightAfterTheCallAndRestartsItThatLateWithItsBootFunction) {
  chaos_booted h("net:db:crash#0=latency(1s)");  // db's first operation: accepting app's connection at t=5ms
  EXPECT_EQ(h.ping(), "timed out");               // "ping" reached db at t=15ms, while it was down
  EXPECT_TRUE(h.has("t=0.005s db:7000 fault: chaos: latency 1.000s at call #0"));
  EXPECT_TRUE(h.has("t=0.005s network net: crash db"));
  EXPECT_TRUE(h.has("t=1.005s network net: restart db"));
  EXPECT_EQ(h.ping(), "ping");
  EXPECT_EQ(h.sim.now(), at(3020ms));  // the first ping gave up at t=3s
  EXPECT_EQ(h.boots, (std::vector<faultline::sim_clock::time_point>{at(0s), at(1005ms)}));
}

TEST(NetChaosCrash, AnErrorRebootsTheHostAtOnceItsPendingConnectIsAborted) {
  chaos_booted h("net:app:crash#0=error");  // app's first operation: its connect at t=0
  const auto r = h.sim.run([&]() -> asio::awaitable<error_code> {
    auto [ec] = co_await h.client.async_connect(h.endpoint(), use_tuple);
    co_return ec;
  });
  EXPECT_EQ(r.value(), asio::error::operation_aborted);
  EXPECT_EQ(r.completed_at(), at(0s));
  EXPECT_TRUE(h.has("t=0.000s network net: crash app"));
  EXPECT_TRUE(h.has("t=0.000s network net: restart app"));
  EXPECT_TRUE(h.app.is_up());
}

TEST(NetChaosCrash, AHangKeepsTheHostDownForGood) {
  chaos_booted h("net:db:crash#0=hang");
  EXPECT_EQ(h.ping(), "timed out");
  EXPECT_EQ(h.ping(), "timed out");  // the SYN finds nobody
  EXPECT_FALSE(h.db.is_up());
  EXPECT_EQ(h.boots, (std::vector<faultline::sim_clock::time_point>{at(0s)}));
}

TEST(NetChaosPartition, LatencyCutsTheLinkBeforeTheWriteLeavesAndHealsItThatLate) {
  chaos_hosts h("net:app->db:partition#1=latency(1s)");  // #0 is the connect
  EXPECT_FALSE(h.connect_within());
  EXPECT_EQ(h.reads_of("ping", 1), (std::vector<std::string>{"t=1.015s ping"}));
  EXPECT_TRUE(h.has("t=0.010s app:49152 -> db:5432 fault: chaos: latency 1.000s at call #1"));
  EXPECT_TRUE(h.has("t=0.010s network net: partition app <-> db"));
  EXPECT_TRUE(h.has("t=1.010s network net: heal app <-> db, 1 segment released"));
}

TEST(NetChaosPartition, AHangCutsTheLinkForGood) {
  chaos_hosts h("net:app->db:partition#0=hang");
  const auto r = h.sim.run([&]() -> asio::awaitable<int> {
    faultline::steady_timer timeout(h.app.get_executor(), 3s);
    auto v = co_await (h.client.async_connect(h.endpoint(), use_tuple) || timeout.async_wait(use_tuple));
    co_return static_cast<int>(v.index());
  });
  EXPECT_EQ(r.value(), 1);  // the timeout won
  EXPECT_EQ(r.completed_at(), at(3s));
  EXPECT_TRUE(h.network.partitioned("db", "app"));
  EXPECT_TRUE(h.has("t=0.000s network net: partition app <-> db"));
}

TEST(NetChaosPartition, AScriptedCutOutlivesTheHealADrawnCutScheduled) {
  chaos_hosts h("net:app->db:partition#0=latency(1s)");
  bool connected = false;
  h.client.async_connect(h.endpoint(), [&](error_code ec) { connected = !ec; });
  h.sim.run_until(at(20ms));
  h.network.partition("app", "db");  // the latest cut decides when it ends: never
  h.sim.run_until(at(2s));
  EXPECT_TRUE(h.network.partitioned("app", "db"));
  EXPECT_FALSE(connected);
}

void expect_schedule_error(const char* schedule, const std::string& message) {
  chaos_hosts h(schedule);
  try {
    h.connect_within();
    FAIL() << "the schedule was accepted";
  } catch (const faultline::schedule_error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(NetChaosSchedule, AnExceptionAtAPartitionOrCrashPointIsAScheduleError) {
  expect_schedule_error("net:app->db:partition#0=exception",
                        "the schedule injects net:app->db:partition#0=exception, but net:app->db:partition is a "
                        "partition point, which takes hang, error or cancel (a cut for good) or latency(d) only");
  expect_schedule_error("net:app:crash#0=exception",
                        "the schedule injects net:app:crash#0=exception, but net:app:crash is a host crash point, "
                        "which takes error (a reboot), hang, cancel (as error) or latency(d) only");
}

}  // namespace
