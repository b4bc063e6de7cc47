// faultline - names of Asio's error codes, for failpoint specs, fault schedules and messages.
#include <faultline/detail/error_names.hpp>

#include <faultline/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/channel_error.hpp>

#include <array>
#include <charconv>
#include <system_error>
#include <utility>

namespace faultline::detail {

namespace {

namespace aerr = boost::asio::error;
using boost::system::error_code;

// -- error names --------------------------------------------------------------

struct named_error {
  std::string_view name;
  error_code (*make)();
};

template <auto E>
error_code make_code() {
  return aerr::make_error_code(E);
}

// Every code asio::error names, in alphabetical order (the order the
// "unknown error name" message lists them in).
constexpr std::array<named_error, 43> error_names{{
    {"access_denied", &make_code<aerr::access_denied>},
    {"address_family_not_supported", &make_code<aerr::address_family_not_supported>},
    {"address_in_use", &make_code<aerr::address_in_use>},
    {"already_connected", &make_code<aerr::already_connected>},
    {"already_open", &make_code<aerr::already_open>},
    {"already_started", &make_code<aerr::already_started>},
    {"bad_descriptor", &make_code<aerr::bad_descriptor>},
    {"broken_pipe", &make_code<aerr::broken_pipe>},
    {"connection_aborted", &make_code<aerr::connection_aborted>},
    {"connection_refused", &make_code<aerr::connection_refused>},
    {"connection_reset", &make_code<aerr::connection_reset>},
    {"eof", &make_code<aerr::eof>},
    {"fault", &make_code<aerr::fault>},
    {"fd_set_failure", &make_code<aerr::fd_set_failure>},
    {"host_not_found", &make_code<aerr::host_not_found>},
    {"host_not_found_try_again", &make_code<aerr::host_not_found_try_again>},
    {"host_unreachable", &make_code<aerr::host_unreachable>},
    {"in_progress", &make_code<aerr::in_progress>},
    {"interrupted", &make_code<aerr::interrupted>},
    {"invalid_argument", &make_code<aerr::invalid_argument>},
    {"message_size", &make_code<aerr::message_size>},
    {"name_too_long", &make_code<aerr::name_too_long>},
    {"network_down", &make_code<aerr::network_down>},
    {"network_reset", &make_code<aerr::network_reset>},
    {"network_unreachable", &make_code<aerr::network_unreachable>},
    {"no_buffer_space", &make_code<aerr::no_buffer_space>},
    {"no_data", &make_code<aerr::no_data>},
    {"no_descriptors", &make_code<aerr::no_descriptors>},
    {"no_memory", &make_code<aerr::no_memory>},
    {"no_permission", &make_code<aerr::no_permission>},
    {"no_protocol_option", &make_code<aerr::no_protocol_option>},
    {"no_recovery", &make_code<aerr::no_recovery>},
    {"no_such_device", &make_code<aerr::no_such_device>},
    {"not_connected", &make_code<aerr::not_connected>},
    {"not_found", &make_code<aerr::not_found>},
    {"not_socket", &make_code<aerr::not_socket>},
    {"operation_aborted", &make_code<aerr::operation_aborted>},
    {"operation_not_supported", &make_code<aerr::operation_not_supported>},
    {"service_not_found", &make_code<aerr::service_not_found>},
    {"shut_down", &make_code<aerr::shut_down>},
    {"socket_type_not_supported", &make_code<aerr::socket_type_not_supported>},
    {"timed_out", &make_code<aerr::timed_out>},
    {"try_again", &make_code<aerr::try_again>},
}};
// would_block is try_again on POSIX (both EAGAIN); listed apart so the
// table above stays one entry per name.
constexpr std::string_view would_block = "would_block";

// faultline's own codes, by the names error_name prints for them.
constexpr std::array<std::pair<std::string_view, faultline::error>, 4> own_names{{
    {"bad_release", faultline::error::bad_release},
    {"exception_not_representable", faultline::error::exception_not_representable},
    {"injected_fault", faultline::error::injected_fault},
    {"unscripted_call", faultline::error::unscripted_call},
}};

// The categories `category:value` can name, found by their own name(), so
// the text is whatever error_name printed for them.
const boost::system::error_category* category_named(std::string_view name) {
  const boost::system::error_category* const known[] = {
      &boost::system::system_category(),
      &boost::system::generic_category(),
      &aerr::get_netdb_category(),
      &aerr::get_addrinfo_category(),
      &aerr::get_misc_category(),
      &boost::asio::experimental::error::get_channel_category(),
      &faultline::error_category(),
  };
  for (const auto* c : known)
    if (name == c->name()) return c;
  return nullptr;
}

// Whole decimal int, all of `s`, optionally signed; false on anything else,
// overflow included.
bool parse_int(std::string_view s, bool allow_sign, int& out) {
  if (s.empty() || (!allow_sign && s.front() == '-')) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string error_name_list() {
  std::string s = "an error name (";
  for (const auto& e : error_names) {
    s += e.name;
    s += ", ";
  }
  s += would_block;
  s += ") or a positive error number";
  return s;
}

bool lookup_error(std::string_view arg, error_code& out) {
  if (arg.empty()) return false;
  if (const auto colon = arg.rfind(':'); colon != std::string_view::npos) {
    const auto* cat = category_named(arg.substr(0, colon));
    int v = 0;
    // 0 is success in every category we know: never a fault.
    if (!cat || !parse_int(arg.substr(colon + 1), true, v) || v == 0) return false;
    out = error_code(v, *cat);
    return true;
  }
  if (arg.front() >= '0' && arg.front() <= '9') {
    int v = 0;
    if (!parse_int(arg, false, v) || v == 0) return false;
    out = error_code(v, boost::system::system_category());
    return true;
  }
  if (arg == would_block) {
    out = aerr::make_error_code(aerr::would_block);
    return true;
  }
  for (const auto& e : error_names) {
    if (e.name == arg) {
      out = e.make();
      return true;
    }
  }
  for (const auto& [name, e] : own_names) {
    if (name == arg) {
      out = make_error_code(e);
      return true;
    }
  }
  return false;
}

std::string error_name(const error_code& ec) {
  if (!ec) return "success";
  if (ec.category() == faultline::error_category()) {
    for (const auto& [name, e] : own_names)
      if (ec.value() == static_cast<int>(e)) return std::string(name);
  }
  for (const auto& e : error_names)
    if (ec == e.make()) return std::string(e.name);
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

bool error_name_round_trips(const error_code& ec) {
  error_code back;
  return ec && lookup_error(error_name(ec), back) && back == ec;
}

}  // namespace faultline::detail
