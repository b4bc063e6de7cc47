// faultline - which simulated host the running handler is on (for the clocks it reads).
#pragma once

namespace faultline::net {
class host;
template <class Inner>
class basic_host_executor;
}

namespace faultline::net::detail {

/// The host whose executor runs the handler running on this thread; null on
/// no host. Set only while a handler of a host runs (through the host's
/// executor, or called directly by an operation of the same sim) and restored
/// after, so the host travels with the executor, never in a global.
inline thread_local net::host* tls_current_host = nullptr;

class current_host_scope {
 public:
  explicit current_host_scope(net::host* h) noexcept : saved_(tls_current_host) { tls_current_host = h; }
  ~current_host_scope() { tls_current_host = saved_; }
  current_host_scope(const current_host_scope&) = delete;
  current_host_scope& operator=(const current_host_scope&) = delete;

 private:
  net::host* saved_;
};

/// The host a handler bound to `ex` runs on, or null (host_executor.hpp).
/// A sim with hosts calls it through `sim_core::host_of`, so the core never
/// includes the network.
template <class Executor>
net::host* host_of_handler(const Executor& ex) noexcept;

}  // namespace faultline::net::detail
