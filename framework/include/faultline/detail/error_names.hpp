// faultline - names of Asio's error codes, for specs, schedules and messages.
#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace faultline::detail {

/// `timed_out` -> asio::error::timed_out; a number -> that system_category
/// code. False when `name` is neither.
bool lookup_error(std::string_view name, boost::system::error_code& out);
/// "an error name (access_denied, ...) or a positive error number": what a
/// parse error says was expected.
std::string error_name_list();
/// The inverse of `lookup_error` where one exists (`timed_out`, `eof`);
/// otherwise `category:value` (`faultline:4`). "success" for no error.
std::string error_name(const boost::system::error_code& ec);

}  // namespace faultline::detail
