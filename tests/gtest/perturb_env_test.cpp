// Tests of FAULTLINE_PERTURB and the handler order carried by chaos tests' replay commands.
#include <faultline/gtest/chaos.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

namespace asio = boost::asio;
using faultline::testing::chaos_test;
using ::testing::HasSubstr;

class perturb_runner : public chaos_test {
 public:
  void TestBody() override {}
  using chaos_test::run_chaos;
};

// Fails in every seed, whatever the order: the report's replay commands are what is checked.
std::string pe_report_of(faultline::sweep_options o) {
  perturb_runner t;
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    t.run_chaos(o, []() -> asio::awaitable<void> {
      ADD_FAILURE() << "always";
      co_return;
    });
  }
  std::string s;
  for (int i = 0; i < results.size(); ++i) s += std::string(results.GetTestPartResult(i).message()) + "\n";
  return s;
}

TEST(PerturbEnv, ReplayCommandsCarryPct) {
  faultline::sweep_options o;
  o.perturb = true;
  o.sim.perturb_mode = faultline::perturbation::pct;
  o.sim.pct_depth = 2;
  const std::string out = pe_report_of(o);
  EXPECT_THAT(out, HasSubstr("replay: FAULTLINE_PERTURB=pct:2 FAULTLINE_SCHEDULE="));
  EXPECT_THAT(out, HasSubstr("replay the seed: FAULTLINE_PERTURB=pct:2 FAULTLINE_SEED=1"));
}

TEST(PerturbEnv, ReplayCommandsCarryTheShuffleAndNothingWithoutPerturbation) {
  faultline::sweep_options o;
  o.perturb = true;
  EXPECT_THAT(pe_report_of(o), HasSubstr("replay the seed: FAULTLINE_PERTURB=1 FAULTLINE_SEED=1"));
  EXPECT_THAT(pe_report_of(faultline::sweep_options{}), HasSubstr("replay the seed: FAULTLINE_SEED=1"));
}

TEST(PerturbEnv, TheEnvironmentChoosesPctAndItsDepth) {
  ::setenv("FAULTLINE_PERTURB", "pct:5", 1);
  const std::string out = pe_report_of(faultline::sweep_options{});
  ::unsetenv("FAULTLINE_PERTURB");
  EXPECT_THAT(out, HasSubstr("replay the seed: FAULTLINE_PERTURB=pct:5 FAULTLINE_SEED=1"));
}

TEST(PerturbEnv, AMalformedOrderFailsNamingTheVariable) {
  ::setenv("FAULTLINE_PERTURB", "pct:0", 1);
  const std::string out = pe_report_of(faultline::sweep_options{});
  ::unsetenv("FAULTLINE_PERTURB");
  EXPECT_THAT(out, HasSubstr("FAULTLINE_PERTURB=\"pct:0\" is not a handler order; set 1 (shuffle), pct"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("always")));  // nothing ran
}

}  // namespace
