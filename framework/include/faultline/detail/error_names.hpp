// faultline - names of Asio's error codes, for specs, schedules and messages.
#pragma once

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace faultline::detail {

/// `timed_out` -> asio::error::timed_out (also faultline's own names, such
/// as `injected_fault`); a positive number -> that system_category code;
/// `category:number` (`system:2`, `asio.misc:2`, `faultline:4`) -> that code
/// of a category faultline knows (system, generic, asio.*, faultline).
/// False for anything else, for a number out of `int`'s range and for 0
/// (a success code is no fault).
bool lookup_error(std::string_view name, boost::system::error_code& out);
/// "an error name (access_denied, ...) or a positive error number": what a
/// failpoint spec error says was expected (specs take no `category:number`).
std::string error_name_list();
/// The inverse of `lookup_error` where one exists (`timed_out`, `eof`);
/// otherwise `category:value` (`system:2`, `my.category:7`). "success" for
/// no error.
std::string error_name(const boost::system::error_code& ec);
/// True when `lookup_error(error_name(ec))` gives back a code equal to `ec`:
/// a failure code that a schedule can print and parse again. False for
/// success and for codes of categories `lookup_error` cannot name.
bool error_name_round_trips(const boost::system::error_code& ec);

}  // namespace faultline::detail
