#!/usr/bin/env bash
# bench/all.sh: every benchmark, one after the other, each writing its table
# into README.md (UPDATE_README=1 unless set otherwise):
#   bench/serve.sh     store hits, ggufd vs nginx: throughput, small
#                      requests, memory (about 6 minutes)
#   bench/cost.sh      instructions and system calls per small request,
#                      ggufd vs nginx (about 4 minutes)
#   bench/coldmiss.sh  cold misses against the machine's limits: first
#                      byte, ingest, a crowd, memory (about 5 minutes)
# Run it on a quiet machine: anything else running moves the figures.
# Each script's variables pass through (ROUNDS, SIZE_MB, DURATION, ...).
# Needs nginx, wrk, valgrind, strace, curl and python3 (Debian:
# nginx-light wrk valgrind strace curl python3) and a built ./ggufd.
set -euo pipefail
cd "$(dirname "$0")/.."
export UPDATE_README=${UPDATE_README:-1}
for b in serve cost coldmiss; do
  echo "== bench/$b.sh" >&2
  t0=$(date +%s)
  bash "bench/$b.sh"
  echo "== bench/$b.sh: $(($(date +%s) - t0)) s" >&2
done
