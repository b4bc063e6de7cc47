# faultline - FAULTLINE_CTEST_PER_SUITE: one CTest test per GoogleTest suite instead of one per test.
#
# Included by tests/CMakeLists.txt. A sanitizer build pays for every process it starts (an ASan
# binary takes 0.33-0.5 s of CPU to start and exit, more than most tests take to run), and
# gtest_discover_tests() starts one per test. With the option ON, gtest_discover_tests() registers
# one CTest test per suite instead, named <prefix><Suite><suffix> and running
# `<binary> --gtest_filter=<Suite>.*`: the failing suite is named by ctest, the failing test by
# GoogleTest's output printed under it. The tests of a suite then share a process, as they do when
# a user runs the binary; they restore whatever process state (environment variables) they change.
# Functions are global in CMake, so the override applies to every later gtest_discover_tests() call
# of the build, the samples' too.
include_guard(GLOBAL)

option(FAULTLINE_CTEST_PER_SUITE "Register one CTest test per GoogleTest suite (ON in the asan preset), not one per test" OFF)

if(FAULTLINE_CTEST_PER_SUITE)
  # The arguments faultline's CMakeLists.txt files pass; anything else is refused rather than
  # silently dropped, so that a new use is noticed here.
  function(gtest_discover_tests target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "TEST_PREFIX;TEST_SUFFIX;DISCOVERY_TIMEOUT;WORKING_DIRECTORY" "")
    if(arg_UNPARSED_ARGUMENTS)
      string(JOIN " " unsupported ${arg_UNPARSED_ARGUMENTS})
      message(FATAL_ERROR "gtest_discover_tests(${target}): '${unsupported}' is not supported with "
                          "FAULTLINE_CTEST_PER_SUITE=ON (cmake/faultline-test-suites.cmake); "
                          "add it there or configure with -DFAULTLINE_CTEST_PER_SUITE=OFF")
    endif()
    if(NOT arg_DISCOVERY_TIMEOUT)
      set(arg_DISCOVERY_TIMEOUT 5)
    endif()
    if(NOT arg_WORKING_DIRECTORY)
      set(arg_WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    endif()
    set(ctest_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake)
    add_custom_command(TARGET ${target} POST_BUILD
      BYPRODUCTS ${ctest_file}
      COMMAND ${CMAKE_COMMAND}
              -D "EXECUTABLE=$<TARGET_FILE:${target}>"
              -D "PREFIX=${arg_TEST_PREFIX}"
              -D "SUFFIX=${arg_TEST_SUFFIX}"
              -D "TIMEOUT=${arg_DISCOVERY_TIMEOUT}"
              -D "WORKING_DIRECTORY=${arg_WORKING_DIRECTORY}"
              -D "OUT=${ctest_file}"
              -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/faultline-list-suites.cmake
      VERBATIM)
    set(include_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_suites_include.cmake)
    file(WRITE ${include_file}
      "if(EXISTS \"${ctest_file}\")\n"
      "  include(\"${ctest_file}\")\n"
      "else()\n"
      "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
      "endif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
  endfunction()
endif()
