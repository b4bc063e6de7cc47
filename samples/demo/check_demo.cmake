# Runs faultline_demo and checks what issue 15 item 13 promises a first-time user sees, beyond its last line:
# the first-build notice before scripts/demo builds anything, the first schedule explained where it is first
# printed, the replayed failure (what broke, the instant, the timeline), the planted bug's source, and one
# meaning of "wall time". No wall-clock value is asserted, only that the demo's figures agree.
#
#   cmake -DDEMO=<faultline_demo> -DSCRIPT=<scripts/demo> -DSOURCE_DIR=<repository root> -P check_demo.cmake

foreach(var DEMO SCRIPT SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_demo.cmake: pass -D${var}=...")
  endif()
endforeach()

# scripts/demo: the notice comes before the first install or build step, which is what takes minutes.
file(STRINGS "${SCRIPT}" script_lines)
set(index 0)
set(notice -1)
set(first_step -1)
foreach(line IN LISTS script_lines)
  if(notice EQUAL -1 AND line MATCHES "^echo .*the first run takes several minutes")
    set(notice ${index})
  endif()
  if(first_step EQUAL -1 AND line MATCHES "^(scripts/setup-deps|cmake |exec )")
    set(first_step ${index})
  endif()
  math(EXPR index "${index} + 1")
endforeach()
if(notice EQUAL -1 OR first_step EQUAL -1 OR NOT notice LESS first_step)
  message(FATAL_ERROR "check_demo.cmake: ${SCRIPT} must echo that the first run takes several minutes before its "
                      "first install or build step (notice at line ${notice}, first step at line ${first_step}, "
                      "counted from 0; -1 is missing)")
endif()

execute_process(COMMAND "${DEMO}" OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_demo.cmake: faultline_demo exited with ${rc}")
endif()

# Each piece must appear, in this order.
set(pos 0)
function(expect_next text)
  string(SUBSTRING "${out}" ${pos} -1 rest)
  string(FIND "${rest}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_demo.cmake: after offset ${pos}, the demo's output lacks: ${text}")
  endif()
  math(EXPR next "${pos} + ${at} + 1")
  set(pos ${next} PARENT_SCOPE)
endfunction()

# The first schedule printed is the minimal one, and the next line says what it means.
string(REGEX MATCH "[^\n]*[A-Za-z_:>-]+#[0-9]+=[^\n]*" first_schedule_line "${out}")
if(NOT first_schedule_line STREQUAL "  minimal schedule (1 fault, 2 reruns): fetch#0=cancel")
  message(FATAL_ERROR "check_demo.cmake: the first line printing a schedule should be the minimal schedule "
                      "`fetch#0=cancel`, explained on the next line; it is: ${first_schedule_line}")
endif()
expect_next("${first_schedule_line}\n  (a schedule lists the faults injected as point#call=fault, calls counted from 0: "
            "fetch#0=cancel means the first call of fetch was cancelled (ended with operation_aborted))\n")

# The replay: it reproduced, then what broke, at which instants, and the timeline.
expect_next("  replay command: FAULTLINE_SCHEDULE='fetch#0=cancel' FAULTLINE_SEED=17 ")
expect_next("  replayed: the same failure, from the schedule alone\n  what broke, and when (virtual time):\n")
expect_next("samples/bugs/planted_bug_demo.cpp:40: Failure\n")
expect_next("      attempts_after_cancellation\n        Which is: 1\n      0\n")
expect_next("    fetch(\"/a\") at t=0.000s -> cancelled at t=0.050s, yet retried at t=0.150s\n")
expect_next("    [ timeline ] sim 1 of 1 at t=0.200s, all 8 events:\n")
expect_next("      t=0.050s fetch(\"/a\") -> was cancelled\n")
expect_next("      t=0.150s fetch(\"/a\") called\n")

# The pointer to the bug, and the marker it names is in that file.
expect_next("  the bug: samples/bugs/retry_retries_cancellation.hpp (look for PLANTED BUG)\n")
file(READ "${SOURCE_DIR}/samples/bugs/retry_retries_cancellation.hpp" bug_source)
string(FIND "${bug_source}" "PLANTED BUG" marker)
if(marker EQUAL -1)
  message(FATAL_ERROR "check_demo.cmake: the demo points to samples/bugs/retry_retries_cancellation.hpp for "
                      "PLANTED BUG, which that file does not contain")
endif()

# One meaning of wall time: it is said once, and the closing sentence repeats the table's total.
string(REGEX MATCHALL "[^\n]*wall[^\n]*" wall_lines "${out}")
list(LENGTH wall_lines wall_count)
string(REGEX MATCH "\nall +[0-9 ]+ +[0-9.]+s +([0-9.]+ms)\n" all_row "${out}")
set(table_total "${CMAKE_MATCH_1}")
string(REGEX MATCH "\n[0-9]+ scenarios injected [0-9]+ faults and simulated [0-9.]+s of virtual time in ([0-9.]+ms) of wall time\\.\n" closing "${out}")
set(closing_total "${CMAKE_MATCH_1}")
if(NOT wall_count EQUAL 3 OR table_total STREQUAL "" OR NOT table_total STREQUAL closing_total)
  message(FATAL_ERROR "check_demo.cmake: \"wall time\" must have one meaning: named in the header, defined once, and "
                      "the closing sentence's figure (${closing_total}) the table's total (${table_total}); lines "
                      "naming it: ${wall_lines}")
endif()
string(FIND "${out}" "\n(wall time, here and below: real time elapsed running each suite's process, start-up included)\n" note)
if(note EQUAL -1)
  message(FATAL_ERROR "check_demo.cmake: the table's header should say what wall time is, for the whole output")
endif()

string(REGEX MATCH "all [0-9]+ samples passed and the planted bug was found and replayed\n$" last "${out}")
if(last STREQUAL "")
  message(FATAL_ERROR "check_demo.cmake: the demo's last line should say every sample passed and the planted bug "
                      "was found and replayed")
endif()
