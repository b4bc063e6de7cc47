// Must NOT compile: CO_ASSERT_* in a coroutine that returns a value. The test
// faultline_gtest.CoAssertInAValueCoroutineDoesNotCompile builds this file and
// checks that faultline's static_assert says why and what to use instead.
#include <faultline/gtest.hpp>

boost::asio::awaitable<int> answer() {
  CO_ASSERT_EQ(1 + 1, 2);
  co_return 42;
}

int main() { return 0; }
