// Tests of run_chaos_sweep and its siblings inside TEST_P and TYPED_TEST: one sweep over a correct
// and a planted-bug variant, named after the instantiation.
#include <faultline/gtest/chaos.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using namespace faultline::testing;
using ::testing::HasSubstr;
using ::testing::Not;

using variant_fetch = faultline::async_fake<std::string(std::string)>;

// Up to `attempts` attempts, 100ms apart. The correct variant makes 4; the
// planted bug gives up after 2.
asio::awaitable<std::string> retry_fetch(variant_fetch& fetch, int attempts) {
  for (int attempt = 1;; ++attempt) {
    auto r = co_await capture(fetch("/a"));
    if (r.has_value()) co_return r.value();
    if (attempt == attempts) throw std::runtime_error("no answer after " + std::to_string(attempts) + " attempts");
    co_await faultline::sleep_for(100ms);
  }
}

int variant_failed_calls(const variant_fetch& fetch) {
  int n = 0;
  for (const auto& c : fetch.calls()) n += c.status != faultline::call_status::returned;
  return n;
}

// The invariant both variants are held to: an answer whenever one of the first 4 calls succeeds.
chaos_body retry_invariant(int attempts) {
  return [attempts](faultline::sim_context& sim) -> asio::awaitable<void> {
    variant_fetch fetch(sim, "fetch");
    fetch.on_call().after(10ms).returns("ok").repeatedly();
    auto r = co_await capture(retry_fetch(fetch, attempts));
    if (variant_failed_calls(fetch) < 4) {
      EXPECT_THAT(r, Returned("ok"));
    }
  };
}

faultline::chaos_plan variant_plan() { return faultline::chaos_plan().point("fetch", faultline::fault_rates().error(0.4)); }

// The failures `run` records, as one text; they do not fail the running test.
template <class F>
std::string variant_failures(F run) {
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    run();
  }
  std::string s;
  for (int i = 0; i < results.size(); ++i)
    if (results.GetTestPartResult(i).failed()) s += std::string(results.GetTestPartResult(i).message()) + "\n";
  return s;
}

std::string variant_test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

std::string read_variant_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// FAULTLINE_SEED_LOG and FAULTLINE_REGRESSIONS_DIR in a directory of this instantiation's own.
class variant_files {
 public:
  variant_files() : dir_(std::filesystem::temp_directory_path() / ("faultline_variants_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    ::setenv("FAULTLINE_SEED_LOG", (dir_ / "seeds.log").c_str(), 1);
    ::setenv("FAULTLINE_REGRESSIONS_DIR", (dir_ / "regressions").c_str(), 1);
    std::filesystem::create_directories(dir_);
  }
  ~variant_files() {
    ::unsetenv("FAULTLINE_SEED_LOG");
    ::unsetenv("FAULTLINE_REGRESSIONS_DIR");
    std::filesystem::remove_all(dir_);
  }
  variant_files(const variant_files&) = delete;
  variant_files& operator=(const variant_files&) = delete;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// What the planted-bug variant's sweep must report: a failure, a replay
// command that selects exactly this instantiation, the seed log and the
// regression file named after it.
void expect_found_for_this_instantiation(const chaos_body& body) {
  const variant_files files;
  const std::string out = variant_failures([&] { run_chaos_sweep(variant_plan(), body); });
  EXPECT_THAT(out, HasSubstr("chaos sweep failed at seed "));
  EXPECT_THAT(out, HasSubstr("minimal schedule (2 faults"));
  EXPECT_THAT(out, HasSubstr("replay: FAULTLINE_SCHEDULE='fetch#0=error;fetch#1=error' FAULTLINE_SEED="));
  EXPECT_THAT(out, HasSubstr("--gtest_filter='" + variant_test_name() + "'\n"));
  EXPECT_THAT(out, HasSubstr("no answer after 2 attempts"));  // the minimal schedule replayed, as usual
  EXPECT_THAT(read_variant_file(files.dir() / "seeds.log"), HasSubstr(variant_test_name() + " seed 1\n"));
  std::string flat = variant_test_name();
  for (char& c : flat)
    if (c == '/') c = '-';
  EXPECT_THAT(read_variant_file(files.dir() / "regressions" / (flat + ".txt")),
              HasSubstr(": fetch#0=error;fetch#1=error\n"));
}

// ---- Value-parameterised: the variant is a parameter.

struct retry_variant {
  std::string name;
  int attempts;
  bool planted_bug;
};

class RetryVariants : public ::testing::TestWithParam<retry_variant> {};

TEST_P(RetryVariants, AnswersWhenAnyOfFourAttemptsDoes) {
  if (!GetParam().planted_bug) {
    run_chaos_sweep(variant_plan(), retry_invariant(GetParam().attempts));
    return;
  }
  expect_found_for_this_instantiation(retry_invariant(GetParam().attempts));
}

// The single-fault and pairwise forms, too: one fault never breaks either
// variant; two errors break only the planted bug, one row per failing pair.
TEST_P(RetryVariants, FaultSweepsRunInAnInstantiation) {
  faultline::single_fault_options o;
  o.kinds = {faultline::fault_kind::error};
  EXPECT_EQ(variant_failures([&] { run_fault_sweep(o, retry_invariant(GetParam().attempts)); }), "");
  o.max_call = 3;
  const std::string pairs = variant_failures([&] { run_pairwise_sweep(o, retry_invariant(GetParam().attempts)); });
  if (!GetParam().planted_bug) {
    EXPECT_EQ(pairs, "");
    return;
  }
  EXPECT_THAT(pairs, HasSubstr("pairwise sweep failed"));
  EXPECT_THAT(pairs, HasSubstr("fetch#0=error;fetch#1=error"));
  EXPECT_THAT(pairs, HasSubstr("--gtest_filter='" + variant_test_name() + "'"));
}

// The printed replay (FAULTLINE_SCHEDULE and FAULTLINE_SEED) runs that schedule in the
// instantiation it selects: it fails the planted bug, not the correct variant.
TEST_P(RetryVariants, AReplayedScheduleRunsInThisInstantiation) {
  ::setenv("FAULTLINE_SCHEDULE", "fetch#0=error;fetch#1=error", 1);
  ::setenv("FAULTLINE_SEED", "1", 1);
  ::testing::internal::CaptureStdout();
  const std::string out = variant_failures([&] { run_chaos_sweep(variant_plan(), retry_invariant(GetParam().attempts)); });
  const std::string printed = ::testing::internal::GetCapturedStdout();
  ::unsetenv("FAULTLINE_SCHEDULE");
  ::unsetenv("FAULTLINE_SEED");
  EXPECT_THAT(printed, HasSubstr(variant_test_name() + " replaying schedule fetch#0=error;fetch#1=error"));
  if (GetParam().planted_bug)
    EXPECT_THAT(out, HasSubstr("no answer after 2 attempts"));
  else
    EXPECT_EQ(out, "");
}

INSTANTIATE_TEST_SUITE_P(Retry, RetryVariants,
                         ::testing::Values(retry_variant{"correct", 4, false}, retry_variant{"gives_up_early", 2, true}),
                         [](const ::testing::TestParamInfo<retry_variant>& info) { return info.param.name; });

TEST(RunChaosSweep, NamesTheInstantiationInItsSummary) {
  // Outside a parameterised test the name is the plain test's.
  ::testing::internal::CaptureStdout();
  run_chaos_sweep(variant_plan(), retry_invariant(4));
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("[ chaos    ] RunChaosSweep.NamesTheInstantiationInItsSummary: 100 seeds passed"));
}

TEST(RunChaosSweep, AnEmptyBodyIsRefused) {
  try {
    run_chaos_sweep(variant_plan(), chaos_body{});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("the chaos sweep's body is empty"));
  }
}

// ---- Typed: the variant is a type.

struct correct_retry {
  static constexpr int attempts = 4;
};
struct gives_up_early_retry {
  static constexpr int attempts = 2;
};

template <class Retry>
class TypedRetryVariants : public ::testing::Test {};

struct retry_type_names {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, correct_retry> ? "correct" : "gives_up_early";
  }
};
using retry_types = ::testing::Types<correct_retry, gives_up_early_retry>;
TYPED_TEST_SUITE(TypedRetryVariants, retry_types, retry_type_names);

TYPED_TEST(TypedRetryVariants, AnswersWhenAnyOfFourAttemptsDoes) {
  if constexpr (std::is_same_v<TypeParam, correct_retry>) {
    ::testing::internal::CaptureStdout();
    run_chaos_sweep(variant_plan(), retry_invariant(TypeParam::attempts));
    EXPECT_THAT(::testing::internal::GetCapturedStdout(),
                HasSubstr("TypedRetryVariants/correct.AnswersWhenAnyOfFourAttemptsDoes: 100 seeds passed"));
  } else {
    expect_found_for_this_instantiation(retry_invariant(TypeParam::attempts));
  }
}

}  // namespace
