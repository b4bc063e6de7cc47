// Armed failpoints that no code reaches (a typo: db.comit) are reported when the sim ends.
#include <faultline/failpoint.hpp>

#include <faultline/gtest/fixture.hpp>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;

// -- armed failpoints never reached (item 11) -----------------------------------

asio::awaitable<void> commit() {
  co_await faultline::failpoint("db.commit");
}

TEST(UnreachedFailpoint, ATypoIsReportedWhenTheSimEnds) {
  EXPECT_NONFATAL_FAILURE(
      {
        faultline::sim_context sim;
        faultline::failpoints(sim).arm("db.comit", "hang");
        EXPECT_TRUE(sim.run(commit()).has_value());  // passes: nothing is armed under the real name
      },
      "faultline: 1 armed failpoint was never reached before the sim ended:\n  db.comit=hang\n"
      "check each name against the failpoint in the code (a typo?)");
}

TEST(UnreachedFailpoint, ReachedDisarmedOrCheckedOnesAreNotReported) {
  faultline::sim_context sim;
  auto& fp = faultline::failpoints(sim);
  fp.arm("db.commit", "off");
  fp.arm("db.never", "hang");
  fp.disarm("db.never");
  fp.arm_all("a.x=off;b.y=1*error(eof)");
  EXPECT_EQ(fp.unreached(), (std::vector<std::string>{"a.x=off", "b.y=1*error(eof)", "db.commit=off"}));
  EXPECT_TRUE(sim.run(commit()).has_value());
  EXPECT_EQ(fp.hits("db.commit"), 1u);
}

TEST(UnreachedFailpoint, IsLocatedWhereItWasArmed) {
  ::testing::TestPartResultArray failures;
  int line = 0;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    faultline::sim_context sim;
    line = __LINE__ + 1;
    faultline::failpoints(sim).arm("db.comit", "off");
  }
  ASSERT_EQ(failures.size(), 1);
  EXPECT_EQ(failures.GetTestPartResult(0).line_number(), line);
}

}  // namespace
