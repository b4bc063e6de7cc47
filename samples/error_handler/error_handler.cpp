// A production error handler for async operations: (ok, value or error), errors counted by type, timeouts apart.
#include "error_handler.hpp"

#include <boost/core/demangle.hpp>

#include <string_view>
#include <typeinfo>

namespace samples::error_handler {

namespace {
constexpr std::string_view timeout_type = "timeout";
}  // namespace

std::string error_type_of(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    if (se.code() == asio::error::timed_out) return std::string(timeout_type);
    return std::string(se.code().category().name()) + ":" + std::to_string(se.code().value());
  } catch (const std::exception& ex) {
    return boost::core::demangle(typeid(ex).name());
  } catch (...) {
  }
  return "unknown";
}

bool is_cancellation(const std::exception_ptr& e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == asio::error::operation_aborted;
  } catch (...) {
  }
  return false;
}

void error_handler::count(const std::string& type) {
  if (type == timeout_type) {
    ++stats_.timeouts;
    return;
  }
  ++stats_.errors;
  ++stats_.errors_by_type[type];
}

}  // namespace samples::error_handler
