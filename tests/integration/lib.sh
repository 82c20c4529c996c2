# shellcheck shell=bash disable=SC2034
# lib.sh: helpers for ggufd's shell integration tests.  Sourced, not run.
#
# The scripts drive the real ggufd binary and real clients and speak TAP
# (automake's tap-driver.sh reads them).  They get from `make check`:
#   GGUFD        absolute path of the ggufd binary
#   MKGGUF       absolute path of tests/mkgguf (the GGUF test-file generator)
#   TOP_SRCDIR, TOP_BUILDDIR
#   NODE_TESTDIR the folder with node_modules (npm ci) and the .mjs clients
#                to run: the build tree's tests/ (a build outside the source
#                tree has copies of them there)
#   GGUFD_SHARED the shared folder whose vendor/ has the Python Hub client
#                (configure's; default the source tree's sibling ../shared)
#
# Rules every script keeps: only 127.0.0.1, every wait bounded (curl
# --max-time, timeout(1), counted polling loops), no timing assertions, and
# every process and temp dir it starts is gone when it exits (trap EXIT).
#
# TAP:   plan N; ok DESC; not_ok DESC [DIAG...]; check DESC CMD...; diag MSG;
#        finish (pads unrun tests as failures so the plan always holds, and
#        sets the exit status).
# Setup: need_env; WORK (temp dir, removed on exit); start_ggufd STORE
#        (exports BASE and GGUFD_PID); stop_ggufd; mkgguf OUT [ARGS...].
# Data:  sha256_of FILE; gitsha1_of FILE; file_size FILE; header VALUE.

set -u -o pipefail

# Waits are counted in polls of this many seconds, never measured.
GG_POLL=0.1
GG_START_POLLS=100   # ~10 s for "listening on" to appear
GG_STOP_POLLS=100    # ~10 s for a clean exit after SIGTERM

_tap_plan=0
_tap_n=0
_tap_failed=0

plan() {
	_tap_plan=$1
	echo "1..$1"
}

diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1"
}

# not_ok DESC [DIAG...]: a failed test, with diagnostics as TAP comments.
not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	shift
	[ $# -gt 0 ] && diag "$*"
	return 0
}

# need_browser: the browser tests' Debian chromium ($CHROMIUM, exported)
# and npm playwright-core; without either the whole script is skipped,
# visibly (TAP "1..0 # SKIP reason").  ./setup.sh test installs both.
need_browser() {
	CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
	export CHROMIUM
	if [ ! -x "$CHROMIUM" ]; then
		echo "1..0 # SKIP $CHROMIUM is not installed (apt-get install chromium; ./setup.sh test does)"
		exit 0
	fi
	if [ ! -d "$NODE_TESTDIR/node_modules/playwright-core" ]; then
		echo "1..0 # SKIP playwright-core is not installed (npm ci --prefix tests)"
		exit 0
	fi
}

# skip DESC REASON: a test that cannot run here, counted as skipped (visible
# in the suite's summary), never as passed.
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

# result DESC STATUS [DIAG...]: ok if STATUS is 0.
result() {
	local desc=$1 st=$2
	shift 2
	if [ "$st" -eq 0 ]; then ok "$desc"; else not_ok "$desc" "$@"; fi
}

# check DESC CMD...: runs CMD (output to a log shown on failure).
check() {
	local desc=$1 st
	shift
	"$@" >"$WORK/check.out" 2>&1
	st=$?
	result "$desc" "$st" "command: $* (exit $st)" "$(head -c 2000 "$WORK/check.out")"
}

# finish: closes the TAP stream.  A script that stopped early still
# matches its plan: the missing tests are reported as failures.
finish() {
	while [ "$_tap_n" -lt "$_tap_plan" ]; do
		not_ok "not run (the script stopped before this test)"
	done
	[ "$_tap_failed" -eq 0 ] && [ "$_tap_n" -eq "$_tap_plan" ]
}

# need_env: the variables `make check` passes.  Running by hand from the
# top of a build tree works too.
need_env() {
	: "${TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
	: "${TOP_BUILDDIR:=$PWD}"
	: "${GGUFD:=$TOP_BUILDDIR/ggufd}"
	: "${MKGGUF:=$TOP_BUILDDIR/tests/mkgguf}"
	: "${NODE_TESTDIR:=$TOP_BUILDDIR/tests}"
	: "${GGUFD_SHARED:=$TOP_SRCDIR/../shared}"
	export TOP_SRCDIR TOP_BUILDDIR GGUFD MKGGUF NODE_TESTDIR GGUFD_SHARED
	# A user's settings must not leak into the daemon under test.
	unset GGUFD_LISTEN GGUFD_STORE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
	export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
}

# have TOOL: is TOOL on PATH?
have() {
	command -v "$1" >/dev/null 2>&1
}

# --- workspace and cleanup --------------------------------------------

GGUFD_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ggufd-it.XXXXXX") || {
	echo "Bail out! mktemp -d failed"
	exit 1
}

_cleanup() {
	local st=$?
	stop_ggufd >/dev/null 2>&1
	# Added for the mirror tests; each is a no-op when nothing was started.
	stop_ggufd2 >/dev/null 2>&1
	stop_fakehub >/dev/null 2>&1
	bg_reap >/dev/null 2>&1
	[ -n "${WORK:-}" ] && [ -d "$WORK" ] && rm -rf -- "$WORK"
	exit "$st"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the daemon --------------------------------------------------------

# start_ggufd STORE [EXTRA ARGS...]: serves STORE on 127.0.0.1, port picked
# by the kernel.  Waits (bounded) for "listening on http://127.0.0.1:PORT"
# in the daemon's stderr and exports BASE.  Returns 1, with the log on
# stdout as TAP comments, if it never appears.
GGUFD_LOG=
start_ggufd() {
	local store=$1 i line
	shift
	stop_ggufd
	GGUFD_LOG=$WORK/ggufd.$RANDOM.log
	"$GGUFD" serve --listen 127.0.0.1:0 --store "$store" "$@" \
		</dev/null >"$GGUFD_LOG.out" 2>"$GGUFD_LOG" &
	GGUFD_PID=$!
	BASE=
	for ((i = 0; i < GG_START_POLLS; i++)); do
		line=$(grep -m1 -o 'listening on http://127\.0\.0\.1:[0-9][0-9]*' "$GGUFD_LOG" 2>/dev/null)
		if [ -n "$line" ]; then
			BASE=${line#listening on }
			export BASE
			return 0
		fi
		kill -0 "$GGUFD_PID" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	diag "ggufd serve did not report 'listening on http://127.0.0.1:PORT'; its stderr:" \
		"$(head -c 3000 "$GGUFD_LOG")"
	stop_ggufd
	return 1
}

# stop_ggufd: SIGTERM, a bounded wait, then SIGKILL.  Sets GGUFD_STATUS to
# the daemon's exit status (or "killed" when SIGTERM was not enough).
GGUFD_STATUS=
stop_ggufd() {
	local i
	[ -n "$GGUFD_PID" ] || return 0
	GGUFD_STATUS=killed
	kill -TERM "$GGUFD_PID" 2>/dev/null
	for ((i = 0; i < GG_STOP_POLLS; i++)); do
		if ! kill -0 "$GGUFD_PID" 2>/dev/null; then
			wait "$GGUFD_PID" 2>/dev/null
			GGUFD_STATUS=$?
			GGUFD_PID=
			return 0
		fi
		sleep "$GG_POLL"
	done
	kill -KILL "$GGUFD_PID" 2>/dev/null
	wait "$GGUFD_PID" 2>/dev/null
	GGUFD_PID=
	return 0
}

# --- data helpers ------------------------------------------------------

# mkgguf OUT [ARGS...]: a valid GGUF file from the test generator
# (ARGS: --arch A --ftype NAME --ctx N --size BYTES ...).
mkgguf() {
	local out=$1
	shift
	timeout 120 "$MKGGUF" "$out" "$@"
}

sha256_of() {
	sha256sum -- "$1" | cut -c1-64
}

# gitsha1_of FILE: the git blob id, sha1("blob <len>\0" + content).
gitsha1_of() {
	{
		printf 'blob %d\0' "$(file_size "$1")"
		cat -- "$1"
	} | sha1sum | cut -c1-40
}

file_size() {
	stat -c %s -- "$1"
}

# header NAME FILE: the value of the last NAME header in a curl -D dump
# (case-insensitive, CR stripped).
header() {
	awk -v h="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
		{ sub(/\r$/, "") }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == h) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); last = v } }
		END { if (last != "") print last }' "$2"
}

# http_status FILE: the status code of the last response in a curl -D dump.
http_status() {
	awk '/^HTTP\// { s = $2 } END { print s }' "$1"
}

# curl with the bounds every test uses.
gcurl() {
	curl --silent --show-error --max-time 120 --connect-timeout 10 --noproxy '*' "$@"
}

# --- a second daemon (a chained mirror) ---------------------------------

# start_ggufd2 STORE [EXTRA ARGS...]: like start_ggufd, for a second daemon
# running beside the first; exports BASE2 and GGUFD2_PID, log in GGUFD2_LOG.
GGUFD2_PID=
GGUFD2_LOG=
start_ggufd2() {
	local store=$1 i line
	shift
	stop_ggufd2
	GGUFD2_LOG=$WORK/ggufd2.$RANDOM.log
	"$GGUFD" serve --listen 127.0.0.1:0 --store "$store" "$@" \
		</dev/null >"$GGUFD2_LOG.out" 2>"$GGUFD2_LOG" &
	GGUFD2_PID=$!
	BASE2=
	for ((i = 0; i < GG_START_POLLS; i++)); do
		line=$(grep -m1 -o 'listening on http://127\.0\.0\.1:[0-9][0-9]*' "$GGUFD2_LOG" 2>/dev/null)
		if [ -n "$line" ]; then
			BASE2=${line#listening on }
			export BASE2
			return 0
		fi
		kill -0 "$GGUFD2_PID" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	diag "second ggufd serve did not report its port; its stderr:" "$(head -c 3000 "$GGUFD2_LOG")"
	stop_ggufd2
	return 1
}

stop_ggufd2() {
	local i
	[ -n "$GGUFD2_PID" ] || return 0
	kill -TERM "$GGUFD2_PID" 2>/dev/null
	for ((i = 0; i < GG_STOP_POLLS; i++)); do
		kill -0 "$GGUFD2_PID" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	kill -KILL "$GGUFD2_PID" 2>/dev/null
	wait "$GGUFD2_PID" 2>/dev/null
	GGUFD2_PID=
	return 0
}

# kill9_ggufd: SIGKILL the daemon started by start_ggufd (a crash).
kill9_ggufd() {
	[ -n "$GGUFD_PID" ] || return 0
	kill -KILL "$GGUFD_PID" 2>/dev/null
	wait "$GGUFD_PID" 2>/dev/null
	GGUFD_PID=
	return 0
}

# --- background clients ---------------------------------------------------

# bg_track PID...: remember background jobs so the cleanup can end them.
GG_BG_PIDS=()
bg_track() {
	GG_BG_PIDS+=("$@")
}

# bg_wait: waits for every tracked job; each is bounded by its own
# timeout (curl --max-time, timeout(1)).
bg_wait() {
	local p
	for p in "${GG_BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	GG_BG_PIDS=()
}

bg_reap() {
	local p
	for p in "${GG_BG_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${GG_BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	GG_BG_PIDS=()
}

# --- the fake Hub (tests/fakehub/fakehub.py) -------------------------------
#
# A hub host on 127.0.0.1 and a CDN host on 127.0.0.2, with a control API
# under $HUB/_fake/ (stats, reset, faults).

FAKEHUB_PID=
FAKEHUB_LOG=
FAKEHUB_STATE=
HUB=
CDN=

# fakehub ARGS...: runs fakehub.py (e.g. the mkrepo subcommand).
fakehub() {
	timeout 120 python3 "$TOP_SRCDIR/tests/fakehub/fakehub.py" "$@"
}

# start_fakehub REPOS [EXTRA ARGS...]: serves REPOS; exports HUB, CDN,
# FAKEHUB_PID.  Returns 1 (log as TAP comments) if it does not come up.
start_fakehub() {
	local repos=$1 i line
	shift
	stop_fakehub
	FAKEHUB_LOG=$WORK/fakehub.$RANDOM.log
	FAKEHUB_STATE=$FAKEHUB_LOG.state.json
	python3 "$TOP_SRCDIR/tests/fakehub/fakehub.py" --repos "$repos" \
		--host 127.0.0.1 --cdn-host 127.0.0.2 --port 0 --cdn-port 0 \
		--state-file "$FAKEHUB_STATE" "$@" \
		</dev/null >"$FAKEHUB_LOG.out" 2>"$FAKEHUB_LOG" &
	FAKEHUB_PID=$!
	HUB= CDN=
	for ((i = 0; i < GG_START_POLLS; i++)); do
		line=$(grep -m1 '^fakehub hub=' "$FAKEHUB_LOG.out" 2>/dev/null)
		if [ -n "$line" ]; then
			HUB=$(printf '%s\n' "$line" | sed -n 's/.* hub=\([^ ]*\).*/\1/p')
			CDN=$(printf '%s\n' "$line" | sed -n 's/.* cdn=\([^ ]*\).*/\1/p')
			export HUB CDN
			return 0
		fi
		kill -0 "$FAKEHUB_PID" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	diag "fakehub did not print 'fakehub hub=URL cdn=URL'; its stderr:" "$(head -c 3000 "$FAKEHUB_LOG")"
	stop_fakehub
	return 1
}

stop_fakehub() {
	local i
	[ -n "$FAKEHUB_PID" ] || return 0
	kill -TERM "$FAKEHUB_PID" 2>/dev/null
	for ((i = 0; i < GG_STOP_POLLS; i++)); do
		kill -0 "$FAKEHUB_PID" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	kill -KILL "$FAKEHUB_PID" 2>/dev/null
	wait "$FAKEHUB_PID" 2>/dev/null
	FAKEHUB_PID=
	return 0
}

# fake_ctl METHOD PATH [JSON]: a control-API call ($HUB/_fake/PATH); the
# answer on stdout; status 1 unless it answered 200.
fake_ctl() {
	local method=$1 path=$2 body=${3:-} code
	code=$(gcurl --max-time 20 -o "$WORK/fake_ctl.out" -w '%{http_code}' -X "$method" \
		${body:+-H 'Content-Type: application/json' --data-binary "$body"} "$HUB/_fake/$path")
	cat "$WORK/fake_ctl.out" 2>/dev/null
	[ "$code" = 200 ]
}

fake_fault() { fake_ctl POST faults "$1" >/dev/null; }
fake_clear() { fake_ctl DELETE faults >/dev/null; }
fake_reset() { fake_ctl POST reset >/dev/null; }

# fake_stats FILE: the fake Hub's stats (every request, content transfers
# per sha256) as JSON in FILE.
fake_stats() {
	fake_ctl GET stats >"$1"
}

# jpy FILE EXPR: evaluates the Python expression EXPR with d = the JSON in
# FILE (reqs = d["requests"], xfers = d["content_transfers"] for stats)
# and prints the result (lists/dicts/bools as JSON).
jpy() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
reqs = d.get("requests", []) if isinstance(d, dict) else []
xfers = d.get("content_transfers", {}) if isinstance(d, dict) else {}
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else v)
' "$1" "$2"
}
