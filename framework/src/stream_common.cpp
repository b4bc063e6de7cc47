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

}  // namespace faultline::detail
