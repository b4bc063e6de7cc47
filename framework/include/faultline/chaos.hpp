// faultline - chaos plans, fault schedules and the per-sim engine that draws faults at injection points.
#pragma once

#include <faultline/error.hpp>
#include <faultline/fault.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/system_clock.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline {

class sim_context;
namespace detail {
class sim_core;
}

/// Extra latency a chaos plan adds to calls: with `probability`, a delay
/// drawn from a shape. `spikes(p, d)` is `fixed(d, p)`: rare, large delays.
struct latency_dist {
  enum class shape : std::uint8_t { none, fixed, uniform, exponential };
  shape kind = shape::none;
  double probability = 1.0;      ///< chance that a call gets extra latency, in [0, 1]
  sim_clock::duration a{};       ///< fixed: the delay; uniform: the low end; exponential: the mean
  sim_clock::duration b{};       ///< uniform: the high end; exponential: a cap (0 = none)

  static latency_dist none() { return {}; }
  static latency_dist fixed(sim_clock::duration d, double p = 1.0) { return {shape::fixed, p, d, {}}; }
  static latency_dist uniform(sim_clock::duration lo, sim_clock::duration hi, double p = 1.0) {
    return {shape::uniform, p, lo, hi};
  }
  static latency_dist exponential(sim_clock::duration mean, double p = 1.0, sim_clock::duration cap = {}) {
    return {shape::exponential, p, mean, cap};
  }
  static latency_dist spikes(double p, sim_clock::duration d) { return fixed(d, p); }
};

/// A virtual-time window `[from, to)`: an instant `t` is in it when
/// `from <= t < to` (the start inclusive, the end exclusive).
struct time_window {
  sim_clock::time_point from{};
  sim_clock::time_point to = sim_clock::time_point::max();

  bool contains(sim_clock::time_point t) const noexcept { return from <= t && t < to; }
};

/// Correlated faults at one point: a two-state good/bad (Gilbert-Elliott)
/// model. In the good state each call starts an outage with probability
/// `enter`; the outage lasts a length drawn uniformly from `[min, max]`
/// calls, or from `[min, max]` of virtual time (`lasting`), and every call it
/// covers (the one that started it included) fails the same way: an error
/// with one code, a hang, a cancellation, or added latency. A timed outage
/// that starts at `t` covers the calls made at `t <= now < t + length`.
///
/// Each injected fault is one entry of the run's `fault_schedule` (one per
/// failing call), so replay and minimisation treat outages like any fault;
/// the decisions are drawn from (seed, point, call index) like the rest.
///
/// The defaults (`outage_model()`): `enter` 0.05, lengths 1..32 calls
/// (uniform), each call failing with `injected_fault`. An outage of at least
/// 10 calls then starts at a given call with chance 0.05 x 23/32 = 0.036, so
/// a bug that needs 10 consecutive failures of a call that is retried once
/// per seed is missed by 200 seeds with chance 0.964^200 < 0.001.
///
/// **Example**:
/// ```
/// auto plan = faultline::chaos_plan()
///     .point("fetch", faultline::fault_rates().error(0.05).outage(faultline::outage_model()))
///     .point("db", faultline::fault_rates().outage(
///         faultline::outage_model::lasting(0.01, 1s, 30s).fails_with(asio::error::connection_refused)));
/// ```
class outage_model {
 public:
  /// The library defaults above.
  outage_model() = default;
  /// Outages entered with chance `enter` per call, `min..max` calls long.
  /// Throws `std::invalid_argument` for a length below 1 or `max < min`.
  static outage_model calls(double enter, std::int64_t min, std::int64_t max);
  /// Outages entered with chance `enter` per call, lasting `min..max` of
  /// virtual time. Throws `std::invalid_argument` for a length not above 0
  /// or `max < min`.
  static outage_model lasting(double enter, sim_clock::duration min, sim_clock::duration max);

  /// Calls in an outage fail with `code` (the default: `injected_fault`).
  outage_model& fails_with(boost::system::error_code code);
  /// Calls in an outage hang until cancelled.
  outage_model& hangs();
  /// Calls in an outage complete as cancelled.
  outage_model& cancels();
  /// Calls in an outage take `d` longer (a brownout). Throws
  /// `std::invalid_argument` for `d <= 0`.
  outage_model& slows_by(sim_clock::duration d);
  /// Outages start only at calls made in `[t0, t1)` (start inclusive, end
  /// exclusive); one that started lasts its length, past `t1` too. To keep
  /// every fault of a point inside a window, use `fault_rates::during`.
  /// Throws `std::invalid_argument` unless `t0 < t1`.
  outage_model& during(sim_clock::time_point t0, sim_clock::time_point t1);

  double enter() const noexcept { return enter_; }
  bool timed() const noexcept { return timed_; }
  std::int64_t min_calls() const noexcept { return min_calls_; }
  std::int64_t max_calls() const noexcept { return max_calls_; }
  sim_clock::duration min_time() const noexcept { return min_time_; }
  sim_clock::duration max_time() const noexcept { return max_time_; }
  /// What a call in an outage gets: `error`, `hang`, `cancel` or `latency`.
  fault_kind kind() const noexcept { return kind_; }
  const boost::system::error_code& error_code() const noexcept { return code_; }
  sim_clock::duration latency() const noexcept { return latency_; }
  const time_window& window() const noexcept { return window_; }

 private:
  double enter_ = 0.05;
  bool timed_ = false;
  std::int64_t min_calls_ = 1;
  std::int64_t max_calls_ = 32;
  sim_clock::duration min_time_{};
  sim_clock::duration max_time_{};
  fault_kind kind_ = fault_kind::error;
  boost::system::error_code code_ = make_error_code(faultline::error::injected_fault);
  sim_clock::duration latency_{};
  time_window window_;
};

/// Fault rates of one injection point: each call fails with an error code
/// with probability `error`, hangs with `hang`, completes cancelled with
/// `cancel` (summing to at most 1); otherwise it may get extra latency.
/// Built by chaining: `fault_rates().error(0.2).hang(0.05).latency(latency_dist::uniform(0ms, 500ms))`.
class fault_rates {
 public:
  /// Calls fail with `code` (default `faultline::error::injected_fault`;
  /// give the code the callers handle, such as `asio::error::timed_out`).
  fault_rates& error(double p, boost::system::error_code code = make_error_code(faultline::error::injected_fault)) {
    error_ = p;
    code_ = code;
    return *this;
  }
  fault_rates& hang(double p) {
    hang_ = p;
    return *this;
  }
  fault_rates& cancel(double p) {
    cancel_ = p;
    return *this;
  }
  fault_rates& latency(latency_dist d) {
    latency_ = d;
    return *this;
  }
  /// Adds correlated outages (see `outage_model`) on top of the rates above,
  /// which apply between outages.
  fault_rates& outage(outage_model m) {
    outage_ = m;
    return *this;
  }
  /// Restricts every fault of the point (outages too) to calls made in
  /// `[t0, t1)`: start inclusive, end exclusive. Throws
  /// `std::invalid_argument` unless `t0 < t1`.
  fault_rates& during(sim_clock::time_point t0, sim_clock::time_point t1);

  double error_rate() const noexcept { return error_; }
  double hang_rate() const noexcept { return hang_; }
  double cancel_rate() const noexcept { return cancel_; }
  const latency_dist& latency() const noexcept { return latency_; }
  const boost::system::error_code& error_code() const noexcept { return code_; }
  const std::optional<outage_model>& outage() const noexcept { return outage_; }
  const time_window& window() const noexcept { return window_; }

 private:
  double error_ = 0.0;
  double hang_ = 0.0;
  double cancel_ = 0.0;
  latency_dist latency_;
  boost::system::error_code code_ = make_error_code(faultline::error::injected_fault);
  std::optional<outage_model> outage_;
  time_window window_;
};

/// Wall-clock faults a chaos plan draws (`chaos_plan::clocks`) at reads of
/// `faultline::system_clock` inside a sim. Each read is a call of an injection
/// point: `wall_clock` for code on no simulated host, `wall_clock@db` for code
/// on host `db`; a fault drawn there changes that clock just before the read
/// returns (the sim's wall clock, which every host sees, or host `db`'s own),
/// and is printed, replayed and minimised like any other:
/// `wall_clock#3=step(-30s)`, `wall_clock#7=slew(+500ppm,10s)`,
/// `wall_clock@db#0=skew(+120ms,-80ppm)`. At most one fault per read, tried
/// in this order: a host's skew (its first read only), a step, a slew.
///
/// **Example**:
/// ```
/// auto plan = faultline::chaos_plan().clocks(faultline::clock_faults()
///     .steps(0.05, -60s, 60s)                                       // NTP steps either way
///     .slews(0.02, faultline::ppm(-500), faultline::ppm(500), 30s)  // NTP slews
///     .host_skew(2s, faultline::ppm(50000)));                       // per host, per seed
/// ```
class clock_faults {
 public:
  /// Each read steps the clock with chance `p` by a whole number of
  /// milliseconds drawn uniformly from `[lo, hi]` (negative: back; a draw of
  /// 0ms injects nothing). Throws `std::invalid_argument` for a `p` outside
  /// [0, 1] or `hi < lo`.
  clock_faults& steps(double p, sim_clock::duration lo, sim_clock::duration hi);
  /// Each read starts, with chance `p`, a slew at a whole ppm rate drawn
  /// uniformly from `[lo, hi]`, lasting `length` of steady time (0: for the
  /// rest of the run). Throws `std::invalid_argument` for a `p` outside
  /// [0, 1], `hi < lo`, a rate outside `[ppm::min, ppm::max]` or a negative length.
  clock_faults& slews(double p, ppm lo, ppm hi, sim_clock::duration length = {});
  /// The first read on each simulated host gives that host's clock an offset
  /// (whole milliseconds, uniform in `[-max_offset, max_offset]`) and a drift
  /// for the rest of the run (whole ppm, uniform in `[-max_drift, max_drift]`):
  /// one skew per host and seed. Throws `std::invalid_argument` for negative
  /// bounds or a drift above 999999 ppm (a clock that slow would stop).
  clock_faults& host_skew(sim_clock::duration max_offset, ppm max_drift);

  double step_rate() const noexcept { return step_rate_; }
  sim_clock::duration step_min() const noexcept { return step_min_; }
  sim_clock::duration step_max() const noexcept { return step_max_; }
  double slew_rate() const noexcept { return slew_rate_; }
  ppm slew_min() const noexcept { return slew_min_; }
  ppm slew_max() const noexcept { return slew_max_; }
  sim_clock::duration slew_length() const noexcept { return slew_length_; }
  sim_clock::duration max_offset() const noexcept { return max_offset_; }
  ppm max_drift() const noexcept { return max_drift_; }
  /// True when no read can draw a fault.
  bool none() const noexcept;

 private:
  double step_rate_ = 0.0;
  sim_clock::duration step_min_{};
  sim_clock::duration step_max_{};
  double slew_rate_ = 0.0;
  ppm slew_min_{0};
  ppm slew_max_{0};
  sim_clock::duration slew_length_{};
  sim_clock::duration max_offset_{};
  ppm max_drift_{0};
};

/// Which faults a chaos run injects where: rates per named injection point
/// (a double's name, a failpoint's name) and defaults for every other point.
///
/// **Example**:
/// ```
/// using faultline::fault_rates, faultline::latency_dist;
/// auto plan = faultline::chaos_plan()
///     .point("fetch", fault_rates().error(0.2).hang(0.05).latency(latency_dist::uniform(0ms, 500ms)))
///     .point("db.commit", fault_rates().error(0.1, asio::error::timed_out));
/// // every point not named: no faults (the default fault_rates)
/// ```
class chaos_plan {
 public:
  chaos_plan() = default;
  /// A plan whose every point has `defaults`.
  explicit chaos_plan(fault_rates defaults) : defaults_(std::move(defaults)) {}

  /// Sets the rates of the point named exactly `name`. Throws
  /// `std::invalid_argument` naming the point when a rate is outside [0, 1]
  /// or error + hang + cancel exceeds 1.
  chaos_plan& point(std::string name, fault_rates rates);
  /// Sets the rates of every point not named by `point`.
  chaos_plan& otherwise(fault_rates rates);

  /// Swarm mode (Groce et al., "Swarm Testing", ISSTA 2012): each seed
  /// enables a subset of the plan's fault kinds (error, hang, cancel,
  /// latency, outage; each with chance 1/2, at least one) and of the points
  /// (each with chance 1/2), drawn from the seed, and injects nothing else.
  /// Rates that mask a bug under uniform chaos (every call has some chance to
  /// hang, so a path needing many errors in a row is never reached) are
  /// switched off in some seeds. `chaos_engine::swarm_subset()` and a failing
  /// sweep's report name the subset; a schedule replays without it.
  chaos_plan& swarm(bool on = true) {
    swarm_ = on;
    return *this;
  }
  bool swarming() const noexcept { return swarm_; }

  /// Draws wall-clock faults at reads of `faultline::system_clock` (see
  /// `clock_faults`); none by default. The rates of `point` and `otherwise`
  /// never apply to wall-clock reads, and these never apply to other points.
  /// Throws `std::invalid_argument` when the step and slew chances sum above 1.
  chaos_plan& clocks(clock_faults f);
  const clock_faults& clocks() const noexcept { return clocks_; }

  const fault_rates& rates(std::string_view point) const;
  const std::map<std::string, fault_rates, std::less<>>& points() const noexcept { return points_; }
  const fault_rates& defaults() const noexcept { return defaults_; }

 private:
  fault_rates defaults_;
  std::map<std::string, fault_rates, std::less<>> points_;
  bool swarm_ = false;
  clock_faults clocks_;
};

/// One injected fault: at the `call`-th (0-based) call of `point`, do `kind`.
///
/// A `fault_schedule` accepts a fault only if it prints in a form that parses
/// back to an equal fault: `latency` must not be negative, and an `error`'s
/// code must be one a schedule can name (see `fault_schedule::parse`).
struct fault {
  std::string point;
  std::uint64_t call = 0;
  fault_kind kind = fault_kind::error;
  sim_clock::duration latency{};            ///< kind latency: how much is added
  boost::system::error_code error_code;     ///< kind error: the code (default injected_fault)
  sim_clock::duration clock_step{};         ///< kind clock: how far the clock jumps (negative: back)
  std::int64_t clock_ppm = 0;               ///< kind clock: the rate change from this read on, in ppm
  sim_clock::duration clock_for{};          ///< kind clock: how long the rate change lasts (0: for good)

  /// True when `point` names a wall-clock read: `wall_clock`, `wall_clock@<host>`.
  static bool is_clock_point(std::string_view point) noexcept;

  /// `fetch#3=error`, `db.commit#0=latency(250ms)`, `fetch#1=error(timed_out)`,
  /// `"GET /x?id=1"#0=hang` (a point name quoted because it needs it).
  std::string to_string() const;
  friend bool operator==(const fault& a, const fault& b) noexcept;
};

/// Thrown by `fault_schedule::parse` for a malformed schedule, and by
/// `fault_schedule`'s constructor for a fault that cannot be printed and
/// parsed back; `what()` names the offending text and the expected form.
class schedule_error : public std::invalid_argument {
 public:
  /// An error at no particular place of a text (`position()` is npos).
  explicit schedule_error(const std::string& what)
      : std::invalid_argument(what), position_(std::string::npos) {}
  schedule_error(const std::string& what, std::size_t position)
      : std::invalid_argument(what), position_(position) {}

  /// 0-based byte offset into the parsed text where the problem is;
  /// `std::string::npos` when the error is not about a text.
  std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

/// A fault schedule: exactly which faults a run injects, at which call of
/// which point. A chaos run's decision log is one; replaying it (the
/// `FAULTLINE_SCHEDULE` environment variable, or `chaos_engine::replay`)
/// injects those faults and nothing else, so the run repeats exactly.
///
/// Printed compactly, in the order the faults were injected:
/// `fetch#0=hang;fetch#2=error(timed_out);db.commit#1=latency(250ms)`
/// (the empty string is the fault-free schedule). For every schedule,
/// `parse(s.to_string()) == s`, whatever its point names contain.
class fault_schedule {
 public:
  fault_schedule() = default;
  /// Throws `schedule_error` naming the fault when one has a negative
  /// latency or an error code a schedule cannot name (a success code, or a
  /// category other than system, generic, asio's and faultline's), or when
  /// two faults hit the same call of the same point.
  explicit fault_schedule(std::vector<fault> faults);

  /// Parses `to_string()`'s form:
  ///
  ///     schedule := [entry] (';' [entry])*         whitespace around entries is ignored
  ///     entry    := point '#' call '=' kind
  ///     point    := bare | '"' (char | '\"' | '\\' | '\x' hex hex)* '"'
  ///     bare     := 1 or more printable ASCII characters, none of ; = " \ or space
  ///                 (it may hold '#': the call index follows the last one)
  ///     call     := 0 to 18446744073709551615
  ///     kind     := error | error(code) | exception | hang | cancel | latency(n unit)
  ///               | step(±n unit) | slew(±n ppm) | slew(±n ppm,n unit) | skew(±n unit,±n ppm)
  ///     code     := an asio::error name (timed_out), a faultline::error name
  ///                 (injected_fault), a positive number (system category), or
  ///                 category:number (system:2, asio.misc:2, faultline:4)
  ///     unit     := ns | us | ms | s          (at most 9223372036854775807ns in all)
  ///     ±        := '+' or '-' (printed always, optional when parsed)
  ///
  /// The last three kinds are wall-clock faults (`clock_faults`): they may
  /// only name points `wall_clock` and `wall_clock@<host>`, which take no
  /// other kind. `step(-30s)` jumps the clock; `slew(+500ppm,10s)` runs it
  /// fast for 10 s (without a length: for good); `skew(+120ms,-80ppm)` does
  /// both, for good. A ppm is an integer in [-999999, 1000000000].
  ///
  /// `exception` is a `std::runtime_error` (plans never draw it, schedules
  /// may name it). Throws `schedule_error` naming the column (0-based), the
  /// entry and the offending text, for every malformed or out-of-range input
  /// and for a second fault at the same call. Linear in the text's length.
  static fault_schedule parse(std::string_view text);

  std::string to_string() const;
  const std::vector<fault>& faults() const noexcept { return faults_; }
  /// Mutable access, for building a schedule in place; a fault added here is
  /// not checked until the schedule is copied into a new `fault_schedule`
  /// (as `chaos_engine::replay` does).
  std::vector<fault>& faults() noexcept { return faults_; }
  std::size_t size() const noexcept { return faults_.size(); }
  bool empty() const noexcept { return faults_.empty(); }
  /// The fault for the `call`-th call of `point`, if any.
  const fault* find(std::string_view point, std::uint64_t call) const noexcept;

  friend bool operator==(const fault_schedule& a, const fault_schedule& b) noexcept { return a.faults_ == b.faults_; }

 private:
  std::vector<fault> faults_;
};

/// What the calls of one injection point saw in a run or a sweep.
struct point_coverage {
  std::uint64_t calls = 0;  ///< calls made (every run of a sweep, summed)
  fault_counts injected;    ///< faults chaos injected there, by kind
};

/// The chaos side of one sim: draws a fault (or none) for each call of each
/// injection point, from a seeded plan or an exact schedule, and logs what it
/// injected. Doubles (`async_fake`, by their name) and failpoints (by theirs)
/// ask it on every call while it is active.
///
/// Each seeded decision depends only on (the sim's seed, the point's name,
/// the call's index at that point): a schedule replays exactly, and a call
/// added at one point shifts no other point's faults.
///
/// What a decision does to a double's call: `error` completes it with the
/// error code (after the scripted latency), `hang` makes it hang until
/// cancelled, `cancel` completes it as cancelled, `latency` adds to the
/// scripted latency. The script step is used up either way. At a failpoint:
/// `error` throws `system_error`, `hang` hangs, `cancel` throws
/// `operation_aborted`, `latency` sleeps. Each injected fault is journaled in
/// the trace as `chaos: ...`.
///
/// Thread safety: belongs to its sim's thread, like the sim.
class chaos_engine {
 public:
  explicit chaos_engine(detail::sim_core& core);
  ~chaos_engine();
  chaos_engine(const chaos_engine&) = delete;
  chaos_engine& operator=(const chaos_engine&) = delete;

  /// Draws faults from `plan`, seeded by the sim's seed (`sim_options::seed`).
  void use(chaos_plan plan);
  /// Injects exactly `schedule`'s faults, nothing else. Throws
  /// `schedule_error` if a fault was edited in place (`faults()`) into one
  /// a schedule cannot hold (see `fault_schedule`'s constructor).
  void replay(fault_schedule schedule);
  /// Injects nothing; calls are still counted while `record` is true (an
  /// exhaustive sweep's fault-free run learns the call counts so).
  void off(bool record = false);
  bool active() const noexcept { return mode_ != mode::off || recording_; }

  /// Faults injected so far, in order: the run's schedule.
  const fault_schedule& injected() const noexcept { return log_; }
  /// Calls and injected faults per point seen so far, in name order.
  const std::map<std::string, point_coverage, std::less<>>& coverage() const noexcept { return coverage_; }

  /// For injection points: counts a call of `point` and says what to inject
  /// (nothing when empty). Records the fault in the log and the trace.
  std::optional<fault> draw(std::string_view point, std::uint32_t trace_subject);
  /// For timers (`steady_timer`): true when the plan names `point`, or the
  /// schedule replayed has a fault there; an unnamed timer (`timer#3`) is an
  /// injection point only then.
  bool names_point(std::string_view point) const;
  /// `draw` for a timer's wait: a plan draws only latency there (its error,
  /// hang and cancel rates, and outages of another kind, do not apply); a
  /// schedule's fault is returned whatever its kind, for the timer to reject.
  /// Counts nothing in record-only mode (`off(true)`), so exhaustive sweeps,
  /// which try every kind at the points their fault-free run saw, skip timers.
  std::optional<fault> draw_timer(std::string_view point, std::uint32_t trace_subject);
  /// For wall-clock reads (`fault::is_clock_point(point)`): counts a read and
  /// says which clock fault to apply (from `chaos_plan::clocks` or the
  /// schedule), recording it like `draw`. `draw` never returns clock faults.
  std::optional<fault> draw_clock(std::string_view point, std::uint32_t trace_subject);

  /// Under a swarm plan (`chaos_plan::swarm`), the subset this seed enabled,
  /// over the plan's fault kinds and the points it names or saw called, in
  /// name order: `kinds on: error, outage; off: hang | points on: fetch; off: db`.
  /// Empty when the plan does not swarm or the engine is not seeded.
  std::string swarm_subset() const;

 private:
  enum class mode : std::uint8_t { off, seeded, scripted };
  struct outage_state {
    bool active = false;
    std::uint64_t until_call = 0;  // calls-long outage: the first call after it
    std::int64_t until_time = 0;   // timed outage: the first instant after it (ns)
  };
  enum class point_kind : std::uint8_t { plain, timer, clock };
  std::optional<fault> decide(std::string_view point, std::uint64_t call, bool timer = false);
  std::optional<fault> decide_clock(std::string_view point, std::uint64_t call);
  std::optional<fault> draw_at(std::string_view point, std::uint32_t trace_subject, point_kind kind);
  std::optional<fault> outage_fault(std::string_view point, std::uint64_t call, const outage_model& o, std::uint64_t h);
  bool swarm_point_on(std::string_view point) const noexcept;

  detail::sim_core* core_;
  mode mode_ = mode::off;
  bool recording_ = false;
  chaos_plan plan_;
  fault_schedule schedule_;
  std::map<std::pair<std::string_view, std::uint64_t>, const fault*> index_;  // into schedule_
  fault_schedule log_;
  std::map<std::string, point_coverage, std::less<>> coverage_;
  std::map<std::string, outage_state, std::less<>> outages_;
  unsigned swarm_kinds_ = ~0u;  // bit i: swarm kind i is on this seed (chaos.cpp)
};

/// The chaos engine of `sim`.
chaos_engine& chaos(sim_context& sim) noexcept;

}  // namespace faultline
