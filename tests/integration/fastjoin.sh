#!/usr/bin/env bash
# fastjoin.sh: the fast lane (server/fastlane.c) joins downloads in
# progress, and a crowd asking a cold file at once sends one request to the
# slow path, the others waiting for its answer (parked), then joining.
#
# A mirror of the fake Hub with the fast lane (A, the default) and one
# without (B), on separate stores; the content transfers are throttled so
# that fetches last while the requests below come.
#   1. While A fetches a file for a first client (the slow path), a whole
#      GET, a range and a HEAD from other connections are answered by the
#      fast lane ("coalesced" in the access log): the same status, headers
#      and bytes as B gives to the same requests, byte-exact.
#      The first client's own request is sent by the fast lane too, given
#      back by the slow path once it recorded the entry (http_give): B's
#      status, headers and bytes with "Connection: close", logged as the
#      miss; so is a cold range (B's 206); several ranges, cold, are
#      declined by the fast lane and the slow path sends its own answer.
#   2. A transfer corrupted upstream: every joiner (whole, the file's last
#      range, a small range at its start) is cut before the last byte of
#      its answer, none has a complete answer; the next request gets the
#      verified file.
#   3. 8 connections of one client ask a cold file at once while upstream
#      is slow to answer the first question: one goes to the slow path
#      (which gives it back), the 7 others are answered by the fast lane,
#      all byte-exact, with one upstream transfer.
#   4. 6 connections ask at once a file upstream does not have: all get the
#      slow path's 404 (the parked ones go there once it answered).
#   5. A first answer slower than the park limit (1 s): the waiting
#      connections go to the slow path then, all byte-exact, one transfer.
#   6. Joiners that go away mid-download leave no reference behind (the
#      readers gauge is back to 0), the file lands, verify passes; 40
#      joiners reset (RST) at random moments for 3 s while a fetch lands:
#      the daemon stays up and the first client's file is byte-exact;
#      SIGTERM during a joined download: it ends byte-exact (the drain
#      waits for it), and the daemon exits 0.
#   7. A new daemon with --header-timeout 1: a connection whose request
#      waits parked past the deadline (it was idle 0.9 s first, then
#      parked for the whole second behind a first request upstream is
#      slow to answer: the deadline's check, once a second, falls in it)
#      still gets its answer, three times; SIGTERM while 3 requests are
#      parked behind a first one upstream is slow to answer: all 4 end
#      byte-exact (the parked ones go to the slow path at once, counted
#      as in progress), and the daemon exits 0; then, on a new daemon,
#      while upstream rate-limits us (a 429 with Retry-After 300 on
#      another file) a request that would join a fetch in progress gets
#      the slow path's 429 with Retry-After.
#   8. --drain-timeout 1, a slow client reading a cold file given back to
#      the fast lane, the file landed whole: SIGTERM, and the daemon exits
#      0 by itself once the drain's time is up, the client cut.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 21

REPO=ruv/ruvltra
R=/$REPO/resolve/main
mkdir -p "$WORK/in" "$WORK/a" "$WORK/b"
ARGS=()
for n in one two three four five six eight nine ten eleven twelve thirteen fourteen; do
	mkgguf "$WORK/in/$n.gguf" --size 6000000 --seed "${#n}$RANDOM" >/dev/null 2>&1
	ARGS+=("$WORK/in/$n.gguf=ruvltra-$n-q4_k_m.gguf")
done
mkgguf "$WORK/in/seven.gguf" --size 40000000 --seed 77 >/dev/null 2>&1
ARGS+=("$WORK/in/seven.gguf=ruvltra-seven-q4_k_m.gguf")
fakehub mkrepo --repos "$WORK/repos" --repo "$REPO" --commit auto --ref main "${ARGS[@]}" \
	>/dev/null 2>"$WORK/mkrepo.err"
LOG=$WORK/access.log
if start_fakehub "$WORK/repos" && start_ggufd "$WORK/sa" --upstream "$HUB" --access-log "$LOG" &&
	start_ggufd2 "$WORK/sb" --upstream "$HUB" --fast-lane=false; then
	ok "the fake Hub, a mirror with the fast lane and one without"
else
	not_ok "the fake Hub, a mirror with the fast lane and one without" "$(cat "$WORK/mkrepo.err")"
	finish
	exit
fi
metric() { gcurl "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
counter() { metric "ggufd_fast_lane_$1_total"; }
# snap: both counters from one /metrics (itself one hand-off, counted
# before the answer) in SA and SH.
snap() {
	gcurl "$BASE/metrics" >"$WORK/metrics.txt"
	SA=$(awk '$1 == "ggufd_fast_lane_requests_total" { print $2 }' "$WORK/metrics.txt")
	SH=$(awk '$1 == "ggufd_fast_lane_handoffs_total" { print $2 }' "$WORK/metrics.txt")
}
# wait_fetching NAME: until A has a fetch of ruvltra-NAME in flight with
# bytes landed (bounded).
wait_fetching() {
	local i
	for ((i = 0; i < 200; i++)); do
		gcurl "$BASE/api/ggufd/activity" 2>/dev/null | grep -q "ruvltra-$1-q4_k_m.gguf" && return 0
		sleep 0.05
	done
	return 1
}
# start_first NAME BPS [OUT]: a first client (the slow path) downloads
# NAME's file into OUT (/dev/null) in the background (its pid in P1), upstream
# sending it at BPS bytes a second; returns once A's fetch is in flight.
start_first() {
	fake_fault "{\"throttle_bps\": $2, \"count\": 1}"
	gcurl -o "${3:-/dev/null}" "$BASE$R/ruvltra-$1-q4_k_m.gguf" &
	P1=$!
	bg_track "$P1"
	wait_fetching "$1"
}
# heads FILE: the status line and headers of a curl -D dump, without Date,
# sorted.
heads() { tr -d '\r' <"$1" | grep -vi '^date:' | sort; }

# --- 1. joiners of a download in progress ----------------------------------
F=$R/ruvltra-one-q4_k_m.gguf
SRC=$WORK/in/one.gguf
SIZE=$(file_size "$SRC")
fake_fault '{"throttle_bps": 3000000, "count": 1}'
a0=$(counter requests)
gcurl -o "$WORK/a/first.b" -D "$WORK/a/first.h" "$BASE$F" &
P1=$!
bg_track "$P1"
wait_fetching one
gcurl -o "$WORK/a/whole.b" -D "$WORK/a/whole.h" "$BASE$F" &
P2=$!
bg_track "$P2"
gcurl -o "$WORK/a/range.b" -D "$WORK/a/range.h" -r 1000000-2999999 "$BASE$F" &
P3=$!
bg_track "$P3"
gcurl -I -o /dev/null -D "$WORK/a/head.h" "$BASE$F"
wait "$P1" "$P2" "$P3"
a1=$(counter requests)
gcurl -o "$WORK/b/whole.b" -D "$WORK/b/whole.h" "$BASE2$F"
gcurl -o "$WORK/b/range.b" -D "$WORK/b/range.h" -r 1000000-2999999 "$BASE2$F"
gcurl -I -o /dev/null -D "$WORK/b/head.h" "$BASE2$F"
diffs=""
for n in whole range head; do
	diff <(heads "$WORK/a/$n.h") <(heads "$WORK/b/$n.h") >"$WORK/$n.diff" || diffs="$diffs $n"
done
cmp -s "$WORK/a/first.b" "$SRC" || diffs="$diffs first-bytes"
cmp -s "$WORK/a/whole.b" "$SRC" || diffs="$diffs whole-bytes"
cmp -s "$WORK/a/range.b" "$WORK/b/range.b" || diffs="$diffs range-bytes"
[ "$(file_size "$WORK/a/range.b")" = 2000000 ] || diffs="$diffs range-size"
result "joiners of a download in progress (whole, range, HEAD) get B's status, headers and bytes" \
	"$([ -z "$diffs" ]; echo $?)" "differ:$diffs" "$(cat "$WORK"/*.diff | head -20)"
result "the fast lane answered the three joiners (counter +$((a1 - a0)))" \
	"$([ $((a1 - a0)) -ge 3 ]; echo $?)"
n=$(grep -c " $F .* coalesced" "$LOG")
result "their access log lines say coalesced ($n)" "$([ "$n" -ge 2 ]; echo $?)" \
	"$(grep "$F" "$LOG" | tail -5)"

# --- 1b. the first request, given back to the fast lane ---------------------
# The slow path, once it recorded the entry, gives its answer to the fast
# lane (http_give), which sends it with sendfile and ends the connection.
diffs=""
diff <(heads "$WORK/a/first.h" | grep -vix 'connection: close') <(heads "$WORK/b/whole.h") \
	>"$WORK/first.diff" || diffs="$diffs headers"
grep -qix 'connection: close' <(tr -d '\r' <"$WORK/a/first.h") || diffs="$diffs no-close"
n=$(grep -c " $F .* miss" "$LOG")
[ "$n" -ge 1 ] || diffs="$diffs log"
result "the first request, given back to the fast lane: B's status, headers and bytes with Connection: close, its access log line says miss ($n)" \
	"$([ -z "$diffs" ]; echo $?)" "differ:$diffs" "$(cat "$WORK/first.diff" | head -20)"
# A first request for a range (cold): the fast lane sends the slow path's 206.
F13=$R/ruvltra-thirteen-q4_k_m.gguf
fake_fault '{"throttle_bps": 3000000, "count": 1}'
snap
a0=$SA h0=$SH
gcurl -o "$WORK/a/r13.b" -D "$WORK/a/r13.h" -r 1000000-2999999 "$BASE$F13"
snap
a1=$SA h1=$((SH - 1))
gcurl -o "$WORK/b/r13.b" -D "$WORK/b/r13.h" -r 1000000-2999999 "$BASE2$F13"
diffs=""
diff <(heads "$WORK/a/r13.h" | grep -vix 'connection: close') <(heads "$WORK/b/r13.h") \
	>"$WORK/r13.diff" || diffs="$diffs headers"
cmp -s "$WORK/a/r13.b" <(tail -c +1000001 "$WORK/in/thirteen.gguf" | head -c 2000000) ||
	diffs="$diffs bytes"
result "a cold range: handed over (+$((h1 - h0))), given back and sent by the fast lane (+$((a1 - a0))): B's 206, headers and bytes" \
	"$([ -z "$diffs" ] && [ $((h1 - h0)) = 1 ] && [ $((a1 - a0)) = 1 ]; echo $?)" \
	"differ:$diffs" "$(head -20 "$WORK/r13.diff")"
# Several ranges (cold): the fast lane declines them (not its kind of
# answer), and the slow path sends its own: the whole file, 200, the
# connection kept.
F14=$R/ruvltra-fourteen-q4_k_m.gguf
fake_fault '{"throttle_bps": 3000000, "count": 1}'
snap
a0=$SA h0=$SH
gcurl -o "$WORK/a/m14.b" -D "$WORK/a/m14.h" -r 0-9,100-199 "$BASE$F14"
snap
a1=$SA h1=$((SH - 1))
diffs=""
cmp -s "$WORK/a/m14.b" "$WORK/in/fourteen.gguf" || diffs="$diffs bytes"
head -1 "$WORK/a/m14.h" | grep -q " 200" || diffs="$diffs status"
grep -qi '^connection: close' "$WORK/a/m14.h" && diffs="$diffs closed"
result "cold, several ranges: handed over (+$((h1 - h0))), declined by the fast lane (+$((a1 - a0))), the slow path's 200 with the whole file" \
	"$([ -z "$diffs" ] && [ $((h1 - h0)) = 1 ] && [ $((a1 - a0)) = 0 ]; echo $?)" "differ:$diffs"

# --- 2. a corrupt transfer: joiners are cut before their last byte ---------
F=$R/ruvltra-two-q4_k_m.gguf
SRC=$WORK/in/two.gguf
SIZE=$(file_size "$SRC")
fake_fault '{"throttle_bps": 3000000, "corrupt_at": 5000000, "count": 1}'
gcurl -o "$WORK/a/c1.b" "$BASE$F" &
P1=$!
bg_track "$P1"
wait_fetching two
a0=$(counter requests)
pids=()
gcurl -o "$WORK/a/c2.b" "$BASE$F" &
pids+=($!)
gcurl -o "$WORK/a/c3.b" -r 4000000- "$BASE$F" &
pids+=($!)
gcurl -o "$WORK/a/c4.b" -r 0-999 "$BASE$F" &
pids+=($!)
bad=""
for p in "${pids[@]}"; do
	bg_track "$p"
	wait "$p" && bad="$bad exit0"
done
wait "$P1" && bad="$bad first-exit0"
a1=$(counter requests)
s2=$(file_size "$WORK/a/c2.b")
s3=$(file_size "$WORK/a/c3.b")
s4=$(file_size "$WORK/a/c4.b")
[ "$s2" -lt "$SIZE" ] || bad="$bad whole"
[ "$s3" -lt $((SIZE - 4000000)) ] || bad="$bad tail"
[ "$s4" -lt 1000 ] || bad="$bad head"
result "a transfer corrupted upstream: every joiner is cut before its last byte ($s2/$SIZE, $s3/$((SIZE - 4000000)), $s4/1000), on the fast lane (+$((a1 - a0)))" \
	"$([ -z "$bad" ] && [ $((a1 - a0)) -ge 3 ]; echo $?)" "bad:$bad"
gcurl -o "$WORK/a/c5.b" "$BASE$F"
result "the next request gets the verified file" "$(cmp -s "$WORK/a/c5.b" "$SRC"; echo $?)"

# --- 3. a crowd on a cold file ---------------------------------------------
# crowd NAME N: N connections of one curl process at once on NAME's file,
# into $WORK/a/NAME.K; their statuses in $WORK/a/NAME.codes.
crowd() {
	local name=$1 n=$2 k args=()
	for ((k = 1; k <= n; k++)); do
		args+=(-o "$WORK/a/$name.$k" "$BASE$R/ruvltra-$name-q4_k_m.gguf")
	done
	timeout 120 curl -s --no-progress-meter -Z --parallel-immediate --parallel-max "$n" \
		-w '%{http_code}\n' "${args[@]}" >"$WORK/a/$name.codes" 2>/dev/null
}
# exact NAME N: how many of the N answers are byte-exact.
exact() {
	local k m=0
	for ((k = 1; k <= $2; k++)); do
		cmp -s "$WORK/a/$1.$k" "$WORK/in/$1.gguf" && m=$((m + 1))
	done
	echo "$m"
}
transfers() { # of NAME's blob, upstream
	fake_stats "$WORK/stats.json"
	jpy "$WORK/stats.json" "xfers.get('$(sha256_of "$WORK/in/$1.gguf")', 0)"
}
fake_clear
fake_fault '{"slow_first_byte": 0.5, "match": "ruvltra-three", "host": "hub", "count": 1}'
fake_fault '{"throttle_bps": 20000000, "count": 1}'
snap
a0=$SA h0=$SH
crowd three 8
snap
a1=$SA h1=$((SH - 1))
m=$(exact three 8)
x=$(transfers three)
result "8 connections at once on a cold file: all byte-exact ($m), one upstream transfer ($x)" \
	"$([ "$m" = 8 ] && [ "$x" = 1 ]; echo $?)" "$(sort "$WORK/a/three.codes" | uniq -c)"
result "one went to the slow path (hand-offs +$((h1 - h0))), which gave it back: the fast lane answered 8 (+$((a1 - a0)))" \
	"$([ $((h1 - h0)) = 1 ] && [ $((a1 - a0)) = 8 ]; echo $?)"

# --- 4. a crowd on a file upstream does not have ---------------------------
fake_clear
fake_fault '{"slow_first_byte": 0.5, "match": "ruvltra-nosuch", "host": "hub", "count": 1}'
snap
h0=$SH
crowd nosuch 6
snap
h1=$((SH - 1))
c404=$(grep -c '^404$' "$WORK/a/nosuch.codes")
result "6 connections at once on a missing file: all get the slow path's 404 ($c404), all handed over (+$((h1 - h0)))" \
	"$([ "$c404" = 6 ] && [ $((h1 - h0)) = 6 ]; echo $?)" "$(sort "$WORK/a/nosuch.codes" | uniq -c)"

# --- 5. a first answer slower than the park limit --------------------------
fake_clear
fake_fault '{"slow_first_byte": 2.5, "match": "ruvltra-four", "host": "hub", "count": 1}'
snap
h0=$SH
crowd four 4
snap
h1=$((SH - 1))
m=$(exact four 4)
x=$(transfers four)
result "a first answer slower than the park limit: the others go to the slow path (+$((h1 - h0))), all byte-exact ($m), one transfer ($x)" \
	"$([ "$m" = 4 ] && [ "$x" = 1 ] && [ $((h1 - h0)) -ge 2 ]; echo $?)"

# --- 6. joiners that go away; SIGTERM ---------------------------------------
fake_clear
F=$R/ruvltra-five-q4_k_m.gguf
start_first five 3000000 "$WORK/a/g1.b"
for k in 1 2 3; do
	gcurl --max-time 0.5 -o /dev/null "$BASE$F"
	gcurl --max-time 0.5 -o /dev/null -r 0-2999999 "$BASE$F"
done
wait "$P1"
st=$?
sleep 0.2
readers=$(metric ggufd_fetch_readers)
result "joiners that went away mid-download left no reference (readers $readers), the first got the file" \
	"$([ "$st" = 0 ] && [ "$readers" = 0 ] && cmp -s "$WORK/a/g1.b" "$WORK/in/five.gguf"; echo $?)"
stop_ggufd2
F=$R/ruvltra-seven-q4_k_m.gguf
start_first seven 10000000 "$WORK/a/s1.b"
out=$(timeout 30 python3 - "${BASE#http://}" "$F" <<'PY'
import random, select, socket, struct, sys, time
host, port = sys.argv[1].split(":")
req = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2]).encode()
random.seed(7)
conns, resets, t_end = {}, 0, time.monotonic() + 3   # bounded: 3 s, 40 at a time
def opn():
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(req)
    s.setblocking(False)
    conns[s] = time.monotonic() + random.uniform(0.02, 1.0)
for _ in range(40):
    opn()
while time.monotonic() < t_end:
    r, _, _ = select.select(list(conns), [], [], 0.01)
    for s in r:
        try:
            d = s.recv(1 << 16)
        except OSError:
            d = b""
        if not d:
            s.close(); del conns[s]; opn()
    now = time.monotonic()
    for s, dl in list(conns.items()):
        if now >= dl:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close(); del conns[s]; resets += 1; opn()
for s in conns:
    s.close()
print(resets)
PY
)
wait "$P1"
st=$?
alive=$(kill -0 "$GGUFD_PID" 2>/dev/null && echo yes || echo no)
sleep 0.3
readers=$(metric ggufd_fetch_readers)
result "40 joiners reset at random for 3 s ($out resets) while a fetch lands: the daemon is up ($alive), the first client's file is byte-exact, no reference left ($readers)" \
	"$([ "$alive" = yes ] && [ "$st" = 0 ] && cmp -s "$WORK/a/s1.b" "$WORK/in/seven.gguf" && [ "$readers" = 0 ] && [ "${out:-0}" -gt 10 ]; echo $?)" \
	"$(tail -5 "$GGUFD_LOG")"
F=$R/ruvltra-six-q4_k_m.gguf
start_first six 2000000
gcurl -o "$WORK/a/t.b" "$BASE$F" &
P2=$!
bg_track "$P2"
sleep 0.5
kill -TERM "$GGUFD_PID"
wait "$P2"
st=$?
stop_ggufd
result "SIGTERM during a joined download: it ends byte-exact (the drain waits for it), the daemon exits 0" \
	"$([ "$st" = 0 ] && cmp -s "$WORK/a/t.b" "$WORK/in/six.gguf" && [ "$GGUFD_STATUS" = 0 ]; echo $?)" \
	"curl $st, $(file_size "$WORK/a/t.b") bytes, daemon $GGUFD_STATUS" "$(tail -5 "$GGUFD_LOG")"
"$GGUFD" verify --store "$WORK/sa" >"$WORK/verify.out" 2>&1
result "ggufd verify passes on the store" "$?" "$(tail -5 "$WORK/verify.out")"

# --- 7. the header deadline; upstream's rate-limit budget ------------------
fake_clear
start_ggufd "$WORK/sc" --upstream "$HUB" --header-timeout 1
got=""
for n in ten eleven twelve; do
	F=$R/ruvltra-$n-q4_k_m.gguf
	fake_fault "{\"slow_first_byte\": 2.5, \"match\": \"ruvltra-$n\", \"host\": \"hub\", \"count\": 1}"
	got="$got $(timeout 30 python3 - "${BASE#http://}" "$F" "$WORK/in/$n.gguf" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split(":")
want = open(sys.argv[3], "rb").read()
req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode()
def read_all(s):
    data = b""
    while True:
        d = s.recv(1 << 16)
        if not d:
            return data
        data += d
a = socket.create_connection((host, int(port)), timeout=20)
time.sleep(0.9)   # a idle 0.9 s of the 1 s deadline
b = socket.create_connection((host, int(port)), timeout=20)
b.sendall(req)    # the first request: to the slow path (upstream answers in 2.5 s), marked
time.sleep(0.05)
a.sendall(req)    # parked behind it until its mark ends, 1 s later: past a's deadline
head, _, body = read_all(a).partition(b"\r\n\r\n")
read_all(b)
print("ok" if head.startswith(b"HTTP/1.1 200") and body == want else "bad:%d" % len(head + body))
PY
)"
done
result "a request parked past the header deadline still gets its answer, byte-exact (3 times:$got)" \
	"$([ "$got" = " ok ok ok" ]; echo $?)" "$(grep -i "header deadline" "$GGUFD_LOG" | head -3)"
F=$R/ruvltra-nine-q4_k_m.gguf
fake_fault '{"slow_first_byte": 2, "match": "ruvltra-nine", "host": "hub", "count": 1}'
gcurl -o "$WORK/a/n0.b" "$BASE$F" &
P1=$!
bg_track "$P1"
sleep 0.3
timeout 60 curl -s --no-progress-meter -Z --parallel-immediate --parallel-max 3 \
	-o "$WORK/a/n1.b" "$BASE$F" -o "$WORK/a/n2.b" "$BASE$F" -o "$WORK/a/n3.b" "$BASE$F" &
P2=$!
bg_track "$P2"
sleep 0.3
kill -TERM "$GGUFD_PID"
wait "$P1" "$P2"
stop_ggufd
m=0
for k in 0 1 2 3; do cmp -s "$WORK/a/n$k.b" "$WORK/in/nine.gguf" && m=$((m + 1)); done
result "SIGTERM while 3 requests are parked behind a slow first one: all 4 end byte-exact ($m), the daemon exits 0 ($GGUFD_STATUS)" \
	"$([ "$m" = 4 ] && [ "$GGUFD_STATUS" = 0 ]; echo $?)" "$(tail -5 "$GGUFD_LOG")"
start_ggufd "$WORK/sd" --upstream "$HUB"
F=$R/ruvltra-eight-q4_k_m.gguf
start_first eight 2000000
fake_fault '{"status": 429, "retry_after": 300, "match": "ruvltra-nosuch2", "host": "hub", "count": 1}'
gcurl -o /dev/null "$BASE$R/ruvltra-nosuch2-q4_k_m.gguf"
code=$(gcurl -o /dev/null -D "$WORK/rl.h" -w '%{http_code}' -r 0-99 "$BASE$F")
ra=$(tr -d '\r' <"$WORK/rl.h" | awk -F': ' 'tolower($1) == "retry-after" { print $2 }')
result "while upstream rate-limits us, a request that would join a fetch gets the slow path's 429 (got $code, Retry-After $ra)" \
	"$([ "$code" = 429 ] && [ -n "$ra" ]; echo $?)" "$(cat "$WORK/rl.h")"
wait "$P1"
stop_ggufd

# --- 8. the end of a drain cuts a given answer still leaving ----------------
# A slow client's answer, given back to the fast lane, from a file that
# landed whole meanwhile: when the drain's time is up the daemon stops (it
# cuts that answer, as libmicrohttpd cuts its own), instead of waiting for
# the client to read the rest.
start_ggufd "$WORK/se" --upstream "$HUB" --drain-timeout 1
F=$R/ruvltra-seven-q4_k_m.gguf
timeout 120 curl -s --limit-rate 100K -o "$WORK/a/slow.b" "$BASE$F" &
P1=$!
bg_track "$P1"
landed=no
for ((i = 0; i < 200; i++)); do
	[ -n "$(find "$WORK/se" -type f -size +30M ! -name '*.part' 2>/dev/null | head -1)" ] &&
		! gcurl "$BASE/api/ggufd/activity" 2>/dev/null | grep -q "ruvltra-seven" && landed=yes && break
	sleep 0.1
done
stop_ggufd
kill -0 "$P1" 2>/dev/null && cut=reading || cut=ended
wait "$P1"
st=$?
result "a drain that times out cuts a slow client's given answer (the file landed: $landed): the daemon exits 0 by itself ($GGUFD_STATUS), the client is cut ($cut, curl $st, $(file_size "$WORK/a/slow.b") bytes)" \
	"$([ "$landed" = yes ] && [ "$GGUFD_STATUS" = 0 ] && [ "$st" != 0 ] &&
		[ "$(file_size "$WORK/a/slow.b")" -lt "$(file_size "$WORK/in/seven.gguf")" ]; echo $?)" \
	"$(tail -5 "$GGUFD_LOG")"
finish
