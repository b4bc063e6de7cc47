// Task exception handling: a task started early fails silently until it is awaited.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

namespace samples::task_exceptions {

namespace asio = boost::asio;

/// Where a dashboard's parts come from.
struct dashboard_sources {
  /// The user's profile: a slow remote call, so it is started first.
  std::function<asio::awaitable<std::string>(std::string user)> fetch_profile;
  /// The page layout, loaded while the profile is on its way.
  std::function<asio::awaitable<std::string>()> load_layout;
};

struct dashboard {
  std::string layout;
  std::string profile;
};

/// Loads `user`'s dashboard: starts fetching the profile at once, loads the layout
/// meanwhile, then awaits the profile. The two calls overlap, so the dashboard takes
/// as long as the slower of them.
///
/// Errors: a failed profile fetch is kept until it is awaited, so it is thrown after
/// the layout has loaded, not when it happens (as asyncio raises a task's exception at
/// `await task`). A failed layout is thrown at once; the profile fetch is then
/// cancelled, and a failure it already had is dropped.
///
/// Cancellation: cancelling `load_dashboard` cancels whichever call is pending, the
/// started profile fetch included, at the same instant; it then ends with
/// `system_error(operation_aborted)`.
asio::awaitable<dashboard> load_dashboard(dashboard_sources sources, std::string user);

}  // namespace samples::task_exceptions
