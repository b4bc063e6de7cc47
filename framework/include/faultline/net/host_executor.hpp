// faultline - the executor of a simulated host: a sim's executor that also says which host runs the code.
#pragma once

#include <faultline/detail/current_host.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>

#include <type_traits>
#include <utility>

namespace faultline::net {

class host;

/// A sim's executor plus the simulated host that code using it runs on.
/// It has every property of the wrapped executor (`query`, `require` and
/// `prefer` are forwarded and keep the host), so it converts to
/// `asio::any_io_executor`, and a coroutine spawned with it sees it as
/// `co_await asio::this_coro::executor`. Sockets, acceptors and resolvers
/// constructed from it (directly or inside an `any_io_executor`) belong to its
/// host.
///
/// Obtain one from `host::get_executor()`. Copies may be used from any
/// thread, like the sim's executor; the host must outlive them (hosts live as
/// long as their sim).
template <class Inner>
class basic_host_executor {
 public:
  /// The wrapped executor type (a `sim_context` executor).
  using inner_executor_type = Inner;

  basic_host_executor(const Inner& inner, net::host& h) noexcept : inner_(inner), host_(&h) {
    // From now on the sim's direct completions look up their handler's host.
    if (auto* core = inner_.core()) core->set_host_lookup(&detail::host_of_handler<asio::any_io_executor>);
  }

  /// The host code on this executor runs on.
  net::host& get_host() const noexcept { return *host_; }
  /// The sim executor inside.
  const Inner& get_inner_executor() const noexcept { return inner_; }

  template <class Property>
  auto query(const Property& p) const
      -> std::enable_if_t<asio::can_query<const Inner&, Property>::value,
                          decltype(asio::query(std::declval<const Inner&>(), p))> {
    return asio::query(inner_, p);
  }

  template <class Property>
  auto require(const Property& p) const
      -> std::enable_if_t<asio::can_require<const Inner&, Property>::value,
                          basic_host_executor<std::decay_t<decltype(asio::require(std::declval<const Inner&>(), p))>>> {
    return {asio::require(inner_, p), *host_};
  }

  template <class Property>
  auto prefer(const Property& p) const
      -> std::enable_if_t<asio::can_prefer<const Inner&, Property>::value,
                          basic_host_executor<std::decay_t<decltype(asio::prefer(std::declval<const Inner&>(), p))>>> {
    return {asio::prefer(inner_, p), *host_};
  }

  /// Runs `f` on the sim with this host as the current host, so the clocks
  /// `f` reads are this host's (`network::set_clock`).
  template <class F>
  void execute(F&& f) const {
    inner_.execute([h = host_, f = std::forward<F>(f)]() mutable {
      const detail::current_host_scope on(h);
      std::move(f)();
    });
  }

  friend bool operator==(const basic_host_executor& a, const basic_host_executor& b) noexcept {
    return a.host_ == b.host_ && a.inner_ == b.inner_;
  }
  friend bool operator!=(const basic_host_executor& a, const basic_host_executor& b) noexcept { return !(a == b); }

 private:
  Inner inner_;
  net::host* host_;
};

/// The executor `host::get_executor()` returns.
using host_executor = basic_host_executor<sim_context::executor_type>;

namespace detail {

template <unsigned Bits>
net::host* host_in(const asio::any_io_executor& ex) noexcept {
  if (auto* p = ex.target<basic_host_executor<sim_context::basic_executor_type<Bits>>>()) return &p->get_host();
  return nullptr;
}

/// The host an I/O object constructed from `ex` belongs to; null when `ex`
/// names none (the plain sim executor: the network's "localhost").
template <class Executor>
net::host* host_of(const Executor& ex) noexcept {
  // any_io_executor, and executors derived from it (use_awaitable_t's
  // executor_with_default): the executor inside may carry any of the sim
  // executor's property bits.
  if constexpr (std::is_base_of_v<asio::any_io_executor, Executor>) {
    const asio::any_io_executor& any = ex;
    net::host* h = host_in<0>(any);
    if (!h) h = host_in<1>(any);
    if (!h) h = host_in<2>(any);
    if (!h) h = host_in<3>(any);
    if (!h) h = host_in<4>(any);
    if (!h) h = host_in<5>(any);
    if (!h) h = host_in<6>(any);
    if (!h) h = host_in<7>(any);
    return h;
  } else {
    return nullptr;
  }
}

template <class Inner>
net::host* host_of(const basic_host_executor<Inner>& ex) noexcept {
  return &ex.get_host();
}

// The common case, a coroutine on the plain sim executor, costs one check.
template <class Executor>
net::host* host_of_handler(const Executor& ex) noexcept {
  if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
    if (ex.template target<sim_context::executor_type>()) return nullptr;
  }
  return host_of(ex);
}

}  // namespace detail

}  // namespace faultline::net
