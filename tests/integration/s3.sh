#!/usr/bin/env bash
# s3.sh: blobs on an S3 object store (serve --blob-store), against a real
# Ceph RADOS Gateway on 127.0.0.1 started by $GGUFD_SHARED/ceph-s3.sh
# (single node, memstore OSD; stopped at exit, always).
#
#   - node A fetches two files from the fake Hub (one small: a single PUT;
#     one of several parts: a multipart upload) and stores them in the
#     bucket; the bucket then holds exactly those objects, each hashing
#     to its name;
#   - node B (its own store and index, the same bucket) serves both
#     byte-exact with no content transfer from the fake Hub;
#   - node B with a small --max-store-size: its copy of the large blob is
#     evicted to make room for another file, and the large file is still
#     served byte-exact, from the bucket again;
#   - kill -9 during a multipart upload to the bucket (slowed by
#     --s3-upload-rate): the object is not there, and every object of the
#     bucket hashes to its name; restarted, the node stores it;
#   - ggufd verify --blob-store checks the bucket, and notices an object
#     deleted behind its back;
#   - wrong or missing credentials: a clear error at start-up, exit 1,
#     the secret never printed;
#   - GET /api/ggufd/disk's "blobStore" (the dashboard's): node A's URL,
#     endpoint, blobs stored, none pending or failed, bytes sent; node B's
#     bytes received; with the gateway killed under a running node, a file
#     still served (from the fake Hub) and the last error naming the
#     request and "no answer"; never a key.
# Needs root (the Ceph daemons) and Debian's ceph packages (./setup.sh
# test installs them); without them it is skipped, visibly.  Ceph's
# monitor ports are fixed (3300, 6789): one test at a time uses Ceph.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT
unset GGUFD_BLOB_STORE GGUFD_S3_ENDPOINT AWS_REGION AWS_DEFAULT_REGION

CEPH_SH=$GGUFD_SHARED/ceph-s3.sh
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root to run the Ceph daemons"
	exit 0
fi
for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool ceph uuidgen bc; do
	if ! have "$tool"; then
		echo "1..0 # SKIP $tool is missing (apt-get install ceph-mon ceph-osd radosgw ceph-common uuid-runtime bc; ./setup.sh test does)"
		exit 0
	fi
done
if [ ! -f "$CEPH_SH" ]; then
	echo "1..0 # SKIP $CEPH_SH is missing (GGUFD_SHARED)"
	exit 0
fi
if (exec 3<>/dev/tcp/127.0.0.1/3300) 2>/dev/null; then
	echo "1..0 # SKIP something listens on 127.0.0.1:3300 (another Ceph monitor)"
	exit 0
fi

plan 35

CEPH=$WORK/ceph
stop_ceph() {
	local f p i
	for f in "$CEPH"/run/client.rgw.a.pid "$CEPH"/run/osd.*.pid "$CEPH"/run/mgr.x.pid "$CEPH"/run/mon.a.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p"
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p"
	done
}
trap '_st=$?; stop_ceph >/dev/null 2>&1; (exit $_st); _cleanup' EXIT

RGW_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP=http://127.0.0.1:$RGW_PORT
AK=PROBEACCESSKEY0000001
SK=probesecretkey000000000000000000000000001
BKT=ggufd-test
PFX=cluster
if timeout 300 env BASE="$CEPH" RGW_PORT="$RGW_PORT" TEST=0 STOP=0 bash "$CEPH_SH" >"$WORK/ceph.log" 2>&1; then
	ok "Ceph and its RADOS Gateway started ($EP)"
else
	not_ok "Ceph and its RADOS Gateway started" "$(tail -n 30 "$WORK/ceph.log")"
	finish
	exit
fi
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK

s3curl() {
	gcurl --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}
# objects: the keys of the bucket, one a line.
objects() {
	s3curl "$EP/$BKT?list-type=2" | python3 -c '
import re, sys
for k in re.findall(r"<Key>([^<]*)</Key>", sys.stdin.read()):
    print(k)'
}
# all_verified: every object is named PREFIX/<sha256 of its bytes>.
all_verified() {
	local k n=0
	for k in $(objects); do
		n=$((n + 1))
		case $k in "$PFX"/*) ;; *) echo "unexpected key $k"; return 1 ;; esac
		s3curl -o "$WORK/obj" "$EP/$BKT/$k" || return 1
		if [ "$(sha256_of "$WORK/obj")" != "${k#"$PFX"/}" ]; then
			echo "object $k does not hash to its name"
			return 1
		fi
	done
	echo "$n objects, each hashes to its name"
}
metric() { gcurl "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
# wait_stored URL N: the node's uploader has stored or found N blobs and
# has none pending (bounded).
wait_stored() {
	local i s a p
	for ((i = 0; i < 300; i++)); do
		s=$(metric "$1" 'ggufd_blob_store_uploads_total{result="stored"}')
		a=$(metric "$1" 'ggufd_blob_store_uploads_total{result="already_there"}')
		p=$(metric "$1" ggufd_blob_store_uploads_pending)
		[ $((${s:-0} + ${a:-0})) -ge "$2" ] && [ "${p:-1}" = 0 ] && return 0
		sleep "$GG_POLL"
	done
	return 1
}
transfers() { # transfers SHA: content transfers of the fake Hub for SHA
	fake_stats "$WORK/stats.json" && jpy "$WORK/stats.json" "xfers.get('$1', 0)"
}

# --- the repo --------------------------------------------------------------
REPOS=$WORK/repos
mkdir -p "$REPOS" "$WORK/in" "$WORK/dl"
mkgguf "$WORK/in/small.gguf" --size 300000 --name small >/dev/null 2>&1
mkgguf "$WORK/in/big.gguf" --size 14M --name big >/dev/null 2>&1
mkgguf "$WORK/in/other.gguf" --size 4M --name other >/dev/null 2>&1
mkgguf "$WORK/in/slow.gguf" --size 24M --name slow >/dev/null 2>&1
C=$(fakehub mkrepo --repos "$REPOS" --repo ruv/s3 --commit auto --ref main \
	"$WORK/in/small.gguf=small.gguf" "$WORK/in/big.gguf=big.gguf" \
	"$WORK/in/other.gguf=other.gguf" "$WORK/in/slow.gguf=slow.gguf" 2>/dev/null | tail -n 1)
declare -A SHA
for f in small big other slow; do SHA[$f]=$(sha256_of "$WORK/in/$f.gguf"); done
start_fakehub "$REPOS" || true
result "fake Hub serves ruv/s3" "$([ ${#C} = 40 ] && [ -n "$HUB" ]; echo $?)" "commit '$C' hub '$HUB'"

S3ARGS=(--upstream "$HUB" --blob-store "s3://$BKT/$PFX" --s3-endpoint "$EP" --s3-part-size 5242880)
get() { # get BASE NAME: downloads NAME, checks the bytes
	gcurl -f -o "$WORK/dl/$2" "$1/ruv/s3/resolve/main/$2.gguf" 2>"$WORK/dl/$2.err" &&
		cmp -s "$WORK/dl/$2" "$WORK/in/$2.gguf"
}

# --- wrong credentials ---------------------------------------------------------
AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 timeout 60 "$GGUFD" serve --listen 127.0.0.1:0 \
	--store "$WORK/x" "${S3ARGS[@]}" --s3-create-bucket </dev/null >"$WORK/bad.out" 2>"$WORK/bad.err"
st=$?
result "wrong credentials: start-up fails (exit 1) with a clear error" \
	"$([ $st = 1 ] && grep -q 'refused our credentials' "$WORK/bad.err" &&
		grep -q 'SignatureDoesNotMatch' "$WORK/bad.err"; echo $?)" "exit $st: $(head -c 600 "$WORK/bad.err")"
result "the secret is never printed" \
	"$(! grep -q 'wrong-secret' "$WORK/bad.err" "$WORK/bad.out"; echo $?)"
AWS_SECRET_ACCESS_KEY=shown-secret-0123456789 "$GGUFD" config --store "$WORK/x" "${S3ARGS[@]}" \
	>"$WORK/config.out" 2>&1
result "ggufd config says the key pair is set, never what it is" \
	"$(grep -q 'AWS_SECRET_ACCESS_KEY set (never shown)' "$WORK/config.out" &&
		! grep -q -e shown-secret -e "$AK" "$WORK/config.out"; echo $?)" "$(cat "$WORK/config.out")"
env -u AWS_ACCESS_KEY_ID timeout 60 "$GGUFD" serve --listen 127.0.0.1:0 --store "$WORK/x" \
	"${S3ARGS[@]}" </dev/null >"$WORK/nokey.out" 2>"$WORK/nokey.err"
st=$?
result "missing credentials: start-up fails with a clear error" \
	"$([ $st = 1 ] && grep -q 'AWS_ACCESS_KEY_ID' "$WORK/nokey.err"; echo $?)" \
	"exit $st: $(head -c 600 "$WORK/nokey.err")"
timeout 60 "$GGUFD" serve --listen 127.0.0.1:0 --store "$WORK/x" "${S3ARGS[@]}" \
	</dev/null >"$WORK/nob.out" 2>"$WORK/nob.err"
st=$?
result "a missing bucket is not created without --s3-create-bucket" \
	"$([ $st = 1 ] && grep -q 'no such bucket' "$WORK/nob.err"; echo $?)" "exit $st: $(head -c 600 "$WORK/nob.err")"

# --- node A: fetch, then the bucket has the blobs ---------------------------------
start_ggufd "$WORK/a" "${S3ARGS[@]}" --s3-create-bucket || true
result "node A starts with --blob-store (bucket created)" \
	"$([ -n "$BASE" ] && grep -q 'created bucket' "$GGUFD_LOG"; echo $?)" "$(head -c 2000 "${GGUFD_LOG:-/dev/null}")"
A=$BASE
check "node A serves small.gguf byte-exact" get "$A" small
check "node A serves big.gguf byte-exact" get "$A" big
result "node A stored both blobs in the bucket" "$(wait_stored "$A" 2; echo $?)" \
	"$(grep 'blob store' "$GGUFD_LOG" | tail -n 20)"
objects | sort >"$WORK/objs"
printf '%s\n' "$PFX/${SHA[small]}" "$PFX/${SHA[big]}" | sort >"$WORK/want"
result "the bucket holds exactly those objects, named by sha256" \
	"$(cmp -s "$WORK/objs" "$WORK/want"; echo $?)" "bucket: $(cat "$WORK/objs")"
check "every object hashes to its name" all_verified
result "node A counts bytes sent to the bucket" \
	"$([ "$(metric "$A" ggufd_blob_store_sent_bytes_total)" -ge $((300000 + 14 * 1048576)) ]; echo $?)" \
	"$(gcurl "$A/metrics" | grep blob_store)"
SMALL_BIG=$(($(file_size "$WORK/in/small.gguf") + $(file_size "$WORK/in/big.gguf")))
gcurl -o "$WORK/diskA.json" "$A/api/ggufd/disk"
da() { jpy "$WORK/diskA.json" "$1"; }
result "GET /api/ggufd/disk: the blob store's URL and endpoint, 2 blobs stored ($SMALL_BIG bytes), none pending or failed, bytes sent as /metrics; no key" \
	"$([ "$(da '[d["blobStore"][k] for k in ("url", "endpoint", "bucket", "prefix")]')" = "[\"s3://$BKT/$PFX\", \"$EP\", \"$BKT\", \"$PFX\"]" ] &&
		[ "$(da '[d["blobStore"][k] for k in ("uploaded", "uploadedBytes", "alreadyThere", "pending", "failed")]')" = "[2, $SMALL_BIG, 0, 0, 0]" ] &&
		[ "$(da 'd["blobStore"]["bytesOut"]')" = "$(metric "$A" ggufd_blob_store_sent_bytes_total)" ] &&
		[ "$(da 'd["blobStore"]["requests"] > 0 and (d["blobStore"]["errors"] == 0) == (d["blobStore"]["lastError"] == "") == (d["blobStore"]["lastErrorAt"] == 0)')" = true ] &&
		! grep -q -e "$AK" -e "$SK" "$WORK/diskA.json"; echo $?)" "$(cat "$WORK/diskA.json")"

# --- node B: the same bucket, no upstream bytes --------------------------------
before_small=$(transfers "${SHA[small]}")
before_big=$(transfers "${SHA[big]}")
start_ggufd2 "$WORK/b" "${S3ARGS[@]}" || true
B=$BASE2
check "node B serves big.gguf byte-exact" get "$B" big
check "node B serves small.gguf byte-exact" get "$B" small
result "node B took no content bytes from the fake Hub" \
	"$([ "$(transfers "${SHA[small]}")" = "$before_small" ] && [ "$(transfers "${SHA[big]}")" = "$before_big" ]; echo $?)" \
	"transfers small $before_small -> $(transfers "${SHA[small]}"), big $before_big -> $(transfers "${SHA[big]}")"
result "node B read them from the bucket" \
	"$([ "$(metric "$B" ggufd_blob_store_received_bytes_total)" -ge $((300000 + 14 * 1048576)) ] &&
		grep -q "fetch ${SHA[big]}: from the blob store" "$GGUFD2_LOG"; echo $?)" \
	"$(gcurl "$B/metrics" | grep blob_store; grep 'blob store' "$GGUFD2_LOG" | tail -n 5)"
gcurl -o "$WORK/diskB.json" "$B/api/ggufd/disk"
result "GET /api/ggufd/disk: node B's bytes received from the bucket, as /metrics; nothing uploaded" \
	"$([ "$(jpy "$WORK/diskB.json" 'd["blobStore"]["bytesIn"]')" = "$(metric "$B" ggufd_blob_store_received_bytes_total)" ] &&
		[ "$(jpy "$WORK/diskB.json" 'd["blobStore"]["bytesIn"] >= '"$SMALL_BIG"' and d["blobStore"]["uploaded"] == 0')" = true ]; echo $?)" \
	"$(cat "$WORK/diskB.json")"
stop_ggufd2

# --- node B's local tier evicted --------------------------------------------------
start_ggufd2 "$WORK/b" "${S3ARGS[@]}" --max-store-size 16M || true
B=$BASE2
check "node B (16 MiB local tier) serves other.gguf, new to the cluster" get "$B" other
result "node B stored other.gguf in the bucket" "$(wait_stored "$B" 1; echo $?)"
result "big.gguf's local copy was evicted for it" \
	"$([ ! -f "$WORK/b/blobs/sha256/${SHA[big]:0:2}/${SHA[big]}" ] &&
		[ "$(metric "$B" ggufd_store_evictions_total)" -ge 1 ]; echo $?)" \
	"$(grep evicted "$GGUFD2_LOG")"
check "node B still serves big.gguf byte-exact (from the bucket)" get "$B" big
result "still no content bytes for big.gguf from the fake Hub" \
	"$([ "$(transfers "${SHA[big]}")" = "$before_big" ]; echo $?)"
stop_ggufd2

# --- kill -9 during an upload -------------------------------------------------------
stop_ggufd
start_ggufd "$WORK/a" "${S3ARGS[@]}" --s3-upload-rate 4000000 --log-level debug || true
A=$BASE
get "$A" slow >/dev/null 2>&1
for ((i = 0; i < 300; i++)); do
	grep -q "part 1/5 of ${SHA[slow]} stored" "$GGUFD_LOG" && break
	sleep "$GG_POLL"
done
kill9_ggufd
result "killed during the multipart upload: the object is not in the bucket" \
	"$(! objects | grep -q "${SHA[slow]}"; echo $?)" "$(grep 'blob store' "$GGUFD_LOG" | tail -n 5)"
check "every object of the bucket hashes to its name" all_verified
start_ggufd "$WORK/a" "${S3ARGS[@]}" || true
A=$BASE
result "restarted, node A stores it" \
	"$(wait_stored "$A" 1 && objects | grep -q "${SHA[slow]}"; echo $?)" \
	"$(grep 'blob store' "$GGUFD_LOG" | tail -n 5)"
check "and every object hashes to its name" all_verified
stop_ggufd

# --- ggufd verify --blob-store ------------------------------------------------------
"$GGUFD" verify --store "$WORK/a" --blob-store "s3://$BKT/$PFX" --s3-endpoint "$EP" \
	>"$WORK/verify.out" 2>&1
st=$?
result "ggufd verify --blob-store: every blob of node A is in the bucket" \
	"$([ $st = 0 ] && grep -q ' 3 blobs stored, 0 to store, 0 lost' "$WORK/verify.out"; echo $?)" \
	"exit $st: $(cat "$WORK/verify.out")"
s3curl -o /dev/null -X DELETE "$EP/$BKT/$PFX/${SHA[small]}"
"$GGUFD" verify --store "$WORK/a" --blob-store "s3://$BKT/$PFX" --s3-endpoint "$EP" \
	>"$WORK/verify2.out" 2>&1
result "an object deleted behind ggufd's back is reported (to store again)" \
	"$(grep -q "not in the blob store: ${SHA[small]}" "$WORK/verify2.out" &&
		grep -q ' 2 blobs stored, 1 to store' "$WORK/verify2.out"; echo $?)" "$(cat "$WORK/verify2.out")"

# --- an object whose bytes do not hash to its name ---------------------------------
# big.gguf's object replaced behind ggufd's back by other bytes of its size:
# a node without the blob reads it from the bucket, the hash refuses it (the
# client is cut, never served a complete wrong file), the next request asks
# upstream, and the uploader replaces the object with the verified bytes.
head -c "$(file_size "$WORK/in/big.gguf")" /dev/urandom >"$WORK/bad.bin"
s3curl -o /dev/null -T "$WORK/bad.bin" "$EP/$BKT/$PFX/${SHA[big]}"
before_big=$(transfers "${SHA[big]}")
start_ggufd "$WORK/d" "${S3ARGS[@]}" || true
D=$BASE
get "$D" big
st1=$?
get "$D" big
st2=$?
result "a corrupt object: the first read is refused (not byte-exact, the client cut), the second comes from upstream byte-exact" \
	"$([ "$st1" != 0 ] && ! cmp -s "$WORK/dl/big" "$WORK/bad.bin" && [ "$st2" = 0 ] &&
		[ "$(transfers "${SHA[big]}")" = $((before_big + 1)) ]; echo $?)" \
	"first $st1, second $st2; transfers $before_big -> $(transfers "${SHA[big]}")" \
	"$(grep -i 'blob store\|hash' "$GGUFD_LOG" | tail -n 6)"
result "the uploader replaced the object with the verified bytes" \
	"$(wait_stored "$D" 1 && grep -q "object ${SHA[big]} did not hash to its name: replacing it" "$GGUFD_LOG"; echo $?)" \
	"$(grep 'blob store' "$GGUFD_LOG" | tail -n 6)"
check "every object of the bucket hashes to its name again" all_verified
stop_ggufd

# --- the gateway gone under a running node: the last error ----------------------------
start_ggufd "$WORK/c" "${S3ARGS[@]}" || true
C=$BASE
[ -f "$CEPH/run/client.rgw.a.pid" ] && kill -KILL "$(cat "$CEPH/run/client.rgw.a.pid")" 2>/dev/null
for ((i = 0; i < 100; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$RGW_PORT") 2>/dev/null || break
	sleep "$GG_POLL"
done
get "$C" small
st=$?
gcurl -o "$WORK/diskC.json" "$C/api/ggufd/disk"
dc() { jpy "$WORK/diskC.json" "$1"; }
result "the gateway killed: the file still served (from the fake Hub); the disk API's last error names the request and 'no answer', with its time; no key" \
	"$([ "$st" = 0 ] &&
		dc 'd["blobStore"]["lastError"]' | grep -Eq "^(HEAD|GET|PUT) ${SHA[small]}: no answer: " &&
		[ "$(dc 'd["blobStore"]["errors"] >= 1 and d["blobStore"]["lastErrorAt"] > 0')" = true ] &&
		! grep -q -e "$AK" -e "$SK" "$WORK/diskC.json"; echo $?)" "get $st: $(cat "$WORK/diskC.json")"
stop_ggufd

finish
