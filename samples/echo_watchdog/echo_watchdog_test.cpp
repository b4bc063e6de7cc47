// Tests of echo_watchdog on faultline's network: echo, the idle watchdog at exact instants, a reset peer,
// failing accepts, and a sweep of accept errors.
#include "echo_watchdog.hpp"

#include <faultline/chaos.hpp>
#include <faultline/net.hpp>
#include <faultline/sweep.hpp>

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>

#include <stdexcept>
#include <string>

namespace {

namespace asio = boost::asio;
namespace net = faultline::net;
using namespace std::chrono_literals;
using boost::system::error_code;
using faultline::at;
using samples::echo_watchdog::serve;
using samples::echo_watchdog::server_options;
using samples::echo_watchdog::server_stats;

constexpr auto echo_tuple = asio::as_tuple(asio::use_awaitable);

// The echo server on host "echo" (port 7000, 10 s idle timeout) and clients on "app", 1 ms apart.
struct echo_net {
  faultline::sim_context& sim;
  server_stats& stats;
  net::network& network = net::network::of(sim);
  net::host& echo = network.add_host("echo");
  net::host& app = network.add_host("app");
  server_options options;

  echo_net(faultline::sim_context& s, server_stats& st) : sim(s), stats(st) {
    network.set_latency("app", "echo", 1ms);
    echo.spawn("server", [this]() -> asio::awaitable<void> {
      net::tcp::acceptor acceptor(co_await asio::this_coro::executor, {asio::ip::tcp::v4(), 7000});
      co_await serve(acceptor, options, stats);
    });
  }
  asio::ip::tcp::endpoint endpoint() const { return {echo.addresses().front(), 7000}; }

  // Connects s from app unless it is open, sends `text`, returns the echo (or the read error's message).
  asio::awaitable<std::string> echo_once(net::tcp::socket& s, std::string text) {
    if (!s.is_open()) co_await s.async_connect(endpoint(), asio::use_awaitable);
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(text), echo_tuple);
    if (wec) co_return wec.message();
    std::string reply(text.size(), '\0');
    auto [ec, n] = co_await asio::async_read(s, asio::buffer(reply), echo_tuple);
    co_return ec ? ec.message() : reply;
  }
};

// A test's own sim. The stats are declared first: they outlive the sessions the sim's destructor frees.
struct echo_storage {
  server_stats own_stats;
  faultline::sim_context own_sim;
};
struct echo_hosts : echo_storage, echo_net {
  echo_hosts() : echo_net(own_sim, own_stats) {}
};

// The instant the client reads eof (or another error) on an otherwise idle connection.
asio::awaitable<faultline::sim_clock::time_point> closed_at(faultline::sim_context& sim, net::tcp::socket& s) {
  char c;
  auto [ec, n] = co_await s.async_read_some(asio::buffer(&c, 1), echo_tuple);
  if (ec != asio::error::eof) throw std::runtime_error("expected eof, got " + ec.message());
  co_return sim.now();
}

TEST(EchoWatchdog, EchoesWhatItReads) {
  echo_hosts h;
  net::tcp::socket s(h.app.get_executor());
  auto reply = h.sim.run([&]() -> asio::awaitable<std::string> { co_return co_await h.echo_once(s, "hello"); });
  EXPECT_EQ(reply.value(), "hello");
  EXPECT_EQ(h.sim.now(), at(4ms));  // connected at 2 ms, "hello" there and back by 4 ms
  EXPECT_EQ(h.stats.accepted, 1);
  EXPECT_EQ(h.stats.open_sessions, 1);
}

TEST(EchoWatchdog, AnIdleConnectionIsClosedAtExactlyTheTimeout) {
  echo_hosts h;
  net::tcp::socket s(h.app.get_executor());
  auto eof = h.sim.run([&]() -> asio::awaitable<faultline::sim_clock::time_point> {
    co_await s.async_connect(h.endpoint(), asio::use_awaitable);
    co_return co_await closed_at(h.sim, s);
  });
  // The session started when the SYN arrived (1 ms); its FIN reaches the client 1 ms after the 10 s.
  EXPECT_EQ(eof.value(), at(10s + 2ms));
  EXPECT_EQ(h.stats.idle_closed, 1);
  EXPECT_EQ(h.stats.open_sessions, 0);
}

TEST(EchoWatchdog, ABusyConnectionStaysOpenAndIsClosedTenSecondsAfterItsLastBytes) {
  echo_hosts h;
  net::tcp::socket s(h.app.get_executor());
  std::vector<std::string> replies;
  auto eof = h.sim.run([&]() -> asio::awaitable<faultline::sim_clock::time_point> {
    for (int i = 0; i < 5; ++i) {
      if (i > 0) co_await faultline::steady_timer(s.get_executor(), 9s).async_wait(asio::use_awaitable);
      const std::string reply = co_await h.echo_once(s, "ping");
      replies.push_back(faultline::to_string(h.sim.now()) + " " + reply);
    }
    co_return co_await closed_at(h.sim, s);
  });
  // 9 s between messages, under the 10 s timeout: 45 s in all without a close.
  EXPECT_EQ(replies, (std::vector<std::string>{"t=0.004s ping", "t=9.006s ping", "t=18.008s ping",
                                               "t=27.010s ping", "t=36.012s ping"}));
  // The last "ping" arrived at 36.011 s: the session closes at 46.011 s, its FIN arrives 1 ms later.
  EXPECT_EQ(eof.value(), at(46012ms));
}

TEST(EchoWatchdog, APeerResetMidMessageEndsItsSessionAndTheServerServesTheNext) {
  echo_hosts h;
  h.network.link("app", "echo").reset_after(3);  // "hel", then an RST
  net::tcp::socket first(h.app.get_executor());
  auto cut = h.sim.run([&]() -> asio::awaitable<std::string> { co_return co_await h.echo_once(first, "hello"); });
  EXPECT_EQ(cut.value(), asio::error::make_error_code(asio::error::connection_reset).message());
  EXPECT_EQ(h.sim.now(), at(2ms));  // the client's write crossed the limit
  EXPECT_EQ(h.stats.open_sessions, 1);
  h.sim.run_for(1ms);  // "hel" and the RST reach the server
  EXPECT_EQ(h.stats.open_sessions, 0);  // its session ended on the reset and was freed
  EXPECT_EQ(h.stats.idle_closed, 0);

  h.network.link("app", "echo").clear();
  net::tcp::socket second(h.app.get_executor());
  auto reply = h.sim.run([&]() -> asio::awaitable<std::string> { co_return co_await h.echo_once(second, "again"); });
  EXPECT_EQ(reply.value(), "again");
  EXPECT_EQ(h.stats.accepted, 2);
  EXPECT_EQ(h.stats.open_sessions, 1);
}

TEST(EchoWatchdog, AFailedAcceptIsRetriedAfterThePauseAndTheConnectionIsServed) {
  echo_hosts h;
  faultline::chaos(h.sim).replay(faultline::fault_schedule::parse("net:echo:7000:accept#0=error"));
  net::tcp::socket s(h.app.get_executor());
  auto reply = h.sim.run([&]() -> asio::awaitable<std::string> { co_return co_await h.echo_once(s, "hi"); });
  EXPECT_EQ(reply.value(), "hi");
  // The connection stayed queued after the EMFILE at 1 ms; the accept 100 ms later took it, and the
  // session echoed "hi" (here since 3 ms) at once: back at the client at 102 ms.
  EXPECT_EQ(h.sim.now(), at(102ms));
  EXPECT_EQ(h.stats.accept_errors, 1);
  EXPECT_EQ(h.stats.accepted, 1);
}

// Three clients one after another, each expecting its echo and then closing; every session must end
// with its client and be freed.
void three_echoes(faultline::sim_context& sim) {
  server_stats stats;
  echo_net h(sim, stats);
  sim.run([&]() -> asio::awaitable<void> {
    for (std::string text : {"one", "two", "three"}) {
      net::tcp::socket s(h.app.get_executor());
      const std::string reply = co_await h.echo_once(s, text);
      if (reply != text) throw std::runtime_error("sent \"" + text + "\", got \"" + reply + "\"");
    }
  }).value();
  sim.run_for(1s);  // the last FIN arrives 1 ms after the last echo; the accept stays pending
  if (stats.open_sessions != 0) throw std::runtime_error(std::to_string(stats.open_sessions) + " sessions leaked");
}

TEST(EchoWatchdog, EveryAcceptErrorAtEveryCallLeavesTheServerServing) {
  faultline::single_fault_options o;
  o.kinds = {faultline::fault_kind::error};
  o.error_codes = {asio::error::no_descriptors, asio::error::no_buffer_space};
  o.points = {"net:echo:7000:accept"};
  const auto r = faultline::sweep_single_faults(o, three_echoes);
  EXPECT_EQ(r.baseline.coverage.at("net:echo:7000:accept").calls, 3u);
  EXPECT_EQ(r.runs, 6u);  // 3 accepts x 2 codes
  EXPECT_TRUE(r.failures.empty()) << faultline::describe(r);
}

}  // namespace
