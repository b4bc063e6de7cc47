// Tests of throttling_proxy on faultline's network: the byte-rate throttle at exact instants both ways, an
// upstream reset passed on to the client, a client's close passed on to the upstream, bad options.
#include "throttling_proxy.hpp"

#include <faultline/net.hpp>
#include <faultline/sweep.hpp>

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace net = faultline::net;
namespace tp = samples::throttling_proxy;
using namespace std::chrono_literals;
using faultline::at;

constexpr auto tp_tuple = asio::as_tuple(asio::use_awaitable);

// "client" -> "proxy":8000 -> "upstream":9000, 1 ms per hop. The upstream logs what it reads ("t=... N
// bytes", then how the connection ended) and echoes it; with reset_on_read it resets the connection instead.
struct proxy_net {
  faultline::sim_context& sim;
  net::network& network = net::network::of(sim);
  net::host& client = network.add_host("client");
  net::host& proxy = network.add_host("proxy");
  net::host& upstream = network.add_host("upstream");
  std::vector<std::string> upstream_log;
  bool reset_on_read = false;

  explicit proxy_net(faultline::sim_context& s, std::size_t bytes_per_second = 1000) : sim(s) {
    network.set_latency("client", "proxy", 1ms);
    network.set_latency("proxy", "upstream", 1ms);
    tp::proxy_options o{.upstream = {upstream.addresses().front(), 9000}, .bytes_per_second = bytes_per_second, .chunk = 100};
    proxy.spawn("proxy", [o]() -> asio::awaitable<void> {
      net::tcp::acceptor acceptor(co_await asio::this_coro::executor, {asio::ip::tcp::v4(), 8000});
      co_await tp::serve(acceptor, o);
    });
    upstream.spawn("upstream", [this]() -> asio::awaitable<void> {
      net::tcp::acceptor acceptor(co_await asio::this_coro::executor, {asio::ip::tcp::v4(), 9000});
      auto peer = co_await acceptor.async_accept(asio::use_awaitable);
      char buf[1024];
      for (;;) {
        auto [ec, n] = co_await peer.async_read_some(asio::buffer(buf), tp_tuple);
        upstream_log.push_back(faultline::to_string(sim.now()) + " " + (ec ? ec.message() : std::to_string(n) + " bytes"));
        if (ec) co_return;
        if (reset_on_read) {
          peer.set_option(asio::socket_base::linger(true, 0));
          peer.close();
          co_return;
        }
        auto [wec, wn] = co_await asio::async_write(peer, asio::buffer(buf, n), tp_tuple);
        if (wec) co_return;
      }
    });
  }
  asio::ip::tcp::endpoint proxy_endpoint() const { return {proxy.addresses().front(), 8000}; }
};

struct proxy_storage {
  faultline::sim_context own_sim;
};
struct proxy_hosts : proxy_storage, proxy_net {
  explicit proxy_hosts(std::size_t bytes_per_second = 1000) : proxy_net(own_sim, bytes_per_second) {}
};

const std::string reset_message = asio::error::make_error_code(asio::error::connection_reset).message();

TEST(ThrottlingProxy, TheThrottleHoldsOneHundredBytesPerTenthOfASecondEachWay) {
  proxy_hosts h(1000);  // 1000 bytes/s, 100-byte chunks
  std::vector<std::string> received;
  h.sim.run([&]() -> asio::awaitable<void> {
    net::tcp::socket s(h.client.get_executor());
    co_await s.async_connect(h.proxy_endpoint(), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(std::string(500, 'x')), asio::use_awaitable);
    for (std::size_t got = 0; got < 500;) {
      char buf[1024];
      const std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
      got += n;
      received.push_back(faultline::to_string(h.sim.now()) + " " + std::to_string(n) + " bytes");
    }
  }).value();
  // The proxy reached the upstream at 3 ms and had the 500 bytes then: one chunk every 100 ms from 3 ms,
  // each 1 ms on the way; the echo comes back through the same throttle, 2 ms behind.
  EXPECT_EQ(h.upstream_log, (std::vector<std::string>{"t=0.004s 100 bytes", "t=0.104s 100 bytes", "t=0.204s 100 bytes",
                                                      "t=0.304s 100 bytes", "t=0.404s 100 bytes"}));
  EXPECT_EQ(received, (std::vector<std::string>{"t=0.006s 100 bytes", "t=0.106s 100 bytes", "t=0.206s 100 bytes",
                                                "t=0.306s 100 bytes", "t=0.406s 100 bytes"}));
}

TEST(ThrottlingProxy, AnIdleSpellEarnsNoBurst) {
  proxy_hosts h(1000);
  std::vector<std::string> received;
  h.sim.run([&]() -> asio::awaitable<void> {
    net::tcp::socket s(h.client.get_executor());
    co_await s.async_connect(h.proxy_endpoint(), asio::use_awaitable);
    co_await faultline::steady_timer(s.get_executor(), 1s).async_wait(asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(std::string(200, 'x')), asio::use_awaitable);
    std::string back(200, '\0');
    co_await asio::async_read(s, asio::buffer(back), asio::use_awaitable);
  }).value();
  // A second of silence does not let 1000 bytes through at once: still one chunk per 100 ms.
  EXPECT_EQ(h.upstream_log, (std::vector<std::string>{"t=1.004s 100 bytes", "t=1.104s 100 bytes"}));
  EXPECT_EQ(h.sim.now(), at(1106ms));
}

TEST(ThrottlingProxy, AnUpstreamResetReachesTheClientAsAReset) {
  proxy_hosts h;
  h.reset_on_read = true;
  auto r = h.sim.run([&]() -> asio::awaitable<std::string> {
    net::tcp::socket s(h.client.get_executor());
    co_await s.async_connect(h.proxy_endpoint(), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer("hi", 2), asio::use_awaitable);
    char buf[16];
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tp_tuple);
    co_return ec.message();
  });
  EXPECT_EQ(r.value(), reset_message);
  // "hi" reached the upstream at 4 ms, its RST the proxy at 5 ms, the proxy's RST the client at 6 ms.
  EXPECT_EQ(h.upstream_log, std::vector<std::string>{"t=0.004s 2 bytes"});
  EXPECT_EQ(h.sim.now(), at(6ms));
}

TEST(ThrottlingProxy, AClientCloseClosesTheUpstreamAfterTheLastBytes) {
  proxy_hosts h;
  h.sim.run([&]() -> asio::awaitable<void> {
    net::tcp::socket s(h.client.get_executor());
    co_await s.async_connect(h.proxy_endpoint(), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer("bye", 3), asio::use_awaitable);
    s.close();
  }).value();
  h.sim.run_for(1s);
  // The proxy read "bye" and then eof at 3 ms: the upstream gets the bytes and then eof, at 4 ms.
  EXPECT_EQ(h.upstream_log, (std::vector<std::string>{"t=0.004s 3 bytes", "t=0.004s End of file"}));
}

TEST(ThrottlingProxy, AClientWhoseUpstreamRefusesIsReset) {
  proxy_hosts h;
  h.network.refuse("upstream", 9000);
  auto r = h.sim.run([&]() -> asio::awaitable<std::string> {
    net::tcp::socket s(h.client.get_executor());
    co_await s.async_connect(h.proxy_endpoint(), asio::use_awaitable);
    char buf[16];
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), tp_tuple);
    co_return ec.message();
  });
  EXPECT_EQ(r.value(), reset_message);
  EXPECT_EQ(h.sim.now(), at(4ms));  // refused at the proxy at 3 ms, its RST at the client 1 ms later
}

// EMFILE does not clear by retrying at once: a failing accept is retried after accept_pause (100 ms),
// at exact instants, and the client queued meanwhile is served once accepts work again.
TEST(ThrottlingProxy, APersistentAcceptErrorIsRetriedAfterEachPauseNotInABusyLoop) {
  faultline::sim_options so;
  so.step_limit = 10'000;  // a retry loop at one instant fails fast, as a livelock
  faultline::sim_context sim(so);
  proxy_net h(sim);
  const std::string point = "net:proxy:8000:accept";
  faultline::chaos(sim).use(
      faultline::chaos_plan().point(point, faultline::fault_rates().error(1.0, asio::error::no_descriptors)));
  net::tcp::socket s(h.client.get_executor());
  auto echo = sim.spawn("client", [&]() -> asio::awaitable<std::string> {
    co_await s.async_connect(h.proxy_endpoint(), asio::use_awaitable);  // queued in the backlog
    co_await asio::async_write(s, asio::buffer("hi", 2), asio::use_awaitable);
    char back[2];
    co_await asio::async_read(s, asio::buffer(back), asio::use_awaitable);
    co_return std::string(back, 2);
  });
  sim.run_until(at(350ms));
  // The SYN reached the proxy at 1 ms; every accept since failed, one per pause.
  std::vector<std::string> failed;
  for (const auto& e : sim.trace().events())
    if (e.detail.starts_with("accept failed: no_descriptors")) failed.push_back(faultline::to_string(e.at));
  EXPECT_EQ(failed, (std::vector<std::string>{"t=0.001s", "t=0.101s", "t=0.201s", "t=0.301s"}));
  EXPECT_EQ(faultline::chaos(sim).coverage().at(point).calls, 4u);
  faultline::chaos(sim).off();  // descriptors free again: the accept at 401 ms takes the client
  sim.run_until(at(1s));
  ASSERT_TRUE(echo.done());
  EXPECT_EQ(echo.result().value(), "hi");
  EXPECT_EQ(echo.result().completed_at(), at(406ms));  // upstream connected at 403 ms, 1 ms per hop each way
}

TEST(ThrottlingProxy, AZeroRateIsRejectedWithTheValues) {
  faultline::sim_context sim;
  net::tcp::acceptor acceptor(sim.get_executor());
  tp::proxy_options stopped;
  stopped.bytes_per_second = 0;
  auto r = sim.run(tp::serve(acceptor, stopped));
  EXPECT_THROW(r.value(), std::invalid_argument);
  try {
    r.value();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "throttling_proxy: bytes_per_second and chunk must be positive (got 0 and 1024)");
  }
}

TEST(ThrottlingProxy, AZeroAcceptPauseIsRejectedWithTheValue) {
  faultline::sim_context sim;
  net::tcp::acceptor acceptor(sim.get_executor());
  tp::proxy_options spinning;
  spinning.accept_pause = {};
  auto r = sim.run(tp::serve(acceptor, spinning));
  try {
    r.value();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "throttling_proxy: accept_pause must be positive, or a failing accept is retried in a busy loop (got 0ns)");
  }
}

// The client sends 300 bytes and reads the echo. Whatever fails on the way, what it receives is a prefix
// of what it sent, and a short echo ends in an error or eof: the proxy never stalls a client whose
// upstream side failed, nor the other way round.
void echo_through_proxy(faultline::sim_context& sim) {
  proxy_net h(sim);
  const std::string sent(300, 'p');
  const std::string got = sim.run([&]() -> asio::awaitable<std::string> {
    net::tcp::socket s(h.client.get_executor());
    co_await s.async_connect(h.proxy_endpoint(), asio::use_awaitable);
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(sent), tp_tuple);
    std::string back;
    if (wec) co_return back;
    co_await asio::async_read(s, asio::dynamic_buffer(back, sent.size()), tp_tuple);  // ends at 300 bytes, an error or eof
    co_return back;
  }).value();  // a stall throws here
  if (sent.compare(0, got.size(), got) != 0) throw std::runtime_error("the echo is not what was sent: " + got);
}

TEST(ThrottlingProxy, AResetOrADelayAtEveryWriteNeitherStallsNorCorruptsTheClient) {
  faultline::single_fault_options o;
  o.kinds = {faultline::fault_kind::error, faultline::fault_kind::latency};
  o.points = {"net:client->proxy:data", "net:proxy->upstream:data", "net:upstream->proxy:data",
              "net:proxy->client:data"};
  const auto r = faultline::sweep_single_faults(o, echo_through_proxy);
  // 3 chunks each way, so 3 writes at each of the 4 points but the client's one: 10 calls, 2 kinds.
  EXPECT_EQ(r.runs, 20u) << faultline::describe(r);
  EXPECT_TRUE(r.failures.empty()) << faultline::describe(r);
}

}  // namespace
