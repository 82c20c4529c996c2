#!/usr/bin/env bash
# upstream_faults.sh: the upstream fault matrix.
#
# For each fault of the fake Hub (tests/fakehub/README.md) below, a client
# fetches a cold file through ggufd while the fault is set and must end
# byte-exact, or with a failure it can see (a curl exit status or an HTTP
# error), never with a complete wrong file; meanwhile a second client
# downloads a file the store already holds, which must end byte-exact
# (the fault does not stop ggufd serving others).  Once the fault is gone
# the cold file downloads byte-exact.  Faults:
#   drop (connection cut mid-body), corrupt byte, slow first byte, stall
#   mid-body, 429 and 503 from the hub, a redirect loop at the CDN (a few
#   times, and for good), a 206 whose Content-Range is not the range asked
#   for (after a drop, so that ggufd resumes), a body shorter and one
#   longer than X-Linked-Size (once, and for good), a CDN URL that expires
#   mid-transfer (cut, then the same URL answers 403 expired); the
#   Content-Range, short and long bodies on a regular (non-LFS) file too;
#   a client asking a Range of a cold file under a wrong Content-Range.
# At the end nothing under blobs/ differs from its name, every file the
# index calls present has its exact bytes, and ggufd verify passes.
# tests/integration/faults.sh covers more of each of the first kinds (in-
# flight readers of a corrupt fetch, the resume's Range, upstream down).

# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
# shellcheck source-path=SCRIPTDIR source=rlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/rlib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

REPO=ruv/ruvltra
IN=$WORK/in
REPOS=$WORK/repos
S=$WORK/store
SUMS=$WORK/sums
mkdir -p "$IN" "$REPOS"

# name|file|expect|fault JSON (a list: several rules).  SHA in the JSON is
# the file's sha256, FILE its name.  *.bin files are LFS (the CDN), *.txt
# regular (the Hub's resolve-cache).  expect: "exact" where a retry can get
# the right bytes (ggufd must then deliver them), "fail" where it cannot
# (a visible failure, and ggufd gives up by itself: not a client
# timeout), "honest" where either is right (a corrupt byte already
# streamed: faults.sh checks the cut in detail).  A body longer than
# X-Linked-Size is exact even for good: ggufd keeps the announced size
# and the hash decides.
CASES=$(
	cat <<'EOF'
drop|drop.bin|exact|[{"drop_after": 1000000, "match": "SHA", "count": 1}]
corrupt|corrupt.bin|honest|[{"corrupt_at": 1500000, "match": "SHA", "count": 1}]
slow_first_byte|slow.bin|exact|[{"slow_first_byte": 2, "match": "SHA", "count": 1}]
stall|stall.bin|exact|[{"stall_after": 1000000, "seconds": 3, "match": "SHA", "count": 1}]
r429|r429.bin|exact|[{"status": 429, "retry_after": 1, "match": "FILE", "host": "hub", "count": 2}]
r503|r503.bin|exact|[{"status": 503, "match": "FILE", "host": "hub", "count": 2}]
redirect_loop|loop.bin|exact|[{"redirect_loop": true, "match": "SHA", "count": 2}]
redirect_loop_forever|loopf.bin|fail|[{"redirect_loop": true, "match": "SHA", "count": -1}]
wrong_content_range_after|wcr.bin|exact|[{"drop_after": 1000000, "match": "SHA", "count": 1}, {"wrong_content_range": 4096, "match": "SHA", "count": 1}]
wrong_content_range_before|wcrb.bin|exact|[{"drop_after": 1000000, "match": "SHA", "count": 1}, {"wrong_content_range": -4096, "match": "SHA", "count": 1}]
wrong_content_range_forever|wcrf.bin|fail|[{"drop_after": 1000000, "match": "SHA", "count": 1}, {"wrong_content_range": 4096, "match": "SHA", "count": -1}]
short_body|short.bin|exact|[{"short_body": 100000, "match": "SHA", "count": 1}]
short_body_forever|shortf.bin|fail|[{"short_body": 100000, "match": "SHA", "count": -1}]
long_body|long.bin|exact|[{"long_body": 100000, "match": "SHA", "count": 1}]
long_body_forever|longf.bin|exact|[{"long_body": 100000, "match": "SHA", "count": -1}]
url_expiry|expiry.bin|exact|[{"expire_after": 1500000, "match": "SHA", "count": 1}]
regular_wrong_content_range|wcr.txt|exact|[{"drop_after": 1000000, "match": "FILE", "method": "GET", "count": 1}, {"wrong_content_range": 4096, "match": "FILE", "method": "GET", "count": 1}]
regular_short_body|short.txt|exact|[{"short_body": 100000, "match": "FILE", "method": "GET", "count": 1}]
regular_long_body|long.txt|exact|[{"long_body": 100000, "match": "FILE", "method": "GET", "count": 1}]
EOF
)
# RELIABILITY_FAULTS=REGEX runs only the cases whose name matches.
if [ -n "${RELIABILITY_FAULTS:-}" ]; then
	CASES=$(printf '%s\n' "$CASES" | grep -E "^[^|]*(${RELIABILITY_FAULTS})[^|]*\|")
fi
NCASES=$(printf '%s\n' "$CASES" | grep -c .)
# Per case: the cold client, the stored download, the GET after.
plan $((3 + 3 * NCASES + 4))

missing=
for t in curl python3 sha256sum timeout head base64; do
	have "$t" || missing="$missing $t"
done
result "tools on PATH (curl python3 sha256sum timeout head base64)" "$([ -z "$missing" ]; echo $?)" "missing:$missing"

# --- the repo: a file per case, and one already stored -----------------------------

files=("$IN/stored.bin")
rand_file "$IN/stored.bin" 6000000
while IFS='|' read -r name file _; do
	# The regular files stay under 10 MiB and are text for the fake Hub.
	if [ "${file##*.}" = txt ]; then
		head -c 3000000 /dev/urandom | base64 -w 100 | head -c 3000000 >"$IN/$file"
	else
		rand_file "$IN/$file" $((4000000 + ${#name}))
	fi
	files+=("$IN/$file")
done <<<"$CASES"
: >"$SUMS"
for f in "${files[@]}"; do
	echo "$(basename "$f") $(file_size "$f") $(sha256_of "$f")" >>"$SUMS"
done
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto "${files[@]}" 2>"$WORK/mk.log")
st=$?
if [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]] && start_fakehub "$REPOS" &&
	start_ggufd "$S" --upstream "$HUB" --log-level debug; then
	ok "a fake Hub with the files, and ggufd in front of it"
else
	not_ok "a fake Hub with the files, and ggufd in front of it" "mkrepo $st: $(cat "$WORK/mk.log")"
	finish
	exit
fi
R=$BASE/$REPO/resolve/main

fetch stored.first "$R/stored.bin"
result "the stored file is fetched once, byte-exact" \
	"$([ "$RC" = 0 ] && exact "$DL/stored.first" "$IN/stored.bin"; echo $?)" "$(outcome stored.first "$IN/stored.bin")"

# --- the matrix: every case at once (each fault matches its own file) ------------------
#
# Each cold client runs beside a download of the stored file, slowed so
# that it overlaps the faulty fetch.

fst=0
rules=
while IFS='|' read -r name file expect json; do
	sha=$(sha256_of "$IN/$file")
	json=${json//SHA/$sha}
	json=${json//FILE/$file}
	rules="$rules${rules:+, }${json:1:${#json}-2}"
done <<<"$CASES"
fake_fault "[$rules]" || fst=1
while IFS='|' read -r name file expect json; do
	(
		fetch "$name" "$R/$file"
		echo "$RC" >"$DL/$name.rc"
	) &
	bg_track $!
	(
		fetch "$name.stored" "$R/stored.bin" --limit-rate 3M
		echo "$RC" >"$DL/$name.stored.rc"
	) &
	bg_track $!
done <<<"$CASES"
bg_wait
fake_clear

while IFS='|' read -r name file expect json; do
	RC=$(cat "$DL/$name.rc" 2>/dev/null)
	CODE=$(http_status "$RESP/$name.h" 2>/dev/null)
	case $expect in
	exact) want="the exact file" ;;
	fail) want="a visible failure, not a client timeout" ;;
	*) want="the exact file or a visible failure" ;;
	esac
	result "$name: the client gets $want ($(outcome "$name" "$IN/$file"))" \
		"$([ "$fst" = 0 ] && case $expect in
			exact) [ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/$name" "$IN/$file" ;;
			fail) [ -n "$RC" ] && [ "$RC" != 0 ] && [ "$RC" != 28 ] ;;
			*) honest "$name" "$IN/$file" ;;
			esac; echo $?)" \
		"faults set: $fst" "$(cat "$RESP/$name.h" 2>/dev/null)" \
		"$(grep -F "$(sha256_of "$IN/$file" | cut -c1-64)" "$GGUFD_LOG" | grep -v debug | tail -n 8)"
	result "$name: meanwhile a download of a stored file is byte-exact" \
		"$([ "$(cat "$DL/$name.stored.rc" 2>/dev/null)" = 0 ] && exact "$DL/$name.stored" "$IN/stored.bin"; echo $?)" \
		"curl exit $(cat "$DL/$name.stored.rc" 2>/dev/null), $(file_size "$DL/$name.stored" 2>/dev/null || echo 0) bytes"
done <<<"$CASES"

while IFS='|' read -r name file expect json; do
	fetch "$name.after" "$R/$file"
	result "$name: with the fault gone, GET is byte-exact" \
		"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/$name.after" "$IN/$file"; echo $?)" \
		"$(outcome "$name.after" "$IN/$file")"
done <<<"$CASES"

# --- a Range of a cold file under a wrong Content-Range --------------------------------

rand_file "$IN/ranged.bin" 5000000
echo "ranged.bin $(file_size "$IN/ranged.bin") $(sha256_of "$IN/ranged.bin")" >>"$SUMS"
fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --inherit "$IN/ranged.bin" >/dev/null 2>&1
sha=$(sha256_of "$IN/ranged.bin")
fake_fault "[{\"drop_after\": 1000000, \"match\": \"$sha\", \"count\": 1}, {\"wrong_content_range\": 4096, \"match\": \"$sha\", \"count\": 1}]"
# A new commit on main: wait until ggufd's ref is not fresh any more
# (--ref-ttl default 30 s is too long) by asking for the commit itself.
C2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["main"])' \
	"$REPOS/models/$REPO/refs.json" 2>/dev/null)
fetch ranged "$BASE/$REPO/resolve/$C2/ranged.bin" -r 2000000-2999999
tail -c +2000001 "$IN/ranged.bin" | head -c 1000000 >"$WORK/ranged.want"
result "a Range of a cold file under a wrong Content-Range: a 206 with exactly those bytes ($(outcome ranged "$WORK/ranged.want"))" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 206 ] && exact "$DL/ranged" "$WORK/ranged.want"; echo $?)" \
	"$(cat "$RESP/ranged.h" 2>/dev/null)"
fake_clear

# --- the store at the end ----------------------------------------------------------------

x=$(blobs_ok "$S")
result "every blob under blobs/ has the content its name says" "$([ -z "$x" ]; echo $?)" "$x"
indexed_ok "$S" "$SUMS" >"$WORK/idx.out"
result "every file the index calls present has its exact bytes (its blob, checked above; $INDEXED files)" \
	"$?" "$(cat "$WORK/idx.out")"
verify_store "$S"
result "ggufd verify passes" "$([ "$VST" = 0 ]; echo $?)" "exit $VST" "$(tail -c 1000 "$WORK/verify.out")"

stop_ggufd
stop_fakehub
finish
