# Builds a target that must not compile and checks that the compiler's output explains why.
# Usage: cmake -DBUILD_DIR=<build tree> -DTARGET=<target> -DEXPECT=<regex> -P check_compile_fails.cmake
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled; it must not:\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "${TARGET} failed to compile, but its output lacks \"${EXPECT}\":\n${out}${err}")
endif()
message(STATUS "${TARGET} does not compile, and says why")
