// Sample "Async Error Aggregation": the non-template parts of the records.
#include "error_aggregation.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace samples::error_aggregation {

const char* to_string(item_status s) noexcept {
  switch (s) {
    case item_status::ok: return "ok";
    case item_status::failed: return "failed";
    case item_status::timed_out: return "timed_out";
    case item_status::cancelled: break;
  }
  return "cancelled";
}

namespace detail {

bool is_cancellation(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    // The code's message alone: what() adds the source location.
    return se.code().message();
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

std::string describe_timeout(duration limit) {
  return "no result within " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()) +
         "ms";
}

}  // namespace detail
}  // namespace samples::error_aggregation
