#!/usr/bin/env bash
# setup.sh: one command to get ggufd going on a fresh Debian 12 machine.
#
#   ./setup.sh run    install build dependencies (apt-get) if missing, build,
#                     and start `ggufd serve` on its defaults
#                     (0.0.0.0:8080, store ./ggufd-data)
#   ./setup.sh test   install build and test dependencies, build, run make
#                     lint, then the whole suite once with -Werror inside
#                     make distcheck and once under ASan+UBSan, the unit and
#                     mirror concurrency tests under ThreadSanitizer, the
#                     libFuzzer targets for a bounded time, the multi-host
#                     test bed (make check-cluster), then the
#                     reliability suite (make check-reliability).  Ends with
#                     "N passed, N failed"; exits non-zero if anything
#                     failed.
#   ./setup.sh deps   only install the dependencies
#   ./setup.sh build  only build (./ggufd)
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PKGS="build-essential autoconf automake libtool pkg-config libmicrohttpd-dev
  libcurl4-openssl-dev liblmdb-dev libcjson-dev zlib1g-dev libssl-dev libcmocka-dev"
# The Python Hub client (../shared/vendor/huggingface_hub-*) runs on the
# python3-* packages; the dashboard test drives chromium; the install test
# checks the unit with systemd-analyze and the man page with groff; the S3
# test runs a one-node Ceph with a RADOS Gateway (shared/ceph-s3.sh).
TEST_PKGS="curl wget aria2 clang libclang-rt-14-dev clang-format-14 nodejs npm git ca-certificates
  python3 python3-requests python3-filelock python3-fsspec python3-packaging python3-yaml
  python3-tqdm python3-typing-extensions chromium systemd man-db groff-base
  ceph-mon ceph-osd radosgw ceph-common uuid-runtime bc"
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# The libFuzzer targets run_fuzz builds and runs, FUZZ_SECONDS each, on
# their seed corpora tests/fuzz/corpus/<name without fuzz_>.
FUZZ_TARGETS=${FUZZ_TARGETS:-fuzz_gguf fuzz_range fuzz_commit fuzz_batch fuzz_form fuzz_flhead}
# SUITES=tsan ./setup.sh test runs only some of them.
SUITES=${SUITES:-lint werror asan tsan fuzz cluster reliability}
# make lint rules that today's code does not pass yet (the server refactor
# is under way): checked and shown, not counted as failures.  Remove a rule
# from the list as soon as it passes; lint then fails until it is removed.
LINT_PENDING=${LINT_PENDING-}
# What runs under ThreadSanitizer: the unit tests and the integration tests
# where many threads share a fetch (single-flight with many readers, kill
# and resume, a stop mid-fetch), and the gateway (uploads published on a
# worker thread while the connection waits).  make expands $(UNIT_TESTS).
TSAN_TESTS=${TSAN_TESTS:-'$(UNIT_TESTS) tests/integration/mirror.sh tests/integration/faults.sh tests/integration/gateway.sh tests/integration/fastlane.sh tests/integration/fastjoin.sh'}
JOBS=$(nproc 2>/dev/null || echo 2)

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_pkgs() {
  local missing=()
  for p in "$@"; do
    # nodejs from another repository (NodeSource) satisfies node/npm too.
    case $p in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

configure_tree() {
  # $@: configure arguments.  Re-runs configure only when they changed.
  local want="$*"
  [ -x configure ] || autoreconf -fi >/dev/null
  if [ ! -f config.status ] || [ "$(cat .configured-with 2>/dev/null)" != "$want" ]; then
    [ -f Makefile ] && make -s distclean >/dev/null 2>&1 || true
    ./configure -q "$@"
    printf '%s' "$want" > .configured-with
  fi
}

build() {
  configure_tree "$@"
  make -s -j"$JOBS" >/dev/null
}

# Sums the automake test-suite.log summary into the running totals.
PASSED=0
FAILED=0
count_suite() {
  local log=${1:-test-suite.log} p f e x
  if [ ! -f "$log" ]; then FAILED=$((FAILED + 1)); return; fi
  p=$(awk '/^# PASS:/ {print $3}' "$log"); f=$(awk '/^# FAIL:/ {print $3}' "$log")
  e=$(awk '/^# ERROR:/ {print $3}' "$log"); x=$(awk '/^# XPASS:/ {print $3}' "$log")
  PASSED=$((PASSED + ${p:-0})); FAILED=$((FAILED + ${f:-0} + ${e:-0} + ${x:-0}))
}

# run_suite NAME [CONFIGURE ARGS...]: builds and runs `make check`, with
# the make arguments in the array CHECK_ARGS (empty: the whole suite) and
# the command prefix in CHECK_WRAP (e.g. env VAR=value).
CHECK_ARGS=()
CHECK_WRAP=()
run_suite() {
  local name=$1 t0=$SECONDS; shift
  say "suite: $name"
  build "$@"
  if ! ${CHECK_WRAP[@]+"${CHECK_WRAP[@]}"} make -j"$JOBS" check ${CHECK_ARGS[@]+"${CHECK_ARGS[@]}"} >/dev/null 2>&1; then
    say "$name: failures (details below)"
    show_failures .
  fi
  count_suite
  grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP)' test-suite.log >&2 || true
  say "$name: $((SECONDS - t0)) s (build included)"
}

# show_failures DIR: what failed in the build tree DIR, with the tail of
# each failing test's log; never aborts.
show_failures() {
  local l
  for l in "$1"/tests/*.log "$1"/tests/*/*.log; do
    [ -f "$l" ] || continue
    grep -qE '^(not ok|ERROR:|FAIL:)' "$l" || continue
    { echo "--- $l"; grep -E '^(not ok|ERROR:|FAIL:)' "$l" | head -40; tail -n 40 "$l"; } >&2 || true
  done
}

# The -Werror suite is make distcheck: the tarball is made, unpacked with
# its sources read-only, configured (--enable-werror, from
# AM_DISTCHECK_CONFIGURE_FLAGS) and built in another directory, the whole
# suite runs there once, then install, uninstall, dist and distclean are
# checked.  On success automake removes that tree, its test-suite.log too,
# so the tests are counted from the summary make check prints (the same
# lines); distcheck itself counts as one more check.  On a failure the tree
# stays (ggufd-VERSION/_build/sub) and its failing logs are shown.
run_distcheck() {
  local t0=$SECONDS log=$PWD/distcheck.log st=0 d
  say "suite: werror (make distcheck)"
  configure_tree --enable-werror
  AM_COLOR_TESTS=no make -j"$JOBS" distcheck >"$log" 2>&1 || st=$?
  if grep -qE '^# TOTAL:' "$log"; then count_suite "$log"; fi
  if [ "$st" -eq 0 ] && grep -q 'archives ready for distribution' "$log"; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    say "werror: make distcheck failed (exit $st; details below, all of it in $log)"
    for d in ggufd-[0-9]*/_build/sub; do
      [ -d "$d" ] && show_failures "$d"
    done
    tail -n 40 "$log" >&2
  fi
  grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP)' "$log" >&2 || true
  rm -f ggufd-[0-9]*.tar.gz
  say "werror: $((SECONDS - t0)) s (make distcheck: build, install and dist included)"
}

# The TSan suite.  TSan does not stop at a report (halt_on_error=0) and
# writes each process's reports to tests/tsan/tsan.<pid>, which covers the
# ggufd daemons the integration tests start (they inherit TSAN_OPTIONS);
# every such file counts as one failure and is printed.  A report also
# makes the process exit 66, which fails the test that ran it.
run_tsan() {
  local logs=$PWD/tests/tsan f n=0 t0=$SECONDS
  rm -rf "$logs"
  mkdir -p "$logs"
  CHECK_WRAP=(env "TSAN_OPTIONS=halt_on_error=0 exitcode=66 second_deadlock_stack=1 log_path=$logs/tsan")
  # gcc 12's TSan cannot map its shadow memory when the kernel randomises
  # more address bits than it expects (vm.mmap_rnd_bits > 28): run without
  # address randomisation there.
  configure_tree --enable-werror --enable-tsan
  make -s -j"$JOBS" tests/unit/test_util >/dev/null
  if ./tests/unit/test_util 2>&1 | grep -q 'unexpected memory mapping'; then
    say "tsan: address randomisation disabled (setarch -R) for this suite"
    CHECK_WRAP=(setarch "$(uname -m)" -R "${CHECK_WRAP[@]}")
  fi
  CHECK_ARGS=("TESTS=$TSAN_TESTS")
  run_suite "tsan" --enable-werror --enable-tsan
  CHECK_ARGS=()
  CHECK_WRAP=()
  for f in "$logs"/tsan.*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    say "tsan report: $f"
    cat "$f" >&2
  done
  FAILED=$((FAILED + n))
  say "tsan: $n report file(s), $((SECONDS - t0)) s"
}

# make lint (build-aux/lint.sh) counts as one check.
run_lint() {
  say "lint"
  configure_tree --enable-werror
  if make -s lint LINT_ALLOW="$LINT_PENDING" >&2; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1)); say "lint: FAILED"
  fi
}

run_fuzz() {
  local t0=$SECONDS t
  say "fuzzing: ${FUZZ_SECONDS}s per target ($FUZZ_TARGETS)"
  configure_tree CC=clang --enable-fuzzing
  make -s -j"$JOBS" $(printf 'tests/fuzz/%s ' $FUZZ_TARGETS) >/dev/null
  for t in $FUZZ_TARGETS; do
    local corpus
    corpus=$(mktemp -d)
    [ -d "tests/fuzz/corpus/${t#fuzz_}" ] && cp -r "tests/fuzz/corpus/${t#fuzz_}/." "$corpus/"
    if "./tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=1024 -timeout=5 \
         "$corpus" >"tests/fuzz/$t.log" 2>&1; then
      PASSED=$((PASSED + 1)); say "$t: no findings"
    else
      FAILED=$((FAILED + 1)); say "$t: FINDING"; tail -n 40 "tests/fuzz/$t.log" >&2
    fi
    rm -rf "$corpus"
  done
  say "fuzz: $((SECONDS - t0)) s (the instrumented build included)"
}

# The reliability suite (make check-reliability: kill -9 at random moments,
# the upstream fault matrix, every hostile client at once) on a plain build,
# counted like the others.
# Last in SUITES, so that its build is the one left behind.
# RELIABILITY_ITERS=N (default 52) runs more kill -9 iterations.
run_reliability() {
  CHECK_ARGS=('TESTS=$(RELIABILITY_TESTS)')
  run_suite "reliability"
  CHECK_ARGS=()
}

# The multi-host test bed (make check-cluster: network namespaces shaped
# with tc, a Ceph RGW bucket, site nodes as peers, rack mirrors as tiers,
# 24 clients on one 512 MiB file) on a plain build.  BED_SIZE_MIB=N sets
# the file size.
run_cluster() {
  CHECK_ARGS=('TESTS=$(CLUSTER_TESTS)')
  run_suite "cluster"
  CHECK_ARGS=()
}

case ${1:-} in
  deps)
    install_pkgs $BUILD_PKGS ;;
  build)
    install_pkgs $BUILD_PKGS
    build ;;
  run)
    install_pkgs $BUILD_PKGS
    build
    say "starting ggufd on ${GGUFD_LISTEN:-0.0.0.0:8080} (store ${GGUFD_STORE:-./ggufd-data}); Ctrl-C stops it"
    exec ./ggufd serve ;;
  test)
    install_pkgs $BUILD_PKGS $TEST_PKGS
    say "npm ci (test clients)"
    npm ci --prefix tests --no-audit --no-fund --loglevel=error >/dev/null
    for suite in $SUITES; do
      case $suite in
        lint) run_lint ;;
        werror) run_distcheck ;;
        asan) run_suite "asan+ubsan" --enable-werror --enable-asan ;;
        tsan) run_tsan ;;
        fuzz) run_fuzz ;;
        cluster) run_cluster ;;
        reliability) run_reliability ;;
        *) say "unknown suite '$suite' in SUITES"; FAILED=$((FAILED + 1)) ;;
      esac
    done
    # Leave a normal build behind, as after ./setup.sh build.
    build
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2 ;;
esac
