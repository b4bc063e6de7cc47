// Must NOT compile: CO_ASSERT_* in a coroutine that returns a value. The test
// faultline.compile_fail.co_assert_in_value_coroutine builds this file and checks
// that the compiler's message says what to use instead.
#include <faultline/gtest.hpp>

boost::asio::awaitable<int> answer() {
  CO_ASSERT_EQ(1 + 1, 2);
  co_return 42;
}

int main() { return 0; }
