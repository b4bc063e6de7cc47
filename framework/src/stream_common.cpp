// faultline - per-sim stream numbering and short error names for stream traces.
#include <faultline/detail/sim_core.hpp>
#include <faultline/detail/stream_common.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>

#include <map>
#include <utility>

namespace faultline::detail {

namespace {

// One per sim: the counters live and die with the sim_context, so numbering
// restarts at 1 in every test.
class stream_names final : public boost::asio::execution_context::service {
 public:
  inline static boost::asio::execution_context::id id;
  explicit stream_names(boost::asio::execution_context& ctx) : service(ctx) {}

  std::uint32_t next(const std::string& prefix) { return ++counters_[prefix]; }

 private:
  void shutdown() override {}
  std::map<std::string, std::uint32_t, std::less<>> counters_;
};

}  // namespace

std::string next_stream_name(sim_core& core, const char* prefix) {
  auto& names = boost::asio::use_service<stream_names>(static_cast<boost::asio::execution_context&>(core.context()));
  return std::string(prefix) + "#" + std::to_string(names.next(prefix));
}

std::string error_name(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  static const std::pair<boost::system::error_code, const char*> known[] = {
      {error::eof, "eof"},
      {error::operation_aborted, "operation_aborted"},
      {error::connection_reset, "connection_reset"},
      {error::connection_aborted, "connection_aborted"},
      {error::connection_refused, "connection_refused"},
      {error::broken_pipe, "broken_pipe"},
      {error::timed_out, "timed_out"},
      {error::not_connected, "not_connected"},
      {error::bad_descriptor, "bad_descriptor"},
      {error::network_down, "network_down"},
      {error::network_reset, "network_reset"},
      {error::network_unreachable, "network_unreachable"},
      {error::host_unreachable, "host_unreachable"},
      {error::shut_down, "shut_down"},
      {error::try_again, "try_again"},
      {error::would_block, "would_block"},
      {error::interrupted, "interrupted"},
      {error::no_buffer_space, "no_buffer_space"},
      {error::message_size, "message_size"},
      {error::in_progress, "in_progress"},
  };
  if (!ec) return "success";
  for (const auto& [code, name] : known)
    if (ec == code) return name;
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

}  // namespace faultline::detail
