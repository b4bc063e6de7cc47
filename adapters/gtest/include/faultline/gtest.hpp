// faultline - GoogleTest/GoogleMock integration: coroutine tests, actions, matchers, fixture, timelines.
#pragma once

#include <faultline/faultline.hpp>
#include <faultline/gtest/actions.hpp>
#include <faultline/gtest/chaos.hpp>
#include <faultline/gtest/fixture.hpp>
#include <faultline/gtest/listener.hpp>
#include <faultline/gtest/matchers.hpp>
#include <faultline/gtest/print.hpp>
#include <faultline/gtest/test.hpp>
