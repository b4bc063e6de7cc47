// Planted bug (a crash): a session pool that touches a session after discarding it on a failed call.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAMPLES_BUGS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SAMPLES_BUGS_ASAN 1
#endif

namespace samples::bugs {

namespace asio = boost::asio;

/// A connection-like session: how many requests it served.
struct session {
  int served = 0;
};

/// Hands out sessions and discards one whose request failed (it may be
/// broken). `buggy` plants a use-after-free: after a failed request the pool
/// destroys the session, then counts the request on it.
///
/// Built with AddressSanitizer (the asan preset) the read of the freed
/// session is the real bug, which ASan reports and ends the process. Without
/// ASan a use-after-free is undefined behaviour that may well not crash, so
/// the planted copy calls `std::abort()` at that spot instead: a crash as
/// deterministic as ASan's report, for the same fault.
class session_pool {
 public:
  explicit session_pool(bool buggy) : buggy_(buggy) {}

  template <class Op>
  asio::awaitable<std::string> request(Op op) {
    if (idle_.empty()) idle_.push_back(std::make_unique<session>());
    session* s = idle_.back().get();
    try {
      std::string r = co_await op();
      ++s->served;
      co_return r;
    } catch (...) {
      idle_.pop_back();  // a session whose request failed is not reused
      if (buggy_) {
        // PLANTED BUG: `s` was destroyed just above.
#if defined(SAMPLES_BUGS_ASAN)
        ++s->served;
#else
        std::abort();
#endif
      }
      throw;
    }
  }

  std::size_t idle() const noexcept { return idle_.size(); }

 private:
  bool buggy_;
  std::vector<std::unique_ptr<session>> idle_;
};

}  // namespace samples::bugs
