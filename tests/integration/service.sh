#!/usr/bin/env bash
# service.sh: serve as a service: the graceful stop, connection limits and
# timeouts, and the time-to-first-byte histogram.
#
#   - SIGTERM during a slow download (curl --limit-rate, a 32 MiB file):
#     the drain counts that one request (not the idle keep-alive
#     connections), a new connection is refused at once, a request on a
#     kept-alive connection is answered with "Connection: close" and the
#     connection ends, the download completes byte-exact, the drain ends
#     when nothing is in progress (not at its timeout) although an idle
#     connection is still open, ggufd exits 0 and verify passes;
#   - the same with two clients reading a cold file while ggufd fetches it
#     from a throttled fake Hub, and a slow upload (plain PUT) being
#     received: the fetch goes on during the drain, both readers get the
#     exact file, the blob lands whole, the upload is published upstream;
#   - --drain-timeout 1: a download that would take longer is cut (curl
#     sees it), ggufd exits 0;
#   - a second SIGTERM during the drain stops at once (the drain timeout
#     is 300 s; ggufd is gone within the test's bounded wait);
#   - --max-connections with --threads 1: connections holding half a
#     request fill it and the next one is not served; --connection-timeout 2
#     closes them; it serves again, also after a flood of connections that
#     go away;
#   - --header-timeout 2: a client trickling its headers a byte every half
#     second (which the idle timeout, 30 s here, never ends) is closed;
#   - --per-ip-connections 2: a third connection from 127.0.0.1 is closed
#     without an answer, and served again once the others are gone;
#   - /metrics: ggufd_request_ttfb_seconds_count rose for the routes used.
# No timing assertions: each wait is a bounded poll.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 30

REPO=ruv/ruvltra
NAME=ruvltra-1b-q4_k_m.gguf
BIG=$WORK/big.gguf
S=$WORK/store
DL=$WORK/dl
mkdir -p "$DL"

if mkgguf "$BIG" --size 32M >"$WORK/mk.log" 2>&1 &&
	"$GGUFD" import --store "$S" "$REPO" "$BIG=$NAME" >"$WORK/import.out" 2>&1; then
	ok "a 32 MiB GGUF imported into a store"
else
	not_ok "a 32 MiB GGUF imported into a store" "$(cat "$WORK/mk.log" "$WORK/import.out")"
	finish
	exit
fi
BIG_SIZE=$(file_size "$BIG")

# slow_get OUT RATE: a background download of the big file at RATE
# (curl --limit-rate); its exit status lands in OUT.rc.
slow_get() {
	(
		gcurl --limit-rate "$2" -o "$1" "$BASE/$REPO/resolve/main/$NAME" 2>"$1.err"
		echo $? >"$1.rc"
	) &
	bg_track $!
}

# wait_bytes FILE N: polls (bounded) until FILE has at least N bytes.
wait_bytes() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -c %s -- "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep "$GG_POLL"
	done
	return 1
}

# wait_log PATTERN: polls (bounded) until the daemon's log has PATTERN.
wait_log() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q -- "$1" "$GGUFD_LOG" 2>/dev/null && return 0
		sleep "$GG_POLL"
	done
	return 1
}

# wait_exit: polls (bounded, ~60 s) until the daemon is gone; sets
# GGUFD_STATUS to its exit status.  1 if it is still running.
wait_exit() {
	local i
	for ((i = 0; i < 600; i++)); do
		if ! kill -0 "$GGUFD_PID" 2>/dev/null; then
			wait "$GGUFD_PID" 2>/dev/null
			GGUFD_STATUS=$?
			GGUFD_PID=
			return 0
		fi
		sleep "$GG_POLL"
	done
	GGUFD_STATUS=running
	return 1
}

# read_head FD: prints a response's status line and headers read from FD
# (CR stripped), then reads its body (Content-Length bytes); bounded by
# read -t.  1 if the head did not arrive.
read_head() {
	local fd=$1 line len=0 body got=0
	while IFS= read -r -t 10 -u "$fd" line; do
		line=${line%$'\r'}
		[ -z "$line" ] && {
			got=1
			break
		}
		printf '%s\n' "$line"
		case ${line,,} in content-length:*) len=${line#*:} len=${len// /} ;; esac
	done
	[ "$got" = 1 ] || return 1
	[ "$len" -gt 0 ] && IFS= read -r -N "$len" -t 10 -u "$fd" body
	return 0
}

# eof FD: does FD reach end of file (the server closed it) within 10 s?
eof() {
	timeout 10 cat <&"$1" >/dev/null 2>&1
}

port() {
	echo "${BASE##*:}"
}

verify_store() {
	"$GGUFD" verify --store "$S" >"$WORK/verify.out" 2>&1
	result "$1" $? "$(tail -c 1500 "$WORK/verify.out")"
}

# --- 1. SIGTERM during a slow download: the drain -------------------------------------

if ! start_ggufd "$S" --upstream none --drain-timeout 300; then
	not_ok "ggufd serve started"
	finish
	exit
fi
exec {IDLE}<>"/dev/tcp/127.0.0.1/$(port)" {KEEP}<>"/dev/tcp/127.0.0.1/$(port)"
printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n' >&"$IDLE"
printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n' >&"$KEEP"
read_head "$IDLE" >"$WORK/idle.h"
read_head "$KEEP" >"$WORK/keep.h"
result "two keep-alive connections answered 200 and left open" \
	"$(grep -q '^HTTP/1.1 200' "$WORK/idle.h" && grep -q '^HTTP/1.1 200' "$WORK/keep.h" &&
		! grep -qi '^connection: close' "$WORK/keep.h"; echo $?)" "$(cat "$WORK/idle.h" "$WORK/keep.h")"

slow_get "$DL/d1" 4M
wait_bytes "$DL/d1" 1000000
kill -TERM "$GGUFD_PID"
wait_log 'draining:'
result "the drain starts with the one download in progress (idle connections are not counted)" \
	"$(grep -q 'draining: new connections refused, 1 request(s) in progress' "$GGUFD_LOG"; echo $?)" \
	"$(tail -n 5 "$GGUFD_LOG")"

gcurl --max-time 5 -o /dev/null "$BASE/healthz" 2>/dev/null
rc=$?
result "a new connection during the drain is refused (curl exit 7) while the download goes on" \
	"$([ "$rc" = 7 ] && kill -0 "$GGUFD_PID" 2>/dev/null && [ ! -f "$DL/d1.rc" ]; echo $?)" \
	"curl exit $rc; download done: $(cat "$DL/d1.rc" 2>/dev/null || echo no)"

printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n' >&"$KEEP"
read_head "$KEEP" >"$WORK/keep2.h"
result "a request on a kept-alive connection during the drain is answered with Connection: close, then the connection ends" \
	"$(grep -q '^HTTP/1.1 200' "$WORK/keep2.h" && grep -qi '^connection: close' "$WORK/keep2.h" &&
		eof "$KEEP"; echo $?)" "$(cat "$WORK/keep2.h")"
exec {KEEP}>&-

bg_wait
result "the download in progress at SIGTERM completes byte-exact" \
	"$([ "$(cat "$DL/d1.rc" 2>/dev/null)" = 0 ] && cmp -s "$DL/d1" "$BIG"; echo $?)" \
	"curl exit $(cat "$DL/d1.rc" 2>/dev/null): $(cat "$DL/d1.err" 2>/dev/null); $(file_size "$DL/d1" 2>/dev/null) of $BIG_SIZE bytes"
wait_exit
result "then ggufd exits 0" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" \
	"status $GGUFD_STATUS" "$(tail -n 8 "$GGUFD_LOG")"
result "the open idle connection did not hold the drain: it ended with nothing in progress, not at the timeout, and the connection was closed" \
	"$(grep -q 'drained in .* no request in progress' "$GGUFD_LOG" && ! grep -q 'timeout after' "$GGUFD_LOG" &&
		grep -q 'info stopped' "$GGUFD_LOG" && eof "$IDLE"; echo $?)" "$(tail -n 8 "$GGUFD_LOG")"
exec {IDLE}>&-
verify_store "after the drain, ggufd verify passes"

# --- 1b. readers of a fetch in flight are drained too ----------------------------------

TOKEN=hf_upstreamsecret
COLD=$WORK/cold.gguf
UPF=$WORK/up.gguf
UPNAME=ruvltra-drain-0.5b-q4_k_m.gguf
S2=$WORK/store2
if mkgguf "$COLD" --size 12M --seed 2 >"$WORK/mk2.log" 2>&1 &&
	mkgguf "$UPF" --size 8M --seed 5 >>"$WORK/mk2.log" 2>&1 &&
	UTOK=$("$GGUFD" token add ci --scope upload --store "$S2" 2>>"$WORK/mk2.log") &&
	fakehub mkrepo --repos "$WORK/repos" --repo "$REPO" --commit auto "$COLD" >>"$WORK/mk2.log" 2>&1 &&
	start_fakehub "$WORK/repos" --token "$TOKEN" &&
	HF_TOKEN=$TOKEN start_ggufd "$S2" --upstream "$HUB" --drain-timeout 300; then
	ok "a fake Hub with a cold 12 MiB file, and ggufd mirroring it with an upload token"
	SHA=$(sha256_of "$COLD")
	# 2 MB/s: the fetch takes seconds, so the drain starts while it runs.
	fake_fault "{\"throttle_bps\": 2000000, \"match\": \"$SHA\", \"count\": -1}"
	for i in 1 2; do
		(
			gcurl -o "$DL/cold$i" "$BASE/$REPO/resolve/main/cold.gguf" 2>"$DL/cold$i.err"
			echo $? >"$DL/cold$i.rc"
		) &
		bg_track $!
	done
	(
		gcurl --limit-rate 2M -T "$UPF" -H "Authorization: Bearer $UTOK" -o "$DL/up.json" \
			-w '%{http_code}' "$BASE/api/ggufd/upload/$REPO/$UPNAME" >"$DL/up.code" 2>"$DL/up.err"
	) &
	bg_track $!
	part=""
	staged=""
	for ((i = 0; i < 200; i++)); do
		part=$(find "$S2/tmp" -name "$SHA*.part" -type f -size +1000k 2>/dev/null | head -n1)
		staged=$(find "$S2/tmp" -name "*.tmp" -type f -size +1000k 2>/dev/null | head -n1)
		[ -n "$part" ] && [ -n "$staged" ] && break
		sleep "$GG_POLL"
	done
	kill -TERM "$GGUFD_PID"
	wait_log 'draining:'
	result "SIGTERM mid-fetch and mid-upload: the drain starts with the two readers and the upload in progress" \
		"$([ -n "$part" ] && [ -n "$staged" ] &&
			grep -q 'draining: new connections refused, 3 request(s) in progress' "$GGUFD_LOG"; echo $?)" \
		"partial: '$part', upload staged: '$staged'" "$(tail -n 5 "$GGUFD_LOG")"
	bg_wait
	result "the upload completes during the drain: 200 done, and the fake Hub has one commit with it" \
		"$([ "$(cat "$DL/up.code" 2>/dev/null)" = 200 ] && [ "$(jpy "$DL/up.json" 'd["state"]' 2>/dev/null)" = "done" ] &&
			[ "$(jpy "$FAKEHUB_STATE" "sum(1 for c in d['commits'] if '$UPNAME' in c.get('lfsPaths', []) + c.get('files', []))")" = 1 ]; echo $?)" \
		"status $(cat "$DL/up.code" 2>/dev/null): $(head -c 500 "$DL/up.json" 2>/dev/null) $(cat "$DL/up.err" 2>/dev/null)"
	result "both readers get the exact file" \
		"$(for i in 1 2; do [ "$(cat "$DL/cold$i.rc" 2>/dev/null)" = 0 ] && cmp -s "$DL/cold$i" "$COLD" || echo bad; done | grep -q bad; [ $? = 1 ]; echo $?)" \
		"$(for i in 1 2; do echo "reader $i: curl exit $(cat "$DL/cold$i.rc" 2>/dev/null), $(file_size "$DL/cold$i" 2>/dev/null) bytes $(cat "$DL/cold$i.err" 2>/dev/null)"; done)"
	wait_exit
	"$GGUFD" verify --store "$S2" >"$WORK/verify2.out" 2>&1
	vst=$?
	result "ggufd exits 0 after the fetch landed whole: blob in the store, no partial, verify passes" \
		"$([ "$GGUFD_STATUS" = 0 ] && [ -f "$S2/blobs/sha256/${SHA:0:2}/$SHA" ] &&
			[ -z "$(find "$S2/tmp" -name "$SHA*" 2>/dev/null)" ] && [ "$vst" = 0 ]; echo $?)" \
		"status $GGUFD_STATUS, verify $vst" "$(find "$S2/blobs" "$S2/tmp" 2>&1 | head -n 20)" \
		"$(tail -n 8 "$GGUFD_LOG")"
	fake_clear
	stop_fakehub
else
	not_ok "a fake Hub with a cold 12 MiB file, and ggufd mirroring it" "$(tail -c 2000 "$WORK/mk2.log")"
	for i in 1 2 3 4; do not_ok "fetch drain: not run"; done
	stop_ggufd
	stop_fakehub
fi

# --- 2. --drain-timeout 1 cuts what would take longer ---------------------------------

if start_ggufd "$S" --upstream none --drain-timeout 1; then
	slow_get "$DL/d2" 1M
	wait_bytes "$DL/d2" 1000000
	kill -TERM "$GGUFD_PID"
	wait_exit
	bg_wait
	result "--drain-timeout 1: ggufd cuts the download still in progress and exits 0" \
		"$([ "$GGUFD_STATUS" = 0 ] && grep -q 'timeout after 1 s: cutting 1 request(s)' "$GGUFD_LOG"; echo $?)" \
		"status $GGUFD_STATUS" "$(tail -n 8 "$GGUFD_LOG")"
	result "the cut download is visibly incomplete (curl fails, fewer bytes)" \
		"$([ "$(cat "$DL/d2.rc" 2>/dev/null)" != 0 ] && [ "$(file_size "$DL/d2")" -lt "$BIG_SIZE" ]; echo $?)" \
		"curl exit $(cat "$DL/d2.rc" 2>/dev/null); $(file_size "$DL/d2" 2>/dev/null) bytes"
else
	not_ok "--drain-timeout 1: ggufd started"
	not_ok "--drain-timeout 1: not run"
fi

# --- 3. a second SIGTERM during the drain stops at once -------------------------------

if start_ggufd "$S" --upstream none --drain-timeout 300; then
	slow_get "$DL/d3" 1M
	wait_bytes "$DL/d3" 1000000
	kill -TERM "$GGUFD_PID"
	wait_log 'draining:'
	kill -TERM "$GGUFD_PID"
	wait_exit
	bg_wait
	result "a second SIGTERM during a 300 s drain stops ggufd (exit 0) and cuts the download" \
		"$([ "$GGUFD_STATUS" = 0 ] && grep -q 'signal 15 during the drain: cutting 1 request(s)' "$GGUFD_LOG" &&
			[ "$(cat "$DL/d3.rc" 2>/dev/null)" != 0 ]; echo $?)" \
		"status $GGUFD_STATUS; curl exit $(cat "$DL/d3.rc" 2>/dev/null)" "$(tail -n 8 "$GGUFD_LOG")"
else
	not_ok "second SIGTERM: ggufd started"
fi
verify_store "after the cut transfers, ggufd verify passes"

# --- 4. the connection limit and the idle timeout -------------------------------------

if ! start_ggufd "$S" --upstream none --threads 1 --max-connections 2 --connection-timeout 2; then
	not_ok "ggufd started with --max-connections 2 --connection-timeout 2"
	finish
	exit
fi
exec {H1}<>"/dev/tcp/127.0.0.1/$(port)" {H2}<>"/dev/tcp/127.0.0.1/$(port)"
printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n' >&"$H1"
printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n' >&"$H2"
code=$(gcurl --max-time 1 -o /dev/null -w '%{http_code}' "$BASE/healthz" 2>/dev/null)
result "with 2 connections holding half a request, a third is not served" \
	"$([ "$code" != 200 ]; echo $?)" "status '$code'"
eof "$H1"
s1=$?
eof "$H2"
s2=$?
result "--connection-timeout 2 closes both half-request connections" \
	"$([ "$s1" = 0 ] && [ "$s2" = 0 ]; echo $?)" "eof: $s1 $s2 (124: still open after 10 s)"
exec {H1}>&- {H2}>&-
code=$(gcurl --max-time 10 -o /dev/null -w '%{http_code}' "$BASE/healthz" 2>/dev/null)
result "then it serves again" "$([ "$code" = 200 ]; echo $?)" "status '$code'"

FLOOD=()
for ((i = 0; i < 30; i++)); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$(port)" || break
	{ printf 'GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ' >&"$fd"; } 2>/dev/null
	FLOOD+=("$fd")
done
for fd in "${FLOOD[@]}"; do
	exec {fd}>&-
done
code=
for ((i = 0; i < 20; i++)); do
	code=$(gcurl --max-time 2 -o /dev/null -w '%{http_code}' "$BASE/healthz" 2>/dev/null)
	[ "$code" = 200 ] && break
	sleep "$GG_POLL"
done
result "after a flood of ${#FLOOD[@]} half-request connections that went away, it serves again" \
	"$([ "$code" = 200 ] && [ "${#FLOOD[@]}" = 30 ]; echo $?)" "status '$code'"

# --- 4b. the header deadline against a trickling client --------------------------------

if start_ggufd "$S" --upstream none --connection-timeout 30 --header-timeout 2; then
	exec {T}<>"/dev/tcp/127.0.0.1/$(port)"
	(
		trap '' PIPE
		printf 'GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ' >&"$T"
		for ((i = 0; i < 40; i++)); do
			sleep 0.5
			{ printf 'a' >&"$T"; } 2>/dev/null || exit 0
		done
	) &
	bg_track $!
	eof "$T"
	s1=$?
	exec {T}>&-
	bg_wait
	result "--header-timeout 2 closes a connection whose headers trickle in (the idle timeout would not)" \
		"$([ "$s1" = 0 ]; echo $?)" "eof: $s1 (124: still open after 10 s)"
	code=$(gcurl --max-time 10 -o /dev/null -w '%{http_code}' "$BASE/healthz" 2>/dev/null)
	result "a whole request is still served" "$([ "$code" = 200 ]; echo $?)" "status '$code'"
else
	not_ok "--header-timeout 2: ggufd started"
	not_ok "--header-timeout 2: not run"
fi

# --- 5. the per-address limit -----------------------------------------------------------

if start_ggufd "$S" --upstream none --per-ip-connections 2; then
	exec {H1}<>"/dev/tcp/127.0.0.1/$(port)" {H2}<>"/dev/tcp/127.0.0.1/$(port)"
	printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n' >&"$H1"
	printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n' >&"$H2"
	gcurl --max-time 5 -o /dev/null "$BASE/healthz" 2>/dev/null
	rc=$?
	result "--per-ip-connections 2: a third connection from 127.0.0.1 is closed without an answer" \
		"$([ "$rc" = 52 ] || [ "$rc" = 56 ]; echo $?)" "curl exit $rc (52: empty reply, 56: reset)"
	exec {H1}>&- {H2}>&-
	code=
	for ((i = 0; i < 20; i++)); do
		code=$(gcurl --max-time 2 -o /dev/null -w '%{http_code}' "$BASE/healthz" 2>/dev/null)
		[ "$code" = 200 ] && break
		sleep "$GG_POLL"
	done
	result "once they are gone, it is served" "$([ "$code" = 200 ]; echo $?)" "status '$code'"
else
	not_ok "--per-ip-connections 2: ggufd started"
	not_ok "--per-ip-connections 2: not run"
fi

# --- 6. time to first byte ------------------------------------------------------------

# ttfb_count ROUTE FILE: the histogram's count for ROUTE in a scrape (0 if absent).
ttfb_count() {
	local v
	v=$(grep -E "^ggufd_request_ttfb_seconds_count\{route=\"$1\"\} " "$2" | awk '{ print $2 }')
	echo "${v:-0}"
}
gcurl -o "$WORK/m1" "$BASE/metrics"
R=$BASE/$REPO/resolve/main/$NAME
gcurl -o /dev/null "$R"
gcurl -o /dev/null -r 0-99 "$R"
gcurl -o /dev/null -r 0-9,100-109 "$R"
gcurl -o /dev/null "$BASE/healthz"
gcurl -o "$WORK/m2" "$BASE/metrics"
r1=$(ttfb_count resolve "$WORK/m1")
r2=$(ttfb_count resolve "$WORK/m2")
h1=$(ttfb_count healthz "$WORK/m1")
h2=$(ttfb_count healthz "$WORK/m2")
result "ggufd_request_ttfb_seconds_count rose by 3 for resolve (whole, range, multipart) and by 1 for healthz" \
	"$([ $((r2 - r1)) = 3 ] && [ $((h2 - h1)) = 1 ]; echo $?)" "resolve $r1 -> $r2, healthz $h1 -> $h2" \
	"$(grep ttfb "$WORK/m2" | head -n 30)"
inf=$(grep -E '^ggufd_request_ttfb_seconds_bucket\{route="resolve",le="\+Inf"\} ' "$WORK/m2" | awk '{ print $2 }')
result "the histogram is well formed: TYPE histogram, its +Inf bucket equals its count" \
	"$(grep -q '^# TYPE ggufd_request_ttfb_seconds histogram$' "$WORK/m2" && [ "$inf" = "$r2" ]; echo $?)" \
	"+Inf '$inf', count '$r2'"
stop_ggufd
result "SIGTERM with nothing in progress: exit 0" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" \
	"status $GGUFD_STATUS" "$(tail -n 5 "$GGUFD_LOG")"
verify_store "at the end, ggufd verify passes"

finish
