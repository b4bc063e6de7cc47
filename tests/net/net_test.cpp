// Tests of <faultline/net.hpp>: hosts, resolver, latency at exact instants, cancellation, stall reports.
#include <faultline/net.hpp>

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
namespace net = faultline::net;
using namespace std::chrono_literals;

namespace {

TEST(Network, EchoOverFiveMillisecondLinkTakesExactlyTenMilliseconds) {
  faultline::sim_context sim;
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  auto& app = network.add_host("app");
  network.set_latency("app", "db", 5ms);
  net::tcp::acceptor acceptor(db.get_executor(), {asio::ip::tcp::v4(), 5432});
  db.spawn("server", [&]() -> asio::awaitable<void> {
    auto peer = co_await acceptor.async_accept(asio::use_awaitable);
    char buf[64];
    co_await asio::async_read(peer, asio::buffer(buf), asio::use_awaitable);
    co_await asio::async_write(peer, asio::buffer(buf), asio::use_awaitable);
  });
  faultline::sim_clock::time_point connected_at, echoed_at;
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    net::tcp::socket s(app.get_executor());
    co_await s.async_connect({db.addresses().front(), 5432}, asio::use_awaitable);
    connected_at = sim.now();
    std::string out(64, 'x'), in(64, '\0');
    co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
    co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
    echoed_at = sim.now();
    co_return in;
  });
  EXPECT_EQ(r.value(), std::string(64, 'x'));
  EXPECT_EQ(connected_at, faultline::at(10ms));
  EXPECT_EQ(echoed_at, faultline::at(20ms));
  std::cout << sim.trace().timeline();
}

}  // namespace
