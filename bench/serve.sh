#!/usr/bin/env bash
# bench/serve.sh: store hits served by ggufd vs nginx, same file, same run.
#
# Both servers run on 127.0.0.1 and serve one file of SIZE_MB MiB (default
# 1024) from the same disk: nginx (sendfile on, 2 workers, open_file_cache)
# from a plain directory, ggufd (--threads 2) from its store.  Each measure
# is taken ROUNDS times (default 3), ggufd and nginx alternating (who goes
# first alternates too); the table gives medians, the ratio of medians and
# the spread (min-max of ggufd/nginx per round):
#   1. one client downloading the whole file, MiB/s (best of 2 per round)
#   2. CLIENTS (16) clients downloading the whole file at once, aggregate MiB/s
#   3. `Range: bytes=0-0` probes (huggingface.js), wrk 2 threads x 64 conns
#   4. random 4 KiB ranges (@huggingface/gguf header reads, aria2c), wrk
#   5. random 1 MiB ranges (aria2c -x, Ollama parts), wrk
#   6. a small JSON answer: ggufd's /api/models/{repo} (served from the
#      index) vs nginx serving the same bytes as a static file
#   3-6 also give the server's CPU per request (user + system time of all
#      its processes over the wrk run, divided by the requests): what a
#      request costs the server, which a busy machine blurs less than
#      requests per second do (wrk runs on the same two cores);
#   7. ggufd's peak RSS (VmHWM) and nginx's (sum of its processes): first
#      after one client on a SMALL_MB (16) MiB file, then after 64
#      connections at once (one curl process) on an RSS_MB (2048) MiB
#      file, both before anything else (flat in file size and in client
#      count: the two are the same), and after the whole run
# Each wrk run lasts DURATION seconds (default 8).  Needs nginx, wrk, curl,
# python3 (Debian: nginx-light wrk curl python3).  Writes bench/out/serve.md,
# and with UPDATE_README=1 puts the table into README.md between the
# markers <!-- bench:serve --> and <!-- /bench:serve -->.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE_MB=${SIZE_MB:-1024}
CLIENTS=${CLIENTS:-16}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
SMALL_MB=${SMALL_MB:-16}
RSS_MB=${RSS_MB:-2048}
GGUFD=${GGUFD:-./ggufd}
[ -x "$GGUFD" ] || { echo "build ggufd first (./setup.sh build)" >&2; exit 1; }
for t in nginx wrk curl python3; do
  command -v $t >/dev/null || { echo "missing $t (apt-get install nginx-light wrk curl python3)" >&2; exit 1; }
done

W=$(mktemp -d)
chmod 755 "$W"   # nginx workers run as an unprivileged user
NGX_PID=""; GG_PID=""
cleanup() {
  [ -n "$GG_PID" ] && kill "$GG_PID" 2>/dev/null || true
  [ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

REPO=ruv/ruvltra
NAME=ruvltra-0.5b-q4_k_m.gguf
mkdir -p "$W/www/$REPO/resolve/main" "$W/www/api/models/$REPO" "$W/ngx"
F="$W/www/$REPO/resolve/main/$NAME"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$F"
SIZE=$(stat -c %s "$F")
"$GGUFD" import --store "$W/store" "$REPO" "$F" >/dev/null
# The files of the memory measure (7).
SMALL=ruvltra-0.5b-q8_0.gguf BIG=ruvltra-3b-q8_0.gguf
head -c $((SMALL_MB * 1024 * 1024)) /dev/urandom >"$W/www/$REPO/resolve/main/$SMALL"
head -c $((RSS_MB * 1024 * 1024)) /dev/urandom >"$W/www/$REPO/resolve/main/$BIG"
"$GGUFD" import --store "$W/store" "$REPO" "$W/www/$REPO/resolve/main/$SMALL" \
  "$W/www/$REPO/resolve/main/$BIG" >/dev/null

cat > "$W/ngx/nginx.conf" <<NGX
worker_processes 2;
pid $W/ngx/nginx.pid;
error_log $W/ngx/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  default_type application/json;
  server {
    listen 127.0.0.1:NPORT;
    root $W/www;
  }
}
NGX
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/NPORT/$NPORT/" "$W/ngx/nginx.conf"
nginx -c "$W/ngx/nginx.conf" -p "$W/ngx" & NGX_PID=$!
"$GGUFD" serve --listen 127.0.0.1:0 --upstream none --store "$W/store" --threads 2 \
  --max-connections 4096 --per-ip-connections 0 2>"$W/ggufd.log" & GG_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$W/ggufd.log" && break; sleep 0.1; done
GBASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/ggufd.log" | head -1)
NBASE="http://127.0.0.1:$NPORT"
P=/$REPO/resolve/main/$NAME
for _ in $(seq 50); do curl -sfo /dev/null -r 0-0 "$NBASE$P" && break; sleep 0.1; done
# nginx serves ggufd's own JSON answer for the repo as a static file.
curl -sf "$GBASE/api/models/$REPO" > "$W/www/api/models/$REPO/index.json"
J=/api/models/$REPO
JN=/api/models/$REPO/index.json
chmod -R a+rX "$W/www"
cat "$F" "$W/www/$REPO/resolve/main/"*.gguf > /dev/null   # both read from the page cache
# Both must serve the same bytes before anything is timed.
for b in "$GBASE" "$NBASE"; do
  [ "$(curl -s "$b$P" | sha256sum | cut -d' ' -f1)" = "$(sha256sum < "$F" | cut -d' ' -f1)" ] \
    || { echo "$b does not serve the file correctly" >&2; exit 1; }
done
cmp -s <(curl -s "$GBASE$J") <(curl -s "$NBASE$JN") \
  || { echo "the JSON answers differ" >&2; exit 1; }

cat > "$W/ranges.lua" <<'LUA'
-- Random aligned ranges of BLK bytes in a file of SIZE bytes.
local size = tonumber(os.getenv("SIZE"))
local blk = tonumber(os.getenv("BLK"))
local n = math.floor(size / blk)
math.randomseed(os.time())
request = function()
  local off = math.random(0, n - 1) * blk
  return wrk.format("GET", nil, { Range = "bytes=" .. off .. "-" .. (off + blk - 1) })
end
LUA

one() { # best MiB/s of 2 single-client downloads
  local best=0 s
  for _ in 1 2; do
    s=$(curl -s -o /dev/null -w '%{speed_download}' "$1$P")
    best=$(awk -v a="$best" -v b="$s" 'BEGIN{print (b>a)?b:a}')
  done
  awk -v b="$best" 'BEGIN{printf "%.0f", b/1048576}'
}
many() { # aggregate MiB/s of CLIENTS simultaneous downloads
  local t0 t1 pids=()
  t0=$(date +%s.%N)
  for _ in $(seq "$CLIENTS"); do curl -s -o /dev/null "$1$P" & pids+=($!); done
  wait "${pids[@]}"
  t1=$(date +%s.%N)
  awk -v n="$CLIENTS" -v s="$SIZE_MB" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n*s/(b-a)}'
}
# cpu_ticks BASE: the server's CPU so far (user + system, all its
# processes), in clock ticks.
cpu_ticks() {
  local t=0 p ps
  if [ "$1" = "$GBASE" ]; then ps=$GG_PID; else ps="$NGX_PID $(pgrep -P "$NGX_PID" || true)"; fi
  for p in $ps; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
# wrk_rps URL [wrk args...]: requests/s; the server's CPU per request (us)
# is appended to $W/cpu.MEASURE.{g,n} (MEASURE: the calling function).
wrk_rps() {
  local url=$1 who=n base=$NBASE t0 t1 out; shift
  [[ $url == "$GBASE"* ]] && who=g base=$GBASE
  t0=$(cpu_ticks "$base")
  out=$(wrk -t2 -c64 -d"${DURATION}s" "$@" "$url")
  t1=$(cpu_ticks "$base")
  awk -v t=$((t1 - t0)) -v hz="$HZ" '/ requests in / { printf "%.2f\n", t * 1e6 / hz / $1 }' <<<"$out" \
    >>"$W/cpu.${FUNCNAME[1]}.$who"
  awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out"
}
HZ=$(getconf CLK_TCK)
probe() { wrk_rps "$1$P" -H 'Range: bytes=0-0'; }
r4k() { SIZE=$SIZE BLK=4096 wrk_rps "$1$P" -s "$W/ranges.lua"; }
r1m() { SIZE=$SIZE BLK=1048576 wrk_rps "$1$P" -s "$W/ranges.lua"; }
json() { if [ "$1" = "$GBASE" ]; then wrk_rps "$1$J"; else wrk_rps "$1$JN"; fi; }

# Peak RSS in kB: ggufd's, and the sum over nginx's processes.
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
g_rss() { hwm "$GG_PID"; }
n_rss() {
  local t=0 p r
  for p in $(pgrep -f "nginx -c $W/ngx/nginx.conf" || true) $(pgrep -P "$NGX_PID" || true); do
    r=$(hwm "$p"); t=$((t + ${r:-0}))
  done
  echo "$t"
}
# 7. Memory, before anything else: one client on the small file, then 64
# connections on the big one (one curl process, so 64 are at once).
for b in "$GBASE" "$NBASE"; do curl -s -o /dev/null "$b/$REPO/resolve/main/$SMALL"; done
G_RSS1=$(g_rss) N_RSS1=$(n_rss)
for b in "$GBASE" "$NBASE"; do
  urls=()
  for _ in $(seq 64); do urls+=(-o /dev/null "$b/$REPO/resolve/main/$BIG"); done
  curl -s -Z --parallel-immediate --parallel-max 64 "${urls[@]}"
done
G_RSS64=$(g_rss) N_RSS64=$(n_rss)
echo "memory: ggufd $G_RSS1 -> $G_RSS64 kB, nginx $N_RSS1 -> $N_RSS64 kB" >&2

MEASURES="one many probe r4k r1m json"
declare -A G N
for ((round = 0; round < ROUNDS; round++)); do
  for m in $MEASURES; do
    if ((round % 2 == 0)); then
      g=$($m "$GBASE"); n=$($m "$NBASE")
    else
      n=$($m "$NBASE"); g=$($m "$GBASE")
    fi
    G[$m]="${G[$m]:-} $g"; N[$m]="${N[$m]:-} $n"
    echo "round $((round + 1)) $m: ggufd $g nginx $n" >&2
  done
done
GRSS=$(g_rss) NRSS=$(n_rss)

row() { # row LABEL MEASURE [G N] [FORMAT]: medians, ratio, spread of per-round ratios
  python3 - "$1" "${3:-${G[$2]}}" "${4:-${N[$2]}}" "${5:-%.0f}" <<'PY'
import statistics, sys
label, g, n, f = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()], sys.argv[4]
gm, nm = statistics.median(g), statistics.median(n)
r = [a / b for a, b in zip(g, n) if b > 0]
print(("| %s | " + f + " | " + f + " | %.2f | %.2f-%.2f |") % (label, gm, nm, gm / nm if nm else 0, min(r), max(r)))
PY
}
# cpu_row LABEL MEASURE: the same for the server's CPU per request.
cpu_row() { row "$1" "$2" "$(cat "$W/cpu.$2.g")" "$(cat "$W/cpu.$2.n")" %.1f; }
mkdir -p bench/out
{
  echo "| measure ($SIZE_MB MiB file, loopback, $ROUNDS alternating rounds) | ggufd | nginx | ggufd/nginx | spread |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  row "1 client, whole file (MiB/s)" one
  row "$CLIENTS clients, whole file (aggregate MiB/s)" many
  row "\`Range: bytes=0-0\` probes (req/s, wrk 64 conns)" probe
  row "random 4 KiB ranges (req/s, wrk 64 conns)" r4k
  row "random 1 MiB ranges (req/s, wrk 64 conns)" r1m
  row "small JSON: /api/models/{repo} vs the same bytes as a static file (req/s)" json
  cpu_row "server CPU per request, \`bytes=0-0\` probes (us; lower is better)" probe
  cpu_row "server CPU per request, random 4 KiB ranges (us)" r4k
  cpu_row "server CPU per request, random 1 MiB ranges (us)" r1m
  cpu_row "server CPU per request, small JSON (us)" json
  rss_row() { echo "| $1 | $(($2 / 1024)) MiB | $(($3 / 1024)) MiB | $(awk -v a="$2" -v b="$3" 'BEGIN{printf "%.2f", b ? a/b : 0}') | |"; }
  rss_row "peak RSS after 1 client on a $SMALL_MB MiB file (all processes)" "$G_RSS1" "$N_RSS1"
  rss_row "peak RSS after 64 connections at once on a $RSS_MB MiB file" "$G_RSS64" "$N_RSS64"
  rss_row "peak RSS after the whole run" "$GRSS" "$NRSS"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); nginx $(nginx -v 2>&1 | sed 's/.*\///'); command: \`SIZE_MB=$SIZE_MB ROUNDS=$ROUNDS DURATION=$DURATION bench/serve.sh\`."
} | tee bench/out/serve.md
update_readme serve
