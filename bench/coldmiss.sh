#!/usr/bin/env bash
# bench/coldmiss.sh: cold misses through ggufd vs straight from upstream.
#
# Upstream is the fake Hub (tests/fakehub/fakehub.py: a Python HTTP server
# with a 302 to a separate CDN host, like huggingface.co) holding one file
# of SIZE_MB MiB.  In one run:
#   1. one client, straight from upstream (curl -L through the CDN redirect):
#      time to first byte and throughput;
#   1b. the same, written to a file and sha256-summed (what verifying costs);
#   2. one client through a cold ggufd: time to first byte and throughput;
#   3. CLIENTS (default 32) clients at once through a cold ggufd: upstream
#      bytes / file size (from the fake Hub's counters), slowest client time
#      / single-client time;
#   3b. the last MiB of a cold file (served from the one fetch as it lands);
#   4. 64 clients at once on a cold file of BIG_MB (default 2048) MiB:
#      ggufd's peak RSS (VmHWM), to show memory stays bounded per client.
# Writes bench/out/coldmiss.md.  Needs python3 and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-512}
BIG_MB=${BIG_MB:-2048}
CLIENTS=${CLIENTS:-32}
GGUFD=${GGUFD:-./ggufd}
[ -x "$GGUFD" ] || { echo "build ggufd first (./setup.sh build)" >&2; exit 1; }

W=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$W/a.gguf"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > "$W/big.gguf"
FH=tests/fakehub/fakehub.py
python3 $FH mkrepo --repos "$W/repos" --repo ruv/ruvltra --commit auto --ref main \
  "$W/a.gguf=ruvltra-0.5b-q4_k_m.gguf" "$W/big.gguf=ruvltra-3b-q8_0.gguf" >/dev/null
python3 $FH --repos "$W/repos" --host 127.0.0.1 --cdn-host 127.0.0.2 --port 0 --cdn-port 0 \
  --state-file "$W/state.json" >"$W/hub.out" 2>"$W/hub.err" & PIDS+=($!)
for _ in $(seq 100); do grep -q hub= "$W/hub.out" 2>/dev/null && break; sleep 0.1; done
HUB=$(grep -o 'hub=[^ ]*' "$W/hub.out" | cut -d= -f2)

start_ggufd() { # $1: store dir; sets GURL and GPID (not in a subshell: PIDS must grow)
  "$GGUFD" serve --listen 127.0.0.1:0 --store "$1" --upstream "$HUB" --threads 4 2>"$1.log" &
  GPID=$!
  PIDS+=("$GPID")
  for _ in $(seq 100); do grep -q "listening on" "$1.log" 2>/dev/null && break; sleep 0.1; done
  GURL=$(grep -o 'http://127.0.0.1:[0-9]*' "$1.log" | head -1)
}
P=/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf
PB=/ruv/ruvltra/resolve/main/ruvltra-3b-q8_0.gguf
stat_bytes() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(d.get("bytes_sent",{}).values()))' "$W/state.json"; }
cat "$W/a.gguf" "$W/big.gguf" > /dev/null
# The fake Hub hashes a file on first sight: do that before timing anything.
curl -s -o /dev/null -I "$HUB$P"; curl -s -o /dev/null -I "$HUB$PB"

# 1. straight from upstream
read -r D_TTFB D_TOTAL D_SPEED < <(curl -sL -o /dev/null -w '%{time_starttransfer} %{time_total} %{speed_download}\n' "$HUB$P")
# 1b. the same client writing the file to disk and hashing it, which is
# what ggufd must do before it can vouch for the bytes (MiB/s)
T0=$(date +%s.%N)
curl -sL -o "$W/direct.bin" "$HUB$P" && sha256sum "$W/direct.bin" >/dev/null
T1=$(date +%s.%N)
DISK_SPEED=$(awk -v a="$T0" -v b="$T1" -v s="$SIZE_MB" 'BEGIN{printf "%.0f", s/(b-a)}')
rm -f "$W/direct.bin"
# 2. one client through a cold ggufd
start_ggufd "$W/s1"; G1=$GURL
read -r G_TTFB G_TOTAL G_SPEED < <(curl -s -o /dev/null -w '%{time_starttransfer} %{time_total} %{speed_download}\n' "$G1$P")
# 3. CLIENTS at once through another cold ggufd
start_ggufd "$W/s2"; G2=$GURL
curl -s -X POST "$HUB/_fake/reset" >/dev/null
CPIDS=()
for i in $(seq "$CLIENTS"); do
  curl -s -o /dev/null -w '%{time_total}\n' "$G2$P" > "$W/t.$i" & CPIDS+=($!)
done
wait "${CPIDS[@]}"
SLOWEST=$(cat "$W"/t.* | sort -g | tail -1)
UP_BYTES=$(stat_bytes)
# 3b. a client asking for the last MiB of a cold file: ggufd streams ranges
# from the one fetch (no second, ranged upstream request), so this costs
# about the whole file's fetch.
start_ggufd "$W/s2b"; G2B=$GURL
read -r R_TOTAL < <(curl -s -o /dev/null -r -1048576 -w '%{time_total}\n' "$G2B$P")
# 4. 64 clients on the big cold file: peak RSS
start_ggufd "$W/s3"; G3=$GURL; G3PID=$GPID
CPIDS=()
for i in $(seq 64); do curl -s -o /dev/null "$G3$PB" & CPIDS+=($!); done
wait "${CPIDS[@]}"
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$G3PID/status")

mkdir -p bench/out
{
  echo "| measure ($SIZE_MB MiB cold file, loopback, fake Hub upstream) | value |"
  echo "| --- | ---: |"
  awk -v d="$D_TTFB" -v g="$G_TTFB" 'BEGIN{printf "| time to first response byte: direct / through ggufd (ms) | %.1f / %.1f |\n", d*1000, g*1000}'
  awk -v d="$D_SPEED" -v g="$G_SPEED" 'BEGIN{printf "| throughput: direct / through ggufd (MiB/s) | %.0f / %.0f (ratio %.2f) |\n", d/1048576, g/1048576, g/d}'
  echo "| baseline: direct to a file + sha256sum (MiB/s) | $DISK_SPEED |"
  awk -v u="$UP_BYTES" -v s="$SIZE_MB" -v c="$CLIENTS" 'BEGIN{printf "| %d clients at once: upstream bytes / file size | %.2f |\n", c, u/(s*1048576)}'
  awk -v w="$SLOWEST" -v o="$G_TOTAL" -v c="$CLIENTS" 'BEGIN{printf "| %d clients at once: slowest client time / single client time | %.2f |\n", c, w/o}'
  awk -v r="$R_TOTAL" -v o="$G_TOTAL" 'BEGIN{printf "| last MiB of a cold file: time / whole-file time through ggufd | %.2f |\n", r/o}'
  echo "| 64 clients on a cold $BIG_MB MiB file: ggufd peak RSS | $((RSS / 1024)) MiB |"
} | tee bench/out/coldmiss.md
