// faultline - what the chaos tests share: call a string double n times in a row and list how each call ended.
#pragma once

#include <faultline/fake.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <string>
#include <vector>

namespace faultline_test {

// Calls `fetch("/0")`, `fetch("/1")`, ... one after another, each caught, and lists how each
// ended: its value, "error", "cancelled" or "exception".
inline boost::asio::awaitable<std::vector<std::string>> call_n(faultline::async_fake<std::string(std::string)>& fetch,
                                                               int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    try {
      out.push_back(co_await fetch("/" + std::to_string(i)));
    } catch (const boost::system::system_error& e) {
      out.push_back(e.code() == boost::asio::error::operation_aborted ? "cancelled" : "error");
    } catch (const std::exception&) {
      out.push_back("exception");
    }
  }
  co_return out;
}

}  // namespace faultline_test
