// faultline - the non-template parts of the gMock actions: argument checks, chaos draws, named calls.
#include <faultline/gtest/actions.hpp>

#include <faultline/gtest/matchers.hpp>

#include <faultline/detail/sim_core.hpp>
#include <faultline/fake.hpp>

#include <gtest/gtest.h>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>

#include <deque>
#include <map>

namespace faultline::testing {

namespace {

// One sim's record of named mock calls (`Named`), attached as an Asio
// service; a sim object too, so calls in progress show in pending().
class mock_call_log final : public asio::execution_context::service, public faultline::detail::sim_object {
 public:
  static asio::execution_context::id id;

  explicit mock_call_log(asio::execution_context& ctx) : service(ctx) {
    if (faultline::detail::sim_core* core = faultline::detail::sim_core_of_context(ctx)) core->link(*this);
  }
  ~mock_call_log() override { unlink(); }

  struct entry {
    mock_call call;
    std::uint32_t subject = 0;
    std::uint64_t order = 0;
  };

  // Ordered by name, and deques: records never move, whatever is added.
  std::map<std::string, std::deque<entry>, std::less<>> calls;
  // Calls in progress, in the order they started.
  std::vector<entry*> open;

  void describe_pending(std::vector<faultline::pending_operation>& out) const override {
    for (const entry* e : open)
      out.push_back({e->call.text, "mock call", e->call.started, "until it completes or is cancelled", e->order});
  }

 private:
  // Services go before the sim's objects are orphaned: leave its list first.
  void shutdown() override { unlink(); }
  void unlink() noexcept {
    if (faultline::detail::sim_core* c = core()) c->unlink(*this);
  }
};

asio::execution_context::id mock_call_log::id;

}  // namespace

std::string mock_call::describe() const { return faultline::detail::describe_call(text, started, ended, status, detail); }

std::vector<mock_call> mock_calls(const sim_context& sim, std::string_view method) {
  auto& ctx = const_cast<sim_context&>(sim);  // reading only; has_service/use_service take no const
  std::vector<mock_call> out;
  if (!asio::has_service<mock_call_log>(ctx)) return out;
  const auto& log = asio::use_service<mock_call_log>(ctx);
  if (auto it = log.calls.find(method); it != log.calls.end())
    for (const auto& e : it->second) out.push_back(e.call);
  return out;
}

}  // namespace faultline::testing

namespace faultline::testing::detail {

void check_method_name(const std::string& method) {
  if (method.empty())
    throw std::invalid_argument(
        "faultline: Named(\"\", ...): the method name is empty; name the mocked method, e.g. Named(\"db.get\", ...)");
}

named_call start_named_call(const std::string& method, std::string text) {
  faultline::detail::sim_core* core = faultline::detail::tls_current_core;
  if (!core) return {};
  auto& log = asio::use_service<mock_call_log>(core->context());
  auto& list = log.calls[method];
  mock_call_log::entry e;
  e.call.method = method;
  e.call.index = list.size();
  e.call.text = std::move(text);
  e.call.started = sim_clock::time_point(sim_clock::duration(core->now()));
  e.order = core->journal().total();
  e.subject = core->journal().add_subject(e.call.text);
  core->journal().record(core->now(), event_kind::call, e.subject);
  list.push_back(std::move(e));
  log.open.push_back(&list.back());
  return {&list.back(), list.size() - 1};
}

namespace {

void finish(const named_call& c, call_status status, event_kind kind, std::string detail) {
  faultline::detail::sim_core* core = faultline::detail::tls_current_core;
  if (!c.log || !core) return;
  auto* e = static_cast<mock_call_log::entry*>(c.log);
  auto& log = asio::use_service<mock_call_log>(core->context());
  std::erase(log.open, e);
  e->call.ended = sim_clock::time_point(sim_clock::duration(core->now()));
  e->call.status = status;
  e->call.detail = std::move(detail);
  core->journal().record(core->now(), kind, e->subject, 0, e->call.detail);
}

}  // namespace

void end_named_call(const named_call& c, std::string value_text) {
  finish(c, call_status::returned, event_kind::call_returned, std::move(value_text));
}

void end_named_call(const named_call& c, const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& x) {
    if (x.code() == asio::error::operation_aborted)
      finish(c, call_status::cancelled, event_kind::call_cancelled, {});
    else
      finish(c, call_status::failed, event_kind::call_failed, x.code().message());
  } catch (...) {
    finish(c, call_status::threw, event_kind::call_threw, faultline::detail::describe_exception(e));
  }
}

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
