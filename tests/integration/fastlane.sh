#!/usr/bin/env bash
# fastlane.sh: the fast lane (server/fastlane.c) gives exactly the answers
# libmicrohttpd gives, and leaves it everything else.
#
#   1. Two daemons on one store, one with the fast lane (the default), one
#      with --fast-lane=false: the same requests (GET and HEAD, whole, one
#      range of each kind, several ranges, unsatisfiable, malformed, If-Range,
#      If-None-Match, a bearer, a query, Connection: close, a regular
#      file) get the same status, headers (but Date) and bytes from both,
#      each asked twice of the first (the first answer records, the second
#      is the fast lane's), and the fast lane's counter says it answered.
#   2. One connection, pipelined: three requests in one write get three
#      answers in order, byte-exact; then a request with a bearer on the
#      same connection is handed to libmicrohttpd, its bytes unread, and
#      answered there.
#   3. A client that reads slowly gets a 3 MB file byte-exact (sendfile in
#      steps, the blob held until its last byte).
#   4. After an import by another process replaces the file, the next probe
#      has the new ETag (the entry is checked against the index).
#   5. The access log line of a fast-lane answer has the same form, with the
#      client's X-Request-Id.
#   6. SIGTERM while a slow download runs in the fast lane: the download
#      ends byte-exact, and the daemon exits 0.
#   6b. An answer with Connection: close and another request behind it,
#      read slowly, arrives whole (a lingering close: no reset).  An answer
#      the client stops reading is cut after --connection-timeout, and its
#      access log line is still written.
#   7. A mirror of the fake Hub holding its token (--ref-ttl 1), as
#      deployed: four keep-alive connections ask ranges of a public repo's
#      file across several TTLs, all byte-exact, on the fast lane (past
#      each TTL the renewer asks upstream while the entry answers); then
#      main moves upstream and the next answers past the TTL are the new
#      file's.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 13

REPO=ruv/ruvltra
S=$WORK/store
mkdir -p "$WORK/in" "$WORK/in2" "$WORK/a" "$WORK/b"
mkgguf "$WORK/in/m.gguf" --size 3000000 >/dev/null 2>&1
mkgguf "$WORK/in2/m.gguf" --size 200000 --seed 7 >/dev/null 2>&1
mkgguf "$WORK/in/big.gguf" --size 24000000 --seed 9 >/dev/null 2>&1
printf '{"model_type": "llama"}\n' >"$WORK/in/config.json"
"$GGUFD" import --store "$S" "$REPO" "$WORK/in/m.gguf" "$WORK/in/config.json" \
	"$WORK/in/big.gguf" >"$WORK/import.out" 2>&1
LOG=$WORK/access.log
if start_ggufd "$S" --upstream none --access-log "$LOG" &&
	start_ggufd2 "$S" --upstream none --fast-lane=false; then
	ok "two daemons on one store, with and without the fast lane"
else
	not_ok "two daemons on one store, with and without the fast lane"
	finish
	exit
fi

F=/$REPO/resolve/main/m.gguf
ETAG=\"$(sha256_of "$WORK/in/m.gguf")\"
counter() { gcurl "$BASE/metrics" | awk -v m="ggufd_fast_lane_$1_total" '$1 == m { print $2 }'; }

# ask NAME BASE PATH [CURL ARGS...]: status line and headers (Date dropped,
# sorted) in $WORK/<dir>/NAME.h, the body in NAME.b; a multipart answer's
# boundary (random) is replaced by B in both.
ask() {
	local name=$1 base=$2 path=$3 dir b
	shift 3
	dir=$([ "$base" = "$BASE" ] && echo a || echo b)
	rm -f "$WORK/$dir/$name.b"
	gcurl --http1.1 -D "$WORK/$dir/$name.raw" -o "$WORK/$dir/$name.b" "$@" "$base$path"
	touch "$WORK/$dir/$name.b" # none for a 304
	# curl -I writes the head as the body too: without its Date.
	if [ "${1:-}" = -I ]; then
		tr -d '\r' <"$WORK/$dir/$name.b" | grep -vi '^date:' | sort >"$WORK/$dir/$name.b2"
		mv "$WORK/$dir/$name.b2" "$WORK/$dir/$name.b"
	fi
	tr -d '\r' <"$WORK/$dir/$name.raw" | grep -vi '^date:' | sort >"$WORK/$dir/$name.h"
	b=$(sed -n 's/.*boundary=\([0-9a-f]*\).*/\1/p' "$WORK/$dir/$name.h")
	if [ -n "$b" ]; then
		sed -i "s/$b/B/g" "$WORK/$dir/$name.h" "$WORK/$dir/$name.b"
	fi
}
CASES=(
	"whole||"
	"head|-I|"
	"probe|-r|0-0"
	"r4k|-r|100-4195"
	"tail|-r|1000-"
	"suffix|-r|-100"
	"multi|-r|0-0,5-9"
	"unsat|-r|99999999-"
	"bad|-H|Range: bytes=abc"
	"headr|-I -r|10-19"
	"ifrange|-H|If-Range: \"0000\""
	"inm|-H|If-None-Match: $ETAG"
	"bearer|-H|Authorization: Bearer hf_not_a_token"
	"close|-H|Connection: close"
	"upper|-H|RANGE: bytes=5-6"
	"query||?download=true"
	"config||"
)
before=$(counter requests)
diffs=""
for c in "${CASES[@]}"; do
	IFS='|' read -r name opt arg <<<"$c"
	path=$F
	args=()
	case $name in
	query) path="$F$arg" ;;
	config) path=/$REPO/resolve/main/config.json ;;
	*)
		# shellcheck disable=SC2206
		[ -n "$opt" ] && args=($opt)
		[ -n "$arg" ] && args+=("$arg")
		;;
	esac
	ask "$name" "$BASE2" "$path" "${args[@]}"
	ask "$name.1" "$BASE" "$path" "${args[@]}"
	ask "$name" "$BASE" "$path" "${args[@]}"
	for k in "$name.1" "$name"; do
		if ! cmp -s "$WORK/a/$k.h" "$WORK/b/$name.h" || ! cmp -s "$WORK/a/$k.b" "$WORK/b/$name.b"; then
			diffs="$diffs $k: $(diff "$WORK/a/$k.h" "$WORK/b/$name.h" | head -6 | tr '\n' ' ')"
		fi
	done
done
after=$(counter requests)
result "every request gets the same status, headers and bytes with and without the fast lane (${#CASES[@]} kinds, each twice)" \
	"$([ -z "$diffs" ]; echo $?)" "$diffs"
# Answered by the fast lane: the second of whole, head, probe, r4k, tail,
# suffix, bad, headr, close, upper and config (a regular file) (11); maybe
# firsts too.
result "the fast lane answered the repeated plain requests (counter +$((after - before)), at least 11)" \
	"$([ -n "$after" ] && [ $((after - before)) -ge 11 ]; echo $?)" "before '$before' after '$after'"

# --- 2. pipelining and a hand-off on the same connection -----------------
handed0=$(counter handoffs)
out=$(timeout 60 python3 - "${BASE#http://}" "$F" "$WORK/in/m.gguf" <<'PY'
import socket, sys
host, port = sys.argv[1].split(":")
path, src = sys.argv[2], open(sys.argv[3], "rb").read()
s = socket.create_connection((host, int(port)), timeout=30)
f = s.makefile("rb")
def req(extra=""):
    return ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, extra)).encode()
def read_resp():
    status = f.readline().decode()
    h = {}
    while True:
        l = f.readline().decode()
        if l in ("\r\n", ""):
            break
        k, v = l.split(":", 1)
        h[k.strip().lower()] = v.strip()
    body = f.read(int(h.get("content-length", "0")))
    return status.split()[1], h, body
s.sendall(req("Range: bytes=0-9\r\n") + ("HEAD %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
          + req("Range: bytes=4096-8191\r\n"))
a = read_resp()
st = f.readline().decode().split()[1]          # the HEAD: headers only
hh = {}
while True:
    l = f.readline().decode()
    if l in ("\r\n", ""):
        break
    k, v = l.split(":", 1)
    hh[k.strip().lower()] = v.strip()
c = read_resp()
s.sendall(req("Authorization: Bearer hf_not_a_token\r\nRange: bytes=10-19\r\n"))
d = read_resp()
ok = (a[0] == "206" and a[2] == src[0:10] and st == "200" and hh.get("content-length") == str(len(src))
      and c[0] == "206" and c[2] == src[4096:8192] and d[0] == "206" and d[2] == src[10:20])
print("ok" if ok else "bad %s %s %s %s" % (a[0], st, c[0], d[0]))
PY
)
handed1=$(counter handoffs)
result "pipelined: three answers in order, byte-exact; a request with a bearer on the same connection is handed over and answered" \
	"$([ "$out" = ok ] && [ $((handed1 - handed0)) -ge 1 ]; echo $?)" "client: $out; handoffs $handed0 -> $handed1"

# --- 3. a slow reader -----------------------------------------------------
out=$(timeout 120 python3 - "${BASE#http://}" "$F" "$WORK/in/m.gguf" <<'PY'
import hashlib, socket, sys, time
host, port = sys.argv[1].split(":")
src = open(sys.argv[3], "rb").read()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.settimeout(30)
s.connect((host, int(port)))
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
data = b""
n = 0
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
    n += 1
    if n < 40:
        time.sleep(0.02)
head, _, body = data.partition(b"\r\n\r\n")
print("ok" if head.startswith(b"HTTP/1.1 200") and body == src else "bad %d %r" % (len(body), head[:40]))
PY
)
result "a slow reader gets the whole 3 MB file byte-exact" "$([ "$out" = ok ]; echo $?)" "$out"

# --- 4. an import by another process -------------------------------------
gcurl -o /dev/null -r 0-0 "$BASE$F"
gcurl -o /dev/null -r 0-0 "$BASE$F"
"$GGUFD" import --store "$S" "$REPO" "$WORK/in2/m.gguf" >>"$WORK/import.out" 2>&1
gcurl -D "$WORK/new.h" -o "$WORK/new.b" -r 0-9 "$BASE$F"
result "after another process imports a new version, the next range has the new ETag and bytes" \
	"$([ "$(header ETag "$WORK/new.h")" = "\"$(sha256_of "$WORK/in2/m.gguf")\"" ] &&
		cmp -s "$WORK/new.b" <(head -c 10 "$WORK/in2/m.gguf"); echo $?)" "$(cat "$WORK/new.h")"

# --- 5. the access log ------------------------------------------------------
gcurl -o /dev/null -r 0-9 -H 'X-Request-Id: fast-1' "$BASE$F"
gcurl -o /dev/null -r 0-9 -H 'X-Request-Id: fast-2' "$BASE$F"
line=$(grep ' fast-2$' "$LOG" | tail -1)
result "a fast-lane answer's access log line: time, address, method, path, status, bytes, seconds, source, request id" \
	"$(echo "$line" | grep -Eq "^[0-9T:-]+Z 127\.0\.0\.1 GET $F 206 10 [0-9.]+ hit fast-2$"; echo $?)" "$line"

# --- 6b. closes and stalls -------------------------------------------------
B=/$REPO/resolve/main/big.gguf
gcurl -o /dev/null -r 0-0 "$BASE$B"
out=$(timeout 120 python3 - "${BASE#http://}" "$B" "$WORK/in/big.gguf" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split(":")
path, src = sys.argv[2], open(sys.argv[3], "rb").read()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.settimeout(30)
s.connect((host, int(port)))
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
           "GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % (path, path)).encode())
time.sleep(0.5)
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
        if len(data) < 2000000:
            time.sleep(0.001)
except ConnectionResetError:
    print("reset after %d bytes" % len(data))
    sys.exit(0)
head, _, body = data.partition(b"\r\n\r\n")
print("ok" if body == src else "bad %d" % len(body))
PY
)
result "Connection: close with a request behind it, read slowly: the whole answer, no reset" \
	"$([ "$out" = ok ]; echo $?)" "$out"
LOG2=$WORK/access2.log
if start_ggufd2 "$S" --upstream none --connection-timeout 2 --access-log "$LOG2"; then
	gcurl -o /dev/null -r 0-0 "$BASE2$B"
	out=$(timeout 120 python3 - "${BASE2#http://}" "$B" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split(":")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(30)
s.connect((host, int(port)))
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nX-Request-Id: stall-1\r\n\r\n" % sys.argv[2]).encode())
time.sleep(6)       # three times the connection timeout, reading nothing
n = 0
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        n += len(b)
except (ConnectionResetError, socket.timeout) as e:
    print("%d %s" % (n, type(e).__name__))
    sys.exit(0)
print("%d eof" % n)
PY
)
	read -r got how <<<"$out"
	line=$(grep ' stall-1$' "$LOG2" | tail -1)
	result "an answer the client stops reading is cut after --connection-timeout 2 ($got of $(file_size "$WORK/in/big.gguf") bytes), and logged" \
		"$([ -n "$got" ] && [ "$got" -lt "$(file_size "$WORK/in/big.gguf")" ] && [ "$how" != timeout ] &&
			echo "$line" | grep -Eq " GET $B 200 [0-9]+ [0-9.]+ hit stall-1$"; echo $?)" \
		"client: $out" "log: $line"
	stop_ggufd2
else
	not_ok "a second daemon with --connection-timeout 2"
fi

# --- 6. a drain while the fast lane sends -----------------------------------
"$GGUFD" import --store "$S" "$REPO" "$WORK/in/m.gguf" >>"$WORK/import.out" 2>&1
gcurl -o /dev/null "$BASE$F"
n0=$(counter requests)
gcurl --limit-rate 1M -o "$WORK/slow.b" "$BASE$F" &
CPID=$!
bg_track "$CPID"
sleep 1
kill -TERM "$GGUFD_PID"
wait "$CPID"
cst=$?
stop_ggufd
result "SIGTERM during a fast-lane download: it ends byte-exact, the daemon exits 0" \
	"$([ "$cst" = 0 ] && cmp -s "$WORK/slow.b" "$WORK/in/m.gguf" && [ "$GGUFD_STATUS" = 0 ] && [ -n "$n0" ]; echo $?)" \
	"curl $cst, daemon $GGUFD_STATUS" "$(tail -5 "$GGUFD_LOG")"

# --- 7. a mirror with the Hub token ---------------------------------------
TOKEN=hf_upstreamsecret
REPOS=$WORK/repos
H1=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main \
	"$WORK/in/m.gguf=m.gguf" 2>>"$WORK/mkrepo.err")
if start_fakehub "$REPOS" --token "$TOKEN" &&
	HF_TOKEN=$TOKEN start_ggufd "$WORK/mstore" --upstream "$HUB" --ref-ttl 1; then
	ok "a mirror of the fake Hub with its token"
else
	not_ok "a mirror of the fake Hub with its token" "$(cat "$WORK/mkrepo.err")"
fi
gcurl -o "$WORK/m.b" "$BASE$F"
gcurl -o /dev/null -r 0-0 "$BASE$F"
a0=$(counter requests)
h0=$(counter handoffs)
out=$(timeout 60 python3 - "${BASE#http://}" "$F" "$WORK/in/m.gguf" <<'PY'
import random, socket, sys, time
host, port = sys.argv[1].split(":")
path, src = sys.argv[2], open(sys.argv[3], "rb").read()
conns = [socket.create_connection((host, int(port)), timeout=30) for _ in range(4)]
files = [c.makefile("rb") for c in conns]
bad = 0
t_end = time.monotonic() + 3.5   # three TTLs and a half; bounded
n = 0
while time.monotonic() < t_end and n < 4000:
    i = n % 4
    off = random.randrange(0, len(src) - 4096)
    conns[i].sendall(("GET %s HTTP/1.1\r\nHost: x\r\nRange: bytes=%d-%d\r\n\r\n"
                      % (path, off, off + 4095)).encode())
    f = files[i]
    status = f.readline().split()[1]
    clen = 0
    while True:
        l = f.readline()
        if l in (b"\r\n", b""):
            break
        if l.lower().startswith(b"content-length:"):
            clen = int(l.split(b":")[1])
    body = f.read(clen)
    if status != b"206" or body != src[off:off + 4096]:
        bad += 1
    n += 1
    time.sleep(0.005)
print("%d %d" % (n, bad))
PY
)
a1=$(counter requests)
h1=$(counter handoffs)
read -r n bad <<<"$out"
# (The counter's own two /metrics requests are hand-offs too.)
# Past each TTL the renewer asks upstream while the entry keeps answering:
# no connection leaves the fast lane (one is allowed, on a loaded machine:
# a renewal slower than 5 s sends a request to the slow path).
result "mirror: ranges on 4 connections across 3 TTLs: all byte-exact ($n asked), on the fast lane ($((a1 - a0))), hand-offs $((h1 - h0 - 2))" \
	"$([ -n "$n" ] && [ "$bad" = 0 ] && [ $((a1 - a0)) -ge $((n * 3 / 4)) ] && [ $((h1 - h0 - 2)) -le 1 ]; echo $?)" \
	"client: $out; fast-lane answers $a0 -> $a1, hand-offs $h0 -> $h1"
H2=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main \
	"$WORK/in2/m.gguf=m.gguf" 2>>"$WORK/mkrepo.err")
for ((i = 0; i < 50; i++)); do
	gcurl -D "$WORK/m2.h" -o "$WORK/m2.b" -r 0-99 "$BASE$F"
	[ "$(header X-Repo-Commit "$WORK/m2.h")" = "$H2" ] && break
	sleep 0.1
done
gcurl -D "$WORK/m3.h" -o "$WORK/m3.b" -r 0-99 "$BASE$F"
result "mirror: after main moved upstream and the TTL passed, ranges are the new file's (and stay so)" \
	"$([ -n "$H2" ] && [ "$H2" != "$H1" ] && cmp -s "$WORK/m2.b" <(head -c 100 "$WORK/in2/m.gguf") &&
		cmp -s "$WORK/m3.b" <(head -c 100 "$WORK/in2/m.gguf") &&
		[ "$(header X-Repo-Commit "$WORK/m3.h")" = "$H2" ]; echo $?)" "$(cat "$WORK/m2.h")"
finish
