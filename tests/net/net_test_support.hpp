// faultline - what the network tests share: the completion token that returns (error_code, value) tuples.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace faultline_test {

// Outcomes are asserted as values, so no test needs try/catch around an expected error.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace faultline_test
