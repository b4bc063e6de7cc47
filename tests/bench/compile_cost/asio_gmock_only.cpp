#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

struct Db {
  virtual ~Db() = default;
  virtual boost::asio::awaitable<int> get(int key) = 0;
};
struct MockDb : Db {
  MOCK_METHOD(boost::asio::awaitable<int>, get, (int key), (override));
};

TEST(CompileCost, MockAndSleep) {
  boost::asio::io_context io;
  MockDb db;
  EXPECT_CALL(db, get(1)).WillOnce([](int) -> boost::asio::awaitable<int> { co_return 7; });
  int v = 0;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await t.async_wait(boost::asio::use_awaitable);
    v = co_await db.get(1);
  }, boost::asio::detached);
  io.run();
  EXPECT_EQ(v, 7);
}
