// Tests of faultline::memory_stream: buffering, eof and close, cancellation, composed operations, stalls.
#include <faultline/memory_stream.hpp>

#include <faultline/gtest.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/cancellation_names.hpp"
#include "support/io_result.hpp"

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using faultline::at;
using faultline::sim_clock;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using faultline_test::io_result;
using faultline_test::record;

// Runs callbacks at exact virtual instants.
class schedule {
 public:
  explicit schedule(faultline::sim_context& sim) : sim_(sim) {}
  template <class F>
  void at(sim_clock::duration d, F f) {
    auto& t = timers_.emplace_back(sim_, d);
    t.async_wait([f = std::move(f)](error_code ec) mutable {
      if (!ec) f();
    });
  }

 private:
  faultline::sim_context& sim_;
  std::list<faultline::steady_timer> timers_;
};

void write_now(faultline::memory_stream& s, const std::string& text) {
  s.async_write_some(asio::buffer(text), [](error_code ec, std::size_t) { ASSERT_FALSE(ec); });
}

TEST(MemoryStream, ReadWaitsUntilThePeerWrites) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  char buf[16];
  io_result r;
  b.async_read_some(asio::buffer(buf), record(sim, r));
  schedule s(sim);
  s.at(50ms, [&a = a] { write_now(a, "hello"); });
  sim.run_for(49ms);
  EXPECT_FALSE(r.ec.has_value());
  sim.run();
  EXPECT_EQ(r.ec, error_code());
  EXPECT_EQ(r.at, at(50ms));
  EXPECT_EQ(std::string(buf, r.n), "hello");
}

TEST(MemoryStream, NeverCompletesInsideTheInitiatingCall) {
  faultline::sim_context sim;
  auto ends = faultline::make_memory_stream_pair(sim);
  auto& [a, b] = ends;
  io_result w, r;
  a.async_write_some(asio::buffer("xy", 2), record(sim, w));
  char buf[2];
  b.async_read_some(asio::buffer(buf), record(sim, r));
  EXPECT_FALSE(w.ec.has_value());
  EXPECT_FALSE(r.ec.has_value());
  sim.poll();
  EXPECT_EQ(w.n, 2u);
  EXPECT_EQ(r.n, 2u);

  // From inside the sim too, where the handler's executor could run it at once.
  io_result w2, r2;
  bool inline_completion = true;
  asio::post(sim, [&, &a = a, &b = b] {
    a.async_write_some(asio::buffer("zw", 2), record(sim, w2));
    b.async_read_some(asio::buffer(buf), record(sim, r2));
    inline_completion = w2.ec.has_value() || r2.ec.has_value();
  });
  sim.poll();
  EXPECT_FALSE(inline_completion);
  EXPECT_EQ(r2.n, 2u);
}

TEST(MemoryStream, AReadTakesAtMostItsBufferAndLeavesTheRestBuffered) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  write_now(a, "0123456789");
  sim.run();
  EXPECT_EQ(b.available(), 10u);
  char small[4], large[32];
  io_result r1, r2;
  b.async_read_some(asio::buffer(small), record(sim, r1));
  sim.run();
  EXPECT_EQ(std::string(small, r1.n), "0123");
  EXPECT_EQ(b.available(), 6u);
  b.async_read_some(asio::buffer(large), record(sim, r2));
  sim.run();
  EXPECT_EQ(std::string(large, r2.n), "456789");
}

TEST(MemoryStream, ThePeerReadsBufferedBytesThenEofAfterClose) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  write_now(a, "abc");
  a.close();
  EXPECT_FALSE(a.is_open());
  char buf[2];
  io_result r1, r2, r3;
  b.async_read_some(asio::buffer(buf), record(sim, r1));
  sim.run();
  EXPECT_EQ(std::string(buf, r1.n), "ab");
  b.async_read_some(asio::buffer(buf), record(sim, r2));
  sim.run();
  EXPECT_EQ(std::string(buf, r2.n), "c");
  b.async_read_some(asio::buffer(buf), record(sim, r3));
  sim.run();
  EXPECT_EQ(r3.ec, asio::error::eof);
  EXPECT_EQ(r3.n, 0u);
}

TEST(MemoryStream, ClosingWakesThePeersPendingReadWithEofAtThatInstant) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  char buf[4];
  io_result r;
  b.async_read_some(asio::buffer(buf), record(sim, r));
  schedule s(sim);
  s.at(30ms, [&a = a] { a.close(); });
  sim.run();
  EXPECT_EQ(r.ec, asio::error::eof);
  EXPECT_EQ(r.at, at(30ms));
}

TEST(MemoryStream, WritesToAClosedPeerFailWithBrokenPipe) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  b.close();
  io_result w;
  a.async_write_some(asio::buffer("x", 1), record(sim, w));
  sim.run();
  EXPECT_EQ(w.ec, asio::error::broken_pipe);
  EXPECT_EQ(w.n, 0u);
}

TEST(MemoryStream, TheClosedEndItselfFailsWithBadDescriptorAndAbortsItsRead) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  char buf[4];
  io_result pending, r, w;
  a.async_read_some(asio::buffer(buf), record(sim, pending));
  a.close();
  a.async_read_some(asio::buffer(buf), record(sim, r));
  a.async_write_some(asio::buffer("x", 1), record(sim, w));
  sim.run();
  EXPECT_EQ(pending.ec, asio::error::operation_aborted);
  EXPECT_EQ(r.ec, asio::error::bad_descriptor);
  EXPECT_EQ(w.ec, asio::error::bad_descriptor);
}

TEST(MemoryStream, DestroyingAnEndIsClosingIt) {
  faultline::sim_context sim;
  faultline::memory_stream b(sim);
  char buf[4];
  io_result r;
  {
    faultline::memory_stream a(sim);
    faultline::connect(a, b);
    write_now(a, "zz");
  }
  b.async_read_some(asio::buffer(buf), record(sim, r));
  sim.run();
  EXPECT_EQ(std::string(buf, r.n), "zz");
  b.async_read_some(asio::buffer(buf), record(sim, r));
  sim.run();
  EXPECT_EQ(r.ec, asio::error::eof);
}

TEST(MemoryStream, AnUnconnectedStreamFailsWithNotConnected) {
  faultline::sim_context sim;
  faultline::memory_stream a(sim);
  char buf[4];
  io_result r, w;
  a.async_read_some(asio::buffer(buf), record(sim, r));
  a.async_write_some(asio::buffer("x", 1), record(sim, w));
  sim.run();
  EXPECT_EQ(r.ec, asio::error::not_connected);
  EXPECT_EQ(w.ec, asio::error::not_connected);
}

TEST(MemoryStream, ConnectingTwiceOrToItselfIsRejected) {
  faultline::sim_context sim;
  faultline::memory_stream a(sim), b(sim), c(sim);
  EXPECT_THROW(faultline::connect(a, a), std::logic_error);
  faultline::connect(a, b);
  try {
    faultline::connect(c, a);
    ADD_FAILURE() << "connect did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: memory_stream connect: stream#1 is already connected; a memory stream is connected "
                 "once, like a socket: create a new pair");
  }
}

TEST(MemoryStream, ASecondConcurrentReadIsRejected) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  char buf[4];
  b.async_read_some(asio::buffer(buf), [](error_code, std::size_t) {});
  EXPECT_THROW(b.async_read_some(asio::buffer(buf), [](error_code, std::size_t) {}), std::logic_error);
  a.close();
  sim.run();
}

// Every cancellation type ends a pending read at the instant it is emitted,
// and no byte is lost: the next read gets what the peer writes later.
class MemoryStreamCancellation : public ::testing::TestWithParam<asio::cancellation_type> {};

TEST_P(MemoryStreamCancellation, EndsAPendingReadAtTheInstantOfEmission) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  asio::cancellation_signal sig;
  char buf[8];
  io_result r, later;
  b.async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(sig.slot(), record(sim, r)));
  schedule s(sim);
  s.at(250ms, [&] { sig.emit(GetParam()); });
  s.at(400ms, [&a = a] { write_now(a, "late"); });
  sim.run_for(300ms);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
  EXPECT_EQ(r.at, at(250ms));
  EXPECT_EQ(r.n, 0u);
  b.async_read_some(asio::buffer(buf), record(sim, later));
  sim.run();
  EXPECT_EQ(std::string(buf, later.n), "late");
  EXPECT_EQ(later.at, at(400ms));
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MemoryStreamCancellation,
                         ::testing::Values(asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                           asio::cancellation_type::total),
                         faultline_test::cancellation_name);

TEST(MemoryStream, CancelEndsAPendingRead) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  char buf[4];
  io_result r;
  b.async_read_some(asio::buffer(buf), record(sim, r));
  EXPECT_EQ(b.cancel(), 1u);
  EXPECT_EQ(b.cancel(), 0u);
  sim.run();
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
}

asio::awaitable<void> http_like_server(faultline::memory_stream& s, std::string& request) {
  std::string buf;
  std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", asio::use_awaitable);
  request = buf.substr(0, n);
  co_await asio::async_write(s, asio::buffer(std::string("200 OK")), asio::use_awaitable);
  s.close();
}

asio::awaitable<void> http_like_client(faultline::memory_stream& s, std::string& reply) {
  co_await asio::async_write(s, asio::buffer(std::string("GET / HTTP/1.1\r\n")), asio::use_awaitable);
  co_await faultline::sleep_for(10ms);
  co_await asio::async_write(s, asio::buffer(std::string("Host: x\r\n\r\n")), asio::use_awaitable);
  std::string buf;
  auto [ec, n] = co_await asio::async_read(s, asio::dynamic_buffer(buf), asio::as_tuple(asio::use_awaitable));
  EXPECT_EQ(ec, asio::error::eof);  // async_read reads to the end
  reply = buf.substr(0, n);
}

TEST(MemoryStream, WorksWithAsyncReadUntilAsyncWriteAndAsyncReadInCoroutines) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  std::string request, reply;
  auto server = sim.spawn("server", http_like_server(b, request));
  auto client = sim.spawn("client", http_like_client(a, reply));
  sim.run();
  EXPECT_TRUE(server.result().has_value());
  EXPECT_TRUE(client.result().has_value());
  EXPECT_EQ(request, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reply, "200 OK");
  EXPECT_EQ(client.result().completed_at(), at(10ms));
}

TEST(MemoryStream, WorksWithDeferredUseFutureAndRedirectError) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  auto op = a.async_write_some(asio::buffer("abc", 3), asio::deferred);
  io_result w;
  std::move(op)(record(sim, w));
  char buf[8];
  std::future<std::size_t> f = b.async_read_some(asio::buffer(buf), asio::use_future);
  sim.run();
  EXPECT_EQ(w.n, 3u);
  EXPECT_EQ(f.get(), 3u);

  a.close();
  error_code ec;
  auto r = sim.run([](faultline::memory_stream& s, error_code& ec) -> asio::awaitable<std::size_t> {
    char buf[8];
    co_return co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
  }(b, ec));
  EXPECT_EQ(r.value(), 0u);
  EXPECT_EQ(ec, asio::error::eof);
}

asio::awaitable<void> read_forever(faultline::memory_stream& s) {
  char buf[4];
  co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
}

TEST(MemoryStream, AStallReportNamesThePendingRead) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  sim.run_for(2s);
  auto reader = sim.spawn("reader", read_forever(b));
  try {
    sim.run();
    ADD_FAILURE() << "no stall reported";
  } catch (const faultline::stall_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("\n  stream#2 read (stream read) waiting since t=2.000s"));
    EXPECT_THAT(e.what(), HasSubstr("\n  reader (task) waiting since t=2.000s"));
  }
  std::vector<std::string> pending;
  for (const auto& op : sim.pending()) pending.push_back(op.describe());
  EXPECT_THAT(pending, ::testing::Contains("stream#2 read (stream read) waiting since t=2.000s"));
  a.close();  // the read ends with eof and the task with it
  sim.run();
  EXPECT_TRUE(sim.pending().empty());
  EXPECT_TRUE(reader.done());
}

TEST(MemoryStream, TheTraceRecordsTransfersUnderNamesNumberedPerSim) {
  for (int run = 0; run < 2; ++run) {
    faultline::sim_context sim;
    auto [a, b] = faultline::make_memory_stream_pair(sim);
    faultline::memory_stream named(sim, "backend");
    EXPECT_EQ(a.name(), "stream#1");
    EXPECT_EQ(b.name(), "stream#2");
    EXPECT_EQ(named.name(), "backend");
    sim.run_for(5ms);
    write_now(a, "hello");
    char buf[8];
    b.async_read_some(asio::buffer(buf), [](error_code, std::size_t) {});
    a.close();
    sim.run();
    EXPECT_EQ(sim.trace().timeline(),
              "t=0.005s stream#1 io: write 5 bytes\n"
              "t=0.005s stream#2 io: read 5 bytes\n"
              "t=0.005s stream#1 io: close\n");
  }
}

TEST(MemoryStream, AReadPendingWhenTheSimDiesIsDroppedAndLaterUseThrows) {
  auto sim = std::make_unique<faultline::sim_context>();
  auto [a, b] = faultline::make_memory_stream_pair(*sim);
  auto sentinel = std::make_shared<int>(0);
  bool called = false;
  char buf[4];
  b.async_read_some(asio::buffer(buf), [&called, sentinel](error_code, std::size_t) { called = true; });
  EXPECT_EQ(sentinel.use_count(), 2);
  sim.reset();
  EXPECT_FALSE(called);
  EXPECT_EQ(sentinel.use_count(), 1);  // the handler was destroyed, not leaked
  try {
    a.async_write_some(asio::buffer("x", 1), [](error_code, std::size_t) {});
    ADD_FAILURE() << "no error";
  } catch (const std::logic_error& e) {
    EXPECT_THAT(e.what(), StartsWith("faultline: memory_stream::async_write_some: the sim_context this object "
                                     "belongs to was destroyed"));
  }
}

TEST(MemoryStreamReal, WorksOnAnIoContext) {
  asio::io_context io;
  auto [a, b] = faultline::make_memory_stream_pair(io);
  std::string got;
  error_code end;
  const std::string text = "over io_context";
  asio::async_write(a, asio::buffer(text), [&a = a](error_code ec, std::size_t) {
    EXPECT_FALSE(ec);
    a.close();
  });
  asio::async_read(b, asio::dynamic_buffer(got), [&](error_code ec, std::size_t) { end = ec; });
  io.run();
  EXPECT_EQ(got, "over io_context");
  EXPECT_EQ(end, asio::error::eof);
}

}  // namespace
