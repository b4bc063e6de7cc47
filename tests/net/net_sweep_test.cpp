// Sweeps over network chaos points: a bug only a reset reaches is found, minimised to that one fault, replayed.
#include <faultline/net.hpp>

#include "net_test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <faultline/sweep.hpp>

#include <stdexcept>
#include <string>

namespace asio = boost::asio;
namespace net = faultline::net;
using faultline_test::use_tuple;
using namespace std::chrono_literals;

namespace {

// The server answers each "ping" with "pong", and keeps accepting whatever fails.
asio::awaitable<void> pong_server(net::host& db) {
  net::tcp::acceptor acceptor(db.get_executor(), {asio::ip::tcp::v4(), 7000});
  for (;;) {
    net::tcp::socket peer(db.get_executor());
    auto [ec] = co_await acceptor.async_accept(peer, use_tuple);
    if (ec) continue;
    char buf[4];
    auto [rec, rn] = co_await asio::async_read(peer, asio::buffer(buf), use_tuple);
    if (!rec) co_await asio::async_write(peer, asio::buffer("pong", 4), use_tuple);
  }
}

// The client retries a failed connect, a failed write and an early eof, but the
// planted bug: a reply cut by any other read error is returned as if whole.
asio::awaitable<std::string> ping_client(net::host& app, const asio::ip::tcp::endpoint& server) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    net::tcp::socket s(app.get_executor());
    auto [ec] = co_await s.async_connect(server, use_tuple);
    if (ec) continue;
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer("ping", 4), use_tuple);
    if (wec) continue;
    std::string reply(4, '?');
    auto [rec, rn] = co_await asio::async_read(s, asio::buffer(reply), use_tuple);
    if (rec == asio::error::eof) continue;
    co_return reply;
  }
  co_return "gave up";
}

void ping_scenario(faultline::sim_context& sim) {
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  auto& app = network.add_host("app");
  network.set_latency("app", "db", 5ms);
  db.spawn("server", [&db]() -> asio::awaitable<void> { co_await pong_server(db); });
  const asio::ip::tcp::endpoint server(db.addresses().front(), 7000);
  const std::string reply = sim.run(ping_client(app, server)).value();
  if (reply != "pong" && reply != "gave up") throw std::runtime_error("the client took \"" + reply + "\" for a reply");
}

TEST(NetSweep, ASingleFaultSweepFindsTheBugOnlyAResetReaches) {
  faultline::single_fault_options o;
  o.kinds = {faultline::fault_kind::error};
  // The client has no timeout, so a cut for good or a crashed server would hang it: this sweep is about resets.
  o.excluded_points = {"net:app->db:partition", "net:db->app:partition", "net:app:crash", "net:db:crash"};
  const auto r = faultline::sweep_single_faults(o, ping_scenario);
  // Every network point the fault-free run crossed was tried.
  EXPECT_EQ(r.baseline.coverage.count("net:app:crash"), 1u);
  EXPECT_EQ(r.baseline.coverage.count("net:db->app:partition"), 1u);
  EXPECT_EQ(r.baseline.coverage.count("net:app->db:connect"), 1u);
  EXPECT_EQ(r.baseline.coverage.count("net:db:7000:accept"), 1u);
  EXPECT_EQ(r.baseline.coverage.count("net:app->db:data"), 1u);
  EXPECT_EQ(r.baseline.coverage.count("net:db->app:segment"), 1u);
  ASSERT_EQ(r.failures.size(), 1u) << faultline::describe(r);
  EXPECT_EQ(r.failures[0].schedule.to_string(), "net:db->app:data#0=error");
  EXPECT_EQ(r.failures[0].failure, "the client took \"????\" for a reply");
}

TEST(NetSweep, ASeededSweepFindsItMinimisesToTheOneResetAndReplaysTheSameTrace) {
  faultline::sweep_options o;
  o.plan.otherwise(faultline::fault_rates().error(0.4));
  for (const char* p : {"net:app->db:partition", "net:db->app:partition", "net:app:crash", "net:db:crash"})
    o.plan.point(p, faultline::fault_rates());  // as above: no cuts, no crashes
  o.seeds = 200;
  const auto r = faultline::sweep(o, ping_scenario);
  ASSERT_TRUE(r.failure) << faultline::describe(r);
  EXPECT_LE(r.seeds_run, 5u) << faultline::describe(r);  // seed 1: a connect refused, a split, the reset
  EXPECT_GT(r.failure->schedule.size(), 1u);
  ASSERT_TRUE(r.minimal);
  EXPECT_EQ(r.minimal->schedule.to_string(), "net:db->app:data#0=error");
  const auto replayed = faultline::run_schedule(o, r.failure->schedule, r.failure->seed, ping_scenario);
  EXPECT_TRUE(replayed.failed);
  EXPECT_EQ(replayed.trace_hash, r.failure->trace_hash);
  EXPECT_EQ(replayed.schedule, r.failure->schedule);
}

}  // namespace
