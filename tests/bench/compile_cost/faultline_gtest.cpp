#include <faultline/gtest.hpp>
#include <gmock/gmock.h>

#include <chrono>

struct Db {
  virtual ~Db() = default;
  virtual boost::asio::awaitable<int> get(int key) = 0;
};
struct MockDb : Db {
  MOCK_METHOD(boost::asio::awaitable<int>, get, (int key), (override));
};

FAULTLINE_TEST(CompileCost, MockAndSleep) {
  MockDb db;
  EXPECT_CALL(db, get(1)).WillOnce(faultline::testing::ReturnAfter(std::chrono::milliseconds(5), 7));
  co_await faultline::sleep_for(std::chrono::milliseconds(1));
  const int v = co_await db.get(1);
  CO_ASSERT_EQ(v, 7);
}
