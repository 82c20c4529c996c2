#!/usr/bin/env bash
# href_expiry.sh: a signed upload URL from the LFS batch stops working when
# it expires (403, saying so), and a fresh batch gives a working one.
#
# ggufd runs with --upload-url-ttl 2; the script waits (a bounded poll,
# not a timing assertion) until the first href is past its expiry.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY

plan 5

REPOS=$WORK/repos
mkdir -p "$REPOS"
printf '{"x": 1}\n' >"$WORK/config.json"
fakehub mkrepo --repos "$REPOS" --repo ruv/ruvltra --commit auto --ref main "$WORK/config.json" \
	>/dev/null 2>&1
TOKEN=$("$GGUFD" token add ci --store "$WORK/store" 2>/dev/null)
if ! start_fakehub "$REPOS" || ! start_ggufd "$WORK/store" --upstream "$HUB" --upload-url-ttl 2; then
	not_ok "fake Hub and ggufd started"
	finish
	exit
fi
ok "fake Hub and ggufd started"

mkgguf "$WORK/m.gguf" --size 200000 >/dev/null 2>&1
OID=$(sha256_of "$WORK/m.gguf")
SIZE=$(file_size "$WORK/m.gguf")
batch() {
	gcurl -o "$1" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/vnd.git-lfs+json' \
		--data-binary "{\"operation\":\"upload\",\"transfers\":[\"basic\"],\"objects\":[{\"oid\":\"$OID\",\"size\":$SIZE}],\"hash_algo\":\"sha256\"}" \
		"$BASE/ruv/ruvltra.git/info/lfs/objects/batch"
}
batch "$WORK/b1.json"
HREF=$(jpy "$WORK/b1.json" 'd["objects"][0]["actions"]["upload"]["href"]')
EXP=$(printf '%s' "$HREF" | sed -n 's/.*[?&]exp=\([0-9]*\).*/\1/p')
result "the batch gives a signed href with an expiry" \
	"$([ -n "$EXP" ]; echo $?)" "href: $HREF"

# Wait until the clock is past the expiry (bounded: ~6 s).
for ((i = 0; i < 60; i++)); do
	[ "$(date +%s)" -gt "$EXP" ] && break
	sleep "$GG_POLL"
done
code=$(gcurl -o "$WORK/put1.json" -D "$WORK/put1.h" -w '%{http_code}' -T "$WORK/m.gguf" "$HREF")
result "a PUT to the expired href is 403 and says it expired" \
	"$([ "$code" = 403 ] && grep -qi 'expired' "$WORK/put1.h"; echo $?)" \
	"status $code: $(cat "$WORK/put1.json")"
result "nothing was kept" \
	"$(ls "$WORK/store/blobs/sha256"/*/"$OID" >/dev/null 2>&1; [ $? != 0 ]; echo $?)"

batch "$WORK/b2.json"
HREF2=$(jpy "$WORK/b2.json" 'd["objects"][0]["actions"]["upload"]["href"]')
code=$(gcurl -o /dev/null -w '%{http_code}' -T "$WORK/m.gguf" "$HREF2")
result "a fresh href from a new batch works" "$([ "$code" = 200 ]; echo $?)" "status $code"
finish
