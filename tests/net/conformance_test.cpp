// One TCP conformance suite, two backends: faultline's simulated network and real loopback TCP.
#include <faultline/net.hpp>
#include <faultline/steady_timer.hpp>

#include <gtest/gtest.h>

#include "net_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <exception>
#include <string>
#include <utility>

namespace asio = boost::asio;
namespace net = faultline::net;
using boost::system::error_code;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

using faultline_test::use_tuple;

// faultline's network: a server and a client host 1 ms apart.
struct sim_backend {
  using socket = net::tcp::socket;
  using acceptor = net::tcp::acceptor;
  static constexpr bool simulated = true;

  faultline::sim_context sim;
  net::network& network = net::network::of(sim);
  net::host& server = network.add_host("server");
  net::host& client = network.add_host("client");

  sim_backend() { network.set_latency("client", "server", 1ms); }
  asio::any_io_executor server_ex() { return server.get_executor(); }
  asio::any_io_executor client_ex() { return client.get_executor(); }
  asio::ip::address server_address() const { return server.addresses().front(); }

  template <class F>
  void run(F f) {
    sim.run(std::move(f)).value();  // rethrows what the body threw
  }
};

// Real TCP on 127.0.0.1, one io_context; a wall-clock backstop ends a hung body.
struct real_backend {
  using socket = asio::ip::tcp::socket;
  using acceptor = asio::ip::tcp::acceptor;
  static constexpr bool simulated = false;

  asio::io_context io;
  asio::any_io_executor server_ex() { return io.get_executor(); }
  asio::any_io_executor client_ex() { return io.get_executor(); }
  asio::ip::address server_address() const { return asio::ip::make_address("127.0.0.1"); }

  template <class F>
  void run(F f) {
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, std::move(f), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    io.run_for(std::chrono::seconds(20));
    if (!done) FAIL() << "the test body did not finish within 20s of real time";
    if (error) std::rethrow_exception(error);
  }
};

template <class Backend>
class TcpConformance : public ::testing::Test {
 protected:
  Backend backend;
  using socket = typename Backend::socket;
  using acceptor = typename Backend::acceptor;

  // Waits `d`: virtual on the sim, real on the io_context.
  static asio::awaitable<void> pause(std::chrono::milliseconds d) {
    faultline::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
  }

  asio::ip::tcp::endpoint listen_endpoint() { return {backend.server_address(), 0}; }
  asio::ip::tcp::endpoint target(const acceptor& a) { return {backend.server_address(), a.local_endpoint().port()}; }

  // A connected pair: (client, server).
  asio::awaitable<std::pair<socket, socket>> connect(acceptor& a) {
    socket client(backend.client_ex());
    socket server(backend.server_ex());
    co_await (a.async_accept(server, asio::use_awaitable) && client.async_connect(target(a), asio::use_awaitable));
    co_return std::pair<socket, socket>(std::move(client), std::move(server));
  }
};

using backends = ::testing::Types<sim_backend, real_backend>;
class backend_names {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::simulated ? "Sim" : "LoopbackTcp";
  }
};
TYPED_TEST_SUITE(TcpConformance, backends, backend_names);

TYPED_TEST(TcpConformance, BytesArriveInOrder) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
    auto [client, server] = co_await this->connect(a);
    std::string sent;
    for (int i = 0; i < 200; ++i) {
      std::string chunk(static_cast<std::size_t>(1 + i * 37 % 300), static_cast<char>('a' + i % 26));
      sent += chunk;
      co_await asio::async_write(client, asio::buffer(chunk), asio::use_awaitable);
    }
    client.shutdown(asio::socket_base::shutdown_send);
    std::string got;
    auto [ec, n] = co_await asio::async_read(server, asio::dynamic_buffer(got), use_tuple);
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_EQ(n, sent.size());
    EXPECT_EQ(got, sent);
  });
}

TYPED_TEST(TcpConformance, EofAfterShutdownSendAndTheOtherDirectionStillWorks) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
    auto [client, server] = co_await this->connect(a);
    co_await asio::async_write(client, asio::buffer("hello", 5), asio::use_awaitable);
    client.shutdown(asio::socket_base::shutdown_send);
    char buf[16];
    auto [ec1, n1] = co_await asio::async_read(server, asio::buffer(buf, 5), use_tuple);
    EXPECT_FALSE(ec1);
    EXPECT_EQ(std::string(buf, n1), "hello");
    auto [ec2, n2] = co_await server.async_read_some(asio::buffer(buf), use_tuple);
    EXPECT_EQ(ec2, asio::error::eof);
    EXPECT_EQ(n2, 0u);
    // Half-close: the server still writes, the client still reads.
    co_await asio::async_write(server, asio::buffer("back", 4), asio::use_awaitable);
    auto [ec3, n3] = co_await asio::async_read(client, asio::buffer(buf, 4), use_tuple);
    EXPECT_FALSE(ec3);
    EXPECT_EQ(std::string(buf, n3), "back");
    // A write after shutdown(send) fails.
    auto [ec4, n4] = co_await client.async_write_some(asio::buffer("x", 1), use_tuple);
    EXPECT_EQ(ec4, asio::error::broken_pipe);
    EXPECT_EQ(n4, 0u);
  });
}

TYPED_TEST(TcpConformance, EofAfterThePeerCloses) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
    auto [client, server] = co_await this->connect(a);
    co_await asio::async_write(client, asio::buffer("bye", 3), asio::use_awaitable);
    client.close();
    std::string got;
    auto [ec, n] = co_await asio::async_read(server, asio::dynamic_buffer(got), use_tuple);
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(got, "bye");
  });
}

TYPED_TEST(TcpConformance, ConnectWithNoListenerIsRefused) {
  this->backend.run([&]() -> asio::awaitable<void> {
    asio::ip::tcp::endpoint closed;
    {
      // A port that was just listened on and is free again.
      typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
      closed = this->target(a);
    }
    typename TestFixture::socket client(this->backend.client_ex());
    auto [ec] = co_await client.async_connect(closed, use_tuple);
    EXPECT_EQ(ec, asio::error::connection_refused);
  });
}

TYPED_TEST(TcpConformance, AbortiveCloseResetsThePeersPendingAndNextOperations) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
    auto [client, server] = co_await this->connect(a);
    auto [client2, server2] = co_await this->connect(a);
    error_code pending_ec;
    bool pending_done = false;
    char buf[8];
    client.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) {
      pending_ec = ec;
      pending_done = true;
    });
    for (auto* s : {&server, &server2}) {
      s->set_option(asio::socket_base::linger(true, 0));
      s->close();
    }
    // Real TCP: the RST needs a moment to arrive; 50 ms is ample on loopback.
    co_await this->pause(50ms);
    EXPECT_TRUE(pending_done);
    EXPECT_EQ(pending_ec, asio::error::connection_reset);
    // The next operation after the reset fails with it, once; later writes
    // fail with broken_pipe. (Linux then returns 0 from recv, which is eof; but
    // Asio 1.81's epoll reactor did not complete a second read here, so that
    // step is pinned by the sim-only test ResetIsReportedOnceThenEof.)
    auto [ec1, n1] = co_await client2.async_read_some(asio::buffer(buf), use_tuple);
    EXPECT_EQ(ec1, asio::error::connection_reset);
    EXPECT_EQ(n1, 0u);
    auto [ec2, n2] = co_await client2.async_write_some(asio::buffer("x", 1), use_tuple);
    EXPECT_EQ(ec2, asio::error::broken_pipe);
    EXPECT_EQ(n2, 0u);
  });
}

TYPED_TEST(TcpConformance, WritingToAClosedPeerEndsInBrokenPipe) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
    auto [client, server] = co_await this->connect(a);
    server.close();
    co_await this->pause(50ms);  // real TCP: let the FIN arrive
    // The first write succeeds (the bytes leave); the closed peer answers with an RST.
    auto [ec1, n1] = co_await client.async_write_some(asio::buffer("x", 1), use_tuple);
    EXPECT_FALSE(ec1);
    EXPECT_EQ(n1, 1u);
    co_await this->pause(50ms);  // real TCP: let the RST arrive
    auto [ec2, n2] = co_await client.async_write_some(asio::buffer("y", 1), use_tuple);
    EXPECT_EQ(ec2, asio::error::broken_pipe);
    EXPECT_EQ(n2, 0u);
  });
}

TYPED_TEST(TcpConformance, CloseAbortsPendingOperations) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
    auto [client, server] = co_await this->connect(a);
    error_code read_ec, accept_ec;
    int done = 0;
    char buf[8];
    client.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) {
      read_ec = ec;
      ++done;
    });
    a.async_accept([&](error_code ec, typename TestFixture::socket) {
      accept_ec = ec;
      ++done;
    });
    client.close();
    a.close();
    EXPECT_EQ(done, 0);  // never inside close()
    co_await this->pause(1ms);
    EXPECT_EQ(done, 2);
    EXPECT_EQ(read_ec, asio::error::operation_aborted);
    EXPECT_EQ(accept_ec, asio::error::operation_aborted);
    EXPECT_FALSE(client.is_open());
  });
}

TYPED_TEST(TcpConformance, CancelAbortsPendingReadAndTheSocketStaysUsable) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex(), this->listen_endpoint());
    auto [client, server] = co_await this->connect(a);
    error_code read_ec;
    bool done = false;
    char buf[8];
    client.async_read_some(asio::buffer(buf), [&](error_code ec, std::size_t) {
      read_ec = ec;
      done = true;
    });
    client.cancel();
    co_await this->pause(1ms);
    EXPECT_TRUE(done);
    EXPECT_EQ(read_ec, asio::error::operation_aborted);
    co_await asio::async_write(server, asio::buffer("ok", 2), asio::use_awaitable);
    auto [ec, n] = co_await asio::async_read(client, asio::buffer(buf, 2), use_tuple);
    EXPECT_FALSE(ec);
    EXPECT_EQ(std::string(buf, n), "ok");
  });
}

TYPED_TEST(TcpConformance, BacklogLimitsConnectionsNobodyAccepted) {
  this->backend.run([&]() -> asio::awaitable<void> {
    typename TestFixture::acceptor a(this->backend.server_ex());
    a.open(asio::ip::tcp::v4());
    a.bind(this->listen_endpoint());
    a.listen(1);  // Linux queues backlog + 1 = 2 established connections
    typename TestFixture::socket c1(this->backend.client_ex()), c2(this->backend.client_ex()),
        c3(this->backend.client_ex());
    co_await c1.async_connect(this->target(a), asio::use_awaitable);
    co_await c2.async_connect(this->target(a), asio::use_awaitable);
    error_code third_ec;
    bool third_done = false;
    c3.async_connect(this->target(a), [&](error_code ec) {
      third_ec = ec;
      third_done = true;
    });
    // Real TCP: the SYN is dropped and retried after 1 s; 200 ms shows "not yet".
    co_await this->pause(200ms);
    EXPECT_FALSE(third_done);
    c3.close();
    co_await this->pause(1ms);
    EXPECT_TRUE(third_done);
    EXPECT_EQ(third_ec, asio::error::operation_aborted);
    // The queued two are accepted in the order they connected.
    typename TestFixture::socket s1(this->backend.server_ex()), s2(this->backend.server_ex());
    co_await a.async_accept(s1, asio::use_awaitable);
    co_await a.async_accept(s2, asio::use_awaitable);
    EXPECT_EQ(s1.remote_endpoint().port(), c1.local_endpoint().port());
    EXPECT_EQ(s2.remote_endpoint().port(), c2.local_endpoint().port());
  });
}

}  // namespace
