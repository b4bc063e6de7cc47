// faultline - time formatting, exception descriptions, pending-operation text.
#include <faultline/detail/format.hpp>
#include <faultline/fault.hpp>
#include <faultline/error.hpp>
#include <faultline/outcome.hpp>
#include <faultline/sim_clock.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <ostream>
#include <typeinfo>

namespace faultline {

std::string to_string(sim_clock::duration d) {
  // The magnitude in unsigned arithmetic: negating INT64_MIN (time_point::min())
  // is undefined, its magnitude is not.
  const std::int64_t count = d.count();
  const std::uint64_t ns = count < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(count)
                                     : static_cast<std::uint64_t>(count);
  std::string s;
  if (count < 0) s += '-';
  s += std::to_string(ns / 1'000'000'000);
  std::uint64_t frac = ns % 1'000'000'000;
  int digits = 9;
  if (frac % 1'000'000 == 0) {
    frac /= 1'000'000;
    digits = 3;
  } else if (frac % 1'000 == 0) {
    frac /= 1'000;
    digits = 6;
  }
  std::string f = std::to_string(frac);
  s += '.';
  s.append(static_cast<std::size_t>(digits) - f.size(), '0');
  s += f;
  s += 's';
  return s;
}

const char* to_string(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::latency: return "latency";
    case fault_kind::error: return "error";
    case fault_kind::exception: return "exception";
    case fault_kind::hang: return "hang";
    case fault_kind::cancel: return "cancel";
    case fault_kind::clock: return "clock";
  }
  return "fault";
}

std::string to_string(sim_clock::time_point t) { return "t=" + to_string(t.time_since_epoch()); }

std::ostream& operator<<(std::ostream& os, sim_clock::time_point t) { return os << to_string(t); }

namespace detail {

namespace {

// C++20's suffixes for durations ([time.duration.io]), with "us" for micro.
void print_unit(std::intmax_t num, std::intmax_t den, std::ostream& os) {
  if (den == 1) {
    if (num == 1) os << 's';
    else if (num == 60) os << "min";
    else if (num == 3600) os << 'h';
    else if (num == 86400) os << 'd';
    else os << '[' << num << "]s";
    return;
  }
  if (num == 1) {
    if (den == 1'000) return void(os << "ms");
    if (den == 1'000'000) return void(os << "us");
    if (den == 1'000'000'000) return void(os << "ns");
  }
  os << '[' << num << '/' << den << "]s";
}

}  // namespace

void print_duration(std::intmax_t ticks, std::intmax_t num, std::intmax_t den, std::ostream* os) {
  // Exactly, in 128 bits: ticks * num / den seconds, in nanoseconds.
  __extension__ using int128 = __int128;
  int128 scaled = 0;
  if (!__builtin_mul_overflow(static_cast<int128>(ticks), static_cast<int128>(num) * 1'000'000'000, &scaled) &&
      scaled % den == 0) {
    const int128 ns = scaled / den;
    if (ns >= INT64_MIN && ns <= INT64_MAX) {
      *os << to_string(sim_clock::duration(static_cast<std::int64_t>(ns)));
      return;
    }
  }
  *os << ticks;
  print_unit(num, den, *os);
}

void print_duration(long double ticks, std::intmax_t num, std::intmax_t den, std::ostream* os) {
  *os << ticks;
  print_unit(num, den, *os);
}

}  // namespace detail

std::string pending_operation::describe() const {
  std::string s = name + " (" + kind + ") waiting since " + to_string(since);
  if (!detail.empty()) s += " " + detail;
  return s;
}

std::string outcome<void>::describe() const {
  switch (state_) {
    case state::value: return "returned at " + to_string(at_);
    case state::exception: return "threw " + detail::describe_exception(error_) + " at " + to_string(at_);
    case state::cancelled: break;
  }
  return "was cancelled at " + to_string(at_);
}

namespace {
class faultline_category : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "faultline"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::unscripted_call: return "no script step matches the call";
      case error::exception_not_representable:
        return "a scripted exception cannot be delivered through an error_code completion";
      case error::bad_release: return "a hold was released in a way that does not fit its call";
      case error::injected_fault: return "injected fault";
    }
    return "unknown faultline error";
  }
};
}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const faultline_category category;
  return category;
}

namespace detail {

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\x";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

bool is_cancellation(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == boost::asio::error::operation_aborted ||
           se.code() == boost::asio::experimental::error::channel_cancelled;
  } catch (...) {
  }
  return false;
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> p(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && p ? std::string(p.get()) : std::string(name);
}

std::string describe_exception(const std::exception_ptr& e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const boost::asio::multiple_exceptions& x) {
    // What Asio's `&&` and parallel_group throw: its what() is only "multiple
    // exceptions", so name the first inner one, the real cause.
    return demangle(typeid(x).name()) + " (first: " + describe_exception(x.first_exception()) + ")";
  } catch (const std::exception& x) {
    return demangle(typeid(x).name()) + ": " + x.what();
  } catch (...) {
  }
  return "an exception not derived from std::exception";
}

}  // namespace detail
}  // namespace faultline
