# faultline - faultline_precompile_headers(): one precompiled header for a project's faultline test targets.
#
# Included by the package config (find_package) and by faultline's own CMakeLists.txt
# (add_subdirectory, FetchContent), so the function exists however faultline was brought in.
include_guard(GLOBAL)

# faultline_precompile_headers(<target>... [CORE] [HEADERS <header>...])
#
# Precompiles faultline's umbrella header once, for the first target, and lets the other targets
# reuse that precompiled header (target_precompile_headers(REUSE_FROM)). The header is
# <faultline/gtest.hpp> (faultline with the GoogleTest adapter, gMock and the Asio parts they use)
# when faultline::gtest exists, else <faultline/faultline.hpp>; CORE picks <faultline/faultline.hpp>
# for targets that do not link faultline::gtest. HEADERS adds headers of your own that most of
# the targets' files include (<boost/asio/ip/tcp.hpp>, "my_service.hpp").
#
# The targets must already link faultline::gtest (faultline::faultline with CORE), and must be
# compiled with the same compiler flags and definitions, as a project's test executables usually
# are; targets that differ need a call each. Every source file of the targets then sees the
# precompiled headers first; a file that must not (one that checks what compiles without the
# adapter) opts out with the source property SKIP_PRECOMPILE_HEADERS.
function(faultline_precompile_headers)
  cmake_parse_arguments(PARSE_ARGV 0 arg "CORE" "" "HEADERS")
  set(targets ${arg_UNPARSED_ARGUMENTS})
  if(NOT targets)
    message(FATAL_ERROR "faultline_precompile_headers: no target given; "
                        "call it as faultline_precompile_headers(<target>... [CORE] [HEADERS <header>...])")
  endif()
  foreach(target IN LISTS targets)
    if(NOT TARGET ${target})
      message(FATAL_ERROR "faultline_precompile_headers: '${target}' is not a target; "
                          "call it after the add_executable or add_library that defines it")
    endif()
  endforeach()
  if(NOT arg_CORE AND TARGET faultline::gtest)
    set(umbrella <faultline/gtest.hpp>)
  else()
    set(umbrella <faultline/faultline.hpp>)
  endif()
  list(POP_FRONT targets first)
  target_precompile_headers(${first} PRIVATE ${umbrella} ${arg_HEADERS})
  foreach(target IN LISTS targets)
    target_precompile_headers(${target} REUSE_FROM ${first})
  endforeach()
endfunction()
