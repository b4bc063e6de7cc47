// Test support: readable names for tests parameterised over Asio's cancellation types.
#pragma once

#include <boost/asio/cancellation_type.hpp>
#include <gtest/gtest.h>

#include <string>

namespace faultline_test {

/// For INSTANTIATE_TEST_SUITE_P: "Terminal", "Partial", "Total".
inline std::string cancellation_name(const ::testing::TestParamInfo<boost::asio::cancellation_type>& info) {
  using ct = boost::asio::cancellation_type;
  return info.param == ct::terminal ? "Terminal" : info.param == ct::partial ? "Partial" : "Total";
}

}  // namespace faultline_test
