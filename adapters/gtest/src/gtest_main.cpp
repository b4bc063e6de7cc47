// faultline - main() for test binaries: GoogleTest/GoogleMock plus the failure-timeline listener.
#include <faultline/gtest/listener.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleMock(&argc, argv);
  faultline::testing::install_timeline_listener();
  return RUN_ALL_TESTS();
}
