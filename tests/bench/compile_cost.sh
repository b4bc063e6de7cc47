#!/bin/sh
# Issue 14's user compile cost: how much longer a test file takes to compile with
# <faultline/gtest.hpp> than the same test written with Asio and gMock only (target: at most 1.1x).
# Compiles each of the two files in compile_cost/ `runs` times per compiler (-std=c++20 -O0 -g, as a
# Debug test build), alternately, and prints the median user+system CPU seconds of each and their
# ratio. Not run by CI: it measures, it asserts nothing. Run it on a quiet machine.
#
# Usage: tests/bench/compile_cost.sh [runs, default 3] [compilers, default "g++ clang++"]
set -eu
runs=${1:-3}
compilers=${2:-g++ clang++}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for cxx in $compilers; do
  : >"$out/base" && : >"$out/fl"
  i=0
  while [ "$i" -lt "$runs" ]; do
    for f in asio_gmock_only:base faultline_gtest:fl; do
      src=${f%%:*} && key=${f##*:}
      /usr/bin/time -f "%U %S" -o "$out/t" "$cxx" -std=c++20 -O0 -g -I"$root/framework/include" \
        -I"$root/adapters/gtest/include" -c "$here/compile_cost/$src.cpp" -o "$out/$key.o"
      awk '{print $1 + $2}' "$out/t" >>"$out/$key"
    done
    i=$((i + 1))
  done
  b=$(median <"$out/base") && f=$(median <"$out/fl")
  echo "$cxx: asio+gmock only ${b}s, <faultline/gtest.hpp> ${f}s: $(awk -v f="$f" -v b="$b" 'BEGIN {printf "%.2f", f / b}')x (median of $runs)"
done
