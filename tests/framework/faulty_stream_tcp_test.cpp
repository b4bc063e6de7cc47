// The same faulty_stream tests over a memory_stream on a sim and over a real TCP socket pair on loopback.
#include <faultline/faulty_stream.hpp>

#include <faultline/gtest.hpp>
#include <faultline/memory_stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <exception>
#include <string>
#include <utility>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using asio::ip::tcp;

// Each transport gives a connected pair and runs a client and a server
// coroutine to their end, rethrowing what either threw.
struct SimTransport {
  using stream_type = faultline::memory_stream;
  // What the peer of a reset end reads: a memory stream has no RST, only eof.
  static inline const error_code peer_sees_reset = asio::error::eof;

  faultline::sim_context sim;

  std::pair<stream_type, stream_type> connect() { return faultline::make_memory_stream_pair(sim); }

  void run(asio::awaitable<void> client, asio::awaitable<void> server) {
    auto c = sim.spawn("client", std::move(client));
    auto s = sim.spawn("server", std::move(server));
    sim.run();
    s.result().value();
    c.result().value();
  }
};

struct TcpTransport {
  using stream_type = tcp::socket;
  static inline const error_code peer_sees_reset = asio::error::connection_reset;

  asio::io_context io;

  std::pair<stream_type, stream_type> connect() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    client.set_option(tcp::no_delay(true));
    server.set_option(tcp::no_delay(true));
    return {std::move(client), std::move(server)};
  }

  void run(asio::awaitable<void> client, asio::awaitable<void> server) {
    io.restart();
    // A backstop only: a hung test fails after 20 s instead of hanging CI.
    asio::steady_timer watchdog(io, 20s);
    bool timed_out = false;
    watchdog.async_wait([&](error_code ec) {
      if (!ec) {
        timed_out = true;
        io.stop();
      }
    });
    std::exception_ptr errors[2];
    int running = 2;
    auto done = [&](int i) {
      return [&, i](std::exception_ptr e) {
        errors[i] = e;
        if (--running == 0) watchdog.cancel();
      };
    };
    asio::co_spawn(io, std::move(client), done(0));
    asio::co_spawn(io, std::move(server), done(1));
    io.run();
    ASSERT_FALSE(timed_out) << "the exchange did not end within 20 s of real time";
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
};

struct TransportNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, SimTransport> ? "Sim" : "Tcp";
  }
};

template <class Transport>
class FaultyStreamOnTransport : public ::testing::Test, protected Transport {};

using Transports = ::testing::Types<SimTransport, TcpTransport>;
TYPED_TEST_SUITE(FaultyStreamOnTransport, Transports, TransportNames);

template <class Transport>
using faulty_on = faultline::faulty_stream<typename Transport::stream_type>;

// The client sends `msg` and reads it back; on any error it records it and
// closes, so that the server never waits forever.
template <class Faulty>
asio::awaitable<void> echo_client(Faulty& s, std::string msg, error_code& result, std::string& reply) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(msg), asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    reply.assign(msg.size(), '\0');
    std::tie(ec, n) = co_await asio::async_read(s, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
  }
  result = ec;
  error_code ignored;
  s.next_layer().close(ignored);
}

template <class Stream>
asio::awaitable<void> echo_server(Stream& s, std::size_t size) {
  std::string buf(size, '\0');
  auto [ec, n] = co_await asio::async_read(s, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
  if (!ec) co_await asio::async_write(s, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
}

TYPED_TEST(FaultyStreamOnTransport, PassesEveryByteThroughSlicedDelayedAndThrottled) {
  auto [a, b] = this->connect();
  faulty_on<TypeParam> client(std::move(a));
  client.writes().max_bytes_per_op(3).latency(1ms).bandwidth(1'000'000);
  client.reads().max_bytes_per_op(5).latency(1ms).bandwidth(1'000'000);
  const std::string msg = "the quick brown fox jumps over the lazy dog";
  error_code ec;
  std::string reply;
  this->run(echo_client(client, msg, ec, reply), echo_server(b, msg.size()));
  EXPECT_EQ(ec, error_code());
  EXPECT_EQ(reply, msg);
  EXPECT_EQ(client.bytes_written(), msg.size());
  EXPECT_EQ(client.bytes_read(), msg.size());
  EXPECT_EQ(client.writes().ops_started(), (msg.size() + 2) / 3);  // each write moved exactly 3 bytes (the last 1)
  EXPECT_GE(client.reads().ops_started(), (msg.size() + 4) / 5);
}

TYPED_TEST(FaultyStreamOnTransport, SweepingFailAtFailsEachOperationOfAnEchoInTurn) {
  std::uint64_t n = 0;
  for (;; ++n) {
    ASSERT_LT(n, 20u) << "the sweep does not end";
    auto [a, b] = this->connect();
    faulty_on<TypeParam> client(std::move(a));
    client.writes().max_bytes_per_op(2);
    client.reads().max_bytes_per_op(2);
    client.fail_at(n, asio::error::connection_reset);
    error_code ec;
    std::string reply;
    this->run(echo_client(client, "hello", ec, reply), echo_server(b, 5));
    if (!ec) {
      EXPECT_EQ(reply, "hello");
      EXPECT_EQ(client.ops_started(), n);  // the sweep ends at the first clean run
      break;
    }
    EXPECT_EQ(ec, asio::error::connection_reset) << "at op " << n;
    EXPECT_EQ(client.ops_started(), n + 1) << "the failed op is the last one";
  }
  EXPECT_GE(n, 6u);  // at least 3 writes of at most 2 bytes, then 3 reads
}

TYPED_TEST(FaultyStreamOnTransport, AnErrorAtTheNthReadFailsOnlyThatRead) {
  auto [a, b] = this->connect();
  faulty_on<TypeParam> client(std::move(a));
  client.reads().fail_at(0, asio::error::timed_out);
  error_code first, second;
  std::string got;
  auto reader = [](faulty_on<TypeParam>& s, error_code& first, error_code& second,
                   std::string& got) -> asio::awaitable<void> {
    char buf[8];
    std::tie(first, std::ignore) = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    got.resize(4);
    std::tie(second, std::ignore) = co_await asio::async_read(s, asio::buffer(got), asio::as_tuple(asio::use_awaitable));
  };
  auto writer = [](typename TypeParam::stream_type& s) -> asio::awaitable<void> {
    co_await asio::async_write(s, asio::buffer(std::string("data")), asio::use_awaitable);
  };
  this->run(reader(client, first, second, got), writer(b));
  EXPECT_EQ(first, asio::error::timed_out);
  EXPECT_EQ(second, error_code());
  EXPECT_EQ(got, "data");
}

TYPED_TEST(FaultyStreamOnTransport, EofAfterNBytesEndsTheStreamThere) {
  auto [a, b] = this->connect();
  faulty_on<TypeParam> client(std::move(a));
  client.eof_after(3);
  error_code ec;
  std::string reply;
  this->run(echo_client(client, "hello", ec, reply), echo_server(b, 5));
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(reply.substr(0, 3), "hel");
  EXPECT_EQ(client.bytes_read(), 3u);
}

TYPED_TEST(FaultyStreamOnTransport, AResetFailsTheClientAndReachesThePeer) {
  auto [a, b] = this->connect();
  faulty_on<TypeParam> client(std::move(a));
  client.reset_at(1);  // the first write passes, the read resets
  error_code client_ec, server_ec;
  std::string reply;
  auto server = [](typename TypeParam::stream_type& s, error_code& ec) -> asio::awaitable<void> {
    std::string buf;
    std::tie(ec, std::ignore) =
        co_await asio::async_read(s, asio::dynamic_buffer(buf), asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(buf, "hello");
  };
  this->run(echo_client(client, "hello", client_ec, reply), server(b, server_ec));
  EXPECT_EQ(client_ec, asio::error::connection_reset);
  EXPECT_EQ(server_ec, TypeParam::peer_sees_reset);
}

TYPED_TEST(FaultyStreamOnTransport, AStalledReadEndsWithOperationAbortedWhenCancelled) {
  auto [a, b] = this->connect();
  faulty_on<TypeParam> client(std::move(a));
  client.reads().stall();
  asio::cancellation_signal sig;
  error_code ec;
  std::size_t n = 99;
  auto reader = [](faulty_on<TypeParam>& s, asio::cancellation_signal& sig, error_code& ec,
                   std::size_t& n) -> asio::awaitable<void> {
    char buf[4];
    std::tie(ec, n) = co_await s.async_read_some(
        asio::buffer(buf), asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
  };
  // Data is there, yet the read hangs until the signal.
  auto canceller = [](typename TypeParam::stream_type& s, asio::cancellation_signal& sig) -> asio::awaitable<void> {
    co_await asio::async_write(s, asio::buffer(std::string("data")), asio::use_awaitable);
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    sig.emit(asio::cancellation_type::terminal);
  };
  this->run(reader(client, sig, ec, n), canceller(b, sig));
  EXPECT_EQ(ec, asio::error::operation_aborted);
  EXPECT_EQ(n, 0u);
}

}  // namespace
