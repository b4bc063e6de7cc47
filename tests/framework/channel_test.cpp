// Tests that experimental::channel runs on a sim: buffering, back-pressure, close, cancel.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::sim_clock;
using channel = asio::experimental::channel<void(boost::system::error_code, int)>;

TEST(ChannelOnSim, ConsumerReceivesEachItemAtTheInstantItIsSent) {
  faultline::sim_context sim;
  channel ch(sim, 0);
  std::vector<std::pair<int, sim_clock::time_point>> got;
  sim.spawn("producer", [&]() -> asio::awaitable<void> {
    for (int i = 1; i <= 3; ++i) {
      co_await faultline::sleep_for(10ms);
      co_await ch.async_send({}, i, asio::use_awaitable);
    }
    ch.close();
  });
  auto consumer = sim.spawn("consumer", [&]() -> asio::awaitable<void> {
    for (;;) {
      auto [ec, v] = co_await ch.async_receive(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;  // closed
      got.emplace_back(v, sim_clock::now());
    }
  });
  sim.run();
  EXPECT_EQ(got, (std::vector<std::pair<int, sim_clock::time_point>>{{1, at(10ms)}, {2, at(20ms)}, {3, at(30ms)}}));
  EXPECT_TRUE(consumer.result().has_value());
  EXPECT_EQ(consumer.result().completed_at(), at(30ms));
}

TEST(ChannelOnSim, AFullBufferHoldsTheProducerUntilTheConsumerTakes) {
  faultline::sim_context sim;
  channel ch(sim, 2);
  std::vector<sim_clock::time_point> sent;
  sim.spawn("producer", [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 4; ++i) {
      co_await ch.async_send({}, i, asio::use_awaitable);
      sent.push_back(sim_clock::now());
    }
  });
  sim.spawn("slow consumer", [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 4; ++i) {
      co_await faultline::sleep_for(100ms);
      co_await ch.async_receive(asio::use_awaitable);
    }
  });
  sim.run();
  // Two fit in the buffer at once; each further send waits for a receive.
  EXPECT_EQ(sent, (std::vector{at(0ms), at(0ms), at(100ms), at(200ms)}));
  EXPECT_EQ(sim.now(), at(400ms));
}

TEST(ChannelOnSim, CancellingTheChannelEndsAWaitingReceiver) {
  faultline::sim_context sim;
  channel ch(sim, 0);
  auto receiver = sim.spawn("receiver", [&]() -> asio::awaitable<int> {
    co_return co_await ch.async_receive(asio::use_awaitable);
  });
  faultline::steady_timer t(sim, 75ms);
  t.async_wait([&](boost::system::error_code) { ch.cancel(); });
  sim.run();
  ASSERT_TRUE(receiver.done());
  EXPECT_TRUE(receiver.result().was_cancelled()) << receiver.result().describe();
  EXPECT_EQ(receiver.result().completed_at(), at(75ms));
}

}  // namespace
