#!/usr/bin/env bash
# quota.sh: the store under a byte budget (serve --max-store-size).
#
# The fake Hub holds ruv/a (five GGUF files of 300000 bytes, f1..f5) and
# ruv/b (copy.gguf: the same bytes as f1, so one blob that two repos
# name).  A ggufd with a 1000000-byte quota mirrors them:
#   - least recently used first: f2 goes, not f1 (read again through
#     ruv/b) nor f3 (pinned through POST /api/ggufd/pins); the evicted
#     file is still listed and is fetched again on the next request;
#   - a blob being read (a paused download of a 12 MiB file, H, in ruv/h) is
#     kept though least recently used: the next one goes instead, and the
#     slow download ends byte-exact;
#   - everything pinned: a cold file gets 507 InsufficientStorage (JSON,
#     X-Error-Code) and the server keeps serving; after unpinning it fits;
#   - /api/ggufd/disk and /metrics say what happened; ggufd ls shows pins;
#   - --max-store-size 50% starts with half the filesystem as quota; bad
#     sizes are refused.
# Disk full (ENOSPC) on a small tmpfs store, mounted by the test, needs
# root: without it those checks are skipped, visibly.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 37

REPOS=$WORK/repos
S=$WORK/store
mkdir -p "$REPOS" "$WORK/in" "$WORK/dl"
for i in 1 2 3 4 5; do
	mkgguf "$WORK/in/f$i.gguf" --size 300000 --name "model $i" >/dev/null 2>&1
done
mkgguf "$WORK/in/big.gguf" --size 3000000 >/dev/null 2>&1
mkgguf "$WORK/in/held.gguf" --size 12M --name held >/dev/null 2>&1
mkgguf "$WORK/in/other.gguf" --size 3M --name other >/dev/null 2>&1
mkgguf "$WORK/in/new.gguf" --size 3M --name new >/dev/null 2>&1
A=$(fakehub mkrepo --repos "$REPOS" --repo ruv/a --commit auto --ref main \
	"$WORK/in/f1.gguf=ruvltra-0.5b-q4_k_m.gguf" "$WORK/in/f2.gguf=ruvltra-0.5b-q5_k_m.gguf" \
	"$WORK/in/f3.gguf=ruvltra-0.5b-q6_k.gguf" "$WORK/in/f4.gguf=ruvltra-0.5b-q8_0.gguf" \
	"$WORK/in/f5.gguf=ruvltra-0.5b-f16.gguf" "$WORK/in/big.gguf=ruvltra-3b-q4_k_m.gguf" \
	2>/dev/null | tail -n 1)
B=$(fakehub mkrepo --repos "$REPOS" --repo ruv/b --commit auto --ref main \
	"$WORK/in/f1.gguf=copy.gguf" 2>/dev/null | tail -n 1)
H=$(fakehub mkrepo --repos "$REPOS" --repo ruv/h --commit auto --ref main \
	"$WORK/in/held.gguf" "$WORK/in/other.gguf" "$WORK/in/new.gguf" 2>/dev/null | tail -n 1)
result "fake repos created" "$([ ${#A} = 40 ] && [ ${#B} = 40 ] && [ ${#H} = 40 ]; echo $?)" \
	"mkrepo: '$A' '$B' '$H'"
declare -A SHA NAME
NAME=([1]=ruvltra-0.5b-q4_k_m.gguf [2]=ruvltra-0.5b-q5_k_m.gguf [3]=ruvltra-0.5b-q6_k.gguf
	[4]=ruvltra-0.5b-q8_0.gguf [5]=ruvltra-0.5b-f16.gguf)
for i in 1 2 3 4 5; do SHA[$i]=$(sha256_of "$WORK/in/f$i.gguf"); done

blob() { [ -f "$S/blobs/sha256/${1:0:2}/$1" ]; }
present() { # present 1 3: those blobs are on disk
	# A client has its last bytes once they are verified, a moment before
	# the blob is renamed into blobs/: wait for it (bounded).
	local i n
	for i in "$@"; do
		for ((n = 0; n < 50; n++)); do
			blob "${SHA[$i]}" && break
			sleep "$GG_POLL"
		done
		blob "${SHA[$i]}" || return 1
	done
}
absent() {
	local i
	for i in "$@"; do blob "${SHA[$i]}" && return 1; done
	return 0
}
# get N [REPO PATH]: downloads f$N (through ruv/a unless told), checks the bytes.
get() {
	local n=$1 repo=${2:-ruv/a} path=${3:-${NAME[$1]}}
	gcurl -f -o "$WORK/dl/f$n" "$BASE/$repo/resolve/main/$path" 2>"$WORK/dl/f$n.err" &&
		cmp -s "$WORK/dl/f$n" "$WORK/in/f$n.gguf"
}
disk() { gcurl -o "$WORK/disk.json" "$BASE/api/ggufd/disk"; }
metric() { gcurl "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
pins() { # pins JSON
	gcurl -o "$WORK/pins.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary "$1" "$BASE/api/ggufd/pins"
}

if ! start_fakehub "$REPOS" || ! start_ggufd "$S" --upstream "$HUB" --max-store-size 1000000; then
	not_ok "fake Hub and ggufd started"
	finish
	exit
fi
ok "fake Hub and ggufd (quota 1000000 bytes) started"

# --- least recently used first ------------------------------------------------------------
get 1 && get 2 && get 3 && get 1 ruv/b copy.gguf
result "f1, f2, f3 fetched and f1 read again through ruv/b (one blob, two repos), byte-exact" \
	$? "$(cat "$WORK"/dl/*.err)"
code=$(pins '{"repo":"ruv/a","include":["*q6_k.gguf"]}')
result "POST /api/ggufd/pins pins f3 (200, one file)" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/pins.json" 'd["files"]')" = 1 ] &&
		[ "$(jpy "$WORK/pins.json" 'd["pinned"]')" = true ]; echo $?)" \
	"status $code: $(cat "$WORK/pins.json")"
present 1 2 3 # the last fetch renamed into blobs/
disk
result "/api/ggufd/disk: 900000 bytes used of 1000000, 300000 pinned, f2 next to go" \
	"$([ "$(jpy "$WORK/disk.json" 'd["used"]')" = 900000 ] &&
		[ "$(jpy "$WORK/disk.json" 'd["quota"]')" = 1000000 ] &&
		[ "$(jpy "$WORK/disk.json" 'd["pinned"]')" = 300000 ] &&
		[ "$(jpy "$WORK/disk.json" 'd["next"][0]["sha256"]')" = "${SHA[2]}" ]; echo $?)" \
	"$(cat "$WORK/disk.json")"
get 4
result "f4 (cold) fits by evicting one blob, byte-exact" $? "$(cat "$WORK/dl/f4.err")"
result "the least recently used unpinned blob (f2) went; f1 (read since), f3 (pinned), f4 stay" \
	"$(absent 2 && present 1 3 4; echo $?)" "$(ls -R "$S/blobs")"
disk
result "/api/ggufd/disk: the eviction is listed with the file that named it" \
	"$([ "$(jpy "$WORK/disk.json" 'd["recent"][0]["sha256"]')" = "${SHA[2]}" ] &&
		[ "$(jpy "$WORK/disk.json" 'd["recent"][0]["files"][0]["path"]')" = "${NAME[2]}" ] &&
		[ "$(jpy "$WORK/disk.json" 'd["evictions"]')" = 1 ]; echo $?)" \
	"$(cat "$WORK/disk.json")"
result "/metrics: ggufd_store_evictions_total 1, evicted bytes 300000, quota 1000000" \
	"$([ "$(metric ggufd_store_evictions_total)" = 1 ] &&
		[ "$(metric ggufd_store_evicted_bytes_total)" = 300000 ] &&
		[ "$(metric ggufd_store_quota_bytes)" = 1000000 ]; echo $?)" \
	"$(gcurl "$BASE/metrics" | grep ggufd_store_)"
gcurl -o "$WORK/tree.json" "$BASE/api/models/ruv/a/tree/main"
result "the evicted file is still listed in the tree" \
	"$(grep -q "${NAME[2]}" "$WORK/tree.json"; echo $?)" "$(head -c 600 "$WORK/tree.json")"

# --- nothing can go: 507 -------------------------------------------------------------------
code=$(pins '{"repo":"ruv/a"}')
result "POST /api/ggufd/pins pins the four files of ruv/a the store knows" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/pins.json" 'd["files"]')" = 4 ]; echo $?)" \
	"status $code: $(cat "$WORK/pins.json")"
code=$(gcurl -o "$WORK/507.json" -D "$WORK/507.h" -w '%{http_code}' \
	"$BASE/ruv/a/resolve/main/${NAME[5]}")
result "a cold file with every blob pinned: 507 InsufficientStorage, JSON error" \
	"$([ "$code" = 507 ] && grep -qi '^X-Error-Code: InsufficientStorage' "$WORK/507.h" &&
		[ -n "$(jpy "$WORK/507.json" 'd["error"]')" ]; echo $?)" \
	"status $code: $(cat "$WORK/507.h" "$WORK/507.json")"
code=$(gcurl -o "$WORK/507big.json" -w '%{http_code}' "$BASE/ruv/a/resolve/main/ruvltra-3b-q4_k_m.gguf")
result "a file larger than the whole quota: 507" "$([ "$code" = 507 ]; echo $?)" "status $code"
result "nothing was left behind: no partial in tmp/, f5 absent" \
	"$([ -z "$(find "$S/tmp" -name '*.part' -size +0c)" ] && absent 5; echo $?)" \
	"$(ls -la "$S/tmp")"
get 1 ruv/b copy.gguf
result "the server keeps serving: f1 through ruv/b, byte-exact" $? "$(cat "$WORK/dl/f1.err")"
result "healthz still 200" \
	"$([ "$(gcurl -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ]; echo $?)"
"$GGUFD" ls --store "$S" ruv/a >"$WORK/ls.out" 2>&1
result "ggufd ls shows the pinned files" \
	"$([ "$(grep -c ' pinned' "$WORK/ls.out")" = 4 ]; echo $?)" "$(cat "$WORK/ls.out")"
code=$(pins '{"repo":"ruv/a","include":["*q5_k_m.gguf","*q8_0.gguf"],"pin":false}')
result "POST /api/ggufd/pins with pin:false unpins two files" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/pins.json" 'd["files"]')" = 2 ] &&
		[ "$(jpy "$WORK/pins.json" 'd["pinned"]')" = false ]; echo $?)" \
	"status $code: $(cat "$WORK/pins.json")"
get 5
result "unpinned, f5 fits (f4, the only unpinned blob, evicted), byte-exact" \
	"$(absent 2 4 && present 1 3 5; echo $?)" \
	"$(cat "$WORK/dl/f5.err"; ls -R "$S/blobs")"
code=$(pins '{"repo":"ruv/a","revision":"nope"}')
result "pins of an unknown revision: 404" "$([ "$code" = 404 ]; echo $?)" "status $code"
code=$(pins '{"repo":3}')
result "pins with a bad body: 400" "$([ "$code" = 400 ]; echo $?)" "status $code"
code=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/api/ggufd/pins")
result "GET /api/ggufd/pins lists the pinned blobs" \
	"$([ "$code" = 200 ] && gcurl "$BASE/api/ggufd/pins" | grep -q "${SHA[3]}"; echo $?)" \
	"status $code"
stop_ggufd

# --- a blob being read is kept ---------------------------------------------------------------
# A client with a small receive buffer reads the first bytes of H (12 MiB)
# and then waits for a go file: the server is still sending H (more than
# the kernel's socket buffers hold) while the next fetch needs room.
S2=$WORK/store2
start_ggufd "$S2" --upstream "$HUB" --max-store-size $((16 * 1048576 + 500000))
bget() { # bget NAME: downloads ruv/h's NAME, compares with $WORK/in/NAME
	gcurl -f -o "$WORK/dl/$1" "$BASE/ruv/h/resolve/main/$1" 2>"$WORK/dl/$1.err" &&
		cmp -s "$WORK/dl/$1" "$WORK/in/$1"
}
bget held.gguf && bget other.gguf
result "H (12 MiB) and O (3 MiB) fetched under a 16.5 MiB quota, byte-exact" $? \
	"$(cat "$WORK/dl/held.gguf.err" "$WORK/dl/other.gguf.err")"
timeout 60 python3 -c '
import os, socket, sys, time
base, out, go = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = base.split("//")[1].split(":")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
s.settimeout(30)
s.connect((host, int(port)))
s.sendall(("GET /ruv/h/resolve/main/held.gguf HTTP/1.1\r\nHost: %s\r\n"
           "Connection: close\r\n\r\n" % host).encode())
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(65536)
head, body = data.split(b"\r\n\r\n", 1)
open(out + ".started", "w").close()
end = time.time() + 30
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.05)
parts = [body]
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    parts.append(b)
open(out, "wb").write(b"".join(parts))
' "$BASE" "$WORK/dl/slow" "$WORK/dl/go" 2>"$WORK/dl/slow.err" &
SLOW=$!
for ((i = 0; i < 100; i++)); do
	[ -f "$WORK/dl/slow.started" ] && break
	sleep "$GG_POLL"
done
# O lands in blobs/ a moment after its client's last byte: poll (bounded).
for ((i = 0; i < 50; i++)); do
	disk
	[ "$(jpy "$WORK/disk.json" 'd["evictable"]')" = "$(file_size "$WORK/in/other.gguf")" ] && break
	sleep "$GG_POLL"
done
result "while H is being read, /api/ggufd/disk counts only O as evictable" \
	"$([ "$(jpy "$WORK/disk.json" 'd["evictable"]')" = "$(file_size "$WORK/in/other.gguf")" ]; echo $?)" \
	"$(cat "$WORK/disk.json")"
bget other.gguf # O is now more recently used than H
bget new.gguf
result "N (cold) fits, byte-exact" $? "$(cat "$WORK/dl/new.gguf.err")"
result "O went, not H, the least recently used but being read" \
	"$(hs=$(sha256_of "$WORK/in/held.gguf"); os=$(sha256_of "$WORK/in/other.gguf")
		[ -f "$S2/blobs/sha256/${hs:0:2}/$hs" ] && [ ! -f "$S2/blobs/sha256/${os:0:2}/$os" ]
		echo $?)" "$(find "$S2/blobs" -type f)"
touch "$WORK/dl/go"
wait "$SLOW"
st=$?
result "the held download of H ends byte-exact" \
	"$([ "$st" = 0 ] && cmp -s "$WORK/dl/slow" "$WORK/in/held.gguf"; echo $?)" \
	"exit $st: $(cat "$WORK/dl/slow.err")"
stop_ggufd

# --- sizes -----------------------------------------------------------------------------------
start_ggufd "$S" --upstream none --max-store-size 50%
result "--max-store-size 50% starts with half the filesystem as quota" \
	"$(grep -q 'store quota [0-9]* bytes (--max-store-size 50%)' "$GGUFD_LOG"; echo $?)" \
	"$(head -5 "$GGUFD_LOG")"
stop_ggufd
for bad in 0 10X 101% -5 1.5G; do
	"$GGUFD" serve --store "$S" --upstream none --listen 127.0.0.1:0 --max-store-size "$bad" \
		>/dev/null 2>"$WORK/bad.err"
	st=$?
	grep -q "max-store-size wants 500G, 80% or bytes, not '$bad'" "$WORK/bad.err" || st=99
	[ "$st" = 2 ] || break
done
result "bad sizes (0, 10X, 101%, -5, 1.5G) are usage errors naming the value" \
	"$([ "$st" = 2 ]; echo $?)" "'$bad': exit $st: $(cat "$WORK/bad.err")"

# --- a lower quota at start evicts down to it ---------------------------------------------------
"$GGUFD" unpin --store "$S" ruv/a >/dev/null 2>&1
start_ggufd "$S" --upstream none --max-store-size 400000
result "restarted with a 400000-byte quota: unpinned blobs evicted down to it" \
	"$(n=$(find "$S/blobs" -type f | wc -l); [ "$n" -le 1 ]; echo $?)" \
	"$(find "$S/blobs" -type f; cat "$GGUFD_LOG")"
stop_ggufd

# --- gc: stale partials and old quarantined files, by hand and by the server ------------------
old=$(date -d '3 days ago' +%Y%m%d%H%M)
printf 'left by a crashed fetch' >"$S/tmp/$(printf '%064d' 7).part"
printf 'bad bytes' >"$S/quarantine/$(printf '%064d' 8)"
touch -t "$old" "$S/tmp/$(printf '%064d' 7).part"
touch -t "$(date -d '30 days ago' +%Y%m%d%H%M)" "$S/quarantine/$(printf '%064d' 8)"
printf 'young' >"$S/tmp/$(printf '%064d' 9).part"
"$GGUFD" gc --store "$S" >"$WORK/gc.out" 2>&1
result "ggufd gc removes the stale partial and the old quarantined file, keeps the young partial" \
	"$(grep -q '^removed 2 stale partial or quarantined files (32 bytes)' "$WORK/gc.out" &&
		[ -f "$S/tmp/$(printf '%064d' 9).part" ]; echo $?)" "$(cat "$WORK/gc.out"; ls -la "$S/tmp")"
printf 'left by a crashed fetch' >"$S/tmp/$(printf '%064d' 7).part"
touch -t "$old" "$S/tmp/$(printf '%064d' 7).part"
start_ggufd "$S" --upstream none --gc-interval 1
for ((i = 0; i < 50; i++)); do
	[ -f "$S/tmp/$(printf '%064d' 7).part" ] || break
	sleep "$GG_POLL"
done
result "serve --gc-interval 1 runs gc on its own: the stale partial goes" \
	"$([ ! -f "$S/tmp/$(printf '%064d' 7).part" ] && grep -q 'gc: removed' "$GGUFD_LOG"; echo $?)" \
	"$(ls -la "$S/tmp"; cat "$GGUFD_LOG")"
stop_ggufd

# --- disk full (ENOSPC) on a small tmpfs --------------------------------------------------------
T=$WORK/small
if [ "$(id -u)" != 0 ]; then
	for d in "a download larger than the disk: 507" "nothing indexed, no partial left" \
		"other requests keep working" "an upload larger than the disk: 507, no temp file left" \
		"the server is still healthy"; do
		skip "$d" "needs root to mount a tmpfs"
	done
else
	mkdir -p "$T"
	if ! mount -t tmpfs -o size=2m tmpfs "$T"; then
		not_ok "mount a 2 MiB tmpfs" "mount failed"
	fi
	start_ggufd "$T/store" --upstream "$HUB"
	"$GGUFD" token add ci --scope upload --store "$T/store" >"$WORK/tok" 2>&1
	code=$(gcurl -o "$WORK/full.json" -D "$WORK/full.h" -w '%{http_code}' \
		"$BASE/ruv/a/resolve/main/ruvltra-3b-q4_k_m.gguf")
	result "a download larger than the disk: 507 InsufficientStorage" \
		"$([ "$code" = 507 ] && grep -qi '^X-Error-Code: InsufficientStorage' "$WORK/full.h"; echo $?)" \
		"status $code: $(cat "$WORK/full.h" "$WORK/full.json")"
	"$GGUFD" ls --store "$T/store" >"$WORK/ls2.out" 2>&1
	result "nothing indexed as present, no partial left" \
		"$([ -z "$(find "$T/store/tmp" -type f)" ] &&
			[ -z "$(find "$T/store/blobs" -type f)" ] &&
			! grep -q 'ruvltra-3b-q4_k_m.gguf.*sha256:.*gguf v' "$WORK/ls2.out"; echo $?)" \
		"$(find "$T/store" -type f; cat "$WORK/ls2.out")"
	get 1
	result "other requests keep working: f1 fetched on the same disk, byte-exact" $? \
		"$(cat "$WORK/dl/f1.err")"
	TOK=$(grep -o 'hf_[A-Za-z0-9]*' "$WORK/tok" | head -n 1)
	code=$(gcurl -o "$WORK/up.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOK" \
		--data-binary @"$WORK/in/big.gguf" \
		"$BASE/api/ggufd/upload/ruv/ruvltra/ruvltra-3b-q4_k_m.gguf")
	result "an upload larger than the disk: 507, no temp file left" \
		"$([ "$code" = 507 ] && [ -z "$(find "$T/store/tmp" -type f)" ]; echo $?)" \
		"status $code: $(cat "$WORK/up.json"; find "$T/store" -type f)"
	result "the server is still healthy" \
		"$([ "$(gcurl -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ]; echo $?)"
	stop_ggufd
	umount "$T" || umount -l "$T"
fi

finish
