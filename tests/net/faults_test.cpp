// Scripted network faults on a sim: partition and heal, host crash and restart, at exact instants.
#include <faultline/net.hpp>

#include "net_test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <faultline/steady_timer.hpp>

#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace net = faultline::net;
using boost::system::error_code;
using faultline::at;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

// "db" and "app", 5 ms apart; a connected pair (client on app, server on db) at t=10ms.
struct connected_hosts : faultline_test::db_app_hosts {
  connected_hosts() { connect(); }
  asio::ip::tcp::endpoint db_endpoint() const { return endpoint(); }
  bool pending(const std::string& name) const {
    for (const auto& p : sim.pending())
      if (p.name == name) return true;
    return false;
  }
};

TEST(NetPartition, BytesAcrossACutWaitForHealThenArriveOneLatencyLater) {
  connected_hosts h;
  h.network.partition("app", "db");
  EXPECT_TRUE(h.network.partitioned("db", "app"));
  std::optional<std::string> got;
  faultline::sim_clock::time_point got_at;
  char buf[8];
  h.server.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t n) {
    got = ec ? ec.message() : std::string(buf, n);
    got_at = h.sim.now();
  });
  asio::async_write(h.client, asio::buffer("ping", 4), [](error_code, std::size_t) {});
  h.sim.run_until(at(1s));
  EXPECT_FALSE(got);
  EXPECT_TRUE(h.pending("read on db:5432 <- app:49152"));
  h.network.heal("db", "app");
  EXPECT_FALSE(h.network.partitioned("app", "db"));
  h.sim.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "ping");
  EXPECT_EQ(got_at, at(1005ms));
  EXPECT_NE(h.sim.trace().timeline().find("t=1.000s network net: heal db <-> app, 1 segment released"),
            std::string::npos);
}

TEST(NetPartition, AConnectAcrossACutCompletesOneRoundTripAfterHeal) {
  connected_hosts h;
  h.network.partition("db", "app");
  std::optional<error_code> connected;
  faultline::sim_clock::time_point connected_at;
  net::tcp::socket s(h.app.get_executor());
  s.async_connect(h.db_endpoint(), [&](error_code ec) {
    connected = ec;
    connected_at = h.sim.now();
  });
  h.sim.run_until(at(2s));
  EXPECT_FALSE(connected);
  h.network.heal("app", "db");
  h.sim.run();
  ASSERT_TRUE(connected);
  EXPECT_FALSE(*connected);
  EXPECT_EQ(connected_at, at(2010ms));
}

TEST(NetPartition, OtherLinksKeepWorking) {
  connected_hosts h;
  auto& cache = h.network.add_host("cache");
  net::tcp::acceptor on_cache(cache.get_executor(), {asio::ip::tcp::v4(), 6379});
  h.network.partition("app", "db");
  auto r = h.sim.run([&]() -> asio::awaitable<void> {
    net::tcp::socket s(h.app.get_executor());
    co_await (on_cache.async_accept(asio::use_awaitable) &&
              s.async_connect({cache.addresses().front(), 6379}, asio::use_awaitable));
  });
  EXPECT_NO_THROW(r.value());
  EXPECT_EQ(r.completed_at(), at(10ms));  // default latency 0: connected at once, at t=10ms
}

TEST(NetHold, HeldSegmentsWaitForReleaseThenArriveAtItsInstantInOrderWhileTheOtherDirectionFlows) {
  connected_hosts h;  // connected at t=10ms
  h.network.hold("app", "db");
  EXPECT_TRUE(h.network.held("app", "db"));
  EXPECT_FALSE(h.network.held("db", "app"));
  std::vector<std::string> at_server, at_client;
  h.sim.spawn("server reads", [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      char buf[8];
      auto [ec, n] = co_await h.server.async_read_some(asio::buffer(buf), faultline_test::use_tuple);
      at_server.push_back(faultline::to_string(h.sim.now()) + " " + std::string(buf, n));
    }
  });
  char one;
  h.client.async_read_some(asio::buffer(&one, 1), [&](error_code, std::size_t n) {
    at_client.push_back(faultline::to_string(h.sim.now()) + " " + std::string(&one, n));
  });
  asio::async_write(h.client, asio::buffer("ab", 2), [](error_code, std::size_t) {});
  asio::async_write(h.server, asio::buffer("x", 1), [](error_code, std::size_t) {});
  h.sim.run_until(at(20ms));
  asio::async_write(h.client, asio::buffer("cd", 2), [](error_code, std::size_t) {});
  h.sim.run_until(at(1s));
  EXPECT_TRUE(at_server.empty());
  EXPECT_EQ(at_client, (std::vector<std::string>{"t=0.015s x"}));  // db -> app is not held
  h.network.release("app", "db");
  EXPECT_FALSE(h.network.held("app", "db"));
  h.sim.run();
  EXPECT_EQ(at_server, (std::vector<std::string>{"t=1.000s ab", "t=1.000s cd"}));
  EXPECT_TRUE(h.has("t=1.000s network net: release app -> db, 2 segments"));
}

TEST(NetCrash, ACrashedHostVanishesSilentlyAndAfterRestartItsOldConnectionsAreReset) {
  faultline::sim_context sim;
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  auto& app = network.add_host("app");
  network.set_latency("app", "db", 5ms);
  auto serve = [&]() -> asio::awaitable<void> {
    net::tcp::acceptor acceptor(co_await asio::this_coro::executor, {asio::ip::tcp::v4(), 5432});
    for (;;) {
      auto peer = co_await acceptor.async_accept(asio::use_awaitable);
      char buf[16];
      auto n = co_await peer.async_read_some(asio::buffer(buf), asio::use_awaitable);
      co_await asio::async_write(peer, asio::buffer(buf, n), asio::use_awaitable);
    }
  };
  auto server = db.spawn("server", serve);
  net::tcp::socket client(app.get_executor());
  std::optional<error_code> read_ec;
  faultline::sim_clock::time_point read_at;
  char buf[16];
  sim.run([&]() -> asio::awaitable<void> {
    co_await client.async_connect({db.addresses().front(), 5432}, asio::use_awaitable);
  }).value();
  client.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) {
    read_ec = ec;
    read_at = sim.now();
  });
  sim.run_until(at(20ms));
  network.crash("db");
  EXPECT_FALSE(db.is_up());
  sim.run_until(at(1s));
  EXPECT_TRUE(server.done());  // cancelled by the crash
  EXPECT_FALSE(read_ec);       // no FIN, no RST: the peer notices nothing
  asio::async_write(client, asio::buffer("lost", 4), [](error_code, std::size_t) {});
  sim.run_until(at(2s));
  EXPECT_FALSE(read_ec);  // dropped: the host is down
  network.restart("db");
  asio::async_write(client, asio::buffer("again", 5), [](error_code, std::size_t) {});
  sim.run_until(at(3s));
  ASSERT_TRUE(read_ec);
  EXPECT_EQ(*read_ec, asio::error::connection_reset);  // the rebooted host knows no such connection
  EXPECT_EQ(read_at, at(2010ms));
  // The test starts the server again; new connections work.
  db.spawn("server again", serve);
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    net::tcp::socket s(app.get_executor());
    co_await s.async_connect({db.addresses().front(), 5432}, asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer("hi", 2), asio::use_awaitable);
    char in[2];
    co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
    co_return std::string(in, 2);
  });
  EXPECT_EQ(r.value(), "hi");
  EXPECT_EQ(r.completed_at(), at(3020ms));
}

// Found by the echo_watchdog sample: a crash cancels a host::spawn task that then ends on its
// aborted accept; Asio's co_spawn cancellation handler emits later, through the queue, so the
// network must keep the cancelled task's state alive until then.
TEST(NetCrash, CrashingAHostWhoseTaskEndsOnItsAbortedAcceptIsClean) {
  faultline::sim_context sim;
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  std::optional<error_code> accepted;
  db.spawn("server", [&]() -> asio::awaitable<void> {
    net::tcp::acceptor acceptor(co_await asio::this_coro::executor, {asio::ip::tcp::v4(), 7000});
    auto [ec, peer] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    accepted = ec;
  });
  sim.run_for(1ms);
  network.crash("db");
  EXPECT_NO_THROW(sim.run());
  // The task ends on its own aborted accept: that completion is what used to race the cancellation.
  EXPECT_EQ(accepted, error_code(asio::error::operation_aborted));
}

// A long-lived host that spawns a task per connection must not remember every task it ever ran: what
// it keeps for a crash follows the tasks still running, and a crash still cancels those.
TEST(NetCrash, AHostForgetsItsFinishedTasksYetACrashCancelsTheLiveOnes) {
  faultline::sim_context sim;
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  auto sleep_for = [](faultline::sim_clock::duration d) {
    return [d]() -> asio::awaitable<void> {
      faultline::steady_timer t(co_await asio::this_coro::executor, d);
      co_await t.async_wait(asio::use_awaitable);
    };
  };
  auto listener = db.spawn("listener", sleep_for(1h));
  for (int i = 0; i < 200; ++i) {
    db.spawn("connection", sleep_for(1ms));
    sim.run_for(2ms);
  }
  EXPECT_LE(net::detail::host_test_access::crash_entries(db), 16u);  // 201 before it pruned
  auto in_flight = db.spawn("connection", sleep_for(1h));
  sim.run_for(1ms);
  network.crash("db");
  sim.run();
  ASSERT_TRUE(listener.done());
  ASSERT_TRUE(in_flight.done());
  EXPECT_TRUE(listener.result().was_cancelled());
  EXPECT_TRUE(in_flight.result().was_cancelled());
  EXPECT_EQ(listener.result().completed_at(), at(401ms));
  EXPECT_EQ(in_flight.result().completed_at(), at(401ms));
}

TEST(NetCrash, AConnectToACrashedHostHangsUntilItsTimeout) {
  connected_hosts h;
  h.network.crash("db");
  EXPECT_FALSE(h.server.is_open());
  auto r = h.sim.run([&]() -> asio::awaitable<std::size_t> {
    net::tcp::socket s(h.app.get_executor());
    faultline::steady_timer t(h.app.get_executor(), 3s);
    auto which = co_await (s.async_connect(h.db_endpoint(), asio::use_awaitable) || t.async_wait(asio::use_awaitable));
    co_return which.index();
  });
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(r.completed_at(), at(3010ms));
}

TEST(NetCrash, ConnectFromACrashedHostFailsWithNetworkDown) {
  connected_hosts h;
  h.network.crash("app");
  auto r = h.sim.run([&]() -> asio::awaitable<error_code> {
    net::tcp::socket s(h.app.get_executor());
    auto [ec] = co_await s.async_connect(h.db_endpoint(), asio::as_tuple(asio::use_awaitable));
    co_return ec;
  });
  EXPECT_EQ(r.value(), asio::error::network_down);
}

// An echo server on `h`'s port 5432 that logs the instant it starts: a boot function.
struct booted_echo {
  faultline::sim_context* sim;
  net::host* h;
  std::vector<faultline::sim_clock::time_point>* starts;
  asio::awaitable<void> operator()() const {
    starts->push_back(sim->now());
    net::tcp::acceptor acceptor(h->get_executor(), {asio::ip::tcp::v4(), 5432});
    for (;;) {
      auto peer = co_await acceptor.async_accept(asio::use_awaitable);
      char buf[16];
      auto n = co_await peer.async_read_some(asio::buffer(buf), asio::use_awaitable);
      co_await asio::async_write(peer, asio::buffer(buf, n), asio::use_awaitable);
    }
  }
};

asio::awaitable<std::string> echo_once(net::host& from, const asio::ip::tcp::endpoint& to) {
  net::tcp::socket s(from.get_executor());
  co_await s.async_connect(to, asio::use_awaitable);
  co_await asio::async_write(s, asio::buffer("hi", 2), asio::use_awaitable);
  char in[2];
  co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
  co_return std::string(in, 2);
}

TEST(NetBoot, TheBootFunctionRunsNowAndAgainAtEveryRestart) {
  faultline::sim_context sim;
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  auto& app = network.add_host("app");
  network.set_latency("app", "db", 5ms);
  std::vector<faultline::sim_clock::time_point> starts;
  db.boot("server", booted_echo{&sim, &db, &starts});
  sim.run_until(at(1s));
  network.crash("db");
  sim.run_until(at(2s));
  network.restart("db");
  const asio::ip::tcp::endpoint server(db.addresses().front(), 5432);
  auto r = sim.run(echo_once(app, server));
  EXPECT_EQ(r.value(), "hi");
  EXPECT_EQ(r.completed_at(), at(2020ms));  // the server listens again from t=2s
  network.crash("db");  // nobody but the host holds the boot function's task: its cancellation must not dangle
  sim.run_until(at(2500ms));
  network.restart("db");
  sim.run_until(at(3s));
  EXPECT_EQ(starts, (std::vector<faultline::sim_clock::time_point>{at(0s), at(2s), at(2500ms)}));
}

TEST(NetBoot, ABootFunctionGivenWhileTheHostIsDownFirstRunsAtItsRestart) {
  faultline::sim_context sim;
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  std::vector<faultline::sim_clock::time_point> starts;
  network.crash("db");
  db.boot("server", booted_echo{&sim, &db, &starts});
  sim.run_until(at(1s));
  EXPECT_TRUE(starts.empty());
  network.restart("db");
  sim.run_until(at(2s));
  EXPECT_EQ(starts, (std::vector<faultline::sim_clock::time_point>{at(1s)}));
}

TEST(NetFaultMisuse, BadPartitionsAndCrashesSayWhy) {
  connected_hosts h;
  EXPECT_THROW(h.network.partition("db", "db"), std::invalid_argument);
  EXPECT_THROW(h.network.partition("db", "nobody"), std::invalid_argument);
  EXPECT_THROW(h.network.hold("app", "nobody"), std::invalid_argument);
  try {
    h.network.hold("db", "db");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "faultline: network::hold(\"db\", \"db\"): a host's connections to itself cross no link; "
                           "name two hosts");
  }
  EXPECT_THROW(h.network.restart("db"), std::invalid_argument);
  h.network.crash("db");
  try {
    h.network.crash("db");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "faultline: network::crash(\"db\"): the host is down already; restart it first");
  }
}

}  // namespace

namespace {

TEST(NetTeardown, ASimMayEndWithConnectionsNobodyAcceptedAndOperationsPending) {
  auto sim = std::make_unique<faultline::sim_context>();
  auto& network = net::network::of(*sim);
  auto& db = network.add_host("db");
  auto& app = network.add_host("app");
  auto acceptor = std::make_unique<net::tcp::acceptor>(db.get_executor(), asio::ip::tcp::endpoint{asio::ip::tcp::v4(), 80});
  net::tcp::socket a(app.get_executor()), b(app.get_executor());
  a.async_connect({db.addresses().front(), 80}, [](error_code) {});
  b.async_connect({db.addresses().front(), 80}, [](error_code) {});
  sim->run();
  char buf[4];
  a.async_read_some(asio::buffer(buf), [](error_code, std::size_t) { ADD_FAILURE() << "dropped, never called"; });
  sim.reset();  // two connections in the accept queue, a read pending
  EXPECT_THROW(a.close(), std::logic_error);
}

}  // namespace
