#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian 12 machine:
#   installs the dependencies, builds with warnings as errors and with AddressSanitizer +
#   UndefinedBehaviorSanitizer, runs every unit and integration test under ctest (which starts
#   and removes its own PostgreSQL cluster); builds what the threaded tests need with
#   ThreadSanitizer and runs them (ctest -L tsan: DNS workers, loader, statistics, monitor
#   daemon), where any report fails the run; then builds the libFuzzer targets with clang and
#   runs each for a short, bounded time.
# Ends with the counts of every pass and one line `tests: P passed, F failed, S skipped`.
# Running as root (as CI does), a skipped test fails the run: every test can run there.
# Environment: JOBS (default: number of cores), SKIP_INSTALL=1 to skip apt-get,
#              FUZZ_SECONDS (default 30 per target), BUILD_DIR (default build-test),
#              TSAN_BUILD_DIR (default build-tsan), FUZZ_BUILD_DIR (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
build=${BUILD_DIR:-$root/build-test}
tsan_build=${TSAN_BUILD_DIR:-$root/build-tsan}
fuzz_build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
started=$(date +%s)

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  bash deploy/install-deps.sh build run test
fi

status=0
results=()   # NAME=junit.xml of every ctest pass, for the summary
prefix=()    # a command ctest runs under (setarch for the ThreadSanitizer pass)
# run_ctest NAME DIR [ctest args...]: runs ctest in DIR, keeps its JUnit file for the summary.
run_ctest() {
  local name=$1 dir=$2
  shift 2
  local junit="$dir/ctest-$name.xml"
  rm -f "$junit"
  results+=("$name=$junit")
  (cd "$dir" && "${prefix[@]}" ctest --output-on-failure --output-junit "$junit" "$@") || status=1
}

echo "== configure ($build: -Werror, ASan+UBSan)"
# The benchmarks are built here too (not run: they register no tests), so a change that breaks
# one fails CI instead of being found at the next measurement; it adds about 30 CPU-seconds.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTIMEPOOL_WERROR=ON -DTIMEPOOL_SANITIZE=ON \
  -DTIMEPOOL_TESTS=ON -DTIMEPOOL_BENCH=ON >/dev/null
echo "== build"
cmake --build "$build" -j "$jobs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== test"
run_ctest asan "$build" -j "$jobs" --timeout 900

echo "== ThreadSanitizer ($tsan_build: the threaded tests, ctest -L tsan)"
tsan_started=$(date +%s)
# Warnings are the first build's business (-Werror there); at -O1 gcc 12 adds false
# maybe-uninitialized warnings that must not stop the race checks.
cmake -S . -B "$tsan_build" -DCMAKE_BUILD_TYPE=Debug -DTIMEPOOL_WERROR=OFF -DTIMEPOOL_TSAN=ON \
  -DTIMEPOOL_TESTS=ON >/dev/null
# Only what the tsan-labelled tests run: the daemons, timepoolctl (migrations) and three test
# programs; the rest of the tree is not built here.
cmake --build "$tsan_build" -j "$jobs" --target timepool-dns timepool-monitor timepool-monitor-api timepoolctl \
  unit_monitor unit_server integration_stats
# Where the kernel gives mmap 32 random bits, TSan dies with "unexpected memory mapping":
# without address randomization (inherited by every child) it runs everywhere.
if setarch "$(uname -m)" -R true 2>/dev/null; then prefix=(setarch "$(uname -m)" -R); fi
# Known false reports only (each explained in the file); the tests' deadlines stretch 4x.
export TSAN_OPTIONS="halt_on_error=1 exitcode=1 suppressions=$root/tests/support/tsan.supp ${TSAN_OPTIONS:-}"
export TIMEPOOL_TEST_SLOWDOWN=4
run_ctest tsan "$tsan_build" -L tsan -j "$jobs" --timeout 900
prefix=()
unset TSAN_OPTIONS TIMEPOOL_TEST_SLOWDOWN
echo "== ThreadSanitizer pass: $(( $(date +%s) - tsan_started )) s (build and tests)"

if [ -f tests/fuzz/CMakeLists.txt ]; then
  echo "== fuzz (clang, libFuzzer, ${FUZZ_SECONDS:-30}s per target)"
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$fuzz_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTIMEPOOL_FUZZ=ON -DTIMEPOOL_TESTS=OFF -DTIMEPOOL_FUZZ_SECONDS="${FUZZ_SECONDS:-30}" >/dev/null
  cmake --build "$fuzz_build" -j "$jobs" --target fuzz_all
  run_ctest fuzz "$fuzz_build" -L fuzz
fi

echo "== summary ($(( ($(date +%s) - started) / 60 )) min)"
summary=$(python3 tests/support/ctest_summary.py "${results[@]}")
echo "$summary"
last=$(tail -n 1 <<<"$summary")
skipped=$(sed -E 's/.* ([0-9]+) skipped$/\1/' <<<"$last")
failed=$(sed -E 's/.* ([0-9]+) failed,.*/\1/' <<<"$last")
[ "$failed" -eq 0 ] || status=1
if [ "$(id -u)" -eq 0 ] && [ "$skipped" -ne 0 ]; then
  echo "FAIL: $skipped test(s) skipped while running as root: every test must run here"
  status=1
fi
echo "$last"
exit $status
