// The C++ blocks of README.md and docs/*.md, compiled in one translation unit (see CMakeLists.txt).
// What every block may use without including or declaring it:
#include <faultline/faultline.hpp>
#include <faultline/gtest.hpp>
#include <faultline/with_timeout.hpp>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using namespace faultline::testing;
using namespace ::testing;

// The docs' blocks, one generated file per doc.
#include "doc_blocks.inc"
