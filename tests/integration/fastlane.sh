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

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 8

REPO=ruv/ruvltra
S=$WORK/store
mkdir -p "$WORK/in" "$WORK/in2" "$WORK/a" "$WORK/b"
mkgguf "$WORK/in/m.gguf" --size 3000000 >/dev/null 2>&1
mkgguf "$WORK/in2/m.gguf" --size 200000 --seed 7 >/dev/null 2>&1
printf '{"model_type": "llama"}\n' >"$WORK/in/config.json"
"$GGUFD" import --store "$S" "$REPO" "$WORK/in/m.gguf" "$WORK/in/config.json" >"$WORK/import.out" 2>&1
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
# suffix, bad, headr, close, upper (10); maybe firsts too.
result "the fast lane answered the repeated plain requests (counter +$((after - before)), at least 10)" \
	"$([ -n "$after" ] && [ $((after - before)) -ge 10 ]; echo $?)" "before '$before' after '$after'"

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
finish
