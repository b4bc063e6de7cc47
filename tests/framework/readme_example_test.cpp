// The README's first test, compiled and run so the README stays true.
#include <faultline/faultline.hpp>

#include <gtest/gtest.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Production code: retries a refused connection once a second, three times.
template <class Fetch>
asio::awaitable<std::string> fetch_with_retry(Fetch& fetch, std::string url) {
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await fetch(url);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::connection_refused || attempt == 3) throw;
    }
    co_await faultline::sleep_for(1s);
  }
}

TEST(Fetch, RetriesARefusedConnectionAfterOneSecond) {
  faultline::sim_context sim;
  faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
  fetch.on_call().fails(asio::error::connection_refused).then().after(50ms).returns("<html>");

  auto r = sim.run(fetch_with_retry(fetch, "/index"));

  EXPECT_EQ(r.value(), "<html>");
  EXPECT_EQ(fetch.calls()[1].started, faultline::at(1s));  // the retry, exactly one second later
  EXPECT_EQ(r.completed_at(), faultline::at(1050ms));
}
