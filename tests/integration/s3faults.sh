#!/usr/bin/env bash
# s3faults.sh: a blob store that answers wrongly, without Ceph: a stub S3
# (s3stub.py, no signature check) holds a blob of the fake Hub's repo.
#   - its GET of the whole object is cut after 1 MB, and its answer to the
#     resume (Range: bytes=N-) is a 206 for another range, honestly
#     labelled: ggufd keeps none of those bytes, goes on from upstream at
#     N, and the client gets the file byte-exact (before the check, the
#     misplaced bytes were kept and the whole fetch failed its hash);
#   - its uploads fail (503): the blob stays here, counted pending, and the
#     file is served all the same.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 4

mkdir -p "$WORK/in" "$WORK/dl" "$WORK/objects" "$WORK/repos"
mkgguf "$WORK/in/big.gguf" --size 4M --name big >/dev/null 2>&1
mkgguf "$WORK/in/new.gguf" --size 2M --name new >/dev/null 2>&1
SHA=$(sha256_of "$WORK/in/big.gguf")
cp "$WORK/in/big.gguf" "$WORK/objects/$SHA"
fakehub mkrepo --repos "$WORK/repos" --repo ruv/s3f --commit auto --ref main \
	"$WORK/in/big.gguf=big.gguf" "$WORK/in/new.gguf=new.gguf" >/dev/null 2>&1
start_fakehub "$WORK/repos" || true

python3 "$TOP_SRCDIR/tests/integration/s3stub.py" --dir "$WORK/objects" \
	--fault cut:1000000 --fault wrong_range:4096 >"$WORK/stub.out" 2>"$WORK/stub.log" &
STUB_PID=$!
trap 'kill "$STUB_PID" 2>/dev/null; _cleanup' EXIT
STUB=
for ((i = 0; i < GG_START_POLLS; i++)); do
	STUB=$(sed -n 's/^s3stub url=//p' "$WORK/stub.out" 2>/dev/null)
	[ -n "$STUB" ] && break
	sleep "$GG_POLL"
done
AWS_ACCESS_KEY_ID=stubkey AWS_SECRET_ACCESS_KEY=stubsecret start_ggufd "$WORK/s" \
	--upstream "$HUB" --blob-store s3://bkt --s3-endpoint "$STUB"
result "ggufd starts on the stub blob store and the fake Hub" \
	"$([ -n "$STUB" ] && [ -n "$BASE" ]; echo $?)" "stub '$STUB'" "$(tail -n 5 "$GGUFD_LOG" 2>/dev/null)"

gcurl -f -o "$WORK/dl/big" "$BASE/ruv/s3f/resolve/main/big.gguf" 2>"$WORK/dl/big.err"
st=$?
fake_stats "$WORK/stats.json"
ranged=$(jpy "$WORK/stats.json" "[r['range'] for r in reqs if r['host'] == 'cdn' and '$SHA' in r['path']]")
result "the bucket's wrong range is not kept: ggufd resumes from upstream and the file is byte-exact" \
	"$([ "$st" = 0 ] && cmp -s "$WORK/dl/big" "$WORK/in/big.gguf" &&
		grep -q "another range than bytes=1000000-" "$GGUFD_LOG" &&
		[ "$ranged" = '["bytes=1000000-"]' ]; echo $?)" \
	"curl $st; upstream ranges $ranged" "$(grep -i 'blob store\|fetch' "$GGUFD_LOG" | tail -n 8)"

gcurl -f -o "$WORK/dl/new" "$BASE/ruv/s3f/resolve/main/new.gguf" 2>"$WORK/dl/new.err"
st=$?
pending=
for ((i = 0; i < 100; i++)); do
	pending=$(gcurl "$BASE/metrics" | awk '$1 == "ggufd_blob_store_uploads_pending" { print $2 }')
	failed=$(gcurl "$BASE/metrics" | awk '$1 == "ggufd_blob_store_uploads_total{result=\"failed\"}" { print $2 }')
	[ "${failed:-0}" -ge 1 ] && break
	sleep "$GG_POLL"
done
result "uploads refused (503): the file is served byte-exact, the blob counted pending and the failure counted" \
	"$([ "$st" = 0 ] && cmp -s "$WORK/dl/new" "$WORK/in/new.gguf" && [ "${pending:-0}" -ge 1 ] &&
		[ "${failed:-0}" -ge 1 ]; echo $?)" "curl $st; pending $pending failed $failed"

stop_ggufd
result "ggufd stops cleanly (exit 0)" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" "status $GGUFD_STATUS"
finish
