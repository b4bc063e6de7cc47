// faultline - the non-template parts of the gMock actions: argument checks, calls without an action.
#include <faultline/gtest/actions.hpp>

#include <faultline/gtest/matchers.hpp>

#include <faultline/detail/sim_core.hpp>
#include <faultline/fake.hpp>

#include <gtest/gtest.h>
#include <boost/asio/error.hpp>

namespace faultline::testing::detail {

void check_latency(const char* action, sim_clock::duration d) {
  if (d.count() < 0)
    throw std::invalid_argument(std::string("faultline: ") + action + ": the latency is " + to_string(d) +
                                "; it must not be negative (0 completes at the same instant)");
}

std::optional<fault> draw_chaos(const std::string& point) {
  faultline::detail::sim_core* core = faultline::detail::tls_current_core;
  if (!core || !core->chaos_active()) return std::nullopt;
  auto f = core->chaos().draw(point, core->journal().add_subject(point + " (mock)"));
  if (f) core->count_fault(f->kind);
  return f;
}

void throw_chaos_fault(const fault& f) {
  switch (f.kind) {
    case fault_kind::cancel: throw boost::system::system_error(asio::error::operation_aborted, f.point);
    case fault_kind::exception: std::rethrow_exception(faultline::detail::chaos_exception(f));
    default: throw boost::system::system_error(f.error_code, f.point);
  }
}

}  // namespace faultline::testing::detail
