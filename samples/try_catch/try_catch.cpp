// Async exceptions basics: safe_fetch.
#include "try_catch.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <stdexcept>
#include <utility>

namespace samples::try_catch {

asio::awaitable<fetch_report> safe_fetch(fetch_fn fetch, std::string url) {
  try {
    // Not `fetch_report{..., co_await fetch(url)}`: GCC 12 miscompiles co_await inside braces.
    auto data = co_await fetch(std::move(url));
    co_return fetch_report{fetch_status::ok, std::move(data), {}, {}};
  } catch (const std::invalid_argument& e) {
    co_return fetch_report{fetch_status::invalid, {}, e.what(), {}};
  } catch (const boost::system::system_error& e) {
    // Asio reports a cancelled operation as this error: the caller is going away, so let it go.
    if (e.code() == asio::error::operation_aborted) throw;
    co_return fetch_report{fetch_status::failed, {}, e.code().message(), e.code()};
  } catch (const std::exception& e) {
    co_return fetch_report{fetch_status::failed, {}, e.what(), {}};
  }
}

}  // namespace samples::try_catch
