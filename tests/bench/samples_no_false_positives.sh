#!/bin/sh
# The correct samples pass every chaos sweep over many seeds (issue 13: no false positives over at
# least 1,000 seeds each): runs the planted-bug suite, whose tests sweep each correct sample with the
# same plan and seeds as its buggy copy, with FAULTLINE_SEEDS seeds (default 1000) and prints one
# line per sweep: the correct code it ran, PASS or FAIL. A test passes only when the bug was found
# within its bound AND the sweep of the correct code passed every one of the seeds (it asserts
# seeds_run == the count). Exit status: 0 when every line is PASS.
#
# Usage: tests/bench/samples_no_false_positives.sh [build dir, default build/release] [seeds]
set -u
build=${1:-build/release}
seeds=${2:-1000}
bin=$build/samples/bugs/faultline_sample_bugs_tests
if [ ! -x "$bin" ]; then
  echo "no $bin: build it first (cmake --build $build --target faultline_sample_bugs_tests)" >&2
  exit 2
fi

out=$(FAULTLINE_SEEDS=$seeds "$bin" --gtest_brief=0 2>&1)
status=0
# test name | correct code swept | how many runs
for row in \
  "ChaosFinds.ARetryThatRetriesCancellation|samples/retry: retry (errors, cancels, latency)|$seeds seeds" \
  "ChaosFinds.ATimeoutThatLeavesTheOperationRunning|samples/timeouts: with_timeout|$seeds seeds" \
  "ChaosFinds.AGatherThatDropsAnError|samples/gather: gather|$seeds seeds" \
  "ChaosFinds.ATaskGroupThatLeaksASibling|samples/task_group: run_all|$seeds seeds" \
  "ChaosFinds.AConsumerThatLosesAnItem|samples/queue: run_pipeline|$seeds seeds" \
  "ChaosFinds.AScopeThatSkipsCleanupOnCancel|samples/resource_scope: with_connection|$seeds seeds" \
  "ChaosFindsOutage.ABackoffWhoseCapIsLostAfterALongOutage|samples/retry: retry (default outages)|$seeds seeds" \
  "ChaosFindsOutage.APoolOverItsLimitOnlyMidRun|samples/bugs: with_connection (every 5ms invariant)|$seeds seeds" \
  "SweepFinds.ACrashAfterAFailedCallInChildProcesses|samples/bugs: session pool (child processes)|$seeds seeds" \
  "SweepFinds.ABreakerThatOnlyTwoFailuresInARowBreak|samples/bugs: breaker (pairwise)|every pair" \
  "SweepPasses.TheCorrectBreakerSurvivesEveryPairOfErrors|samples/bugs: breaker (pairwise, as a test)|every pair"; do
  test=${row%%|*}
  rest=${row#*|}
  what=${rest%%|*}
  runs=${rest#*|}
  if printf '%s\n' "$out" | grep -q "^\[       OK \] $test "; then
    verdict=PASS
  else
    verdict=FAIL
    status=1
  fi
  printf '%-4s  %-55s  %-12s  %s\n' "$verdict" "$what" "$runs" "$test"
done
printf '%s\n' "$out" | grep -E "^\[  (PASSED|FAILED)  \]"
exit $status
