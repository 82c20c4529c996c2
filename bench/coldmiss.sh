#!/usr/bin/env bash
# bench/coldmiss.sh: cold misses through ggufd vs the machine's limits, in
# one run, ROUNDS (default 3) rounds alternating, medians with spread.
#
# Upstream is the fake Hub (tests/fakehub/fakehub.py: a Python HTTP server
# with a 302 to a separate CDN host, like huggingface.co).  Every round uses
# files never seen before (a distinct 4 KiB head on a shared random body,
# so each has its own sha256 and ggufd cannot reuse a blob).  Measured:
#   ttfb     time to the first response byte of a SIZE_MB MiB file:
#            straight from upstream (through the CDN redirect) and through
#            a cold ggufd; the difference in ms (target: within 5 ms);
#   ingest   one client through a cold ggufd, MiB/s, against the machine's
#            limit measured in the same round: the slowest of the upstream
#            rate (straight from upstream, bytes dropped), a durable
#            write of the same size on the store's filesystem (dd bs=512K
#            conv=fsync) and SHA-256 from memory (Python's hashlib: the
#            OpenSSL ggufd uses, on the file already read, as ggufd
#            hashes what it has received);
#            ratio ingest / limit (target >= 0.9).  Taken twice, the
#            durable write and ggufd alike each time: with the memory
#            they write to backed by the host ("warm": SIZE_MB of page
#            cache written and freed just before) and with memory the
#            host has taken back ("fresh": PAGE_REST (3) seconds after
#            the last free).  In a VM with a balloon that reports free
#            pages (this machine's), the first write to a page the host
#            took back costs a fault in the host: writing 512 MiB then
#            takes about 0.7 s of CPU instead of 0.17 s, for dd and ggufd
#            alike, and which of the two a measure gets depends on how
#            long ago memory was freed.  The durable write and ggufd
#            take turns going first from round to round;
#            the single client of ttfb and ingest is bench/sink.py, which
#            lets the kernel drop the bytes it receives: curl would copy
#            them out, an eighth of the two cores at 900 MiB/s that a
#            client on another machine does not take from ggufd;
#   crowd    CLIENTS (default 32) connections at once from ONE client
#            process (curl --parallel), so the client is not the
#            bottleneck: cold through ggufd, then the same file warm; the
#            slowest transfer cold / warm (target <= 1.2) and upstream
#            bytes / file size (target exactly 1.00);
#   rss      (BIG_MB > 0, default 2048) 64 clients at once on a cold BIG_MB
#            MiB file: ggufd's peak RSS (VmHWM).
# Writes bench/out/coldmiss.md (the medians, then each round's row); with
# UPDATE_README=1 also README.md between
# <!-- bench:coldmiss --> and <!-- /bench:coldmiss -->.  Needs python3,
# curl (>= 7.66 for --parallel).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE_MB=${SIZE_MB:-512}
BIG_MB=${BIG_MB:-2048}
CLIENTS=${CLIENTS:-32}
ROUNDS=${ROUNDS:-3}
PAGE_REST=${PAGE_REST:-3}
GGUFD=${GGUFD:-./ggufd}
[ -x "$GGUFD" ] || { echo "build ggufd first (./setup.sh build)" >&2; exit 1; }
for t in curl python3; do
  command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }
done

W=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# Files: t<R> (ttfb + warm ingest), f<R> (fresh ingest) and c<R> (crowd)
# per round, and big.
head -c $((SIZE_MB * 1024 * 1024 - 4096)) /dev/urandom >"$W/body"
ARGS=()
for r in $(seq "$ROUNDS"); do
  for k in t f c; do
    { head -c 4096 /dev/urandom; cat "$W/body"; } >"$W/$k$r.gguf"
    ARGS+=("$W/$k$r.gguf=ruvltra-$k$r-q4_k_m.gguf")
  done
done
[ "$BIG_MB" -gt 0 ] && head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$W/big.gguf" &&
  ARGS+=("$W/big.gguf=ruvltra-3b-q8_0.gguf")
FH=tests/fakehub/fakehub.py
python3 $FH mkrepo --repos "$W/repos" --repo ruv/ruvltra --commit auto --ref main "${ARGS[@]}" >/dev/null
python3 $FH --repos "$W/repos" --host 127.0.0.1 --cdn-host 127.0.0.2 --port 0 --cdn-port 0 \
  --state-file "$W/state.json" >"$W/hub.out" 2>"$W/hub.err" & PIDS+=($!)
for _ in $(seq 100); do grep -q hub= "$W/hub.out" 2>/dev/null && break; sleep 0.1; done
HUB=$(grep -o 'hub=[^ ]*' "$W/hub.out" | cut -d= -f2)
R=/ruv/ruvltra/resolve/main

start_ggufd() { # $1: store dir; sets GURL and GPID (not in a subshell: PIDS must grow)
  "$GGUFD" serve --listen 127.0.0.1:0 --store "$1" --upstream "$HUB" 2>"$1.log" &
  GPID=$!
  PIDS+=("$GPID")
  for _ in $(seq 100); do grep -q "listening on" "$1.log" 2>/dev/null && break; sleep 0.1; done
  GURL=$(grep -o 'http://127.0.0.1:[0-9]*' "$1.log" | head -1)
}
stop_ggufd() { kill "$GPID" 2>/dev/null || true; wait "$GPID" 2>/dev/null || true; }
up_bytes() { # the fake Hub's content bytes for the blob of file $1
  python3 -c 'import json,sys,hashlib
d=json.load(open(sys.argv[1])); h=hashlib.sha256(open(sys.argv[2],"rb").read()).hexdigest()
print(d.get("bytes_sent",{}).get(h,0))' "$W/state.json" "$1"
}
# The fake Hub hashes a file on first sight: do that before timing anything.
for f in "$W"/*.gguf; do
  n=$(basename "$f" .gguf)
  [ "$n" = big ] && n=3b-q8_0 || n=$n-q4_k_m
  curl -s -o /dev/null -I "$HUB$R/ruvltra-$n.gguf"
done
cat "$W"/*.gguf >/dev/null
sync # the files just written must not be written back during the rounds

# warm_pages: SIZE_MB of page cache written and freed (not written back),
# so that the next writer's pages are ones the host backs.
warm_pages() {
  dd if=/dev/zero of="$W/warm" bs=1M count="$SIZE_MB" status=none
  rm -f "$W/warm"
}
# durable_write: MiB/s of a durable write of a SIZE_MB file on the store's
# filesystem, in 512 KiB writes: the fastest size here (ggufd's too).
# With fresh pages 4 MiB writes go at half the rate or less: the page
# cache takes them in 2 MiB folios, which come from the blocks the host
# took back.
durable_write() {
  local t0 t1
  t0=$(date +%s%N)
  dd if="$W/t$r.gguf" of="$W/ddout" bs=512K conv=fsync status=none
  t1=$(date +%s%N)
  rm -f "$W/ddout"
  awk -v s="$SIZE_MB" -v n=$((t1 - t0)) 'BEGIN { printf "%.1f", s / (n / 1e9) }'
}

: >"$W/rows"
row() { echo "$1 $2" >>"$W/rows"; } # NAME VALUE, one per round
for r in $(seq "$ROUNDS"); do
  T=$R/ruvltra-t$r-q4_k_m.gguf C=$R/ruvltra-c$r-q4_k_m.gguf
  F=$R/ruvltra-f$r-q4_k_m.gguf
  # Machine limits: upstream rate (direct, to /dev/null), SHA-256 (MiB/s);
  # the direct client's time to first byte.
  read -r d_ttfb d_speed < <(python3 bench/sink.py "$HUB$T")
  sha=$(python3 -c 'import hashlib, sys, time
b = open(sys.argv[1], "rb").read()
t = time.perf_counter(); hashlib.sha256(b).digest(); t = time.perf_counter() - t
print("%.1f" % (len(b) / 1048576 / t))' "$W/t$r.gguf")
  start_ggufd "$W/s$r"
  # Warm pages: the durable write and one client through the cold ggufd
  # (time to first byte and ingest), each right after SIZE_MB of page
  # cache was written and freed.  Fresh pages: the same after PAGE_REST
  # seconds, on another file.  Odd rounds write first, even ones ggufd.
  w_warm() { warm_pages; write=$(durable_write); }
  g_warm() { warm_pages; read -r g_ttfb g_speed < <(python3 bench/sink.py "$GURL$T"); sync; }
  w_fresh() { sleep "$PAGE_REST"; write_f=$(durable_write); }
  g_fresh() { sleep "$PAGE_REST"; read -r _ g_speed_f < <(python3 bench/sink.py "$GURL$F"); sync; }
  if [ $((r % 2)) = 1 ]; then
    w_warm; g_warm; w_fresh; g_fresh
  else
    g_warm; w_warm; g_fresh; w_fresh
  fi
  # The crowd, cold then warm, from one curl process.
  urls=()
  for _ in $(seq "$CLIENTS"); do urls+=(-o /dev/null "$GURL$C"); done
  curl -s --no-progress-meter -Z --parallel-immediate --parallel-max "$CLIENTS" -w '%{time_total}\n' "${urls[@]}" >"$W/cold.$r" 2>/dev/null
  curl -s --no-progress-meter -Z --parallel-immediate --parallel-max "$CLIENTS" -w '%{time_total}\n' "${urls[@]}" >"$W/warm.$r" 2>/dev/null
  stop_ggufd
  rm -rf "$W/s$r"
  awk -v d="$d_ttfb" -v g="$g_ttfb" 'BEGIN { printf "ttfb_direct %.2f\nttfb_ggufd %.2f\nttfb_delta %.2f\n", d * 1000, g * 1000, (g - d) * 1000 }' >>"$W/rows"
  limit() { awk -v u="$d_speed" -v w="$1" -v s="$sha" 'BEGIN { u /= 1048576; m = u; if (w < m) m = w; if (s < m) m = s; printf "%.1f", m }'; }
  lim=$(limit "$write") lim_f=$(limit "$write_f")
  awk -v u="$d_speed" 'BEGIN { printf "upstream_rate %.1f\n", u / 1048576 }' >>"$W/rows"
  row write_rate "$write"
  row write_rate_f "$write_f"
  row sha_rate "$sha"
  row limit "$lim"
  row limit_f "$lim_f"
  awk -v g="$g_speed" -v l="$lim" 'BEGIN { printf "ingest %.1f\ningest_ratio %.3f\n", g / 1048576, g / 1048576 / l }' >>"$W/rows"
  awk -v g="$g_speed_f" -v l="$lim_f" 'BEGIN { printf "ingest_f %.1f\ningest_ratio_f %.3f\n", g / 1048576, g / 1048576 / l }' >>"$W/rows"
  cs=$(sort -g "$W/cold.$r" | tail -1) ws=$(sort -g "$W/warm.$r" | tail -1)
  row crowd_cold "$cs"
  row crowd_warm "$ws"
  awk -v c="$cs" -v w="$ws" 'BEGIN { printf "crowd_ratio %.3f\n", c / w }' >>"$W/rows"
  awk -v u="$(up_bytes "$W/c$r.gguf")" -v s="$SIZE_MB" 'BEGIN { printf "crowd_upstream %.4f\n", u / (s * 1048576) }' >>"$W/rows"
  echo "round $r done" >&2
done

RSS=
if [ "$BIG_MB" -gt 0 ]; then
  start_ggufd "$W/sbig"
  CPIDS=()
  for _ in $(seq 64); do curl -s -o /dev/null "$GURL$R/ruvltra-3b-q8_0.gguf" & CPIDS+=($!); done
  wait "${CPIDS[@]}"
  RSS=$(awk '/VmHWM/ {print $2}' "/proc/$GPID/status")
  stop_ggufd
fi

# med NAME: "median (min-max)" of the rounds' values.
med() {
  awk -v n="$1" '$1 == n { print $2 }' "$W/rows" | sort -g |
    awk -v f="${2:-%.1f}" '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf f " (" f "-" f ")", m, v[1], v[NR] }'
}
mkdir -p bench/out
{
  echo "Command: \`bench/coldmiss.sh\` (SIZE_MB=$SIZE_MB, CLIENTS=$CLIENTS, ROUNDS=$ROUNDS); $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d)."
  echo "Medians of $ROUNDS rounds, each on files never seen before, with (min-max)."
  echo
  echo "| measure ($SIZE_MB MiB cold file, loopback, fake Hub upstream) | value | target |"
  echo "| --- | ---: | --- |"
  echo "| time to first byte: direct (ms) | $(med ttfb_direct) | |"
  echo "| time to first byte: through a cold ggufd (ms) | $(med ttfb_ggufd) | |"
  echo "| time to first byte: ggufd - direct (ms) | $(med ttfb_delta) | <= 5 |"
  echo "| machine limit, warm pages: upstream / durable write / SHA-256 (MiB/s) | $(med upstream_rate %.0f) / $(med write_rate %.0f) / $(med sha_rate %.0f) | |"
  echo "| ingest through a cold ggufd, warm pages (MiB/s) | $(med ingest %.0f) | |"
  echo "| ingest / machine limit, warm pages | $(med ingest_ratio %.2f) | >= 0.9 |"
  echo "| durable write, fresh pages (MiB/s) | $(med write_rate_f %.0f) | |"
  echo "| ingest through a cold ggufd, fresh pages (MiB/s) | $(med ingest_f %.0f) | |"
  echo "| ingest / machine limit, fresh pages | $(med ingest_ratio_f %.2f) | >= 0.9 |"
  echo "| $CLIENTS cold connections (one curl process): upstream bytes / file size | $(med crowd_upstream %.2f) | 1.00 |"
  echo "| $CLIENTS connections: slowest cold / slowest warm | $(med crowd_ratio %.2f) | <= 1.2 |"
  [ -n "$RSS" ] && echo "| 64 clients on a cold $BIG_MB MiB file: ggufd peak RSS | $((RSS / 1024)) MiB | flat |"
  echo
  echo "Each round (what the medians come from):"
  echo
  echo "| round | ttfb ggufd - direct (ms) | upstream / write warm / write fresh / SHA-256 (MiB/s) | ingest warm / fresh (MiB/s) | ingest / limit, warm / fresh | crowd cold / warm (s) | cold / warm |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk '{ k = $1; n[k]++; v[k, n[k]] = $2 } END {
    for (r = 1; r <= n["ingest"]; r++)
      printf "| %d | %.1f | %.0f / %.0f / %.0f / %.0f | %.0f / %.0f | %.2f / %.2f | %.2f / %.2f | %.2f |\n", r,
        v["ttfb_delta", r], v["upstream_rate", r], v["write_rate", r], v["write_rate_f", r], v["sha_rate", r],
        v["ingest", r], v["ingest_f", r], v["ingest_ratio", r], v["ingest_ratio_f", r],
        v["crowd_cold", r], v["crowd_warm", r], v["crowd_ratio", r]
  }' "$W/rows"
} | tee bench/out/coldmiss.md

update_readme coldmiss
