// A mocked awaitable call without an action, in a file that never includes <faultline/gtest.hpp>:
// a clear failure at the call and a missing_action_error when awaited, never a null awaitable.
#include <faultline/sim_context.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;

class client {
 public:
  virtual ~client() = default;
  virtual asio::awaitable<std::string> fetch(std::string url) = 0;
  virtual asio::awaitable<void> ping() = 0;
};

class mock_client : public client {
 public:
  MOCK_METHOD(asio::awaitable<std::string>, fetch, (std::string url), (override));
  MOCK_METHOD(asio::awaitable<void>, ping, (), (override));
};

TEST(MockDefaultWithoutAdapter, AnUninterestingCallFailsAndThrowsWhenAwaited) {
  faultline::sim_context sim;
  ::testing::NiceMock<mock_client> m;
  std::optional<asio::awaitable<std::string>> a;
  EXPECT_NONFATAL_FAILURE(a.emplace(m.fetch("/x")),
                          "faultline: a mock method returning asio::awaitable<std::string> was called without an "
                          "action for the call");
  auto r = sim.run(std::move(*a));  // used to crash: a null awaitable
  ASSERT_TRUE(r.has_exception());
  EXPECT_THROW(r.value(), faultline::testing::missing_action_error);
}

TEST(MockDefaultWithoutAdapter, AVoidCallPastItsWillOnceFailsToo) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, ping()).Times(2).WillOnce([]() -> asio::awaitable<void> { co_return; });
  EXPECT_TRUE(sim.run(m.ping()).has_value());
  std::optional<asio::awaitable<void>> a;
  EXPECT_NONFATAL_FAILURE(a.emplace(m.ping()), "asio::awaitable<void> was called without an action");
  EXPECT_THROW(sim.run(std::move(*a)).value(), faultline::testing::missing_action_error);
}

}  // namespace
