#!/usr/bin/env bash
# bench/cost.sh: what one small request costs ggufd and nginx, counted in
# ways that do not depend on how busy the machine is (bench/serve.sh's
# requests per second do):
#   - user-space instructions per request: each server runs under
#     valgrind --tool=callgrind; the counters are zeroed after a warm-up
#     and dumped after a wrk run of DURATION seconds (4 connections), and
#     the total is divided by the requests wrk completed;
#   - system calls per request: strace -c -f on the running server over a
#     wrk run of DURATION seconds (16 connections), divided the same way.
# Shapes: `Range: bytes=0-0` probes, random 4 KiB ranges, HEAD of the
# file (DURATION x 300 of them on one keep-alive connection: wrk cannot
# do HEAD), and the small
# JSON (ggufd's /api/models/{repo} against nginx serving the same bytes as
# a static file).  One 64 MiB file; nginx as in bench/serve.sh but with one
# process (master_process off, so callgrind sees all of it).  Kernel work
# is not in the instruction counts: the system calls stand for it.
# Needs valgrind, strace, nginx, wrk, curl, python3.  Writes
# bench/out/cost.md (and the raw callgrind/strace files in bench/out/cost/),
# and with UPDATE_README=1 puts the table into README.md between the
# markers <!-- bench:cost --> and <!-- /bench:cost -->.
#   GGUFD=./ggufd DURATION=6 SHAPES="probe r4k json" WHO="g n" GEXTRA="..." bench/cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
GGUFD=$(realpath "${GGUFD:-./ggufd}")
DUR=${DURATION:-6}
OUT=bench/out/cost
for t in valgrind callgrind_control strace nginx wrk curl python3; do
  command -v $t >/dev/null || { echo "missing $t (apt-get install valgrind strace nginx-light wrk curl python3)" >&2; exit 1; }
done
rm -rf "$OUT"; mkdir -p "$OUT"; OUT=$(realpath "$OUT")
W=$(mktemp -d); chmod 755 "$W"
REPO=ruv/ruvltra; NAME=model.gguf
mkdir -p "$W/www/$REPO/resolve/main" "$W/www/api/models/$REPO" "$W/ngx"
F="$W/www/$REPO/resolve/main/$NAME"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$F"; SIZE=$(stat -c %s "$F")
"$GGUFD" import --store "$W/store" "$REPO" "$F" >/dev/null
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NPORT=$(port); GPORT=$(port)
cat >"$W/ngx/nginx.conf" <<NGX
worker_processes 1;
master_process off;
pid $W/ngx/nginx.pid;
error_log $W/ngx/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;
  default_type application/json;
  server { listen 127.0.0.1:$NPORT; root $W/www; }
}
NGX
cat >"$W/ranges.lua" <<'LUA'
local size = tonumber(os.getenv("SIZE")); local blk = tonumber(os.getenv("BLK"))
local n = math.floor(size / blk); math.randomseed(os.time())
request = function()
  local off = math.random(0, n - 1) * blk
  return wrk.format("GET", nil, { Range = "bytes=" .. off .. "-" .. (off + blk - 1) })
end
LUA
P=/$REPO/resolve/main/$NAME
J=/api/models/$REPO
chmod -R a+rX "$W/www"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
GB=http://127.0.0.1:$GPORT; NB=http://127.0.0.1:$NPORT
start_g() { # start_g [WRAPPER...]
  "$@" "$GGUFD" serve --listen 127.0.0.1:$GPORT --upstream none --store "$W/store" --threads 2 \
    --max-connections 4096 --per-ip-connections 0 ${GEXTRA:-} 2>"$W/ggufd.log" & PID=$!; PIDS+=($PID)
  for _ in $(seq 300); do curl -sfo /dev/null "$GB/healthz" && break; sleep 0.1; done
}
start_n() {
  "$@" nginx -c "$W/ngx/nginx.conf" -p "$W/ngx" & PID=$!; PIDS+=($PID)
  for _ in $(seq 300); do curl -s -o /dev/null -r 0-0 "$NB$P" && break; sleep 0.1; done
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
load() { # load BASE SHAPE CONNS SECONDS: prints the requests completed
  local b=$1 s=$2 c=$3 d=$4
  case $s in
  probe) wrk -t1 -c"$c" -d"${d}s" -H 'Range: bytes=0-0' "$b$P" ;;
  r4k) SIZE=$SIZE BLK=4096 wrk -t1 -c"$c" -d"${d}s" -s "$W/ranges.lua" "$b$P" ;;
  head) # wrk waits for a HEAD's body: one keep-alive connection instead
    python3 - "$b" "$P" $((d * 300)) <<'PY'
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
ok = 0
for _ in range(int(sys.argv[3])):
    c.request("HEAD", sys.argv[2])
    r = c.getresponse()
    r.read()
    ok += r.status == 200
print(ok, "requests in")
PY
    ;;
  json) if [ "$b" = "$GB" ]; then wrk -t1 -c"$c" -d"${d}s" "$b$J"; else wrk -t1 -c"$c" -d"${d}s" "$b$J/index.json"; fi ;;
  esac | awk '/requests in/ {print $1} /Non-2xx/ {print "wrk: " $0 > "/dev/stderr"}'
}
start_g; curl -sf "$GB$J" >"$W/www/api/models/$REPO/index.json"; chmod a+r "$W/www/api/models/$REPO/index.json"; stop $PID
cat "$F" >/dev/null
declare -A IR SC
for who in ${WHO:-g n}; do
  # Instructions: callgrind, counters zeroed after a warm-up.
  if [ "$who" = g ]; then start_g valgrind --tool=callgrind -q --callgrind-out-file="$OUT/cg.$who.%p"; B=$GB
  else start_n valgrind --tool=callgrind -q --callgrind-out-file="$OUT/cg.$who.%p"; B=$NB; fi
  for s in ${SHAPES:-probe r4k head json}; do
    load "$B" "$s" 4 2 >/dev/null
    callgrind_control -z "$PID" >/dev/null
    n=$(load "$B" "$s" 4 "$DUR")
    callgrind_control -d "$who.$s" "$PID" >/dev/null
    f=$(ls -t "$OUT"/cg."$who".[0-9]* | head -1); mv "$f" "$OUT/cg.$who.$s.out"
    ir=$(awk '/^summary:|^totals:/ {print $2; exit}' "$OUT/cg.$who.$s.out")
    IR[$who.$s]=$((ir / n))
    echo "$who $s: $n requests, $ir instructions" >&2
  done
  stop "$PID"
  rm -f "$OUT"/cg."$who".[0-9]*
  # System calls: strace -c over a run of a running server.
  for s in ${SHAPES:-probe r4k head json}; do
    if [ "$who" = g ]; then start_g; B=$GB; else start_n; B=$NB; fi
    load "$B" "$s" 16 1 >/dev/null
    strace -c -f -p "$PID" -o "$OUT/st.$who.$s.txt" & SP=$!; sleep 1
    n=$(load "$B" "$s" 16 "$DUR")
    sleep 0.3; kill -INT $SP; wait $SP 2>/dev/null || true
    tot=$(awk '/ total$/ {print $4}' "$OUT/st.$who.$s.txt")
    SC[$who.$s]=$(awk -v a="$tot" -v b="$n" 'BEGIN {printf "%.2f", a / b}')
    echo "$who $s: $n requests, $tot system calls" >&2
    stop "$PID"
  done
done
label() { case $1 in probe) echo "\`Range: bytes=0-0\` probe";; r4k) echo "random 4 KiB range";; head) echo "HEAD of the file (one connection)";; json) echo "small JSON (/api/models/{repo})";; esac; }
{
  echo "| request | ggufd instructions | nginx instructions | ggufd system calls | nginx system calls |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for s in ${SHAPES:-probe r4k head json}; do
    echo "| $(label $s) | ${IR[g.$s]:--} | ${IR[n.$s]:--} | ${SC[g.$s]:--} | ${SC[n.$s]:--} |"
  done
  echo
  echo "Per request: user-space instructions (callgrind), system calls (strace -c); $(nproc) cores, $(uname -r), nginx $(nginx -v 2>&1 | sed 's/.*\///'); command: \`DURATION=$DUR bench/cost.sh\`${GEXTRA:+ with GEXTRA=\"$GEXTRA\"}."
} | tee bench/out/cost.md
update_readme cost
