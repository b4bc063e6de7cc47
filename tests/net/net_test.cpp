// Tests of <faultline/net.hpp> on a sim: exact instants, hosts, resolver, cancellation, stall reports, misuse.
#include <faultline/net.hpp>

#include <gtest/gtest.h>

#include "net_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <faultline/steady_timer.hpp>

#include <optional>
#include <string>

namespace asio = boost::asio;
namespace net = faultline::net;
using boost::system::error_code;
using faultline::at;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

using faultline_test::use_tuple;

// Hosts "db" (10.0.0.1) and "app" (10.0.0.2), 5 ms apart, and a listener on db:5432.
struct two_hosts {
  faultline::sim_context sim;
  net::network& network = net::network::of(sim);
  net::host& db = network.add_host("db");
  net::host& app = network.add_host("app");
  net::tcp::acceptor acceptor{db.get_executor()};

  two_hosts() {
    network.set_latency("app", "db", 5ms);
    acceptor = net::tcp::acceptor(db.get_executor(), {asio::ip::tcp::v4(), 5432});
  }
  asio::ip::tcp::endpoint db_endpoint() const { return {db.addresses().front(), 5432}; }

  // Connects client (on app) to server (accepted on db); both connected at t=10ms.
  void connect(net::tcp::socket& client, net::tcp::socket& server) {
    sim.run([&]() -> asio::awaitable<void> {
      co_await (acceptor.async_accept(server, asio::use_awaitable) &&
                client.async_connect(db_endpoint(), asio::use_awaitable));
    }).value();
  }
};

TEST(NetLatency, EchoOfSixtyFourBytesOverFiveMillisecondLinkTakesExactlyTenMilliseconds) {
  two_hosts h;
  h.db.spawn("server", [&]() -> asio::awaitable<void> {
    auto peer = co_await h.acceptor.async_accept(asio::use_awaitable);
    char buf[64];
    co_await asio::async_read(peer, asio::buffer(buf), asio::use_awaitable);
    co_await asio::async_write(peer, asio::buffer(buf), asio::use_awaitable);
  });
  faultline::sim_clock::time_point connected_at, echoed_at;
  auto r = h.sim.run([&]() -> asio::awaitable<std::string> {
    net::tcp::socket s(h.app.get_executor());
    co_await s.async_connect(h.db_endpoint(), asio::use_awaitable);
    connected_at = h.sim.now();
    std::string out(64, 'x'), in(64, '\0');
    co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
    co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
    echoed_at = h.sim.now();
    co_return in;
  });
  EXPECT_EQ(r.value(), std::string(64, 'x'));
  EXPECT_EQ(connected_at, at(10ms));  // SYN there, SYN-ACK back
  EXPECT_EQ(echoed_at, at(20ms));     // 64 bytes there and back: exactly 10 ms
  const std::string timeline = h.sim.trace().timeline();
  EXPECT_NE(timeline.find("t=0.000s db:5432 net: listen 0.0.0.0:5432 backlog 4096"), std::string::npos) << timeline;
  EXPECT_NE(timeline.find("t=0.010s app:49152 -> db:5432 net: write 64 bytes"), std::string::npos) << timeline;
  EXPECT_NE(timeline.find("t=0.015s db:5432 <- app:49152 net: read 64 bytes"), std::string::npos) << timeline;
}

TEST(NetLatency, ConnectWithNoListenerIsRefusedAfterOneRoundTrip) {
  two_hosts h;
  auto r = h.sim.run([&]() -> asio::awaitable<error_code> {
    net::tcp::socket s(h.app.get_executor());
    auto [ec] = co_await s.async_connect({h.db.addresses().front(), 80}, use_tuple);
    co_return ec;
  });
  EXPECT_EQ(r.value(), asio::error::connection_refused);
  EXPECT_EQ(r.completed_at(), at(10ms));
}

TEST(NetLatency, ConnectToAnAddressNobodyHasFailsWithHostUnreachable) {
  two_hosts h;
  auto r = h.sim.run([&]() -> asio::awaitable<error_code> {
    net::tcp::socket s(h.app.get_executor());
    auto [ec] = co_await s.async_connect({asio::ip::make_address("192.0.2.1"), 80}, use_tuple);
    co_return ec;
  });
  EXPECT_EQ(r.value(), asio::error::host_unreachable);
}

TEST(NetTcp, ResetIsReportedOnceThenEof) {
  two_hosts h;
  net::tcp::socket client(h.app.get_executor()), server(h.db.get_executor());
  h.connect(client, server);
  server.set_option(asio::socket_base::linger(true, 0));
  server.close();
  auto r = h.sim.run([&]() -> asio::awaitable<void> {
    char buf[4];
    auto [ec1, n1] = co_await client.async_read_some(asio::buffer(buf), use_tuple);
    EXPECT_EQ(ec1, asio::error::connection_reset);
    EXPECT_EQ(h.sim.now(), at(15ms));  // the RST took one latency
    auto [ec2, n2] = co_await client.async_read_some(asio::buffer(buf), use_tuple);
    EXPECT_EQ(ec2, asio::error::eof);
  });
  r.value();
}

TEST(NetTcp, CloseWithUnreadBytesResetsThePeer) {
  two_hosts h;
  net::tcp::socket client(h.app.get_executor()), server(h.db.get_executor());
  h.connect(client, server);
  auto r = h.sim.run([&]() -> asio::awaitable<error_code> {
    co_await asio::async_write(client, asio::buffer("unread", 6), asio::use_awaitable);
    faultline::steady_timer t(h.sim, 10ms);
    co_await t.async_wait(asio::use_awaitable);  // the bytes arrived at the server
    server.close();                              // unread: an RST, not a FIN
    char buf[4];
    auto [ec, n] = co_await client.async_read_some(asio::buffer(buf), use_tuple);
    co_return ec;
  });
  EXPECT_EQ(r.value(), asio::error::connection_reset);
}

class NetCancellation : public ::testing::TestWithParam<asio::cancellation_type> {};

TEST_P(NetCancellation, EndsAPendingReadAtTheInstantItIsEmittedAndTheSocketStaysUsable) {
  two_hosts h;
  net::tcp::socket client(h.app.get_executor()), server(h.db.get_executor());
  h.connect(client, server);
  asio::cancellation_signal sig;
  std::optional<error_code> read_ec;
  faultline::sim_clock::time_point read_at;
  char buf[8];
  client.async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(sig.slot(), [&](error_code ec, std::size_t) {
                           read_ec = ec;
                           read_at = h.sim.now();
                         }));
  h.sim.advance(3ms);
  EXPECT_FALSE(read_ec);
  ASSERT_EQ(h.sim.pending().size(), 1u);
  sig.emit(GetParam());
  EXPECT_FALSE(read_ec);  // never inline
  h.sim.poll();
  ASSERT_TRUE(read_ec);
  EXPECT_EQ(*read_ec, asio::error::operation_aborted);
  EXPECT_EQ(read_at, at(13ms));
  EXPECT_TRUE(h.sim.pending().empty());
  auto r = h.sim.run([&]() -> asio::awaitable<std::string> {
    co_await asio::async_write(server, asio::buffer("ok", 2), asio::use_awaitable);
    auto n = co_await asio::async_read(client, asio::buffer(buf, 2), asio::use_awaitable);
    co_return std::string(buf, n);
  });
  EXPECT_EQ(r.value(), "ok");
  EXPECT_EQ(r.completed_at(), at(18ms));
}

INSTANTIATE_TEST_SUITE_P(AllTypes, NetCancellation,
                         ::testing::Values(asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                           asio::cancellation_type::total));

TEST(NetCancellationOperators, AcceptLosesToATimeoutAtExactlyTheTimeout) {
  two_hosts h;
  auto r = h.sim.run([&]() -> asio::awaitable<std::size_t> {
    faultline::steady_timer t(h.db.get_executor(), 100ms);
    auto result = co_await (h.acceptor.async_accept(asio::use_awaitable) || t.async_wait(asio::use_awaitable));
    co_return result.index();
  });
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(r.completed_at(), at(100ms));
  EXPECT_TRUE(h.sim.pending().empty());
}

TEST(NetCancellationOperators, ConnectLosesToATimeoutWhenTheBacklogIsFull) {
  two_hosts h;
  net::tcp::acceptor small(h.db.get_executor());
  small.open(asio::ip::tcp::v4());
  small.bind({asio::ip::tcp::v4(), 6000});
  small.listen(0);  // room for one connection nobody accepted
  auto r = h.sim.run([&]() -> asio::awaitable<std::size_t> {
    net::tcp::socket first(h.app.get_executor()), second(h.app.get_executor());
    co_await first.async_connect({h.db.addresses().front(), 6000}, asio::use_awaitable);
    faultline::steady_timer t(h.app.get_executor(), 1s);
    auto result = co_await (second.async_connect({h.db.addresses().front(), 6000}, asio::use_awaitable) ||
                            t.async_wait(asio::use_awaitable));
    co_return result.index();
  });
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(r.completed_at(), at(1010ms));
  EXPECT_NE(h.sim.trace().timeline().find("dropped: accept queue full (backlog 0)"), std::string::npos);
}

TEST(NetStall, ReportNamesEachPendingSocketOperationByEndpoints) {
  two_hosts h;
  h.db.spawn("server", [&]() -> asio::awaitable<void> {
    auto peer = co_await h.acceptor.async_accept(asio::use_awaitable);
    auto second = co_await h.acceptor.async_accept(asio::use_awaitable);  // never comes
  });
  h.app.spawn("client", [&]() -> asio::awaitable<void> {
    net::tcp::socket s(h.app.get_executor());
    co_await s.async_connect(h.db_endpoint(), asio::use_awaitable);
    char buf[8];
    co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);  // nobody writes
  });
  try {
    h.sim.run();
    FAIL() << "expected a stall";
  } catch (const faultline::stall_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("faultline: sim stalled at t=0.010s"), std::string::npos) << what;
    EXPECT_NE(what.find("accept on db:5432 (net accept) waiting since t=0.005s"), std::string::npos) << what;
    EXPECT_NE(what.find("read on app:49152 -> db:5432 (net read) waiting since t=0.010s"), std::string::npos)
        << what;
  }
}

TEST(NetStall, ReportNamesAServerReadAConnectAndAWaitByEndpoints) {
  two_hosts h;
  h.network.blackhole("db", 6000);  // a SYN that never comes back
  h.db.spawn("server", [&]() -> asio::awaitable<void> {
    auto peer = co_await h.acceptor.async_accept(asio::use_awaitable);
    char buf[8];
    co_await peer.async_read_some(asio::buffer(buf), asio::use_awaitable);  // nobody writes
  });
  h.app.spawn("client", [&]() -> asio::awaitable<void> {
    net::tcp::socket s(h.app.get_executor());
    co_await s.async_connect(h.db_endpoint(), asio::use_awaitable);
    co_await s.async_wait(asio::socket_base::wait_read, asio::use_awaitable);  // nothing to read
  });
  h.app.spawn("late", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(2ms);
    net::tcp::socket s(h.app.get_executor());
    co_await s.async_connect({h.db.addresses().front(), 6000}, asio::use_awaitable);
  });
  try {
    h.sim.run();
    FAIL() << "expected a stall";
  } catch (const faultline::stall_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("read on db:5432 <- app:49152 (net read) waiting since t=0.005s"), std::string::npos) << what;
    EXPECT_NE(what.find("wait (read) on app:49152 -> db:5432 (net wait) waiting since t=0.010s"), std::string::npos)
        << what;
    EXPECT_NE(what.find("connect on app:49153 -> db:6000 (net connect) waiting since t=0.002s"), std::string::npos)
        << what;
  }
}

TEST(NetResolver, ResolvesHostNamesNumericAddressesAndLocalhost) {
  two_hosts h;
  auto r = h.sim.run([&]() -> asio::awaitable<void> {
    net::tcp::resolver resolver(h.app.get_executor());
    auto results = co_await resolver.async_resolve("db", "5432", asio::use_awaitable);
    std::vector<std::string> got;
    for (const auto& e : results) got.push_back(e.endpoint().address().to_string() + "/" + std::to_string(e.endpoint().port()));
    EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.1/5432", "fd00::1/5432"}));
    EXPECT_EQ(results.begin()->host_name(), "db");
    auto local = co_await resolver.async_resolve("localhost", "80", asio::use_awaitable);
    EXPECT_EQ(local.begin()->endpoint(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 80));
    auto numeric = co_await resolver.async_resolve("10.0.0.2", "1", asio::use_awaitable);
    EXPECT_EQ(numeric.size(), 1u);
    auto [ec1, none] = co_await resolver.async_resolve("nosuchhost", "80", use_tuple);
    EXPECT_EQ(ec1, asio::error::host_not_found);
    auto [ec2, none2] = co_await resolver.async_resolve("db", "http", use_tuple);
    EXPECT_EQ(ec2, asio::error::service_not_found);
  });
  r.value();
}

TEST(NetResolver, AsioAsyncConnectOverResultsConnectsToTheFirstThatAnswers) {
  two_hosts h;
  auto r = h.sim.run([&]() -> asio::awaitable<asio::ip::tcp::endpoint> {
    net::tcp::resolver resolver(h.app.get_executor());
    net::tcp::socket s(h.app.get_executor());
    auto results = co_await resolver.async_resolve("db", "5432", asio::use_awaitable);
    co_return co_await asio::async_connect(s, results, asio::use_awaitable);
  });
  EXPECT_EQ(r.value(), h.db_endpoint());
  EXPECT_EQ(r.completed_at(), at(10ms));
}

TEST(NetHosts, CodeSpawnedOnAHostCreatesSocketsOnThatHost) {
  two_hosts h;
  std::string spawned_on, plain_on, app_on;
  h.db.spawn("probe", [&]() -> asio::awaitable<void> {
    net::tcp::socket s(co_await asio::this_coro::executor);
    spawned_on = s.get_host().name();
  });
  h.sim.run();
  net::tcp::socket plain(h.sim.get_executor());
  net::tcp::socket on_app(h.app.get_executor());
  EXPECT_EQ(spawned_on, "db");
  EXPECT_EQ(plain.get_host().name(), "localhost");
  EXPECT_EQ(on_app.get_host().name(), "app");
}

TEST(NetHosts, DefaultCompletionTokenViaAsDefaultOnWorks) {
  two_hosts h;
  using socket = asio::use_awaitable_t<>::as_default_on_t<net::tcp::socket>;
  using acceptor = asio::use_awaitable_t<>::as_default_on_t<net::tcp::acceptor>;
  auto r = h.sim.run([&]() -> asio::awaitable<std::string> {
    acceptor a(h.db.get_executor(), {asio::ip::tcp::v6(), 7000});
    socket s(h.app.get_executor());
    auto accepted = a.async_accept();
    co_await s.async_connect({h.db.addresses().back(), 7000});
    socket peer = co_await std::move(accepted);
    co_return peer.remote_endpoint().address().to_string() + " " + s.local_endpoint().address().to_string();
  });
  EXPECT_EQ(r.value(), "fd00::2 fd00::2");
}

TEST(NetHosts, AddHostRejectsTakenNamesAndAddresses) {
  faultline::sim_context sim;
  auto& n = net::network::of(sim);
  auto& a = n.add_host("a", {"192.168.1.1", "2001:db8::1"});
  EXPECT_EQ(a.addresses().size(), 2u);
  EXPECT_THROW(n.add_host("a"), std::invalid_argument);
  try {
    n.add_host("b", {"192.168.1.1"});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: network::add_host(\"b\"): 192.168.1.1 belongs to host \"a\" already; addresses are unique");
  }
  EXPECT_THROW(n.add_host("c", {"not-an-address"}), std::invalid_argument);
  EXPECT_THROW(n.add_host("d", {"127.0.0.1"}), std::invalid_argument);
  EXPECT_THROW(n.set_latency("a", "nobody", 1ms), std::invalid_argument);
  EXPECT_THROW(n.set_latency("a", "localhost", -1ms), std::invalid_argument);
}

// Traces, chaos points and the Perfetto export read a host's name up to a ':' ("db:5432"), so a
// name with one would land its events in another host's process: the name is refused instead.
TEST(NetHosts, AddHostRejectsAColonInAName) {
  faultline::sim_context sim;
  auto& n = net::network::of(sim);
  for (const char* name : {"a:b", "fd00::9", ":"}) {
    try {
      n.add_host(name);
      FAIL() << name;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), std::string("faultline: network::add_host(\"") + name +
                                           "\"): a host name cannot contain ':' (traces and chaos points read "
                                           "\"host:port\"); use a name without ':' and give addresses as the "
                                           "second argument");
    }
  }
  EXPECT_EQ(n.hosts().size(), 1u);  // localhost only: nothing was added
  EXPECT_EQ(n.add_host("a-b", {"fd00::9"}).addresses().front().to_string(), "fd00::9");
}

TEST(NetMisuse, ASocketOnAnIoContextSaysItNeedsASim) {
  asio::io_context io;
  try {
    net::tcp::socket s(io.get_executor());
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("faultline: net::socket: the executor does not belong to a sim_context"),
              std::string::npos);
  }
}

TEST(NetMisuse, BindChecksAddressAndPort) {
  two_hosts h;
  net::tcp::acceptor other(h.db.get_executor());
  other.open(asio::ip::tcp::v4());
  error_code ec;
  other.bind({asio::ip::make_address("10.0.0.2"), 1}, ec);  // app's address
  EXPECT_EQ(ec, boost::system::errc::address_not_available);
  other.bind({asio::ip::tcp::v4(), 5432}, ec);
  EXPECT_EQ(ec, asio::error::address_in_use);
  net::tcp::acceptor on_app(h.app.get_executor());
  on_app.open(asio::ip::tcp::v4());
  on_app.bind({asio::ip::tcp::v4(), 5432}, ec);  // another host: free
  EXPECT_FALSE(ec);
}

TEST(NetTeardown, SocketsMayOutliveTheSimAndThenSaySo) {
  std::optional<net::tcp::socket> kept;
  {
    two_hosts h;
    net::tcp::socket client(h.app.get_executor()), server(h.db.get_executor());
    h.connect(client, server);
    char buf[4];
    client.async_read_some(asio::buffer(buf), [](error_code, std::size_t) { ADD_FAILURE() << "never called"; });
    kept.emplace(std::move(server));
  }
  EXPECT_THROW(kept->close(), std::logic_error);
}

TEST(NetDeterminism, TheSameScenarioGivesTheSameTrace) {
  auto once = [] {
    two_hosts h;
    h.db.spawn("server", [&]() -> asio::awaitable<void> {
      for (;;) {
        auto peer = co_await h.acceptor.async_accept(asio::use_awaitable);
        co_await asio::async_write(peer, asio::buffer("hi", 2), asio::use_awaitable);
      }
    });
    for (int i = 0; i < 3; ++i)
      h.app.spawn("client" + std::to_string(i), [&]() -> asio::awaitable<void> {
        net::tcp::socket s(h.app.get_executor());
        co_await s.async_connect(h.db_endpoint(), asio::use_awaitable);
        char buf[2];
        co_await asio::async_read(s, asio::buffer(buf), asio::use_awaitable);
      });
    h.sim.run_for(1s);
    return std::pair(h.sim.trace().hash(), h.sim.trace().total());
  };
  EXPECT_EQ(once(), once());
}

}  // namespace
