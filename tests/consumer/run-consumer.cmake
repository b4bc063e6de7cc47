# faultline consumer test driver: cmake -D SETTINGS=<file> -D MODE=<mode> -D CONFIG=<config> -P run-consumer.cmake
#
# MODE find_package:     installs the main build to a fresh prefix under the
#                        build directory, then configures, builds and runs the
#                        consumer project against the installed package.
# MODE build_tree:       the same against the package that export() writes
#                        into the main build directory, without installing.
# MODE add_subdirectory: configures, builds and runs the consumer project with
#                        faultline's source tree as a subdirectory.
# The consumer uses the main build's generator, compiler, flags and build type,
# so a sanitizer build is tested with sanitizers.
cmake_minimum_required(VERSION 3.25)

include(${SETTINGS})

set(work_dir ${CONSUMER_BINARY_DIR}/${MODE})
set(build_dir ${work_dir}/build)

function(run_step what)
  message(STATUS "consumer.${MODE}: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer.${MODE}: ${what} failed (${rc})")
  endif()
endfunction()

set(config_args)
set(build_type_arg)
set(config_flag_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
  set(build_type_arg -DCMAKE_BUILD_TYPE=${CONFIG})
  string(TOUPPER "${CONFIG}" config)
  foreach(var IN ITEMS CMAKE_CXX_FLAGS_${config} CMAKE_EXE_LINKER_FLAGS_${config} CMAKE_SHARED_LINKER_FLAGS_${config})
    if(DEFINED CONSUMER_${var})
      list(APPEND config_flag_args "-D${var}=${CONSUMER_${var}}")
    endif()
  endforeach()
endif()

if(MODE STREQUAL "find_package")
  set(prefix ${work_dir}/prefix)
  file(REMOVE_RECURSE ${prefix})
  run_step("installing faultline to ${prefix}"
    ${CMAKE_COMMAND} --install ${FAULTLINE_BINARY_DIR} --prefix ${prefix} ${config_args})
  set(mode_args -DFAULTLINE_CONSUMER_MODE=find_package
                -DCMAKE_PREFIX_PATH=${prefix} -DFAULTLINE_CONSUMER_EXPECT_PREFIX=${prefix})
elseif(MODE STREQUAL "build_tree")
  set(mode_args -DFAULTLINE_CONSUMER_MODE=find_package
                -Dfaultline_DIR=${FAULTLINE_BINARY_DIR} -DFAULTLINE_CONSUMER_EXPECT_PREFIX=${FAULTLINE_BINARY_DIR})
elseif(MODE STREQUAL "add_subdirectory")
  set(mode_args -DFAULTLINE_CONSUMER_MODE=add_subdirectory
                -DFAULTLINE_SOURCE_DIR=${FAULTLINE_SOURCE_DIR} -DFAULTLINE_WERROR=${CONSUMER_WERROR})
else()
  message(FATAL_ERROR "run-consumer.cmake: unknown MODE '${MODE}'")
endif()

set(tool_args)
if(CONSUMER_MAKE_PROGRAM)
  list(APPEND tool_args -DCMAKE_MAKE_PROGRAM=${CONSUMER_MAKE_PROGRAM})
endif()
if(CONSUMER_BOOST_DIR)
  list(APPEND tool_args -DBoost_DIR=${CONSUMER_BOOST_DIR})
endif()
if(CONSUMER_GTEST_DIR)
  list(APPEND tool_args -DGTest_DIR=${CONSUMER_GTEST_DIR})
endif()

# --fresh: a new cache every time, so nothing left from an earlier run hides a
# broken package.
run_step("configuring ${CONSUMER_SOURCE_DIR}"
  ${CMAKE_COMMAND} --fresh -S ${CONSUMER_SOURCE_DIR} -B ${build_dir}
    -G ${CONSUMER_GENERATOR} ${tool_args} ${build_type_arg} ${config_flag_args}
    -DCMAKE_CXX_COMPILER=${CONSUMER_CXX_COMPILER}
    "-DCMAKE_CXX_FLAGS=${CONSUMER_CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_EXE_LINKER_FLAGS}"
    "-DCMAKE_SHARED_LINKER_FLAGS=${CONSUMER_SHARED_LINKER_FLAGS}"
    -DBUILD_SHARED_LIBS=${CONSUMER_BUILD_SHARED_LIBS}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DFAULTLINE_CONSUMER_EXPECT_GTEST=${CONSUMER_EXPECT_GTEST}
    ${mode_args})
# The consumer's own targets only, not `all`: through add_subdirectory, `all` would also build
# faultline::gtest_main, which the consumer does not link (the main build compiles it already).
set(targets faultline_consumer)
if(CONSUMER_EXPECT_GTEST)
  list(APPEND targets faultline_consumer_gtest)
endif()
string(JOIN " " target_names ${targets})
run_step("building ${target_names}" ${CMAKE_COMMAND} --build ${build_dir} ${config_args} --target ${targets})
run_step("running" ${build_dir}/bin/faultline_consumer)
