// Tests of faultline::faulty_stream on a sim: each fault at its exact virtual instant, cancellation, trace, stalls.
#include <faultline/faulty_stream.hpp>

#include <faultline/gtest.hpp>
#include <faultline/memory_stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/cancellation_names.hpp"
#include "support/io_result.hpp"

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
using faulty = faultline::faulty_stream<faultline::memory_stream>;

using faultline_test::io_result;
using faultline_test::record;

// A faulty client end and a plain server end, connected.
struct rig {
  faultline::sim_context sim;
  std::pair<faultline::memory_stream, faultline::memory_stream> ends = faultline::make_memory_stream_pair(sim);
  faulty client{std::move(ends.first)};
  faultline::memory_stream& server = ends.second;

  std::string server_reads(std::size_t n) {
    std::string buf(n, '\0');
    io_result r;
    asio::async_read(server, asio::buffer(buf), record(sim, r));
    sim.run();
    EXPECT_EQ(r.ec, error_code());
    return buf.substr(0, r.n);
  }
};

TEST(FaultyStream, WithoutFaultsPassesBytesThroughAndForwardsTheExecutor) {
  rig r;
  EXPECT_TRUE(r.client.get_executor() == r.client.next_layer().get_executor());
  io_result w;
  const std::string plain = "plain";
  asio::async_write(r.client, asio::buffer(plain), record(r.sim, w));
  EXPECT_EQ(r.server_reads(5), "plain");
  EXPECT_EQ(w.n, 5u);
  EXPECT_EQ(w.at, at(0ms));
  EXPECT_EQ(r.client.bytes_written(), 5u);
}

TEST(FaultyStream, LatencyDelaysEachOperationByExactlyThatMuch) {
  rig r;
  r.client.writes().latency(100ms);
  r.client.reads().latency(30ms);
  io_result w, rd;
  r.client.async_write_some(asio::buffer("ping", 4), record(r.sim, w));
  asio::async_write(r.server, asio::buffer("pong", 4), [](error_code, std::size_t) {});
  char buf[4];
  r.client.async_read_some(asio::buffer(buf), record(r.sim, rd));
  r.sim.run();
  EXPECT_EQ(w.at, at(100ms));
  EXPECT_EQ(w.n, 4u);
  EXPECT_EQ(rd.at, at(30ms));  // the bytes were there; the read started 30ms late
  EXPECT_EQ(std::string(buf, rd.n), "pong");
  EXPECT_EQ(r.server_reads(4), "ping");
}

TEST(FaultyStream, BandwidthDelaysByBytesOverRateOnWritesAndReads) {
  rig r;
  r.client.writes().bandwidth(1000);
  io_result w;
  const std::string w500(500, 'w'), w250(250, 'w'), r500(500, 'r');  // alive while the writes wait
  r.client.async_write_some(asio::buffer(w500), record(r.sim, w));
  r.sim.run();
  EXPECT_EQ(w.at, at(500ms));
  EXPECT_EQ(w.n, 500u);

  r.client.writes().clear().latency(100ms).bandwidth(1000);  // they add up
  r.client.async_write_some(asio::buffer(w250), record(r.sim, w));
  r.sim.run();
  EXPECT_EQ(w.at, at(500ms + 100ms + 250ms));

  r.client.reads().bandwidth(2000);
  asio::async_write(r.server, asio::buffer(r500), [](error_code, std::size_t) {});
  std::string buf(800, '\0');
  io_result rd;
  r.client.async_read_some(asio::buffer(buf), record(r.sim, rd));
  r.sim.run();
  EXPECT_EQ(rd.n, 500u);  // the delay follows what arrived, not the buffer's size
  EXPECT_EQ(rd.at, at(850ms + 250ms));
}

TEST(FaultyStream, ShortWritesAreSlicedIntoOperationsOfAtMostKBytes) {
  rig r;
  r.client.writes().max_bytes_per_op(3).latency(10ms);
  io_result w;
  const std::string digits = "0123456789";
  asio::async_write(r.client, asio::buffer(digits), record(r.sim, w));
  r.sim.run();
  EXPECT_EQ(w.n, 10u);
  EXPECT_EQ(r.client.writes().ops_started(), 4u);  // 3 + 3 + 3 + 1
  EXPECT_EQ(w.at, at(40ms));                       // each slice waited its latency
  EXPECT_EQ(r.server_reads(10), "0123456789");
}

TEST(FaultyStream, ShortReadsReturnAtMostKBytesAndLeaveTheRest) {
  rig r;
  r.client.reads().max_bytes_per_op(4);
  const std::string letters = "abcdefghij";
  asio::async_write(r.server, asio::buffer(letters), [](error_code, std::size_t) {});
  char buf[16];
  io_result rd;
  r.client.async_read_some(asio::buffer(buf), record(r.sim, rd));
  r.sim.run();
  EXPECT_EQ(std::string(buf, rd.n), "abcd");
  EXPECT_EQ(r.client.next_layer().available(), 6u);
}

TEST(FaultyStream, AnInjectedErrorNeverTouchesTheNextLayerNorCompletesInline) {
  rig r;
  r.client.fail_at(0, asio::error::timed_out);
  io_result w;
  r.client.async_write_some(asio::buffer("lost", 4), record(r.sim, w));
  EXPECT_FALSE(w.ec.has_value());
  r.sim.run();
  EXPECT_EQ(w.ec, asio::error::timed_out);
  EXPECT_EQ(w.n, 0u);
  EXPECT_EQ(r.server.available(), 0u);
  r.client.async_write_some(asio::buffer("kept", 4), record(r.sim, w));  // op 1 passes
  EXPECT_EQ(r.server_reads(4), "kept");
}

TEST(FaultyStream, PerDirectionFailAtCountsOnlyThatDirection) {
  rig r;
  r.client.reads().fail_at(1, asio::error::connection_aborted);
  const std::string letters = "abcdef";
  asio::async_write(r.server, asio::buffer(letters), [](error_code, std::size_t) {});
  io_result w, r0, r1;
  r.client.async_write_some(asio::buffer("x", 1), record(r.sim, w));  // op 0, a write
  char buf[3];
  r.client.async_read_some(asio::buffer(buf), record(r.sim, r0));     // read 0
  r.sim.run();
  r.client.async_read_some(asio::buffer(buf), record(r.sim, r1));     // read 1
  r.sim.run();
  EXPECT_EQ(r0.ec, error_code());
  EXPECT_EQ(r1.ec, asio::error::connection_aborted);
  EXPECT_EQ(r.client.ops_started(), 3u);
}

TEST(FaultyStream, EofAfterNBytesShortensTheReadThatReachesIt) {
  rig r;
  r.client.eof_after(5);
  const std::string digits = "12345678";
  asio::async_write(r.server, asio::buffer(digits), [](error_code, std::size_t) {});
  std::string buf(8, '\0');
  io_result rd;
  asio::async_read(r.client, asio::buffer(buf), record(r.sim, rd));
  r.sim.run();
  EXPECT_EQ(rd.ec, asio::error::eof);
  EXPECT_EQ(rd.n, 5u);
  EXPECT_EQ(buf.substr(0, 5), "12345");
  EXPECT_EQ(r.client.next_layer().available(), 3u);
}

TEST(FaultyStream, AResetFailsThatOperationAndEveryLaterOneAndClosesTheNextLayer) {
  rig r;
  r.client.reset_at(1);
  io_result w0, w1, w2;
  r.client.async_write_some(asio::buffer("ok", 2), record(r.sim, w0));
  r.client.async_write_some(asio::buffer("no", 2), record(r.sim, w1));
  r.client.async_write_some(asio::buffer("no", 2), record(r.sim, w2));
  r.sim.run();
  EXPECT_EQ(w0.ec, error_code());
  EXPECT_EQ(w1.ec, asio::error::connection_reset);
  EXPECT_EQ(w2.ec, asio::error::connection_reset);
  EXPECT_FALSE(r.client.next_layer().is_open());
  std::string got;
  io_result end;
  asio::async_read(r.server, asio::dynamic_buffer(got), record(r.sim, end));
  r.sim.run();
  EXPECT_EQ(got, "ok");
  EXPECT_EQ(end.ec, asio::error::eof);
}

// Every cancellation type ends a stalled or delayed operation at the instant
// of emission.
class FaultyStreamCancellation : public ::testing::TestWithParam<asio::cancellation_type> {};

TEST_P(FaultyStreamCancellation, EndsAStalledReadAndADelayedWriteAtTheInstantOfEmission) {
  asio::cancellation_signal read_sig, write_sig;  // outlive the sim, as Asio requires
  rig r;
  r.client.reads().stall();
  r.client.writes().latency(1s);
  char buf[4];
  io_result rd, w;
  r.client.async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(read_sig.slot(), record(r.sim, rd)));
  r.client.async_write_some(asio::buffer("late", 4), asio::bind_cancellation_slot(write_sig.slot(), record(r.sim, w)));
  faultline::steady_timer t1(r.sim, 250ms), t2(r.sim, 400ms);
  t1.async_wait([&](error_code) { read_sig.emit(GetParam()); });
  t2.async_wait([&](error_code) { write_sig.emit(GetParam()); });
  r.sim.run();
  EXPECT_EQ(rd.ec, asio::error::operation_aborted);
  EXPECT_EQ(rd.at, at(250ms));
  EXPECT_EQ(w.ec, asio::error::operation_aborted);
  EXPECT_EQ(w.at, at(400ms));
  EXPECT_EQ(r.server.available(), 0u);  // the cancelled write never reached the peer
}

INSTANTIATE_TEST_SUITE_P(AllTypes, FaultyStreamCancellation,
                         ::testing::Values(asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                           asio::cancellation_type::total),
                         faultline_test::cancellation_name);

TEST(FaultyStream, CancellingAThrottledReadReportsTheBytesItAlreadyHolds) {
  asio::cancellation_signal sig;
  const std::string r500(500, 'r');
  rig r;
  r.client.reads().bandwidth(1000);
  asio::async_write(r.server, asio::buffer(r500), [](error_code, std::size_t) {});
  std::string buf(500, '\0');
  io_result rd;
  r.client.async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(sig.slot(), record(r.sim, rd)));
  faultline::steady_timer t1(r.sim, 100ms), t2(r.sim, 200ms);
  t1.async_wait([&](error_code) { sig.emit(asio::cancellation_type::total); });  // ignored: bytes have moved
  t2.async_wait([&](error_code) { sig.emit(asio::cancellation_type::partial); });
  r.sim.run();
  EXPECT_EQ(rd.ec, asio::error::operation_aborted);
  EXPECT_EQ(rd.n, 500u);
  EXPECT_EQ(rd.at, at(200ms));
}

TEST(FaultyStream, CancelAndCloseEndStalledAndDelayedOperationsAtThatInstant) {
  rig r;
  r.client.reads().stall();
  r.client.writes().latency(1s);
  char buf[4];
  io_result rd, w;
  r.client.async_read_some(asio::buffer(buf), record(r.sim, rd));
  r.client.async_write_some(asio::buffer("late", 4), record(r.sim, w));
  faultline::steady_timer t1(r.sim, 50ms), t2(r.sim, 80ms);
  t1.async_wait([&](error_code) { r.client.cancel(); });
  r.sim.run();
  EXPECT_EQ(rd.ec, asio::error::operation_aborted);
  EXPECT_EQ(rd.at, at(50ms));
  EXPECT_EQ(w.ec, asio::error::operation_aborted);
  EXPECT_EQ(w.at, at(50ms));

  r.client.async_read_some(asio::buffer(buf), record(r.sim, rd));  // stalls again
  t2.async_wait([&](error_code) { r.client.close(); });
  r.sim.run();
  EXPECT_EQ(rd.ec, asio::error::operation_aborted);
  EXPECT_EQ(rd.at, at(80ms));
  EXPECT_FALSE(r.client.next_layer().is_open());
}

asio::awaitable<void> read_some_forever(faulty& s) {
  char buf[4];
  co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
}

TEST(FaultyStream, AStalledReadIsNamedInTheStallReportAndEndsWhenTheStreamIsDestroyed) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim);
  auto client = std::make_unique<faulty>(std::move(a));
  client->reads().stall_from(0);
  sim.run_for(1s);
  auto reader = sim.spawn("reader", read_some_forever(*client));
  try {
    sim.run();
    ADD_FAILURE() << "no stall reported";
  } catch (const faultline::stall_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("\n  faulty_stream#1 read (stalled stream read) waiting since t=1.000s until "
                                    "cancelled"));
  }
  client.reset();
  sim.run();
  ASSERT_TRUE(reader.done());
  EXPECT_TRUE(reader.result().was_cancelled());
  EXPECT_EQ(reader.result().completed_at(), at(1s));
}

TEST(FaultyStream, TheTraceRecordsEveryInjectedFaultAndEveryOperation) {
  rig r;
  r.client.writes().latency(100ms).max_bytes_per_op(4);
  r.client.fail_at(1, asio::error::connection_reset);
  io_result w;
  r.client.async_write_some(asio::buffer("hello", 5), record(r.sim, w));
  r.sim.run();
  r.client.async_write_some(asio::buffer("x", 1), record(r.sim, w));
  r.sim.run();
  std::vector<std::string> lines;
  for (const auto& e : r.sim.trace().events())
    if (e.subject == "faulty_stream#1") lines.push_back(e.describe());
  EXPECT_THAT(lines, ::testing::ElementsAre("t=0.000s faulty_stream#1 fault: write: short write, 4 bytes of 5 at op 0",
                                            "t=0.000s faulty_stream#1 fault: write: injected latency 0.100s at op 0",
                                            "t=0.100s faulty_stream#1 io: write 4 bytes",
                                            "t=0.100s faulty_stream#1 fault: write: injected connection_reset at op 1",
                                            "t=0.100s faulty_stream#1 io: write 0 bytes: connection_reset"));
}

// A tiny echo protocol: the client sends a message and reads it back.
asio::awaitable<void> echo_client(faulty& s, std::string msg, error_code& result, std::string& reply) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(msg), asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    reply.assign(msg.size(), '\0');
    std::tie(ec, n) = co_await asio::async_read(s, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
  }
  result = ec;
  s.next_layer().close();  // the server must not wait forever
}

asio::awaitable<void> echo_server(faultline::memory_stream& s, std::size_t size) {
  std::string buf(size, '\0');
  auto [ec, n] = co_await asio::async_read(s, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
  if (!ec) co_await asio::async_write(s, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
}

TEST(FaultyStream, SweepingFailAtVisitsEveryOperationOfAnEchoAtItsExactInstant) {
  std::uint64_t n = 0;
  for (;; ++n) {
    ASSERT_LT(n, 20u) << "the sweep does not end";
    faultline::sim_context sim;
    auto [a, b] = faultline::make_memory_stream_pair(sim);
    faulty client(std::move(a));
    client.writes().max_bytes_per_op(2).latency(10ms);
    client.reads().max_bytes_per_op(2);
    client.fail_at(n, asio::error::connection_reset);
    error_code ec;
    std::string reply;
    auto c = sim.spawn("client", echo_client(client, "hello", ec, reply));
    auto s = sim.spawn("server", echo_server(b, 5));
    sim.run();
    if (!ec) {
      EXPECT_EQ(reply, "hello");
      EXPECT_EQ(client.ops_started(), n);  // the sweep ends at the first clean run
      EXPECT_EQ(c.result().completed_at(), at(30ms));
      break;
    }
    EXPECT_EQ(ec, asio::error::connection_reset) << "at op " << n;
    EXPECT_EQ(client.ops_started(), n + 1) << "the failed op is the last one";
    // A failed write fails at once (before its latency); the reads follow the 3 writes.
    EXPECT_EQ(c.result().completed_at(), at(std::min<std::uint64_t>(n, 3) * 10ms)) << "at op " << n;
  }
  EXPECT_EQ(n, 6u);  // 3 writes of at most 2 bytes, then 3 reads
}

TEST(FaultyStream, WorksWithCoroutinesAndUseAwaitable) {
  rig r;
  r.client.writes().latency(5ms);
  auto out = r.sim.run([](faulty& s) -> asio::awaitable<std::size_t> {
    co_return co_await asio::async_write(s, asio::buffer(std::string("coro")), asio::use_awaitable);
  }(r.client));
  EXPECT_EQ(out.value(), 4u);
  EXPECT_EQ(out.completed_at(), at(5ms));
}

TEST(FaultyStream, AnOperationPendingWhenTheSimDiesIsDroppedAndLaterUseThrows) {
  auto sim = std::make_unique<faultline::sim_context>();
  auto [a, b] = faultline::make_memory_stream_pair(*sim);
  faulty client(std::move(a));
  EXPECT_THROW(client.fail_at(0, error_code()), std::invalid_argument);
  EXPECT_THROW(client.reads().fail_at(0, error_code()), std::invalid_argument);
  client.reads().stall();
  auto sentinel = std::make_shared<int>(0);
  bool called = false;
  char buf[4];
  client.async_read_some(asio::buffer(buf), [&called, sentinel](error_code, std::size_t) { called = true; });
  sim.reset();
  EXPECT_FALSE(called);
  EXPECT_EQ(sentinel.use_count(), 1);  // the stalled read's handler was destroyed, not run or leaked
  try {
    client.async_write_some(asio::buffer("x", 1), [](error_code, std::size_t) {});
    ADD_FAILURE() << "no error";
  } catch (const std::logic_error& e) {
    EXPECT_THAT(e.what(), ::testing::StartsWith("faultline: faulty_stream::async_write_some: the sim_context this "
                                                "object belongs to was destroyed"));
  }
}

}  // namespace
