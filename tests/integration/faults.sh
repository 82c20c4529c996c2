#!/usr/bin/env bash
# faults.sh: ggufd's mirror under upstream faults (tests/fakehub/fakehub.py).
#
# For every fault the fake Hub offers (drop_after, corrupt_at, slow first
# byte, throttle, 429 with Retry-After, 503, upstream down in each mode) a
# client fetching a cold file through ggufd must end with either the exact
# bytes or a visible failure (curl exit status or an error status), never a
# complete wrong file; once the fault is gone the next GET is byte-exact.
# Besides:
#   - corrupt_at: every in-flight client is cut before its last byte, nothing
#     wrong lands under blobs/, ggufd verify passes, the next GET is exact
#     with exactly one new upstream transfer (LFS and regular files);
#   - drop_after: the client still gets the exact file, and ggufd resumed
#     upstream with Range: bytes=N-;
#   - kill -9 of ggufd mid-fetch: the partial survives, the restarted ggufd
#     resumes it with a Range from a non-zero offset, ggufd verify passes;
#   - SIGTERM mid-fetch with clients waiting: they are cut, ggufd exits 0
#     and keeps the partial (under ThreadSanitizer this is the path where
#     the fetch threads see the stop).
# No timing assertions; every wait is bounded.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 52

TOKEN=hf_upstreamsecret
REPO=ruv/ruvltra
IN=$WORK/in
DL=$WORK/dl
RESP=$WORK/resp
REPOS=$WORK/repos
S=$WORK/store
mkdir -p "$IN" "$DL" "$RESP" "$REPOS"

missing=
for t in curl python3 sha256sum timeout cmp; do
	have "$t" || missing="$missing $t"
done
result "tools on PATH (curl python3 sha256sum timeout cmp)" "$([ -z "$missing" ]; echo $?)" "missing:$missing"
if [ ! -x "$GGUFD" ] || [ ! -x "$MKGGUF" ]; then
	not_ok "ggufd and mkgguf binaries exist" "GGUFD=$GGUFD MKGGUF=$MKGGUF"
	finish
	exit
fi

# --- the fake repo: one cold file per case -----------------------------------------

CASES="drop corrupt slow throttle r429 r503 r429cdn down_close down_reset down_refuse down_hang norange"
mkst=0
i=0
for c in $CASES; do
	i=$((i + 1))
	mkgguf "$IN/$c.gguf" --size $((8000000 + 7 * i)) >>"$WORK/mk.log" 2>&1 || mkst=1
done
mkgguf "$IN/kill.gguf" --size 30000000 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/stop.gguf" --size 20000003 >>"$WORK/mk.log" 2>&1 || mkst=1
# A regular (non-LFS) file: fetched through the Hub's resolve-cache redirect, checked by git sha1.
python3 -c 'import os, sys; sys.stdout.buffer.write(os.urandom(3000000))' >"$IN/corrupt-regular.txt"
files=()
for c in $CASES kill stop; do files+=("$IN/$c.gguf"); done
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto "${files[@]}" "$IN/corrupt-regular.txt" 2>>"$WORK/mk.log")
st=$?
result "test files made (mkgguf, fakehub mkrepo)" \
	"$([ "$mkst" = 0 ] && [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]]; echo $?)" \
	"mkgguf $mkst mkrepo $st commit '$COMMIT'" "$(tail -c 2000 "$WORK/mk.log")"

if start_fakehub "$REPOS" --token "$TOKEN"; then
	ok "fakehub starts (hub $HUB, cdn $CDN)"
else
	not_ok "fakehub starts"
fi
HUB=${HUB:-http://127.0.0.1:9}
if HF_TOKEN=$TOKEN start_ggufd "$S" --upstream "$HUB" --log-level debug; then
	ok "ggufd serve --upstream fakehub starts"
else
	not_ok "ggufd serve --upstream fakehub starts"
fi
BASE=${BASE:-http://127.0.0.1:9}
R=$BASE/$REPO/resolve/main

# --- helpers --------------------------------------------------------------------------

exact() {
	[ -f "$1" ] && [ "$(file_size "$1")" = "$(file_size "$2")" ] &&
		[ "$(sha256_of "$1")" = "$(sha256_of "$2")" ]
}

# get TAG URL: GET into $DL/TAG; RC (curl exit), CODE (status).
get() {
	gcurl --max-time 60 -D "$RESP/$1.h" -o "$DL/$1" "$2" 2>"$RESP/$1.err"
	RC=$?
	CODE=$(http_status "$RESP/$1.h")
}

# outcome TAG SRC: a line describing what the client ended with.
outcome() {
	echo "curl exit $RC, status ${CODE:-none}, $(file_size "$DL/$1" 2>/dev/null || echo 0) of $(file_size "$2") bytes;" \
		"X-Error-Code: $(header X-Error-Code "$RESP/$1.h"); $(head -c 300 "$RESP/$1.err")"
}

# honest TAG SRC: byte-exact, or a visible failure; never a complete wrong
# file (a 200/206 with curl exit 0 must have SRC's size and sha256).
honest() {
	if [ "$RC" = 0 ] && { [ "$CODE" = 200 ] || [ "$CODE" = 206 ]; }; then
		exact "$DL/$1" "$2"
	else
		[ "$RC" != 0 ] || [ -n "$CODE" ]
	fi
}

stats() {
	fake_stats "$WORK/stats.json" || echo '{}' >"$WORK/stats.json"
}
xfers_of() {
	stats
	jpy "$WORK/stats.json" "xfers.get('$1', 0)"
}

# blobs_ok: every blob under blobs/ has the content its name says.
blobs_ok() {
	local f bad=
	while IFS= read -r f; do
		[ "$(sha256_of "$f")" = "$(basename "$f")" ] || bad="$bad $f"
	done < <(find "$S/blobs" -type f 2>/dev/null)
	[ -z "$bad" ] || { echo "wrong content:$bad"; return 1; }
}

verify() {
	timeout 120 "$GGUFD" verify --store "$S" >"$WORK/verify.out" 2>&1
	VST=$?
}

# fault_case NAME FILE FAULT-JSON...: sets the faults, GETs the cold FILE
# through ggufd (honest outcome), clears them, GETs again (byte-exact).
fault_case() {
	local name=$1 file=$2 f st=0 i
	shift 2
	for f in "$@"; do
		fake_fault "$f" || st=1
	done
	get "$name" "$R/$file"
	result "$name: the client gets the exact file or a visible failure ($(outcome "$name" "$IN/$file"))" \
		"$([ "$st" = 0 ] && honest "$name" "$IN/$file"; echo $?)" \
		"faults set: $st" "$(cat "$RESP/$name.h")"
	# mode refuse takes the fake Hub's ports down for a while: wait (bounded).
	for ((i = 0; i < 100; i++)); do
		fake_ctl GET health >/dev/null 2>&1 && break
		sleep 0.1
	done
	fake_clear
	get "$name.after" "$R/$file"
	result "$name: once the fault is gone, GET is byte-exact" \
		"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/$name.after" "$IN/$file"; echo $?)" \
		"$(outcome "$name.after" "$IN/$file")" "$(cat "$RESP/$name.after.h")"
}

# --- drop_after: resumed upstream with Range ---------------------------------------------

SHA=$(sha256_of "$IN/drop.gguf")
fake_fault "{\"drop_after\": 3000000, \"match\": \"$SHA\", \"count\": 1}"
st=$?
get drop "$R/drop.gguf"
result "drop_after 3000000: the client still gets the exact file" \
	"$([ "$st" = 0 ] && [ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/drop" "$IN/drop.gguf"; echo $?)" \
	"$(outcome drop "$IN/drop.gguf")" "$(cat "$RESP/drop.h")"
stats
rr=$(jpy "$WORK/stats.json" "[r['range'] for r in reqs if r['host'] == 'cdn' and '$SHA' in r['path']]")
ok_rr=$(jpy "$WORK/stats.json" "any(r['host'] == 'cdn' and '$SHA' in r['path'] and re.fullmatch(r'bytes=([1-9][0-9]*)-', r['range'] or '') for r in reqs for re in [__import__('re')])")
result "drop_after: ggufd resumed upstream with Range: bytes=N- (N > 0)" "$([ "$ok_rr" = true ]; echo $?)" \
	"CDN requests for the blob, their Range: $rr"
fake_clear

# --- ignore_range: the resume gets the whole file again, from byte 0 ---------------------------
# The first transfer is cut; the resume's Range is ignored (a 200 from byte 0).  The partial
# restarts at 0 and its hash with it (the fetch's hasher must be idle then), a reader of the old
# bytes is cut, and the blob that lands has its content.

SHA=$(sha256_of "$IN/norange.gguf")
fake_fault "{\"drop_after\": 3000000, \"match\": \"$SHA\", \"count\": 1}" &&
	fake_fault "{\"ignore_range\": true, \"match\": \"$SHA\", \"count\": 1}"
st=$?
get norange "$R/norange.gguf"
result "ignore_range: the client gets the exact file or a visible failure ($(outcome norange "$IN/norange.gguf"))" \
	"$([ "$st" = 0 ] && honest norange "$IN/norange.gguf"; echo $?)" "faults set: $st" "$(cat "$RESP/norange.h")"
get norange.after "$R/norange.gguf"
result "ignore_range: the next GET is byte-exact" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/norange.after" "$IN/norange.gguf"; echo $?)" \
	"$(outcome norange.after "$IN/norange.gguf")"
result "ignore_range: ggufd restarted the partial at byte 0" \
	"$(grep -q "upstream ignored Range for $SHA: restarting" "$GGUFD_LOG"; echo $?)" "$(grep "$SHA" "$GGUFD_LOG" | tail -n 20)"
blob=
for ((i = 0; i < 100; i++)); do
	blob=$(find "$S/blobs" -type f -name "$SHA" 2>/dev/null | head -n1)
	[ -n "$blob" ] && break
	sleep 0.1
done
result "ignore_range: the blob stored has the content its name says" \
	"$([ -n "$blob" ] && [ "$(sha256_of "$blob")" = "$SHA" ]; echo $?)" "blob: '$blob'"
fake_clear

# --- corrupt_at on an LFS file, three clients in flight ----------------------------------

SHA=$(sha256_of "$IN/corrupt.gguf")
before=$(xfers_of "$SHA")
fake_fault "{\"corrupt_at\": 6000000, \"match\": \"$SHA\", \"count\": 1}" &&
	fake_fault "{\"throttle_bps\": 4000000, \"match\": \"$SHA\", \"count\": 1}"
st=$?
for i in 1 2 3; do
	(
		gcurl --max-time 60 -D "$RESP/corrupt.$i.h" -o "$DL/corrupt.$i" "$R/corrupt.gguf" 2>"$RESP/corrupt.$i.err"
		echo $? >"$DL/corrupt.$i.rc"
	) &
	bg_track $!
done
bg_wait
fake_clear
bad=
desc=
for i in 1 2 3; do
	RC=$(cat "$DL/corrupt.$i.rc")
	CODE=$(http_status "$RESP/corrupt.$i.h")
	desc="$desc [client $i: $(outcome "corrupt.$i" "$IN/corrupt.gguf")]"
	# A visible failure, and never the whole (wrong) body.
	if [ "$RC" = 0 ] || [ "$(file_size "$DL/corrupt.$i" 2>/dev/null || echo 0)" -ge "$(file_size "$IN/corrupt.gguf")" ]; then
		bad="$bad $i"
	fi
done
result "corrupt_at 6000000: every in-flight client is cut before its last byte (curl exit non-zero)" \
	"$([ "$st" = 0 ] && [ -z "$bad" ]; echo $?)" "faults set: $st; bad clients:$bad" "$desc"
rc18=0
for i in 1 2 3; do [ "$(cat "$DL/corrupt.$i.rc")" = 18 ] || rc18=1; done
result "corrupt_at: the clients' curl exit is 18 (partial file)" "$rc18" "$desc"
x=$(blobs_ok)
result "corrupt_at: nothing under blobs/ has wrong content, and no blob for the corrupt file" \
	"$([ -z "$x" ] && [ ! -e "$S/blobs/sha256/${SHA:0:2}/$SHA" ]; echo $?)" "$x" "$(find "$S/blobs" -type f)"
verify
result "corrupt_at: ggufd verify passes" "$([ "$VST" = 0 ]; echo $?)" "exit $VST" "$(tail -c 1000 "$WORK/verify.out")"
get corrupt.after "$R/corrupt.gguf"
result "corrupt_at: the next GET (fault gone) is byte-exact" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/corrupt.after" "$IN/corrupt.gguf"; echo $?)" \
	"$(outcome corrupt.after "$IN/corrupt.gguf")"
vf=$(gcurl "$BASE/metrics" | awk '$1 == "ggufd_verify_failures_total" {print $2}')
result "corrupt_at: /metrics counts one verify failure" "$([ "$vf" = 1 ]; echo $?)" "ggufd_verify_failures_total '$vf'"
n=$(($(xfers_of "$SHA") - before))
result "corrupt_at: two upstream transfers in all (the corrupt one, one fresh fetch)" "$([ "$n" = 2 ]; echo $?)" \
	"transfers: $n" "$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['range'], r['status'], r['bytes_sent'], r.get('fault')) for r in reqs if '$SHA' in r['path']]")"

# --- corrupt_at on a regular file (git sha1 checked) ------------------------------------------

SHA=$(sha256_of "$IN/corrupt-regular.txt")
before=$(xfers_of "$SHA")
fake_fault '{"corrupt_at": 2000000, "match": "/api/resolve-cache/", "count": 1}'
st=$?
get creg "$R/corrupt-regular.txt"
result "corrupt_at on a regular file: a visible failure, not the whole body ($(outcome creg "$IN/corrupt-regular.txt"))" \
	"$([ "$st" = 0 ] && [ "$RC" != 0 ] && [ "$(file_size "$DL/creg" 2>/dev/null || echo 0)" -lt "$(file_size "$IN/corrupt-regular.txt")" ]; echo $?)" \
	"$(cat "$RESP/creg.h")"
fake_clear
x=$(blobs_ok)
result "corrupt_at on a regular file: nothing wrong under blobs/" "$([ -z "$x" ]; echo $?)" "$x"
get creg.after "$R/corrupt-regular.txt"
n=$(($(xfers_of "$SHA") - before))
result "corrupt_at on a regular file: the next GET is byte-exact after one fresh transfer" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/creg.after" "$IN/corrupt-regular.txt" && [ "$n" = 2 ]; echo $?)" \
	"$(outcome creg.after "$IN/corrupt-regular.txt"); transfers $n (want 2: the corrupt one, the fresh one)"

# --- the other faults ----------------------------------------------------------------------------

fault_case slow slow.gguf "{\"slow_first_byte\": 3, \"match\": \"$(sha256_of "$IN/slow.gguf")\", \"count\": 1}"
fault_case throttle throttle.gguf "{\"throttle_bps\": 2000000, \"match\": \"$(sha256_of "$IN/throttle.gguf")\", \"count\": 1}"
fault_case r429 r429.gguf '{"status": 429, "retry_after": 1, "match": "r429.gguf", "host": "hub", "count": 2}'
fault_case r503 r503.gguf '{"status": 503, "match": "r503.gguf", "host": "hub", "count": 2}'
fault_case r429cdn r429cdn.gguf '{"status": 429, "retry_after": 1, "match": "/cdn/", "host": "cdn", "count": 2}'
fault_case down_close down_close.gguf '{"down": true, "mode": "close"}'
fault_case down_reset down_reset.gguf '{"down": true, "mode": "reset"}'
fault_case down_refuse down_refuse.gguf '{"down": true, "mode": "refuse", "duration": 4}'
fault_case down_hang down_hang.gguf '{"down": true, "mode": "hang", "duration": 4}'

# --- kill -9 of ggufd mid-fetch, then resume -------------------------------------------------------

SHA=$(sha256_of "$IN/kill.gguf")
fake_fault "{\"throttle_bps\": 3000000, \"match\": \"$SHA\", \"count\": -1}"
(
	gcurl --max-time 60 -D "$RESP/kill.h" -o "$DL/kill" "$R/kill.gguf" 2>"$RESP/kill.err"
	echo $? >"$DL/kill.rc"
) &
bg_track $!
part=
psize=0
for ((i = 0; i < 300; i++)); do
	part=$(find "$S/tmp" -name '*.part' -type f 2>/dev/null | head -n1)
	if [ -n "$part" ]; then
		psize=$(file_size "$part" 2>/dev/null || echo 0)
		[ "$psize" -ge 2000000 ] && break
	fi
	sleep 0.1
done
kill9_ggufd
bg_wait
psize=$(file_size "$part" 2>/dev/null || echo 0)
result "kill -9 mid-fetch: store/tmp/*.part holds some bytes ($psize)" \
	"$([ -n "$part" ] && [ "$psize" -gt 0 ] && [ "$psize" -lt "$(file_size "$IN/kill.gguf")" ]; echo $?)" \
	"part: '$part'" "$(ls -la "$S/tmp" 2>&1)"
RC=$(cat "$DL/kill.rc" 2>/dev/null)
CODE=$(http_status "$RESP/kill.h")
result "kill -9: the cut client saw a visible failure or the exact file ($(outcome kill "$IN/kill.gguf"))" \
	"$(honest kill "$IN/kill.gguf"; echo $?)"
fake_clear
fake_reset
# The cut request may still be recorded after the reset: count only requests
# that started after this point (the fake Hub stamps each with its start).
T0=$(date +%s.%N)
# --drain-timeout 0: the SIGTERM case at the end is about a stop that cuts
# the fetch and its readers (service.sh tests the drain that waits).
if HF_TOKEN=$TOKEN start_ggufd "$S" --upstream "$HUB" --log-level debug --drain-timeout 0; then
	ok "ggufd restarts on the same store"
else
	not_ok "ggufd restarts on the same store"
fi
R=$BASE/$REPO/resolve/main
parts=$(find "$S/tmp" -name '*.part' -type f 2>/dev/null)
result "the partial survived the restart" "$([ -n "$parts" ]; echo $?)" "$(ls -la "$S/tmp" 2>&1)"
get kill.after "$R/kill.gguf"
result "after the restart, GET is byte-exact" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/kill.after" "$IN/kill.gguf"; echo $?)" \
	"$(outcome kill.after "$IN/kill.gguf")" "$(cat "$RESP/kill.after.h")"
stats
rr=$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['range'], r['status'], r['bytes_sent']) for r in reqs if '$SHA' in r['path'] and r['t'] >= $T0]")
ok_rr=$(jpy "$WORK/stats.json" "any('$SHA' in r['path'] and r['t'] >= $T0 and r['method'] == 'GET' and re.fullmatch(r'bytes=([1-9][0-9]*)-([0-9]*)', r['range'] or '') for r in reqs for re in [__import__('re')])")
result "the restarted ggufd resumed the partial: an upstream Range from a non-zero offset" \
	"$([ "$ok_rr" = true ]; echo $?)" "upstream requests for the blob since the restart: $rr (partial had $psize bytes)"
full=$(jpy "$WORK/stats.json" "sum(r['bytes_sent'] for r in reqs if '$SHA' in r['path'] and r['t'] >= $T0)")
result "the resume did not fetch the whole file again (bytes sent upstream < size)" \
	"$([ "$full" -lt "$(file_size "$IN/kill.gguf")" ] 2>/dev/null; echo $?)" "bytes sent: $full" "requests: $rr"

# --- upstream errors on metadata routes, relayed the Hub's way (huberr.c) ---------------------------

fake_fault '{"status": 410, "message": "This repository is disabled", "error_code": "DisabledRepo", "match": "/api/models/ruv/gone", "host": "hub", "count": -1}'
code=$(gcurl -o "$RESP/gone.b" -D "$RESP/gone.h" -w '%{http_code}' "$BASE/api/models/ruv/gone")
result "an upstream 410 on a metadata route is relayed as 410 with its X-Error-Code and message" \
	"$([ "$code" = 410 ] && grep -qi '^x-error-code: DisabledRepo' "$RESP/gone.h" &&
		grep -qi '^x-error-message: This repository is disabled' "$RESP/gone.h"; echo $?)" \
	"status $code" "$(cat "$RESP/gone.h" "$RESP/gone.b")"
fake_clear

# --- the store at the end ----------------------------------------------------------------------------

x=$(blobs_ok)
result "every blob under blobs/ has the content its name says" "$([ -z "$x" ]; echo $?)" "$x"
verify
result "ggufd verify passes at the end" "$([ "$VST" = 0 ]; echo $?)" "exit $VST" "$(tail -c 1000 "$WORK/verify.out")"
stats
n=$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['path'], r['auth']) for r in reqs if r['auth'] is not None and (r['host'] == 'cdn' or r['auth'] != 'Bearer $TOKEN')]")
result "no Authorization at the CDN, only 'Bearer $TOKEN' at the hub (since the restart)" "$([ "$n" = "[]" ]; echo $?)" "$n"

# --- SIGTERM mid-fetch: a clean stop -------------------------------------------------------------
# With no drain (--drain-timeout 0), the fetch thread notices the stop at its
# next chunk, the waiting readers are woken and cut, and the partial stays
# for the next fetch.

SHA=$(sha256_of "$IN/stop.gguf")
fake_fault "{\"throttle_bps\": 3000000, \"match\": \"$SHA\", \"count\": -1}"
for i in 1 2 3; do
	(
		gcurl --max-time 60 -D "$RESP/stop$i.h" -o "$DL/stop$i" "$R/stop.gguf" 2>"$RESP/stop$i.err"
		echo $? >"$DL/stop$i.rc"
	) &
	bg_track $!
done
part=
for ((i = 0; i < 300; i++)); do
	part=$(find "$S/tmp" -name "$SHA*.part" -type f -size +1000k 2>/dev/null | head -n1)
	[ -n "$part" ] && break
	sleep 0.1
done
stop_ggufd
result "SIGTERM mid-fetch: ggufd exits 0 (status $GGUFD_STATUS)" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" \
	"partial: '$part'" "$(tail -n 20 "$GGUFD_LOG")"
bg_wait
st=0
for i in 1 2 3; do
	RC=$(cat "$DL/stop$i.rc" 2>/dev/null)
	CODE=$(http_status "$RESP/stop$i.h")
	honest "stop$i" "$IN/stop.gguf" || st=1
done
result "SIGTERM mid-fetch: every waiting client saw a visible failure or the exact file" "$st" \
	"$(for i in 1 2 3; do RC=$(cat "$DL/stop$i.rc" 2>/dev/null); CODE=$(http_status "$RESP/stop$i.h"); outcome "stop$i" "$IN/stop.gguf"; done)"
result "SIGTERM mid-fetch: the partial is kept" "$([ -n "$part" ] && [ -f "$part" ]; echo $?)" \
	"part: '$part'" "$(ls -la "$S/tmp" 2>&1)"
fake_clear

stop_fakehub
finish
