#!/bin/bash
# flood.sh: connection exhaustion (idle connections holding every slot)
# against the shedding of idle connections.
#
#   - --max-connections 64: 80 idle connections (no byte sent) from
#     127.0.0.2-5 fill it; a client from 127.0.0.1 still gets its download
#     byte-exact, ggufd is still up, and its log says it shed idle
#     connections.  The idle and header timeouts are 300 s, so only the
#     shedding can have made room within curl's --max-time;
#   - --per-ip-connections 16: 127.0.0.2 holds its whole share idle, and a
#     new connection from 127.0.0.2 is served; 127.0.0.3 holds its share
#     with half a request each (requests in progress, never shed), and a
#     new connection from 127.0.0.3 is closed without an answer while
#     127.0.0.1 is still served;
#   - the defaults (1024 connections, 256 per address): 1024 idle
#     connections from four addresses, and 127.0.0.1 is still served
#     (skipped when the file descriptor limit is too low for it).
# The source addresses are all loopback (Linux routes 127/8 to lo).  No
# timing assertions: each wait is a bounded poll, each client has
# --max-time.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 14

REPO=ruv/ruvltra
NAME=ruvltra-1b-q4_k_m.gguf
SRC=$WORK/src.gguf
S=$WORK/store
HOLD=$TOP_SRCDIR/tests/integration/holdconns.py
LONG=(--connection-timeout 300 --header-timeout 300)

if mkgguf "$SRC" --size 4M >"$WORK/mk.log" 2>&1 &&
	"$GGUFD" import --store "$S" "$REPO" "$SRC=$NAME" >"$WORK/import.out" 2>&1; then
	ok "a 4 MiB GGUF imported into a store"
else
	not_ok "a 4 MiB GGUF imported into a store" "$(cat "$WORK/mk.log" "$WORK/import.out")"
	finish
	exit
fi

port() {
	echo "${BASE##*:}"
}

# hold OUT COUNT ADDRS [SEND]: holdconns.py in the background (it gives up
# by itself after 120 s); waits (bounded) until its connections are open and
# sets HOLD_LINE to its "open N failed M" line.  1 if that line never came.
# Not to be run in a subshell: HOLD_PID is for release.
HOLD_PID=
HOLD_LINE=
hold() {
	local i
	HOLD_LINE=
	python3 "$HOLD" "$(port)" "$2" "$3" "${4:-}" 120 >"$1" 2>"$1.err" &
	HOLD_PID=$!
	bg_track "$HOLD_PID"
	for ((i = 0; i < 600; i++)); do
		if grep -q '^open ' "$1" 2>/dev/null; then
			HOLD_LINE=$(grep '^open ' "$1")
			return 0
		fi
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	return 1
}

# release: ends the holder (it closes its connections).
release() {
	kill -TERM "$HOLD_PID" 2>/dev/null
	bg_wait
}

# fetch OUT [CURL ARGS...]: downloads the file (bounded: --max-time 20);
# 0 if OUT is byte-exact.
fetch() {
	local out=$1
	shift
	rm -f -- "$out"
	gcurl --max-time 20 "$@" -o "$out" "$BASE/$REPO/resolve/main/$NAME" 2>"$out.err" &&
		cmp -s -- "$out" "$SRC"
}

# up: ggufd is still running and answers /healthz.
up() {
	kill -0 "$GGUFD_PID" 2>/dev/null &&
		[ "$(gcurl --max-time 10 -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ]
}

# wait_log PATTERN: polls (bounded) until the daemon's log has PATTERN.
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q -- "$1" "$GGUFD_LOG" 2>/dev/null && return 0
		sleep "$GG_POLL"
	done
	return 1
}

# --- 1. a full server sheds its longest-idle connections --------------------------------

if start_ggufd "$S" --upstream none --max-connections 64 "${LONG[@]}"; then
	hold "$WORK/h1" 80 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5
	result "80 idle connections from 127.0.0.2-5 opened (--max-connections 64)" \
		"$([ "$HOLD_LINE" = "open 80 failed 0" ]; echo $?)" "holder: '$HOLD_LINE'" "$(cat "$WORK/h1.err")"
	fetch "$WORK/d1"
	result "a client from 127.0.0.1 gets its download byte-exact" $? \
		"$(cat "$WORK/d1.err")" "$(tail -n 5 "$GGUFD_LOG")"
	up
	result "ggufd is still up and answers /healthz" $?
	wait_log 'shed [0-9]* idle connection'
	result "its log says it shed idle connections" $? "$(tail -n 5 "$GGUFD_LOG")"
	release
	diag "holder: $(tr '\n' ' ' <"$WORK/h1")"
else
	not_ok "--max-connections 64: ggufd started"
fi

# --- 2. an address at its per-address limit ---------------------------------------------

if start_ggufd "$S" --upstream none --max-connections 64 --per-ip-connections 16 "${LONG[@]}"; then
	hold "$WORK/h2" 16 127.0.0.2
	result "127.0.0.2 holds its whole share (16) idle" \
		"$([ "$HOLD_LINE" = "open 16 failed 0" ]; echo $?)" "holder: '$HOLD_LINE'" "$(cat "$WORK/h2.err")"
	fetch "$WORK/d2" --interface 127.0.0.2
	result "a new connection from 127.0.0.2 is served byte-exact (its oldest idle one is shed)" $? \
		"$(cat "$WORK/d2.err")" "$(tail -n 5 "$GGUFD_LOG")"
	release
	diag "holder: $(tr '\n' ' ' <"$WORK/h2")"

	hold "$WORK/h3" 16 127.0.0.3 'GET /healthz HTTP/1.1\r\nHost: t\r\n'
	result "127.0.0.3 holds its whole share (16) with half a request each" \
		"$([ "$HOLD_LINE" = "open 16 failed 0" ]; echo $?)" "holder: '$HOLD_LINE'" "$(cat "$WORK/h3.err")"
	gcurl --max-time 10 --interface 127.0.0.3 -o /dev/null "$BASE/healthz" 2>/dev/null
	rc=$?
	result "a request in progress is never shed: a new connection from 127.0.0.3 is closed without an answer" \
		"$([ "$rc" = 52 ] || [ "$rc" = 56 ]; echo $?)" "curl exit $rc (52: empty reply, 56: reset)"
	fetch "$WORK/d3"
	result "a client from 127.0.0.1 is still served byte-exact" $? "$(cat "$WORK/d3.err")"
	release
	diag "holder: $(tr '\n' ' ' <"$WORK/h3")"
else
	not_ok "--per-ip-connections 16: ggufd started"
fi

# --- 3. the defaults against 4 x 256 idle connections ---------------------------------------

# The holder's 1024 sockets and ggufd's 1024 connections need descriptors.
ulimit -n 4096 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
	for t in "1024 idle connections opened" "127.0.0.1 served beside them" "ggufd still up"; do
		skip "$t" "the file descriptor limit is $(ulimit -n), 4096 needed"
	done
elif start_ggufd "$S" --upstream none "${LONG[@]}"; then
	hold "$WORK/h4" 1024 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5
	result "1024 idle connections from 127.0.0.2-5 opened (the default limits: 1024, 256 per address)" \
		"$([ "$HOLD_LINE" = "open 1024 failed 0" ]; echo $?)" "holder: '$HOLD_LINE'" "$(cat "$WORK/h4.err")"
	fetch "$WORK/d4"
	result "a client from 127.0.0.1 gets its download byte-exact" $? \
		"$(cat "$WORK/d4.err")" "$(tail -n 5 "$GGUFD_LOG")"
	up
	result "ggufd is still up and answers /healthz" $?
	release
	diag "holder: $(tr '\n' ' ' <"$WORK/h4")"
else
	not_ok "default limits: ggufd started"
fi

stop_ggufd
result "SIGTERM: exit 0" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" "status $GGUFD_STATUS" \
	"$(tail -n 5 "$GGUFD_LOG")"

finish
