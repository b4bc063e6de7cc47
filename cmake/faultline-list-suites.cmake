# faultline - writes a CTest file with one test per GoogleTest suite of a test binary.
# cmake -D EXECUTABLE=<binary> -D PREFIX=<p> -D SUFFIX=<s> -D TIMEOUT=<seconds> -D WORKING_DIRECTORY=<dir>
#       -D OUT=<file> -P faultline-list-suites.cmake
# Run after each link by FAULTLINE_CTEST_PER_SUITE's gtest_discover_tests() (faultline-test-suites.cmake).
cmake_minimum_required(VERSION 3.25)

execute_process(COMMAND ${EXECUTABLE} --gtest_list_tests
                WORKING_DIRECTORY ${WORKING_DIRECTORY}
                TIMEOUT ${TIMEOUT}
                OUTPUT_VARIABLE listing
                ERROR_VARIABLE errors
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT})
  message(FATAL_ERROR "faultline-list-suites: '${EXECUTABLE} --gtest_list_tests' failed (${rc}):\n${listing}${errors}")
endif()

# A suite is a line that does not start with a space: "Suite.", "Prefix/Param.", "Typed/0.  # TypeParam = int".
string(REPLACE ";" "\\;" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(script "")
set(count 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ #][^ ]*)\\.( .*)?$")
    set(suite ${CMAKE_MATCH_1})
    # GoogleTest never runs a disabled suite; a test that would not run is not registered.
    if(suite MATCHES "(^|/)DISABLED_")
      continue()
    endif()
    string(APPEND script
      "add_test([==[${PREFIX}${suite}${SUFFIX}]==] [==[${EXECUTABLE}]==] [==[--gtest_filter=${suite}.*]==])\n"
      "set_tests_properties([==[${PREFIX}${suite}${SUFFIX}]==] PROPERTIES WORKING_DIRECTORY [==[${WORKING_DIRECTORY}]==])\n")
    math(EXPR count "${count} + 1")
  endif()
endforeach()
if(count EQUAL 0)
  file(REMOVE ${OUT})
  message(FATAL_ERROR "faultline-list-suites: '${EXECUTABLE} --gtest_list_tests' listed no suite:\n${listing}")
endif()
file(WRITE ${OUT} "${script}")
