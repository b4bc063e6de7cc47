// faultline - main() for test binaries: GoogleTest/GoogleMock, the failure-timeline listener, FAULTLINE_REPORT.
#include <faultline/gtest/fixture.hpp>
#include <faultline/gtest/listener.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleMock(&argc, argv);
  faultline::testing::install_failure_reporter();
  faultline::testing::install_timeline_listener();
  faultline::testing::install_report_listener_from_env();
  return RUN_ALL_TESTS();
}
