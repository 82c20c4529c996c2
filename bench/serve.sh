#!/usr/bin/env bash
# bench/serve.sh: store hits served by ggufd vs nginx, same file, same run.
#
# Both servers run on 127.0.0.1 and serve one file of SIZE_MB megabytes
# (default 1024) from the same disk: nginx from a plain directory, ggufd
# from its store.  Measured:
#   1. one client downloading the whole file (best of 3), MB/s
#   2. 16 clients downloading the whole file at once, aggregate MB/s
#   3. small ranged requests (Range: bytes=0-0, the huggingface.js probe),
#      requests/s with wrk, 4 threads x 64 connections, 10 s
#   4. ggufd's peak RSS during 1-3 (VmHWM), to show memory does not grow
#      with file size
# and reported as ggufd/nginx ratios.  Needs nginx, wrk, curl (Debian
# packages: nginx-light wrk curl).  Writes bench/out/serve.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
CLIENTS=${CLIENTS:-16}
GGUFD=${GGUFD:-./ggufd}
[ -x "$GGUFD" ] || { echo "build ggufd first (./setup.sh build)" >&2; exit 1; }
for t in nginx wrk curl; do command -v $t >/dev/null || { echo "missing $t (apt-get install nginx-light wrk curl)" >&2; exit 1; }; done

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

mkdir -p "$W/www/ruv/ruvltra/resolve/main" "$W/ngx"
F="$W/www/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$F"
"$GGUFD" import --store "$W/store" ruv/ruvltra "$F" >/dev/null

cat > "$W/ngx/nginx.conf" <<NGX
worker_processes 2;
pid $W/ngx/nginx.pid;
error_log $W/ngx/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:0;
    root $W/www;
  }
}
NGX
# nginx cannot listen on port 0: pick a free port.
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
sed -i "s/listen 127.0.0.1:0/listen 127.0.0.1:$NPORT/" "$W/ngx/nginx.conf"
nginx -c "$W/ngx/nginx.conf" -p "$W/ngx" & NGX_PID=$!
"$GGUFD" serve --listen 127.0.0.1:0 --upstream none --store "$W/store" --threads 2 2>"$W/ggufd.log" & GG_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$W/ggufd.log" && break; sleep 0.1; done
GBASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/ggufd.log" | head -1)
NBASE="http://127.0.0.1:$NPORT"
P=/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf
for _ in $(seq 50); do curl -sfo /dev/null -r 0-0 "$NBASE$P" && break; sleep 0.1; done
chmod -R a+rX "$W/www"
cat "$F" > /dev/null   # both read from the page cache
# Both must serve the same bytes before anything is timed.
for b in "$GBASE" "$NBASE"; do
  [ "$(curl -s "$b$P" | sha256sum | cut -d' ' -f1)" = "$(sha256sum < "$F" | cut -d' ' -f1)" ] \
    || { echo "$b does not serve the file correctly" >&2; exit 1; }
done

one() { # best MB/s of 3 single-client downloads
  local best=0 s
  for _ in 1 2 3; do
    s=$(curl -s -o /dev/null -w '%{speed_download}' "$1$P")
    best=$(awk -v a="$best" -v b="$s" 'BEGIN{print (b>a)?b:a}')
  done
  awk -v b="$best" 'BEGIN{printf "%.0f", b/1048576}'
}
many() { # aggregate MB/s of CLIENTS simultaneous downloads
  local t0 t1
  t0=$(date +%s.%N)
  for _ in $(seq "$CLIENTS"); do curl -s -o /dev/null "$1$P" & done
  wait $(jobs -p | grep -v -e "^$GG_PID\$" -e "^$NGX_PID\$") 2>/dev/null || true
  t1=$(date +%s.%N)
  awk -v n="$CLIENTS" -v s="$SIZE_MB" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n*s/(b-a)}'
}
probe() { # requests/s of 1-byte ranged GETs
  wrk -t4 -c64 -d10s -H 'Range: bytes=0-0' "$1$P" | awk '/Requests\/sec/ {printf "%.0f", $2}'
}
G1=$(one "$GBASE"); N1=$(one "$NBASE")
GM=$(many "$GBASE"); NM=$(many "$NBASE")
GP=$(probe "$GBASE"); NP=$(probe "$NBASE")
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$GG_PID/status")

mkdir -p bench/out
{
  echo "| measure ($SIZE_MB MiB file, loopback) | ggufd | nginx | ggufd/nginx |"
  echo "| --- | ---: | ---: | ---: |"
  awk -v g="$G1" -v n="$N1" 'BEGIN{printf "| 1 client, whole file (MiB/s) | %d | %d | %.2f |\n", g, n, g/n}'
  awk -v g="$GM" -v n="$NM" -v c="$CLIENTS" 'BEGIN{printf "| %d clients, whole file (aggregate MiB/s) | %d | %d | %.2f |\n", c, g, n, g/n}'
  awk -v g="$GP" -v n="$NP" 'BEGIN{printf "| Range: bytes=0-0 probes (req/s, wrk 64 conns) | %d | %d | %.2f |\n", g, n, g/n}'
  echo "| ggufd peak RSS during the run | $((RSS / 1024)) MiB | | |"
} | tee bench/out/serve.md
