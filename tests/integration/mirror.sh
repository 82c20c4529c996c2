#!/usr/bin/env bash
# mirror.sh: ggufd as a read-through mirror of a (fake) Hugging Face Hub.
#
# tests/fakehub/fakehub.py plays the Hub (hub host 127.0.0.1, CDN host
# 127.0.0.2, requires "Bearer hf_upstreamsecret" whenever a request carries
# Authorization) with the repo ruv/ruvltra: GGUF files (LFS), config.json,
# README.md and sub/tokenizer.txt.  A ggufd with HF_TOKEN=hf_upstreamsecret
# mirrors it, and real clients download through ggufd:
#   - HEAD on a cold LFS file answers from metadata (no CDN transfer);
#   - curl GET and ranges (cold and warm), wget -c, aria2c -x8, the npm
#     @huggingface/hub (fileDownloadInfo, downloadFile, listFiles,
#     modelInfo) and @huggingface/gguf clients, all byte-exact;
#   - 32 concurrent clients on a cold throttled file: one upstream transfer;
#     main and the commit id share one fetch;
#   - API: model info, tree pagination through ggufd's own Link, paths-info,
#     refs; Xet stripped everywhere;
#   - token hygiene (upstream token only to the hub, never to the CDN, never
#     in a log or a response; a client's token never forwarded);
#   - offline: with the fake Hub killed, and with --offline, what was
#     fetched is served, the rest is 504 UpstreamUnavailable;
#   - a chain of two ggufds: one transfer from the Hub in total;
#   - ggufd pull --include --pin, then GET without a transfer; ggufd verify.
# A missing tool is a failure, not a skip.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 87

TOKEN=hf_upstreamsecret
CTOKEN=hf_clienttoken
REPO=ruv/ruvltra
CLIENT=$NODE_TESTDIR/integration/gguf_client.mjs

IN=$WORK/in
DL=$WORK/dl
RESP=$WORK/resp
REPOS=$WORK/repos
mkdir -p "$IN" "$DL" "$RESP" "$REPOS"

# --- tools ---------------------------------------------------------------------

missing=
for t in curl wget aria2c node python3 sha256sum timeout cmp; do
	have "$t" || missing="$missing $t"
done
result "tools on PATH (curl wget aria2c node python3 sha256sum timeout cmp)" \
	"$([ -z "$missing" ]; echo $?)" "missing:$missing"
nm=$NODE_TESTDIR/node_modules/@huggingface
result "npm clients installed (@huggingface/gguf, @huggingface/hub)" \
	"$([ -f "$nm/gguf/package.json" ] && [ -f "$nm/hub/package.json" ]; echo $?)" \
	"not found under $NODE_TESTDIR/node_modules: run 'npm ci --prefix tests'"
if [ ! -x "$GGUFD" ] || [ ! -x "$MKGGUF" ]; then
	not_ok "ggufd and mkgguf binaries exist" "GGUFD=$GGUFD MKGGUF=$MKGGUF"
	finish
	exit
fi

# --- the fake repo ---------------------------------------------------------------
# A: the 30 MB model (HEAD cold, curl, warm ranges, wget, node, offline)
# B: 32 concurrent clients, throttled upstream
# C: ranges on a cold file      D: main vs commit id share one fetch
# E: aria2c -x8 on a cold file  F: never fetched (offline 504)
A=ruvltra-0.5b-q4_k_m.gguf
B=ruvltra-0.5b-q8_0.gguf
C=ruvltra-0.5b-q2_k.gguf
D=ruvltra-0.5b-q6_k.gguf
E=ruvltra-0.5b-q5_k_m.gguf
F=ruvltra-0.5b-q3_k_m.gguf
mkst=0
mkgguf "$IN/$A" --size 30000000 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$B" --size 30000017 --ftype Q8_0 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$C" --size 8000000 --ftype Q2_K >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$D" --size 8000011 --ftype Q6_K >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$E" --size 8000023 --ftype Q5_K_M >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$F" --size 2000000 >>"$WORK/mk.log" 2>&1 || mkst=1
printf '{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}\n' >"$IN/config.json"
printf -- '---\nlicense: apache-2.0\n---\n# RuvLTRA 0.5B\n\nA small test model.\n' >"$IN/README.md"
mkdir -p "$IN/sub"
printf 'tokenizer data\n' >"$IN/sub/tokenizer.txt"
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto \
	"$IN/$A" "$IN/$B" "$IN/$C" "$IN/$D" "$IN/$E" "$IN/$F" \
	"$IN/config.json" "$IN/README.md" "$IN/sub/tokenizer.txt=sub/tokenizer.txt" 2>>"$WORK/mk.log")
st=$?
distinct=$(for f in A B C D E F; do sha256_of "$IN/${!f}"; done | sort -u | wc -l)
result "test files made (mkgguf, fakehub mkrepo) with distinct contents" \
	"$([ "$mkst" = 0 ] && [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]] && [ "$distinct" = 6 ]; echo $?)" \
	"mkgguf/mkrepo: $mkst/$st commit '$COMMIT' distinct=$distinct" "$(tail -c 2000 "$WORK/mk.log")"

SHA_A=$(sha256_of "$IN/$A")
SIZE_A=$(file_size "$IN/$A")

# --- helpers ----------------------------------------------------------------------

# exact FILE SRC: FILE has SRC's size and sha256.
exact() {
	[ -f "$1" ] && [ "$(file_size "$1")" = "$(file_size "$2")" ] &&
		[ "$(sha256_of "$1")" = "$(sha256_of "$2")" ]
}

# get TAG URL [CURL ARGS...]: GET into $DL/TAG, headers in $RESP/TAG.h;
# sets RC (curl exit) and CODE (HTTP status).
get() {
	local tag=$1 url=$2
	shift 2
	gcurl --max-time 90 -D "$RESP/$tag.h" -o "$DL/$tag" "$@" "$url" 2>"$RESP/$tag.err"
	RC=$?
	CODE=$(http_status "$RESP/$tag.h")
}

# head_req TAG URL [CURL ARGS...]: HEAD, headers in $RESP/TAG.h.
head_req() {
	local tag=$1 url=$2
	shift 2
	gcurl --max-time 30 -I -D "$RESP/$tag.h" -o /dev/null "$@" "$url" 2>"$RESP/$tag.err"
	RC=$?
	CODE=$(http_status "$RESP/$tag.h")
}

# api TAG URL [CURL ARGS...]: an API call, body $RESP/TAG.json.
api() {
	local tag=$1 url=$2
	shift 2
	gcurl --max-time 30 -D "$RESP/$tag.h" -o "$RESP/$tag.json" "$@" "$url" 2>"$RESP/$tag.err"
	RC=$?
	CODE=$(http_status "$RESP/$tag.h")
}

# range_ok TAG URL RANGE FIRST LEN SRC: a 206 whose body is SRC[FIRST,+LEN)
# and whose Content-Range is bytes FIRST-(FIRST+LEN-1)/SIZE.
range_ok() {
	local tag=$1 url=$2 rng=$3 first=$4 len=$5 src=$6 cr
	get "$tag" "$url" -H "Range: bytes=$rng"
	tail -c +$((first + 1)) "$src" | head -c "$len" >"$DL/$tag.want"
	cr=$(header Content-Range "$RESP/$tag.h")
	[ "$RC" = 0 ] && [ "$CODE" = 206 ] && cmp -s "$DL/$tag" "$DL/$tag.want" &&
		[ "$cr" = "bytes $first-$((first + len - 1))/$(file_size "$src")" ]
}

# Fake Hub stats snapshot in $WORK/stats.json.
stats() {
	fake_stats "$WORK/stats.json" || echo '{}' >"$WORK/stats.json"
}
xfers_of() { # SHA: content transfers of that blob so far
	stats
	jpy "$WORK/stats.json" "xfers.get('$1', 0)"
}

# --- the fake Hub and the mirror ----------------------------------------------------

if start_fakehub "$REPOS" --token "$TOKEN" --page-size 2; then
	ok "fakehub starts (hub $HUB, cdn $CDN)"
else
	not_ok "fakehub starts"
fi
HUB=${HUB:-http://127.0.0.1:9}
S1=$WORK/s1
if HF_TOKEN=$TOKEN start_ggufd "$S1" --upstream "$HUB" --ref-ttl 1 --log-level debug; then
	ok "ggufd serve --upstream fakehub starts"
else
	not_ok "ggufd serve --upstream fakehub starts"
fi
BASE=${BASE:-http://127.0.0.1:9}
R=$BASE/$REPO/resolve

# --- HEAD on a cold LFS file -------------------------------------------------------------

head_req headA "$R/main/$A"
result "cold HEAD $A: 200, ETag and X-Linked-Etag = sha256, X-Linked-Size, Content-Length, X-Repo-Commit" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && [ "$(header ETag "$RESP/headA.h")" = "\"$SHA_A\"" ] &&
		[ "$(header X-Linked-Etag "$RESP/headA.h")" = "\"$SHA_A\"" ] &&
		[ "$(header X-Linked-Size "$RESP/headA.h")" = "$SIZE_A" ] &&
		[ "$(header Content-Length "$RESP/headA.h")" = "$SIZE_A" ] &&
		[ "$(header X-Repo-Commit "$RESP/headA.h")" = "$COMMIT" ]; echo $?)" \
	"curl exit $RC" "$(cat "$RESP/headA.h")" "want sha256 $SHA_A size $SIZE_A commit $COMMIT"
stats
n=$(jpy "$WORK/stats.json" "len(xfers) + len([r for r in reqs if r['host'] == 'cdn'])")
result "the cold HEAD started no CDN request and no content transfer" "$([ "$n" = 0 ]; echo $?)" \
	"fake stats: $(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['path'], r['status']) for r in reqs]")"

SHA1_CFG=$(gitsha1_of "$IN/config.json")
head_req headCfg "$R/main/config.json" -H "Authorization: Bearer $CTOKEN"
result "cold HEAD config.json (with a client token): 200, ETag = git sha1, Content-Length, X-Repo-Commit" \
	"$([ "$CODE" = 200 ] && [ "$(header ETag "$RESP/headCfg.h")" = "\"$SHA1_CFG\"" ] &&
		[ "$(header Content-Length "$RESP/headCfg.h")" = "$(file_size "$IN/config.json")" ] &&
		[ "$(header X-Repo-Commit "$RESP/headCfg.h")" = "$COMMIT" ]; echo $?)" \
	"curl exit $RC" "$(cat "$RESP/headCfg.h")" "want git sha1 $SHA1_CFG"

# --- GET ----------------------------------------------------------------------------------

get getA "$R/main/$A"
result "GET $A (cold): 200, byte-exact, same ETag and X-Repo-Commit as HEAD" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/getA" "$IN/$A" &&
		[ "$(header ETag "$RESP/getA.h")" = "\"$SHA_A\"" ] &&
		[ "$(header X-Repo-Commit "$RESP/getA.h")" = "$COMMIT" ]; echo $?)" \
	"curl exit $RC status $CODE size $(file_size "$DL/getA" 2>/dev/null)" "$(cat "$RESP/getA.h" "$RESP/getA.err")"
n=$(xfers_of "$SHA_A")
result "one content transfer of $A upstream" "$([ "$n" = 1 ]; echo $?)" "content_transfers[$SHA_A] = $n"

get getCfg "$R/main/config.json"
result "GET config.json: byte-exact, ETag = git sha1, no Content-Encoding" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/getCfg" "$IN/config.json" &&
		[ "$(header ETag "$RESP/getCfg.h")" = "\"$SHA1_CFG\"" ] &&
		[ -z "$(header Content-Encoding "$RESP/getCfg.h")" ]; echo $?)" \
	"curl exit $RC" "$(cat "$RESP/getCfg.h")"
get getReadme "$R/main/README.md" -H "Authorization: Bearer $CTOKEN"
result "GET README.md (cold, with a client token): byte-exact" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/getReadme" "$IN/README.md"; echo $?)" \
	"curl exit $RC" "$(cat "$RESP/getReadme.h")"
get getTok "$R/main/sub/tokenizer.txt"
result "GET sub/tokenizer.txt (sub-folder): byte-exact, ETag = git sha1" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/getTok" "$IN/sub/tokenizer.txt" &&
		[ "$(header ETag "$RESP/getTok.h")" = "\"$(gitsha1_of "$IN/sub/tokenizer.txt")\"" ]; echo $?)" \
	"curl exit $RC" "$(cat "$RESP/getTok.h")"

# --- ranges -----------------------------------------------------------------------------------

check "cold $C: Range bytes=5000000-5099999 is byte-exact with its Content-Range" \
	range_ok rC1 "$R/main/$C" 5000000-5099999 5000000 100000 "$IN/$C"
check "cold $C: then Range bytes=-1000 (suffix)" \
	range_ok rC2 "$R/main/$C" -1000 7999000 1000 "$IN/$C"
check "cold $C: then Range bytes=0-0 (the JS probe) gives bytes 0-0/8000000" \
	range_ok rC3 "$R/main/$C" 0-0 0 1 "$IN/$C"
check "warm $A: Range bytes=1000-1999" range_ok rA1 "$R/main/$A" 1000-1999 1000 1000 "$IN/$A"
check "warm $A: Range bytes=29999000- (open end)" range_ok rA2 "$R/main/$A" 29999000- 29999000 1000 "$IN/$A"
check "warm $A: Range bytes=29999990-40000000 is clamped to the end" \
	range_ok rA3 "$R/main/$A" 29999990-40000000 29999990 10 "$IN/$A"
get rC4 "$R/main/$C"
result "$C in full after the ranges: byte-exact" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/rC4" "$IN/$C"; echo $?)" "curl exit $RC status $CODE"

# --- wget -c, aria2c -x8 ----------------------------------------------------------------------

mkdir -p "$DL/wget"
head -c 7000000 "$IN/$A" >"$DL/wget/$A"
timeout 120 wget -q -c -O "$DL/wget/$A" --no-proxy "$R/main/$A" >"$RESP/wget.log" 2>&1
st=$?
result "wget -c resumes a 7 MB prefix of $A to a byte-exact file" \
	"$([ "$st" = 0 ] && exact "$DL/wget/$A" "$IN/$A"; echo $?)" "wget exit $st" "$(tail -c 1000 "$RESP/wget.log")"

mkdir -p "$DL/aria"
timeout 120 aria2c -x8 -s8 -k1M --min-split-size=1M --no-conf --allow-overwrite=true \
	--file-allocation=none --summary-interval=0 --console-log-level=warn --all-proxy= \
	-d "$DL/aria" -o "$E" "$R/main/$E" >"$RESP/aria2c.log" 2>&1
st=$?
result "aria2c -x8 on cold $E: byte-exact" "$([ "$st" = 0 ] && exact "$DL/aria/$E" "$IN/$E"; echo $?)" \
	"aria2c exit $st" "$(tail -c 1500 "$RESP/aria2c.log")"
n=$(xfers_of "$(sha256_of "$IN/$E")")
result "aria2c's 8 connections caused one content transfer of $E" "$([ "$n" = 1 ]; echo $?)" \
	"content_transfers = $n"

# --- node: @huggingface/hub and @huggingface/gguf ---------------------------------------------

timeout 120 node "$CLIENT" --hub "$BASE" "$REPO" "$A" >"$RESP/node-hub.json" 2>"$RESP/node-hub.err"
st=$?
result "@huggingface/hub fileDownloadInfo + downloadFile of $A: size, etag, commit, sha256" \
	"$([ "$st" = 0 ] && [ "$(jpy "$RESP/node-hub.json" "(d['size'], d['etag'], d['commit'], d['downloadedSize'], d['sha256']) == ($SIZE_A, '\"$SHA_A\"', '$COMMIT', $SIZE_A, '$SHA_A')")" = true ]; echo $?)" \
	"node exit $st" "$(cat "$RESP/node-hub.json")" "$(tail -c 1500 "$RESP/node-hub.err")"
timeout 120 node "$CLIENT" --hub "$BASE" "$REPO" config.json >"$RESP/node-hub2.json" 2>"$RESP/node-hub2.err"
st=$?
result "@huggingface/hub fileDownloadInfo + downloadFile of config.json (206 probe on a small file)" \
	"$([ "$st" = 0 ] && [ "$(jpy "$RESP/node-hub2.json" "(d['size'], d['etag'], d['sha256']) == ($(file_size "$IN/config.json"), '\"$SHA1_CFG\"', '$(sha256_of "$IN/config.json")')")" = true ]; echo $?)" \
	"node exit $st" "$(cat "$RESP/node-hub2.json")" "$(tail -c 1500 "$RESP/node-hub2.err")"
timeout 120 node "$CLIENT" "$R/main/$A" >"$RESP/node-gguf.json" 2>"$RESP/node-gguf.err"
st=$?
tensors=$(od -An -tu8 -j8 -N8 "$IN/$A" | tr -d ' ')
result "@huggingface/gguf gguf() on the resolve URL parses the header (tensor count $tensors)" \
	"$([ "$st" = 0 ] && [ "$(jpy "$RESP/node-gguf.json" "d['tensorCount']")" = "$tensors" ]; echo $?)" \
	"node exit $st" "$(cat "$RESP/node-gguf.json")" "$(tail -c 1500 "$RESP/node-gguf.err")"

# --- 32 concurrent clients on a cold, throttled file ------------------------------------------

SHA_B=$(sha256_of "$IN/$B")
fake_fault "{\"throttle_bps\": 8000000, \"match\": \"$SHA_B\", \"count\": -1}"
result "throttle fault set on the CDN transfer of $B" "$?"
for i in $(seq 1 32); do
	(
		gcurl --max-time 100 -o "$DL/b.$i" -w '%{http_code}' "$R/main/$B" >"$DL/b.$i.code" 2>"$DL/b.$i.err"
		echo $? >"$DL/b.$i.rc"
	) &
	bg_track $!
done
bg_wait
fake_clear
bad=
for i in $(seq 1 32); do
	if [ "$(cat "$DL/b.$i.rc" 2>/dev/null)" != 0 ] || [ "$(cat "$DL/b.$i.code" 2>/dev/null)" != 200 ] ||
		! exact "$DL/b.$i" "$IN/$B"; then
		bad="$bad $i(rc=$(cat "$DL/b.$i.rc" 2>/dev/null),http=$(cat "$DL/b.$i.code" 2>/dev/null),size=$(file_size "$DL/b.$i" 2>/dev/null))"
	fi
done
result "32 concurrent clients on cold $B: all 200 and byte-exact" "$([ -z "$bad" ]; echo $?)" \
	"failed clients:$bad" "$(cat "$DL"/b.*.err 2>/dev/null | sort | uniq -c | head -5)"
n=$(xfers_of "$SHA_B")
result "exactly one content transfer of $B for the 32 clients" "$([ "$n" = 1 ]; echo $?)" \
	"content_transfers[$SHA_B] = $n" "$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['range'], r['status'], r['bytes_sent']) for r in reqs if '$SHA_B' in r['path']]")"
rm -f "$DL"/b.*

# --- main and the commit id share one fetch -------------------------------------------------------

SHA_D=$(sha256_of "$IN/$D")
fake_fault "{\"throttle_bps\": 2000000, \"match\": \"$SHA_D\", \"count\": -1}" >/dev/null
(
	gcurl --max-time 100 -o "$DL/dMain" -w '%{http_code}' "$R/main/$D" >"$DL/dMain.code" 2>/dev/null
	echo $? >"$DL/dMain.rc"
) &
bg_track $!
# Wait (bounded) until the upstream transfer has started, then ask by commit.
for ((i = 0; i < 200; i++)); do
	stats
	[ "$(jpy "$WORK/stats.json" "d.get('bytes_sent', {}).get('$SHA_D', 0) > 0")" = true ] && break
	sleep 0.1
done
get dCommit "$R/$COMMIT/$D"
bg_wait
fake_clear
result "GET $D by main (in flight) and by commit id: both byte-exact" \
	"$([ "$(cat "$DL/dMain.rc")" = 0 ] && exact "$DL/dMain" "$IN/$D" && [ "$RC" = 0 ] && exact "$DL/dCommit" "$IN/$D" &&
		[ "$(header X-Repo-Commit "$RESP/dCommit.h")" = "$COMMIT" ]; echo $?)" \
	"main: rc $(cat "$DL/dMain.rc") http $(cat "$DL/dMain.code"); commit: rc $RC http $CODE" "$(cat "$RESP/dCommit.h")"
n=$(xfers_of "$SHA_D")
result "main and the commit id shared one content transfer of $D" "$([ "$n" = 1 ]; echo $?)" \
	"content_transfers[$SHA_D] = $n"

# --- API: model info -------------------------------------------------------------------------

api info "$BASE/api/models/$REPO" -H "Authorization: Bearer $CTOKEN"
result "GET /api/models/$REPO: 200, id, sha = commit, 9 siblings, xetEnabled false" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/info.json" "(d['id'], d['sha'], len(d['siblings']), d.get('xetEnabled', False))")" = "('$REPO', '$COMMIT', 9, False)" ]; echo $?)" \
	"status $CODE" "$(head -c 1500 "$RESP/info.json")"
api infoRev "$BASE/api/models/$REPO/revision/main?blobs=true"
result "GET /api/models/$REPO/revision/main?blobs=true: sha and the LFS sha256 of $A" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/infoRev.json" "d['sha'] == '$COMMIT' and [s['lfs']['sha256'] for s in d['siblings'] if s['rfilename'] == '$A'] == ['$SHA_A']")" = true ]; echo $?)" \
	"status $CODE" "$(head -c 1500 "$RESP/infoRev.json")"
api infoXet "$BASE/api/models/$REPO?expand=xetEnabled"
result "?expand=xetEnabled answers xetEnabled: false" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/infoXet.json" "d.get('xetEnabled')")" = false ]; echo $?)" \
	"status $CODE" "$(head -c 500 "$RESP/infoXet.json")"
# Two targets that share their first 7000 bytes (far past the index's key
# size, under the 8 KiB target limit) are two cache entries, not one cut key
# (review bug B3): the second goes upstream and gets its own answer.
pad=$(head -c 7000 /dev/zero | tr '\0' 'a')
api infoLongA "$BASE/api/models/$REPO?pad=${pad}&expand=sha"
api infoLongB "$BASE/api/models/$REPO?pad=${pad}&expand=lastModified"
stats
n=$(jpy "$WORK/stats.json" "len([r for r in reqs if r['host'] == 'hub' and 'pad=' in (r['query'] or '')])")
result "long query strings are cached under their whole target: two upstream requests, two answers" \
	"$([ "$n" = 2 ] && [ "$(jpy "$RESP/infoLongA.json" "('sha' in d, 'lastModified' in d)")" = "(True, False)" ] &&
		[ "$(jpy "$RESP/infoLongB.json" "('sha' in d, 'lastModified' in d)")" = "(False, True)" ]; echo $?)" \
	"upstream requests: $n" "$(head -c 300 "$RESP/infoLongA.json")" "$(head -c 300 "$RESP/infoLongB.json")"
timeout 60 node "$CLIENT" --info "$BASE" "$REPO" >"$RESP/node-info.json" 2>"$RESP/node-info.err"
st=$?
result "@huggingface/hub modelInfo: name $REPO, sha = commit" \
	"$([ "$st" = 0 ] && [ "$(jpy "$RESP/node-info.json" "(d['name'], d['sha'])")" = "('$REPO', '$COMMIT')" ]; echo $?)" \
	"node exit $st" "$(cat "$RESP/node-info.json")" "$(tail -c 1500 "$RESP/node-info.err")"

# --- API: tree with pagination ---------------------------------------------------------------

# Walk the pages from URL following Link rel="next"; entries go to
# $RESP/TAG.all.json, page count to PAGES, Link targets to $RESP/TAG.links.
walk_tree() {
	local tag=$1 url=$2 p=0 link
	: >"$RESP/$tag.links"
	PAGES=0
	echo '[]' >"$RESP/$tag.all.json"
	while [ -n "$url" ] && [ $p -lt 40 ]; do
		p=$((p + 1))
		api "$tag.$p" "$url"
		[ "$CODE" = 200 ] || { PAGES="failed at page $p ($url): status $CODE $(head -c 300 "$RESP/$tag.$p.json" 2>/dev/null)"; return 1; }
		link=$(header Link "$RESP/$tag.$p.h")
		url=$(printf '%s' "$link" | sed -n 's/^<\([^>]*\)>; *rel="next".*$/\1/p')
		[ -n "$link" ] && printf '%s\n' "$link" >>"$RESP/$tag.links"
	done
	PAGES=$p
	python3 -c '
import json, sys
out = []
for f in sys.argv[2:]:
    out += json.load(open(f))
json.dump(out, open(sys.argv[1], "w"))' "$RESP/$tag.all.json" $(for ((i = 1; i <= p; i++)); do echo "$RESP/$tag.$i.json"; done)
}

EXPECT_PATHS='["README.md", "config.json", "ruvltra-0.5b-q2_k.gguf", "ruvltra-0.5b-q3_k_m.gguf", "ruvltra-0.5b-q4_k_m.gguf", "ruvltra-0.5b-q5_k_m.gguf", "ruvltra-0.5b-q6_k.gguf", "ruvltra-0.5b-q8_0.gguf", "sub", "sub/tokenizer.txt"]'
walk_tree tree "$BASE/api/models/$REPO/tree/main?recursive=true"
result "tree/main?recursive=true without cursor: every entry in one answer, upstream's pages joined (llama.cpp reads one page)" \
	"$([ "$PAGES" = 1 ] && [ ! -s "$RESP/tree.links" ] && [ "$(jpy "$RESP/tree.all.json" "[e['path'] for e in d] == sorted(e['path'] for e in d) and sorted(e['path'] for e in d)")" = "$EXPECT_PATHS" ]; echo $?)" \
	"pages $PAGES" "$(head -c 1500 "$RESP/tree.all.json")"
walk_tree treeP "$BASE/api/models/$REPO/tree/main?recursive=true&limit=2"
result "tree/main?recursive=true&limit=2: several pages that together list every entry once" \
	"$([ "$PAGES" -ge 3 ] 2>/dev/null && [ "$(jpy "$RESP/treeP.all.json" "sorted(e['path'] for e in d)")" = "$EXPECT_PATHS" ]; echo $?)" \
	"pages $PAGES" "$(head -c 1500 "$RESP/treeP.all.json")"
cp "$RESP/treeP.links" "$RESP/tree.links"
bad=$(grep -v "^<$BASE/api/models/$REPO/tree/main?" "$RESP/tree.links")
result "every tree Link points at ggufd ($BASE), none at the fake hub" \
	"$([ -s "$RESP/tree.links" ] && [ -z "$bad" ] && ! grep -q "$HUB" "$RESP/tree.links"; echo $?)" \
	"links: $(cat "$RESP/tree.links")"
# Upstream's own answer, for the entry fields (xetHash removed).
gcurl --max-time 30 -o "$WORK/up-tree.json" "$HUB/api/models/$REPO/tree/main?recursive=true&limit=1000"
same=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
for e in b: e.pop("xetHash", None)
key = lambda e: e["path"]
print(sorted(a, key=key) == sorted(b, key=key))' "$RESP/tree.all.json" "$WORK/up-tree.json" 2>&1)
result "tree entries equal upstream's (oid, size, lfs) minus xetHash" "$([ "$same" = True ]; echo $?)" \
	"$same" "ggufd: $(head -c 800 "$RESP/tree.all.json")" "upstream: $(head -c 800 "$WORK/up-tree.json")"
timeout 60 node "$CLIENT" --list "$BASE" "$REPO" >"$RESP/node-list.json" 2>"$RESP/node-list.err"
st=$?
result "@huggingface/hub listFiles gets every entry, all from ggufd" \
	"$([ "$st" = 0 ] && [ "$(jpy "$RESP/node-list.json" "sorted(d['paths'])")" = "$EXPECT_PATHS" ] &&
		[ "$(jpy "$RESP/node-list.json" "d['pages'] >= 1 and all(u.startswith('$BASE/') for u in d['urls'])")" = true ]; echo $?)" \
	"node exit $st" "$(head -c 1500 "$RESP/node-list.json")" "$(tail -c 1500 "$RESP/node-list.err")"
walk_tree treeSub "$BASE/api/models/$REPO/tree/main/sub"
result "tree/main/sub lists sub/tokenizer.txt" \
	"$([ "$(jpy "$RESP/treeSub.all.json" "[e['path'] for e in d]")" = '["sub/tokenizer.txt"]' ]; echo $?)" \
	"pages $PAGES" "$(head -c 500 "$RESP/treeSub.all.json" 2>/dev/null)"

# --- API: paths-info, refs -------------------------------------------------------------------

api pinfo "$BASE/api/models/$REPO/paths-info/main" \
	--data-urlencode "paths=$A" --data-urlencode "paths=sub/tokenizer.txt" --data-urlencode "paths=nope.bin" \
	--data-urlencode "expand=false"
result "paths-info (form): the two known paths, with lfs oid for $A" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/pinfo.json" "sorted((e['path'], e['size'], (e.get('lfs') or {}).get('oid')) for e in d)")" = "[[\"$A\", $SIZE_A, \"$SHA_A\"], [\"sub/tokenizer.txt\", $(file_size "$IN/sub/tokenizer.txt"), null]]" ]; echo $?)" \
	"status $CODE" "$(head -c 1000 "$RESP/pinfo.json")"
api pinfoJ "$BASE/api/models/$REPO/paths-info/$COMMIT" -H 'Content-Type: application/json' \
	--data-binary "{\"paths\": [\"config.json\", \"$B\"], \"expand\": true}"
result "paths-info (JSON, expand, by commit): both paths, lastCommit.id = commit" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/pinfoJ.json" "sorted((e['path'], e['lastCommit']['id']) for e in d)")" = "[[\"config.json\", \"$COMMIT\"], [\"$B\", \"$COMMIT\"]]" ]; echo $?)" \
	"status $CODE" "$(head -c 1000 "$RESP/pinfoJ.json")"
api refs "$BASE/api/models/$REPO/refs"
result "refs: branch main -> commit" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/refs.json" "[(b['name'], b['targetCommit']) for b in d['branches']]")" = "[[\"main\", \"$COMMIT\"]]" ]; echo $?)" \
	"status $CODE" "$(head -c 500 "$RESP/refs.json")"

# --- Xet stripped ---------------------------------------------------------------------------------

x=$(grep -l 'xetHash' "$RESP"/*.json 2>/dev/null)
result "no xetHash in any API body received from ggufd" "$([ -z "$x" ]; echo $?)" "found in: $x"
x=$(grep -il '^x-xet-\|rel="xet-' "$RESP"/*.h 2>/dev/null)
result "no X-Xet-* header and no xet Link rel in any ggufd response" "$([ -z "$x" ]; echo $?)" \
	"found in: $x" "$(grep -i '^x-xet-\|xet-' $x 2>/dev/null | head -5)"
x=$(grep -il '"xetEnabled": *true' "$RESP"/*.json 2>/dev/null)
result "no xetEnabled: true in any API body" "$([ -z "$x" ]; echo $?)" "found in: $x"

# --- token hygiene --------------------------------------------------------------------------------

stats
cp "$WORK/stats.json" "$WORK/stats.phase1.json"
n=$(jpy "$WORK/stats.json" "[(r['method'], r['path']) for r in reqs if r['host'] == 'cdn' and r['auth'] is not None]")
result "the fake CDN never saw an Authorization header" "$([ "$n" = "[]" ]; echo $?)" "$n"
n=$(jpy "$WORK/stats.json" "[(r['method'], r['path'], r['auth']) for r in reqs if r['host'] == 'hub' and r['auth'] is not None and r['auth'] != 'Bearer $TOKEN']")
m=$(jpy "$WORK/stats.json" "len([r for r in reqs if r['host'] == 'hub' and r['auth'] == 'Bearer $TOKEN'])")
result "every hub request with Authorization carried exactly 'Bearer $TOKEN' (and ggufd did send it)" \
	"$([ "$n" = "[]" ] && [ "$m" -gt 0 ]; echo $?)" "others: $n; with the token: $m"
n=$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['path']) for r in reqs if '$CTOKEN' in json.dumps(r)]")
result "the client's own token never reached the fake Hub" "$([ "$n" = "[]" ]; echo $?)" "$n"
n=$(jpy "$WORK/stats.json" "[(r['method'], r['path'], r['status']) for r in reqs if r['status'] == 401]")
result "no upstream request was refused with 401" "$([ "$n" = "[]" ]; echo $?)" "$n"

# --- offline: the fake Hub is gone ------------------------------------------------------------------

# offline_checks LABEL: what was fetched before is served from the store.
offline_checks() {
	local l=$1 t=$2
	head_req "off$t.headA" "$R/main/$A"
	result "$l: HEAD $A: 200 with the same ETag, X-Linked-Size, X-Repo-Commit" \
		"$([ "$CODE" = 200 ] && [ "$(header ETag "$RESP/off$t.headA.h")" = "\"$SHA_A\"" ] &&
			[ "$(header X-Linked-Size "$RESP/off$t.headA.h")" = "$SIZE_A" ] &&
			[ "$(header X-Repo-Commit "$RESP/off$t.headA.h")" = "$COMMIT" ]; echo $?)" \
		"curl exit $RC" "$(cat "$RESP/off$t.headA.h")"
	get "off$t.getA" "$R/main/$A"
	result "$l: GET $A: byte-exact, same ETag and X-Repo-Commit" \
		"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/off$t.getA" "$IN/$A" &&
			[ "$(header ETag "$RESP/off$t.getA.h")" = "\"$SHA_A\"" ] &&
			[ "$(header X-Repo-Commit "$RESP/off$t.getA.h")" = "$COMMIT" ]; echo $?)" \
		"curl exit $RC status $CODE" "$(cat "$RESP/off$t.getA.h")"
	get "off$t.getCfg" "$R/main/config.json"
	result "$l: GET config.json: byte-exact, ETag = git sha1" \
		"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/off$t.getCfg" "$IN/config.json" &&
			[ "$(header ETag "$RESP/off$t.getCfg.h")" = "\"$SHA1_CFG\"" ]; echo $?)" \
		"curl exit $RC status $CODE" "$(cat "$RESP/off$t.getCfg.h")"
	api "off$t.info" "$BASE/api/models/$REPO"
	result "$l: model info: 200, sha = commit" \
		"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/off$t.info.json" "d['sha']")" = "$COMMIT" ]; echo $?)" \
		"status $CODE" "$(cat "$RESP/off$t.info.h")" "$(head -c 500 "$RESP/off$t.info.json")"
	walk_tree "off$t.tree" "$BASE/api/models/$REPO/tree/main?recursive=true"
	result "$l: the paginated tree walk lists every entry" \
		"$([ "$(jpy "$RESP/off$t.tree.all.json" "sorted(e['path'] for e in d)")" = "$EXPECT_PATHS" ]; echo $?)" \
		"pages: $PAGES" "ggufd is at $BASE; page-1 Link: $(header Link "$RESP/off$t.tree.1.h")"
	api "off$t.refs" "$BASE/api/models/$REPO/refs"
	result "$l: refs: main -> commit" \
		"$([ "$CODE" = 200 ] && [ "$(jpy "$RESP/off$t.refs.json" "[(b['name'], b['targetCommit']) for b in d['branches']]")" = "[[\"main\", \"$COMMIT\"]]" ]; echo $?)" \
		"status $CODE" "$(cat "$RESP/off$t.refs.h")"
	head_req "off$t.headF" "$R/main/$F"
	get "off$t.getF" "$R/main/$F"
	result "$l: never-fetched $F: HEAD and GET 504 with X-Error-Code UpstreamUnavailable (not 401)" \
		"$([ "$(http_status "$RESP/off$t.headF.h")" = 504 ] && [ "$(header X-Error-Code "$RESP/off$t.headF.h")" = UpstreamUnavailable ] &&
			[ "$CODE" = 504 ] && [ "$(header X-Error-Code "$RESP/off$t.getF.h")" = UpstreamUnavailable ]; echo $?)" \
		"HEAD: $(cat "$RESP/off$t.headF.h")" "GET: $(cat "$RESP/off$t.getF.h")"
	api "off$t.other" "$BASE/api/models/ruv/never-seen"
	result "$l: never-cached model info: 504 UpstreamUnavailable (not 401)" \
		"$([ "$CODE" = 504 ] && [ "$(header X-Error-Code "$RESP/off$t.other.h")" = UpstreamUnavailable ]; echo $?)" \
		"$(cat "$RESP/off$t.other.h")"
}

stop_fakehub
# --ref-ttl 1: let the branch answer go stale so that main must come from the store.
sleep 2
offline_checks "hub killed" K

if HF_TOKEN=$TOKEN start_ggufd "$S1" --upstream "$HUB" --offline; then
	ok "ggufd restarts with --offline on the same store"
else
	not_ok "ggufd restarts with --offline on the same store"
fi
R=$BASE/$REPO/resolve
offline_checks "--offline" O
stop_ggufd

# --- chained: client -> outer ggufd -> inner ggufd -> fake Hub --------------------------------------------

if start_fakehub "$REPOS" --token "$TOKEN" --page-size 2; then
	ok "a fresh fakehub starts"
else
	not_ok "a fresh fakehub starts"
fi
HF_TOKEN=$TOKEN start_ggufd "$WORK/s2" --upstream "$HUB" --log-level debug
st=$?
start_ggufd2 "$WORK/s3" --upstream "$BASE" --log-level debug
result "inner ggufd (upstream fakehub) and outer ggufd (upstream the inner one) start" \
	"$([ "$st" = 0 ] && [ -n "${BASE2:-}" ]; echo $?)"
BASE2=${BASE2:-http://127.0.0.1:9}
R2=$BASE2/$REPO/resolve
head_req chHead "$R2/main/$A"
result "chained HEAD $A: same ETag, X-Linked-Size, X-Repo-Commit" \
	"$([ "$CODE" = 200 ] && [ "$(header ETag "$RESP/chHead.h")" = "\"$SHA_A\"" ] &&
		[ "$(header X-Linked-Size "$RESP/chHead.h")" = "$SIZE_A" ] &&
		[ "$(header X-Repo-Commit "$RESP/chHead.h")" = "$COMMIT" ]; echo $?)" \
	"curl exit $RC" "$(cat "$RESP/chHead.h")"
get chA "$R2/main/$A"
result "chained GET $A: byte-exact, same ETag and X-Repo-Commit" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/chA" "$IN/$A" &&
		[ "$(header ETag "$RESP/chA.h")" = "\"$SHA_A\"" ] &&
		[ "$(header X-Repo-Commit "$RESP/chA.h")" = "$COMMIT" ]; echo $?)" \
	"curl exit $RC status $CODE size $(file_size "$DL/chA" 2>/dev/null)" "$(cat "$RESP/chA.h" "$RESP/chA.err")"
get chA2 "$R2/$COMMIT/$A"
result "chained GET $A by commit id: byte-exact" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/chA2" "$IN/$A"; echo $?)" "curl exit $RC status $CODE"
get chCfg "$R2/main/config.json"
result "chained GET config.json: byte-exact, ETag = git sha1, same X-Repo-Commit" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/chCfg" "$IN/config.json" &&
		[ "$(header ETag "$RESP/chCfg.h")" = "\"$SHA1_CFG\"" ] &&
		[ "$(header X-Repo-Commit "$RESP/chCfg.h")" = "$COMMIT" ]; echo $?)" \
	"curl exit $RC status $CODE" "$(cat "$RESP/chCfg.h")"
check "chained range on $A: bytes=123456-223455" range_ok chR "$R2/main/$A" 123456-223455 123456 100000 "$IN/$A"
stats
n=$(jpy "$WORK/stats.json" "(xfers.get('$SHA_A', 0), sum(xfers.values()))")
result "the fake Hub saw one transfer of $A and two content transfers in total ($A, config.json)" \
	"$([ "$n" = "(1, 2)" ]; echo $?)" "(transfers of A, total) = $n" "$(jpy "$WORK/stats.json" "xfers")"
api chInfo "$BASE2/api/models/$REPO"
walk_tree chTree "$BASE2/api/models/$REPO/tree/main?recursive=true"
result "chained model info and tree: sha = commit, every entry, Links at the outer ggufd" \
	"$([ "$(jpy "$RESP/chInfo.json" "d['sha']")" = "$COMMIT" ] &&
		[ "$(jpy "$RESP/chTree.all.json" "sorted(e['path'] for e in d)")" = "$EXPECT_PATHS" ] &&
		[ -z "$(grep -v "^<$BASE2/" "$RESP/chTree.links")" ]; echo $?)" \
	"pages $PAGES links: $(cat "$RESP/chTree.links")" "$(head -c 500 "$RESP/chInfo.json")"
stats
n=$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['path'], r['auth']) for r in reqs if r['auth'] is not None and (r['host'] == 'cdn' or r['auth'] != 'Bearer $TOKEN')]")
result "chained: no Authorization at the CDN, only 'Bearer $TOKEN' at the hub" "$([ "$n" = "[]" ]; echo $?)" "$n"
stop_ggufd2
# /metrics after all of the above: fetches started and verified, upstream
# exchanges, bytes landed and served from both sources.
gcurl -o "$RESP/metrics.txt" "$BASE/metrics"
m() { awk -v k="$1" '$1 == k {print $2}' "$RESP/metrics.txt"; }
result "/metrics counts what happened: fetches started and verified, upstream 2xx, bytes landed and served, resolve answers" \
	"$([ "$(m 'ggufd_fetches_total{result="started"}')" -ge 1 ] 2>/dev/null &&
		[ "$(m 'ggufd_fetches_total{result="verified"}')" -ge 1 ] &&
		[ "$(m 'ggufd_upstream_requests_total{status="2xx"}')" -ge 1 ] &&
		[ "$(m 'ggufd_fetch_landed_bytes_total')" -gt 0 ] &&
		[ $(($(m 'ggufd_served_bytes_total{source="store"}') + $(m 'ggufd_served_bytes_total{source="fetch"}'))) -gt 0 ] &&
		[ "$(m 'ggufd_http_requests_total{route="resolve",code="200"}')" -ge 1 ]; echo $?)" \
	"$(grep -v '^#' "$RESP/metrics.txt" | grep -v '_bucket' | head -40)"
stop_ggufd

# --- ggufd pull --include --pin --------------------------------------------------------------------

fake_reset
S4=$WORK/s4
HF_TOKEN=$TOKEN timeout 120 "$GGUFD" pull --store "$S4" --upstream "$HUB" --include '*.gguf' --pin "$REPO" \
	</dev/null >"$WORK/pull.out" 2>"$WORK/pull.err"
st=$?
stats
n=$(jpy "$WORK/stats.json" "(len(xfers), sorted(set(xfers.values())))")
result "ggufd pull --include '*.gguf' --pin: exit 0, one transfer of each of the 6 GGUF files" \
	"$([ "$st" = 0 ] && [ "$n" = "(6, [1])" ]; echo $?)" "exit $st (files, transfer counts) = $n" \
	"$(tail -c 1500 "$WORK/pull.out" "$WORK/pull.err")"
blobs=$(find "$S4/blobs" -type f 2>/dev/null | wc -l)
result "the pulled store holds 6 blobs (config.json etc. not pulled)" "$([ "$blobs" = 6 ]; echo $?)" \
	"$(find "$S4" -type f 2>/dev/null | head -20)"
n=$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['path'], r['auth']) for r in reqs if r['auth'] is not None and (r['host'] == 'cdn' or r['auth'] != 'Bearer $TOKEN')]")
result "pull: no Authorization at the CDN, only 'Bearer $TOKEN' at the hub" "$([ "$n" = "[]" ]; echo $?)" "$n"
before=$(jpy "$WORK/stats.json" "sum(xfers.values())")
HF_TOKEN=$TOKEN start_ggufd "$S4" --upstream "$HUB"
get pullA "$BASE/$REPO/resolve/main/$A"
get pullB "$BASE/$REPO/resolve/$COMMIT/$B"
stats
after=$(jpy "$WORK/stats.json" "sum(xfers.values())")
result "after the pull, GET $A (main) and $B (commit) are byte-exact with no new content transfer" \
	"$(exact "$DL/pullA" "$IN/$A" && exact "$DL/pullB" "$IN/$B" && [ "$before" = "$after" ]; echo $?)" \
	"transfers before $before after $after" "$(cat "$RESP/pullA.h" "$RESP/pullB.h")"
stop_ggufd
timeout 120 "$GGUFD" verify --store "$S4" >"$WORK/verify4.out" 2>&1
st=$?
result "ggufd verify passes on the pulled store" "$([ "$st" = 0 ]; echo $?)" "exit $st" "$(tail -c 1000 "$WORK/verify4.out")"

# --- the upstream token never leaks --------------------------------------------------------------

# The fake Hub's own log and state file record what it received; exclude them.
x=$(grep -l -- "$TOKEN" "$WORK"/ggufd*.log* "$WORK/pull.out" "$WORK/pull.err" 2>/dev/null)
result "the upstream token appears in no ggufd log (serve, pull)" "$([ -z "$x" ]; echo $?)" "found in: $x"
x=$(grep -rl -- "$TOKEN" "$RESP" "$DL" 2>/dev/null)
result "the upstream token appears in no response header or body received" "$([ -z "$x" ]; echo $?)" "found in: $x"

stop_fakehub
finish
