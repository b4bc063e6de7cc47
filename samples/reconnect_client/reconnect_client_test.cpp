// Tests of reconnect_client on faultline's network: connect timeout, capped backoff, heartbeat detection of a
// partition, reconnect after heal, and a latency sweep without false positives.
#include "reconnect_client.hpp"

#include <faultline/chaos.hpp>
#include <faultline/net.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/sweep.hpp>

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace net = faultline::net;
namespace rc = samples::reconnect_client;
using namespace std::chrono_literals;
using faultline::at;

constexpr auto rc_tuple = asio::as_tuple(asio::use_awaitable);

// Answers each "ping\n" with "pong\n", for every connection.
asio::awaitable<void> pong_session(net::tcp::socket peer) {
  std::string in;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(peer, asio::dynamic_buffer(in), '\n', rc_tuple);
    if (ec) co_return;
    in.erase(0, n);
    auto [wec, wn] = co_await asio::async_write(peer, asio::buffer("pong\n", 5), rc_tuple);
    if (wec) co_return;
  }
}

// The pong server on "db":7000, the client on "app", 1 ms apart; the client's events as "t=... what".
struct client_hosts {
  faultline::sim_context& sim;
  net::network& network = net::network::of(sim);
  net::host& db = network.add_host("db");
  net::host& app = network.add_host("app");
  std::vector<std::string> events;
  rc::client client;

  explicit client_hosts(faultline::sim_context& s, rc::client_options o = {})
      : sim(s), client(app.get_executor(), with_target(std::move(o)), [this](const rc::client_event& e) { log(e); }) {
    network.set_latency("app", "db", 1ms);
    db.spawn("server", []() -> asio::awaitable<void> {
      net::tcp::acceptor acceptor(co_await asio::this_coro::executor, {asio::ip::tcp::v4(), 7000});
      for (;;) {
        auto [ec, peer] = co_await acceptor.async_accept(rc_tuple);
        if (!ec) asio::co_spawn(acceptor.get_executor(), pong_session(std::move(peer)), asio::detached);
      }
    });
    app.spawn("client", [this]() -> asio::awaitable<void> { co_await client.run(); });
  }
  static rc::client_options with_target(rc::client_options o) {
    o.host = "db";
    o.service = "7000";
    return o;
  }
  void log(const rc::client_event& e) {
    static constexpr const char* names[] = {"connected", "connect_failed", "heartbeat_ok", "disconnected"};
    std::string line = faultline::to_string(sim.now()) + " " + names[static_cast<int>(e.what)];
    if (e.error) line += " " + e.error.message();
    events.push_back(line);
  }
  std::size_t count(const std::string& what) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.find(what) != std::string::npos;
    return n;
  }
};

struct client_test_hosts {
  faultline::sim_context own_sim;
  client_hosts h{own_sim};
};

const std::string timed_out = asio::error::make_error_code(asio::error::timed_out).message();
const std::string refused = asio::error::make_error_code(asio::error::connection_refused).message();

TEST(ReconnectClient, ConnectsAndHeartbeatsEverySecond) {
  client_test_hosts t;
  t.own_sim.run_until(at(2500ms));
  // Connected one round trip after the start; each ping leaves 1 s after the last reply, its pong 2 ms later.
  EXPECT_EQ(t.h.events, (std::vector<std::string>{"t=0.002s connected", "t=1.004s heartbeat_ok", "t=2.006s heartbeat_ok"}));
}

TEST(ReconnectClient, ABlackholedConnectTimesOutAtExactlyTheTimeoutThenBacksOff) {
  client_test_hosts t;
  t.h.network.blackhole("db");
  t.own_sim.run_until(at(3300ms));
  // 1 s timeout, then waits of 100 ms and 200 ms before the next attempts.
  EXPECT_EQ(t.h.events, (std::vector<std::string>{"t=1.000s connect_failed " + timed_out,
                                                  "t=2.100s connect_failed " + timed_out,
                                                  "t=3.300s connect_failed " + timed_out}));
}

TEST(ReconnectClient, ARefusedConnectBacksOffDoublingUpToTheCap) {
  client_test_hosts t;
  t.h.network.refuse("db", 7000);
  t.own_sim.run_until(at(7200ms));  // the next attempt is due at 9.132 s
  // asio::async_connect tries both of db's addresses (10.0.0.1, fd00::1), each refused after a 2 ms round
  // trip: 4 ms per attempt. The waits between attempts: 100, 200, 400, 800, 1600 ms, then 2 s (the cap).
  std::vector<std::string> expected;
  for (const char* instant : {"0.004", "0.108", "0.312", "0.716", "1.520", "3.124", "5.128", "7.132"})
    expected.push_back(std::string("t=") + instant + "s connect_failed " + refused);
  EXPECT_EQ(t.h.events, expected);
}

TEST(ReconnectClient, APartitionIsDetectedByTheMissedHeartbeatAndHealingReconnects) {
  client_test_hosts t;
  t.own_sim.run_until(at(1500ms));
  t.h.network.partition("app", "db");
  t.own_sim.run_until(at(4s));
  t.h.network.heal("app", "db");
  t.own_sim.run_until(at(5500ms));
  EXPECT_EQ(t.h.events, (std::vector<std::string>{
                            "t=0.002s connected", "t=1.004s heartbeat_ok",
                            // the ping of t=2.004s gets no pong within 500 ms
                            "t=2.504s disconnected " + timed_out,
                            // the reconnect's SYN is held by the cut: 1 s connect timeout, 100 ms backoff
                            "t=3.504s connect_failed " + timed_out,
                            // the SYN of t=3.604s is released at the heal and arrives 1 ms later
                            "t=4.002s connected", "t=5.004s heartbeat_ok"}));
}

// Up to 240 ms of latency each way on every write: a round trip stays under the 500 ms heartbeat timeout,
// so no seed may drop the connection.
void slow_but_alive(faultline::sim_context& sim) {
  client_hosts h(sim);
  sim.run_until(at(10s));
  if (h.count("disconnected") != 0 || h.count("connect_failed") != 0 || h.count("heartbeat_ok") < 7) {
    std::string all;
    for (const auto& e : h.events) all += e + "; ";
    throw std::runtime_error("a false positive: " + all);
  }
}

TEST(ReconnectClient, ASweepOfLatenciesUnderTheTimeoutNeverDropsTheConnection) {
  using faultline::fault_rates, faultline::latency_dist;
  faultline::sweep_options o;
  o.plan.point("net:app->db:data", fault_rates().latency(latency_dist::uniform(1ms, 240ms)))
      .point("net:db->app:data", fault_rates().latency(latency_dist::uniform(1ms, 240ms)));
  o.seeds = 30;
  const auto r = faultline::sweep(o, slow_but_alive);
  EXPECT_FALSE(r.failure) << faultline::describe(r);
  EXPECT_EQ(r.seeds_run, 30u);
  EXPECT_GT(r.coverage.at("net:app->db:data").injected[faultline::fault_kind::latency], 100u);
}

}  // namespace
