#!/usr/bin/env bash
# gateway.sh: ggufd's upload gateway in front of the fake Hub.
#
# A fake Hub (tests/fakehub/fakehub.py --token UP) holds ruv/ruvltra; a ggufd
# started with HF_TOKEN=UP mirrors it and accepts uploads with its own tokens.
#   1. @huggingface/hub uploadFile (useXet:false, hubUrl=ggufd, a ggufd
#      upload token): a small GGUF (basic PUT) and a ~5 MB one that goes
#      multipart (--multipart-threshold 3000000 --multipart-chunk 1000000);
#      both then download byte-exact from ggufd and from the fake Hub
#      itself (published upstream); whoAmI names the ggufd token.
#   2. The plain route PUT /api/ggufd/upload/...: 200 done, byte-exact
#      download, the job in /api/ggufd/uploads.
#   3. Every policy refusal (403, 422, 413, 401, signed-href 403, bad bytes
#      400) with its message, and nothing published upstream.
#   6. A Hub-protocol upload whose commit failed upstream (503) is retried:
#      the second batch answer has no actions, no bytes are sent again.
#   5. Upstream down during a plain PUT: 202 pending; ggufd is stopped, the
#      Hub comes back, ggufd restarts on the same store and the job lands
#      exactly once.
#   4. Token hygiene, over everything above: the upstream token is in no
#      ggufd log, no response, no CDN request; hub requests carry exactly it;
#      the client's ggufd tokens never reach the fake Hub.
# No timing assertions; every wait is bounded.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT HF_HUB_DISABLE_XET

plan 118

REPO=ruv/ruvltra
IN=$WORK/in
DL=$WORK/dl
RESP=$WORK/resp # every answer ggufd gave us (searched for the upstream token)
REPOS=$WORK/repos
S=$WORK/store
CLIENT=$NODE_TESTDIR/integration/upload_client.mjs
mkdir -p "$IN" "$DL" "$RESP" "$REPOS"

# The upstream token: fresh, so a grep for it cannot match anything else.
L=application/vnd.git-lfs+json
UP=hf_up$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
GW_ARGS=(--multipart-threshold 3000000 --multipart-chunk 1000000 --upload-max-size 6000000
	--card-files-table)

# --- helpers -------------------------------------------------------------------

# req NAME CURL-ARGS...: one request to ggufd; headers in $RESP/NAME.h, body
# in $RESP/NAME.b; prints the final status code.
req() {
	local name=$1
	shift
	gcurl -D "$RESP/$name.h" -o "$RESP/$name.b" -w '%{http_code}' "$@"
}
# dl NAME OUT URL: a download from ggufd into OUT (headers in $RESP/NAME.h,
# the body copied to $RESP/NAME.b so the hygiene check sees it too).
dl() {
	local code
	code=$(gcurl -D "$RESP/$1.h" -o "$2" -w '%{http_code}' "$3")
	cp -- "$2" "$RESP/$1.b" 2>/dev/null
	echo "$code"
}
# emsg NAME: the X-Error-Message of a saved answer.
emsg() { header X-Error-Message "$RESP/$1.h"; }
# shows NAME: a saved answer, for diagnostics.
shows() {
	head -c 1500 "$RESP/$1.h" 2>/dev/null
	head -c 1500 "$RESP/$1.b" 2>/dev/null | LC_ALL=C tr -c '[:print:]\n' '.'
}
AUTH() { printf 'Authorization: Bearer %s' "$1"; }

# node_client NAME TOKEN ARGS...: upload_client.mjs; stdout in $RESP/NAME.json,
# stderr in $RESP/NAME.err; returns its exit status.
node_client() {
	local name=$1 tok=$2
	shift 2
	GGUFD_TOKEN=$tok timeout 120 node "$CLIENT" "$@" >"$RESP/$name.json" 2>"$RESP/$name.err"
}

# stats_now FILE: the fake Hub's stats (control API).
stats_now() { fake_stats "$1"; }

# commits_with PATH FILE: how many upstream commits (in stats FILE) added PATH.
commits_with() {
	jpy "$2" "sum(1 for c in d['commits'] if '$1' in c.get('lfsPaths', []) + c.get('files', []))"
}

# lfs_put NAME TOKEN FILE: stages FILE on ggufd as an LFS object (batch, then
# a PUT to the signed href when asked); prints the PUT's status, or "none".
lfs_put() {
	local oid size href
	oid=$(sha256_of "$3")
	size=$(file_size "$3")
	req "$1.batch" -H "$(AUTH "$2")" -H "Content-Type: $L" -H "Accept: $L" \
		-d '{"operation":"upload","transfers":["basic"],"objects":[{"oid":"'"$oid"'","size":'"$size"'}],"hash_algo":"sha256"}' \
		"$BASE/$REPO.git/info/lfs/objects/batch" >/dev/null
	href=$(jpy "$RESP/$1.batch.b" 'd["objects"][0].get("actions", {}).get("upload", {}).get("href", "")' 2>/dev/null)
	if [ -z "$href" ]; then echo none; else req "$1" -T "$3" "$href"; fi
}
# lfs_commit OUT PATH FILE [PATH FILE...]: an NDJSON commit adding FILE at PATH as LFS files.
lfs_commit() {
	local out=$1
	shift
	printf '%s\n' '{"key":"header","value":{"summary":"lfs commit"}}' >"$out"
	while [ $# -ge 2 ]; do
		printf '%s\n' '{"key":"lfsFile","value":{"path":"'"$1"'","algo":"sha256","oid":"'"$(sha256_of "$2")"'","size":'"$(file_size "$2")"'}}' >>"$out"
		shift 2
	done
}
# inline_commit OUT PATH FILE: an NDJSON commit with FILE inline (base64) at PATH.
inline_commit() {
	python3 - "$@" <<'PYEOF'
import base64, json, sys
out, path, src = sys.argv[1:4]
with open(src, "rb") as f:
    data = base64.b64encode(f.read()).decode()
with open(out, "w") as o:
    o.write(json.dumps({"key": "header", "value": {"summary": "inline"}}) + "\n")
    o.write(json.dumps({"key": "file", "value": {"path": path, "content": data, "encoding": "base64"}}) + "\n")
PYEOF
}

# start_gateway: ggufd on $S in front of the fake Hub, holding the upstream token.
start_gateway() {
	HF_TOKEN=$UP start_ggufd "$S" --upstream "$HUB" "${GW_ARGS[@]}"
}

# --- tools and data ----------------------------------------------------------------

missing=
for t in curl python3 node sha256sum timeout cmp od; do
	have "$t" || missing="$missing $t"
done
[ -f "$NODE_TESTDIR/node_modules/@huggingface/hub/package.json" ] ||
	missing="$missing tests/node_modules/@huggingface/hub(npm ci --prefix tests)"
[ -x "$GGUFD" ] && [ -x "$MKGGUF" ] || missing="$missing ggufd/mkgguf($GGUFD $MKGGUF)"
result "tools present (curl python3 node @huggingface/hub ggufd mkgguf ...)" "$([ -z "$missing" ]; echo $?)" \
	"missing:$missing"
if [ -n "$missing" ]; then
	finish
	exit
fi

mkst=0
mkgguf "$IN/small.gguf" --size 200000 >>"$WORK/mk.log" 2>&1 || mkst=1                  # Q4_K_M
mkgguf "$IN/big.gguf" --size 5000000 --ftype Q8_0 >>"$WORK/mk.log" 2>&1 || mkst=1      # multipart
mkgguf "$IN/plain.gguf" --size 300000 --ftype Q8_0 --seed 3 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/other.gguf" --size 100000 --ftype Q8_0 --seed 5 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/retry.gguf" --size 150000 --seed 7 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/pend.gguf" --size 120000 --seed 9 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/race.gguf" --size 110000 --ftype Q8_0 --seed 11 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/plain2.gguf" --size 300000 --ftype Q8_0 --seed 13 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/bound.gguf" --size 90000 --seed 15 >>"$WORK/mk.log" 2>&1 || mkst=1 # Q4_K_M
mkgguf "$IN/up9.gguf" --size 95000 --seed 17 >>"$WORK/mk.log" 2>&1 || mkst=1 # Q4_K_M
python3 -c 'import os, sys; sys.stdout.buffer.write(os.urandom(100000))' >"$IN/random.bin"
python3 -c 'import sys; sys.stdout.write("{\"pad\": \"" + "a" * 6000000 + "\"}\n")' >"$IN/huge.json"
printf -- '---\nlicense: apache-2.0\ntags:\n- gguf\n- ruvltra\n---\n# RuvLTRA\n' >"$IN/README.md"
printf -- '---\nlicense: apache-2.0\ntags:\n- gguf\nbase_model: Qwen/Qwen2.5-0.5B\n---\n# RuvLTRA\n' >"$IN/README-rich.md"
printf -- '---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# Anything at all\n' >"$IN/README-drop.md"
# Cards with a files table (serve --card-files-table): the published one,
# the same names in another layout plus one, and one that drops a row.
CARDHEAD='---\nlicense: apache-2.0\ntags:\n- gguf\nbase_model: Qwen/Qwen2.5-0.5B\n---\n# RuvLTRA\n\n'
printf -- "$CARDHEAD"'| File | Quant |\n|---|---|\n| [ruvltra-0.5b-q4_k_m.gguf](resolve/main/ruvltra-0.5b-q4_k_m.gguf) | Q4_K_M |\n| ruvltra-3b-q8_0.gguf | Q8_0 |\n' >"$IN/README-table.md"
printf -- "$CARDHEAD"'|name|\n|-|\n|ruvltra-3b-q8_0.gguf|\n|ruvltra-0.5b-q4_k_m.gguf|\n|ruvltra-7b-q4_k_m.gguf|\n' >"$IN/README-table2.md"
printf -- "$CARDHEAD"'The 3b file is ruvltra-3b-q8_0.gguf.\n\n|name|\n|-|\n|ruvltra-0.5b-q4_k_m.gguf|\n|ruvltra-7b-q4_k_m.gguf|\n' >"$IN/README-table-drop.md"
printf '# RuvLTRA\nno front matter here\n' >"$IN/README-none.md"
printf -- '---\nlicense: mit\n---\n# RuvLTRA\n' >"$IN/README-notags.md"
printf '#!/bin/sh\necho hi\n' >"$IN/run.sh"
printf '{"model_type": "qwen2"}\n' >"$IN/config.json"
# UP9: published upstream before ggufd ever ran; nothing asks ggufd for it.
UP9=ruvltra-9b-q4_k_m.gguf
COMMIT0=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main "$IN/config.json" \
	"$IN/up9.gguf=$UP9" 2>>"$WORK/mk.log" | tail -n 1)
# The branch "cards" carries a card with base_model that only upstream knows.
fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref cards --inherit \
	"$IN/README-rich.md=README.md" >>"$WORK/mk.log" 2>&1 || mkst=1
result "test files and the fake repo made" "$([ "$mkst" = 0 ] && [ ${#COMMIT0} = 40 ]; echo $?)" \
	"$(tail -c 1500 "$WORK/mk.log")"

# --- tokens ------------------------------------------------------------------------------

tok_add() { "$GGUFD" token add "$1" --scope "$2" --store "$S" 2>>"$WORK/token.err"; }
TOK=$(tok_add ci upload)
RTOK=$(tok_add reader read)
GONE=$(tok_add gone upload)
re='^hf_[0-9a-f]{40}$'
result "token add prints hf_ + 40 hex on stdout (upload, read)" \
	"$([[ $TOK =~ $re ]] && [[ $RTOK =~ $re ]] && [[ $GONE =~ $re ]] && [ "$TOK" != "$RTOK" ]; echo $?)" \
	"got '$TOK' '$RTOK' '$GONE'; stderr: $(cat "$WORK/token.err")"
"$GGUFD" token revoke gone --store "$S" >"$WORK/revoke.out" 2>&1
rst=$?
"$GGUFD" token ls --store "$S" >"$WORK/ls.out" 2>&1
result "token ls lists names and scopes, never a token; a revoked one is gone or marked revoked" \
	"$([ $rst = 0 ] && grep -q 'ci' "$WORK/ls.out" && grep -q 'upload' "$WORK/ls.out" &&
		grep -q 'reader' "$WORK/ls.out" && grep -q 'read' "$WORK/ls.out" &&
		! grep -w 'gone' "$WORK/ls.out" | grep -vqw 'revoked' && ! grep -qF -e "$TOK" -e "$RTOK" -e "$GONE" "$WORK/ls.out"; echo $?)" \
	"revoke exit $rst: $(cat "$WORK/revoke.out")" "ls: $(cat "$WORK/ls.out")"

# Token bounds: a CI token that may only publish ruvltra-*-q4_k_m.gguf to
# ruv/ruvltra, and one bound to another repo.
BTOK=$("$GGUFD" token add ci-q4 --scope upload --repo ruv/ruvltra --path 'ruvltra-*-q4_k_m.gguf' --store "$S" 2>>"$WORK/token.err")
OTOK=$("$GGUFD" token add ci-other --scope upload --repo ruv/other --store "$S" 2>>"$WORK/token.err")
"$GGUFD" token ls --store "$S" >"$WORK/ls2.out" 2>&1
result "token add --repo --path makes bound tokens; token ls shows the bounds" \
	"$([[ $BTOK =~ $re ]] && [[ $OTOK =~ $re ]] && grep -E '^ci-q4 .*repo=ruv/ruvltra +path=ruvltra-\*-q4_k_m\.gguf$' "$WORK/ls2.out" >/dev/null &&
		grep -E '^ci-other .*repo=ruv/other$' "$WORK/ls2.out" >/dev/null && grep -E '^ci +upload +[0-9-]+ [0-9:]+Z$' "$WORK/ls2.out" >/dev/null; echo $?)" \
	"$(cat "$WORK/ls2.out" "$WORK/token.err")"

if ! start_fakehub "$REPOS" --token "$UP" || ! start_gateway; then
	not_ok "fake Hub (with --token) and ggufd (HF_TOKEN, gateway flags) started"
	finish
	exit
fi
ok "fake Hub (with --token) and ggufd (HF_TOKEN, gateway flags) started"

# --- 1. @huggingface/hub uploadFile through ggufd ------------------------------------------

SMALL=ruvltra-0.5b-q4_k_m.gguf
BIG=ruvltra-0.5b-q8_0.gguf
SMALL_OID=$(sha256_of "$IN/small.gguf")
BIG_OID=$(sha256_of "$IN/big.gguf")

node_client js_small "$TOK" --upload "$BASE" "$REPO" "$IN/small.gguf" "$SMALL" "js small"
st=$?
result "uploadFile (useXet:false) of a small GGUF through ggufd succeeds with a commit" \
	"$([ $st = 0 ] && [ "$(jpy "$RESP/js_small.json" 'len(d["commitOid"]) == 40 and d["commitOid"] in d["commitUrl"]')" = true ]; echo $?)" \
	"exit $st: $(head -c 2000 "$RESP/js_small.err") $(head -c 1500 "$RESP/js_small.json")"
JS_SMALL_COMMIT=$(jpy "$RESP/js_small.json" 'd["commitOid"]' 2>/dev/null)
result "the small file went as one bearer-less PUT to ggufd's signed href (preupload, batch, PUT, commit)" \
	"$([ "$(jpy "$RESP/js_small.json" '[(r["method"], "preupload" if "/preupload/" in r["url"] else "batch" if "/info/lfs/objects/batch" in r["url"] else "commit" if "/commit/" in r["url"] else r["url"].split("/_ggufd/lfs/")[-1], r["auth"], r["status"]) for r in d["requests"]]')" = \
		"[[\"POST\", \"preupload\", true, 200], [\"POST\", \"batch\", true, 200], [\"PUT\", \"$SMALL_OID\", false, 200], [\"POST\", \"commit\", true, 200]]" ]; echo $?)" \
	"$(head -c 2500 "$RESP/js_small.json")"

node_client js_big "$TOK" --upload "$BASE" "$REPO" "$IN/big.gguf" "$BIG" "js big"
st=$?
result "uploadFile of a 5 MB GGUF (above --multipart-threshold) succeeds" \
	"$([ $st = 0 ] && [ "$(jpy "$RESP/js_big.json" 'len(d["commitOid"]) == 40')" = true ]; echo $?)" \
	"exit $st: $(head -c 2000 "$RESP/js_big.err") $(head -c 1500 "$RESP/js_big.json")"
JS_BIG_COMMIT=$(jpy "$RESP/js_big.json" 'd["commitOid"]' 2>/dev/null)
result "it went multipart: 5 part PUTs and a completion on ggufd, none with Authorization" \
	"$([ "$(jpy "$RESP/js_big.json" '[sorted(r["url"].split("/_ggufd/lfs/")[1] for r in d["requests"] if "/_ggufd/lfs/" in r["url"]), [r["auth"] for r in d["requests"] if "/_ggufd/" in r["url"]].count(True), [r["status"] for r in d["requests"] if "/_ggufd/" in r["url"]].count(200)]')" = \
		"[[\"$BIG_OID/complete\", \"$BIG_OID/part/1\", \"$BIG_OID/part/2\", \"$BIG_OID/part/3\", \"$BIG_OID/part/4\", \"$BIG_OID/part/5\"], 0, 6]" ]; echo $?)" \
	"$(head -c 3000 "$RESP/js_big.json")"

dl dl_small "$DL/small" "$BASE/$REPO/resolve/main/$SMALL" >/dev/null
dl dl_big "$DL/big" "$BASE/$REPO/resolve/main/$BIG" >/dev/null
result "both download byte-exact from ggufd's /resolve/main/" \
	"$(cmp -s "$DL/small" "$IN/small.gguf" && cmp -s "$DL/big" "$IN/big.gguf"; echo $?)" \
	"$(shows dl_small) $(shows dl_big)"
result "ggufd's main is the commit upstream made (X-Repo-Commit)" \
	"$([ -n "$JS_BIG_COMMIT" ] && [ "$(header X-Repo-Commit "$RESP/dl_big.h")" = "$JS_BIG_COMMIT" ]; echo $?)" \
	"X-Repo-Commit $(header X-Repo-Commit "$RESP/dl_big.h"), upload commit $JS_BIG_COMMIT"
gcurl -L -o "$DL/hub_small" "$HUB/$REPO/resolve/main/$SMALL"
gcurl -L -o "$DL/hub_big" "$HUB/$REPO/resolve/main/$BIG"
result "the fake Hub's own resolve serves both (they were published upstream)" \
	"$(cmp -s "$DL/hub_small" "$IN/small.gguf" && cmp -s "$DL/hub_big" "$IN/big.gguf"; echo $?)" \
	"sizes: $(file_size "$DL/hub_small") $(file_size "$DL/hub_big")"
stats_now "$WORK/st1.json"
result "upstream recorded two commits, with ggufd's commit ids, as LFS files" \
	"$([ "$(jpy "$WORK/st1.json" '[[c["commitOid"], c["lfsPaths"], c["lfsFiles"]] for c in d["commits"]]')" = \
		"[[\"$JS_SMALL_COMMIT\", [\"$SMALL\"], [\"$SMALL_OID\"]], [\"$JS_BIG_COMMIT\", [\"$BIG\"], [\"$BIG_OID\"]]]" ]; echo $?)" \
	"$(jpy "$WORK/st1.json" 'd["commits"]')"

node_client who_ci "$TOK" --whoami "$BASE"
st1=$?
node_client who_reader "$RTOK" --whoami "$BASE"
st2=$?
result "whoAmI through ggufd names the ggufd token (ci: write, reader: read)" \
	"$([ $st1 = 0 ] && [ $st2 = 0 ] &&
		[ "$(jpy "$RESP/who_ci.json" '[d["name"], d["role"]]')" = '["ci", "write"]' ] &&
		[ "$(jpy "$RESP/who_reader.json" '[d["name"], d["role"]]')" = '["reader", "read"]' ]; echo $?)" \
	"$(cat "$RESP/who_ci.json" "$RESP/who_ci.err" "$RESP/who_reader.json" "$RESP/who_reader.err")"
code=$(req who_bad -H "$(AUTH "$GONE")" "$BASE/api/whoami-v2")
result "whoami-v2 with a revoked token is 401" "$([ "$code" = 401 ]; echo $?)" "$(shows who_bad)"

# --- 2. the plain PUT route ---------------------------------------------------------------------

PLAIN=ruvltra-coder-1.5b-q8_0.gguf
code=$(req plain -T "$IN/plain.gguf" -H "$(AUTH "$TOK")" -H 'X-Commit-Message: plain put of the coder model' \
	"$BASE/api/ggufd/upload/$REPO/$PLAIN")
PLAIN_ID=$(jpy "$RESP/plain.b" 'd["id"]' 2>/dev/null)
PLAIN_COMMIT=$(jpy "$RESP/plain.b" 'd["commitOid"]' 2>/dev/null)
result "PUT /api/ggufd/upload/$REPO/$PLAIN is 200 {id, state: done, commitOid}" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/plain.b" 'd["state"]')" = "done" ] && [ ${#PLAIN_COMMIT} = 40 ] && [ -n "$PLAIN_ID" ]; echo $?)" \
	"status $code: $(shows plain)"
dl dl_plain "$DL/plain" "$BASE/$REPO/resolve/main/$PLAIN" >/dev/null
result "the plain upload downloads byte-exact through ggufd" "$(cmp -s "$DL/plain" "$IN/plain.gguf"; echo $?)" \
	"$(shows dl_plain)"
stats_now "$WORK/st2.json"
result "upstream has exactly one commit adding it, with the X-Commit-Message as summary" \
	"$([ "$(jpy "$WORK/st2.json" "[[c['commitOid'], c['summary']] for c in d['commits'] if '$PLAIN' in c['lfsPaths']]")" = \
		"[[\"$PLAIN_COMMIT\", \"plain put of the coder model\"]]" ]; echo $?)" \
	"$(jpy "$WORK/st2.json" 'd["commits"][-1]')"
code=$(req job_plain -H "$(AUTH "$TOK")" "$BASE/api/ggufd/uploads/$PLAIN_ID")
result "GET /api/ggufd/uploads/{id}: done, 1 attempt, the file, its upstream commit" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/job_plain.b" "[d['state'], d['attempts'], [f['path'] for f in d['files']], d.get('commit', d.get('commitOid'))]")" = \
		"[\"done\", 1, [\"$PLAIN\"], \"$PLAIN_COMMIT\"]" ]; echo $?)" \
	"status $code: $(shows job_plain)"
code=$(req jobs -H "$(AUTH "$TOK")" "$BASE/api/ggufd/uploads")
result "GET /api/ggufd/uploads lists the jobs (the JS uploads and the plain PUT), all done" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/jobs.b" "sorted(set(j['state'] for j in d)) == ['done'] and $PLAIN_ID in [j['id'] for j in d] and len(d) >= 3")" = true ]; echo $?)" \
	"status $code: $(shows jobs)"
code=$(req jobs_anon "$BASE/api/ggufd/uploads")
code2=$(req jobs_read -H "$(AUTH "$RTOK")" "$BASE/api/ggufd/uploads")
result "the journal needs an upload token (none: 401, read scope: 403)" \
	"$([ "$code" = 401 ] && [ "$code2" = 403 ]; echo $?)" "statuses $code $code2"
code=$(req readme -T "$IN/README.md" -H "$(AUTH "$TOK")" "$BASE/api/ggufd/upload/$REPO/README.md")
dl dl_readme "$DL/readme" "$BASE/$REPO/resolve/main/README.md" >/dev/null
result "a README.md with license and tags is accepted (200) and served" \
	"$([ "$code" = 200 ] && cmp -s "$DL/readme" "$IN/README.md"; echo $?)" "status $code: $(shows readme)"

code=$(req readme_rich -T "$IN/README-rich.md" -H "$(AUTH "$TOK")" "$BASE/api/ggufd/upload/$REPO/README.md")
result "an upload token replaces README.md with a card that keeps its keys and adds base_model (200)" \
	"$([ "$code" = 200 ]; echo $?)" "status $code: $(shows readme_rich)"
code=$(req readme_table -T "$IN/README-table.md" -H "$(AUTH "$TOK")" "$BASE/api/ggufd/upload/$REPO/README.md")
result "an upload token adds a files table to the card (200)" \
	"$([ "$code" = 200 ]; echo $?)" "status $code: $(shows readme_table)"
code=$(req readme_table2 -T "$IN/README-table2.md" -H "$(AUTH "$TOK")" "$BASE/api/ggufd/upload/$REPO/README.md")
result "--card-files-table: a card whose table keeps every file in another layout, plus one (200)" \
	"$([ "$code" = 200 ]; echo $?)" "status $code: $(shows readme_table2)"

# --- 3. refusals: status, message, nothing published ----------------------------------------------

stats_now "$WORK/st_before.json"
N_COMMITS=$(jpy "$WORK/st_before.json" 'len(d["commits"])')
N_UPLOADS=$(jpy "$WORK/st_before.json" 'sum(d["uploads"].values())')
U="$BASE/api/ggufd/upload/$REPO"

# refuse DESC STATUS MSG-REGEX NAME CURL-ARGS...: the request is answered STATUS
# and its X-Error-Message matches MSG-REGEX (grep -E, case-insensitive).
refuse() {
	local desc=$1 want=$2 re=$3 name=$4 code
	shift 4
	code=$(req "$name" "$@")
	result "$desc: $want" "$([ "$code" = "$want" ] && emsg "$name" | grep -qiE -- "$re"; echo $?)" \
		"status $code, X-Error-Message '$(emsg "$name")'" "$(head -c 600 "$RESP/$name.b")"
}

refuse "a repo that is not allowed (other/repo)" 403 'other/repo.*not allowed' r_repo \
	-T "$IN/plain.gguf" -H "$(AUTH "$TOK")" "$BASE/api/ggufd/upload/other/repo/$PLAIN"
refuse "a GGUF not named ruvltra-[variant-]size-quant.gguf (model-1.5b-q8_0.gguf)" 422 \
	'ruvltra-\[\{variant\}-\]\{size\}-\{quant\}\.gguf' r_name \
	-T "$IN/plain.gguf" -H "$(AUTH "$TOK")" "$U/model-1.5b-q8_0.gguf"
refuse "an unknown quantization (ruvltra-1.5b-q9_x.gguf)" 422 'quantization' r_quant \
	-T "$IN/plain.gguf" -H "$(AUTH "$TOK")" "$U/ruvltra-1.5b-q9_x.gguf"
refuse "a size that is not like 0.5b (ruvltra-big-q8_0.gguf)" 422 'size like' r_size \
	-T "$IN/plain.gguf" -H "$(AUTH "$TOK")" "$U/ruvltra-big-q8_0.gguf"
refuse "a Q8_0 file named ...-q4_k_m.gguf (quant != general.file_type)" 422 'q4_k_m.*Q8_0|file_type' r_ftype \
	-T "$IN/plain.gguf" -H "$(AUTH "$TOK")" "$U/ruvltra-1.5b-q4_k_m.gguf"
refuse "random bytes named ruvltra-0.5b-q4_k_m.gguf (not GGUF)" 422 'not a valid GGUF' r_invalid \
	-T "$IN/random.bin" -H "$(AUTH "$TOK")" "$U/ruvltra-0.5b-q4_k_m.gguf"
refuse "a file outside the allowed globs (run.sh)" 422 'run\.sh.*not accepted' r_glob \
	-T "$IN/run.sh" -H "$(AUTH "$TOK")" "$U/run.sh"
refuse "a file over --upload-max-size (6000000)" 413 'over the upload limit' r_size413 \
	-T "$IN/huge.json" -H "$(AUTH "$TOK")" "$U/huge.json"
refuse "a README.md without front matter, naming license and tags" 422 'license.*tags|tags.*license' r_readme \
	-T "$IN/README-none.md" -H "$(AUTH "$TOK")" "$U/README.md"
refuse "a README.md whose front matter lacks tags, naming tags" 422 'missing.*tags' r_readme2 \
	-T "$IN/README-notags.md" -H "$(AUTH "$TOK")" "$U/README.md"
refuse "no token" 401 'Invalid credentials in Authorization header' r_notoken \
	-T "$IN/plain.gguf" "$U/$PLAIN"
refuse "an unknown token" 401 '^Invalid credentials in Authorization header$' r_unknown \
	-T "$IN/plain.gguf" -H "$(AUTH hf_0123456789abcdef0123456789abcdef01234567)" "$U/$PLAIN"
refuse "a revoked token" 401 '^Invalid credentials in Authorization header$' r_revoked \
	-T "$IN/plain.gguf" -H "$(AUTH "$GONE")" "$U/$PLAIN"
refuse "the upstream token itself (ggufd does not know it)" 401 '^Invalid credentials in Authorization header$' r_uptoken \
	-T "$IN/plain.gguf" -H "$(AUTH "$UP")" "$U/$PLAIN"
refuse "a read-scope token on the upload route" 403 'scope' r_readscope \
	-T "$IN/plain.gguf" -H "$(AUTH "$RTOK")" "$U/$PLAIN"

# The Hub protocol refuses the same things.
J='Content-Type: application/json'
refuse "Hub preupload of a badly named GGUF" 422 'must be named' r_pre_name \
	-H "$(AUTH "$TOK")" -H "$J" -d '{"files":[{"path":"bad.gguf","sample":"R0dVRgMAAAA=","size":1000}]}' \
	"$BASE/api/models/$REPO/preupload/main"
refuse "Hub preupload to a repo that is not allowed" 403 'not allowed' r_pre_repo \
	-H "$(AUTH "$TOK")" -H "$J" -d '{"files":[{"path":"config.json","sample":"e30=","size":2}]}' \
	"$BASE/api/models/other/repo/preupload/main"
refuse "Hub preupload of a file over --upload-max-size" 413 'over the upload limit' r_pre_size \
	-H "$(AUTH "$TOK")" -H "$J" -d '{"files":[{"path":"huge.json","sample":"e30=","size":6000001}]}' \
	"$BASE/api/models/$REPO/preupload/main"
refuse "Hub preupload with a size that is no byte count (1e300)" 400 'path.*size' r_pre_num \
	-H "$(AUTH "$TOK")" -H "$J" -d '{"files":[{"path":"config.json","sample":"e30=","size":1e300}]}' \
	"$BASE/api/models/$REPO/preupload/main"
refuse "Hub preupload with a fractional size (2.5)" 400 'path.*size' r_pre_frac \
	-H "$(AUTH "$TOK")" -H "$J" -d '{"files":[{"path":"config.json","sample":"e30=","size":2.5}]}' \
	"$BASE/api/models/$REPO/preupload/main"
refuse "Hub preupload with a read-scope token" 403 'scope' r_pre_read \
	-H "$(AUTH "$RTOK")" -H "$J" -d '{"files":[{"path":"config.json","sample":"e30=","size":2}]}' \
	"$BASE/api/models/$REPO/preupload/main"
printf '%s\n' '{"key":"header","value":{"summary":"x"}}' \
	'{"key":"file","value":{"path":"run.sh","content":"ZWNobyBoaQo=","encoding":"base64"}}' >"$WORK/c_glob.ndjson"
refuse "Hub NDJSON commit of run.sh" 422 'run\.sh.*not accepted' r_commit_glob \
	-H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_glob.ndjson" \
	"$BASE/api/models/$REPO/commit/main"

# Deletions need admin scope (issue 11): refused 403 with an upload token,
# through the NDJSON and the JSON commit routes, before anything goes upstream.
printf '%s\n' '{"key":"header","value":{"summary":"x"}}' \
	'{"key":"deletedFile","value":{"path":"config.json"}}' >"$WORK/c_del.ndjson"
refuse "Hub NDJSON commit deleting a file with an upload token" 403 'config\.json.*admin' r_del_nd \
	-H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_del.ndjson" \
	"$BASE/api/models/$REPO/commit/main"
printf '%s\n' '{"key":"header","value":{"summary":"x"}}' \
	'{"key":"file","value":{"path":"notes.txt","content":"aGkK","encoding":"base64"}}' \
	'{"key":"deletedFolder","value":{"path":"sub"}}' >"$WORK/c_deldir.ndjson"
refuse "Hub NDJSON commit deleting a folder (with an added file) with an upload token" 403 'folder sub.*admin' r_deldir_nd \
	-H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_deldir.ndjson" \
	"$BASE/api/models/$REPO/commit/main"
refuse "Hub JSON commit with deletedFiles with an upload token" 403 'config\.json.*admin' r_del_json \
	-H "$(AUTH "$TOK")" -H "$J" -d '{"summary":"x","deletedFiles":[{"path":"config.json"}]}' \
	"$BASE/api/models/$REPO/commit/main"

# Published model files are immutable on protected branches (main):
# replacing one with other bytes is 409 for an upload token, through the
# plain PUT, the NDJSON and the JSON commit routes.
refuse "plain PUT replacing the published $PLAIN on main with other bytes" 409 \
	'already published on the protected branch main.*new name.*branch.*create_pr=1' r_ow_put \
	-T "$IN/plain2.gguf" -H "$(AUTH "$TOK")" "$U/$PLAIN"
inline_commit "$WORK/c_ow.ndjson" "$PLAIN" "$IN/plain2.gguf"
refuse "Hub NDJSON commit replacing $PLAIN on main (inline)" 409 'immutable' r_ow_nd \
	-H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_ow.ndjson" \
	"$BASE/api/models/$REPO/commit/main"
python3 -c 'import json, sys; l = [json.loads(x) for x in open(sys.argv[1])]; print(json.dumps({"summary": "x", "files": [l[1]["value"]]}))' \
	"$WORK/c_ow.ndjson" >"$WORK/c_ow.json"
refuse "Hub JSON commit replacing $PLAIN on main (inline)" 409 'immutable' r_ow_json \
	-H "$(AUTH "$TOK")" -H "$J" --data-binary "@$WORK/c_ow.json" "$BASE/api/models/$REPO/commit/refs%2Fheads%2Fmain"
P2_OID=$(sha256_of "$IN/plain2.gguf")
kept=$(find "$S/blobs" -type f -name "$P2_OID*" 2>/dev/null)
result "the refused overwrites kept no blob of their bytes (plain PUT and inline files dropped)" \
	"$([ -z "$kept" ]; echo $?)" "kept: $kept"
c1=$(lfs_put ow_lfs "$TOK" "$IN/plain2.gguf")
lfs_commit "$WORK/c_ow_lfs.ndjson" "$PLAIN" "$IN/plain2.gguf"
refuse "Hub NDJSON commit replacing $PLAIN on main (LFS, staged: $c1)" 409 'immutable' r_ow_lfs \
	-H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_ow_lfs.ndjson" \
	"$BASE/api/models/$REPO/commit/main"

# A file on main that only upstream knows (this ggufd never served it) is
# just as published: upstream's tree is asked before a protected branch is
# written.
refuse "plain PUT replacing $UP9, published upstream but never seen by this ggufd" 409 \
	"$UP9 is already published on the protected branch main.*immutable" r_ow_up9 \
	-T "$IN/small.gguf" -H "$(AUTH "$TOK")" "$U/$UP9"

# Model cards: with an upload token a replacement README.md keeps the
# published card's front matter keys (422 naming the dropped ones).
refuse "plain PUT of a README.md that drops base_model" 422 'drops front matter keys.*base_model' r_card_put \
	-T "$IN/README-drop.md" -H "$(AUTH "$TOK")" "$U/README.md"
inline_commit "$WORK/c_card.ndjson" README.md "$IN/README-drop.md"
refuse "Hub NDJSON commit of a README.md that drops base_model" 422 'base_model.*required sections' r_card_nd \
	-H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_card.ndjson" \
	"$BASE/api/models/$REPO/commit/main"
python3 -c 'import json, sys; l = [json.loads(x) for x in open(sys.argv[1])]; print(json.dumps({"summary": "x", "files": [l[1]["value"]]}))' \
	"$WORK/c_card.ndjson" >"$WORK/c_card.json"
refuse "Hub JSON commit of a README.md that drops base_model" 422 'base_model' r_card_json \
	-H "$(AUTH "$TOK")" -H "$J" --data-binary "@$WORK/c_card.json" "$BASE/api/models/$REPO/commit/main"
refuse "the same commit to the branch cards, whose card only upstream knows (asked upstream)" 422 \
	'drops front matter keys.*base_model' r_card_up -H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' \
	--data-binary "@$WORK/c_card.ndjson" "$BASE/api/models/$REPO/commit/cards"
refuse "--card-files-table: a card whose table drops ruvltra-3b-q8_0.gguf (named in its text only)" 422 \
	"files table drops: ruvltra-3b-q8_0\\.gguf \\(rule" r_card_table -T "$IN/README-table-drop.md" -H "$(AUTH "$TOK")" "$U/README.md"
inline_commit "$WORK/c_card_table.ndjson" README.md "$IN/README-table-drop.md"
refuse "--card-files-table: the same card through a Hub NDJSON commit" 422 'files table drops: ruvltra-3b-q8_0' r_card_table_nd \
	-H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_card_table.ndjson" \
	"$BASE/api/models/$REPO/commit/main"
python3 -c 'import json, sys; l = [json.loads(x) for x in open(sys.argv[1])]; print(json.dumps({"summary": "x", "files": [l[1]["value"]]}))' \
	"$WORK/c_card_table.ndjson" >"$WORK/c_card_table.json"
refuse "--card-files-table: the same card through a Hub JSON commit" 422 'files table drops: ruvltra-3b-q8_0' r_card_table_json \
	-H "$(AUTH "$TOK")" -H "$J" --data-binary "@$WORK/c_card_table.json" "$BASE/api/models/$REPO/commit/main"
dl dl_card_kept "$DL/card_kept" "$BASE/$REPO/resolve/main/README.md" >/dev/null
result "the refused cards left the published one served" \
	"$(cmp -s "$DL/card_kept" "$IN/README-table2.md"; echo $?)" "$(head -c 300 "$DL/card_kept")"

# Token bounds: outside them is 403 before a byte is read or anything goes upstream.
refuse "plain PUT by ci-q4 of a name outside its path glob" 403 "Token 'ci-q4' may not publish ruvltra-coder2-1.5b-q8_0.gguf.*token bounds" r_bound_put \
	-T "$IN/plain.gguf" -H "$(AUTH "$BTOK")" "$U/ruvltra-coder2-1.5b-q8_0.gguf"
inline_commit "$WORK/c_bound.ndjson" extra2.json "$IN/config.json"
refuse "Hub NDJSON commit by ci-q4 of extra2.json" 403 'may not publish extra2\.json.*token bounds' r_bound_nd \
	-H "$(AUTH "$BTOK")" -H 'Content-Type: application/x-ndjson' --data-binary "@$WORK/c_bound.ndjson" \
	"$BASE/api/models/$REPO/commit/main"
refuse "Hub preupload by ci-q4 of config.json" 403 'may not publish config\.json.*token bounds' r_bound_pre \
	-H "$(AUTH "$BTOK")" -H "$J" -d '{"files":[{"path":"config.json","sample":"e30=","size":2}]}' \
	"$BASE/api/models/$REPO/preupload/main"
refuse "Hub JSON commit by ci-other (bound to ruv/other) to $REPO" 403 "Token 'ci-other' may not publish to ruv/ruvltra" r_bound_json \
	-H "$(AUTH "$OTOK")" -H "$J" -d '{"summary":"x","files":[{"path":"x.json","content":"e30=","encoding":"base64"}]}' \
	"$BASE/api/models/$REPO/commit/main"

# Signed hrefs.
OTHER_OID=$(sha256_of "$IN/other.gguf")
OTHER_SIZE=$(file_size "$IN/other.gguf")
BATCH_BODY='{"operation":"upload","transfers":["basic","multipart"],"objects":[{"oid":"'$OTHER_OID'","size":'$OTHER_SIZE'}],"hash_algo":"sha256","ref":{"name":"main"}}'
req batch1 -H "$(AUTH "$TOK")" -H "Content-Type: $L" -H "Accept: $L" -d "$BATCH_BODY" \
	"$BASE/$REPO.git/info/lfs/objects/batch" >/dev/null
HREF=$(jpy "$RESP/batch1.b" 'd["objects"][0]["actions"]["upload"]["href"]' 2>/dev/null)
result "LFS batch answers a signed href on ggufd (/_ggufd/lfs/{oid}?size&exp&sig)" \
	"$([[ $HREF == "$BASE/_ggufd/lfs/$OTHER_OID?"*exp=*sig=* ]]; echo $?)" "$(shows batch1)"
SIG=$(sed -n 's/.*[?&]sig=\([0-9a-fA-F]*\).*/\1/p' <<<"$HREF")
EXP=$(sed -n 's/.*[?&]exp=\([0-9]*\).*/\1/p' <<<"$HREF")
BADSIG=$(tr '0-9a-f' '1-9a-f0' <<<"$SIG")
refuse "a PUT with a tampered sig" 403 'signature' r_sig \
	-T "$IN/other.gguf" "${HREF/sig=$SIG/sig=$BADSIG}"
refuse "a PUT with exp moved into the past (expired, and the signature breaks)" 403 'signature|expired' r_exp \
	-T "$IN/other.gguf" "${HREF/exp=$EXP/exp=$((EXP - 200000))}"
WRONG_OID=$(sha256_of "$IN/random.bin")
refuse "a PUT with another oid in the URL" 403 'signature' r_oid \
	-T "$IN/other.gguf" "${HREF/$OTHER_OID/$WRONG_OID}"
head -c "$OTHER_SIZE" "$IN/random.bin" >"$IN/wrong.bin"
WRONG_BODY_OID=$(sha256_of "$IN/wrong.bin")
refuse "a PUT of bytes that do not match the oid" 400 'do not match' r_bytes \
	-T "$IN/wrong.bin" "$HREF"
kept=$(find "$S/blobs" -type f \( -name "$OTHER_OID*" -o -name "$WRONG_BODY_OID*" -o -name "$WRONG_OID*" \) 2>/dev/null)
tmpn=$(find "$S/tmp" -type f 2>/dev/null | wc -l)
req batch2 -H "$(AUTH "$TOK")" -H "Content-Type: $L" -H "Accept: $L" -d "$BATCH_BODY" \
	"$BASE/$REPO.git/info/lfs/objects/batch" >/dev/null
result "nothing was kept: no blob under store/blobs, no temp file, and the oid still gets upload actions" \
	"$([ -z "$kept" ] && [ "$tmpn" = 0 ] && [ "$(jpy "$RESP/batch2.b" '"actions" in d["objects"][0]')" = true ]; echo $?)" \
	"blobs: $kept; tmp files: $tmpn; batch: $(head -c 500 "$RESP/batch2.b")"
PART_HREF=
req batch_mp -H "$(AUTH "$TOK")" -H "Content-Type: $L" -H "Accept: $L" \
	-d '{"operation":"upload","transfers":["basic","multipart"],"objects":[{"oid":"'"$(sha256_of "$IN/huge.json")"'","size":5900000}],"hash_algo":"sha256"}' \
	"$BASE/$REPO.git/info/lfs/objects/batch" >/dev/null
PART_HREF=$(jpy "$RESP/batch_mp.b" 'd["objects"][0]["actions"]["upload"]["header"]["00001"]' 2>/dev/null)
PSIG=$(sed -n 's/.*[?&]sig=\([0-9a-fA-F]*\).*/\1/p' <<<"$PART_HREF")
head -c 1000000 "$IN/huge.json" >"$IN/part1.bin"
refuse "a multipart part PUT with a tampered sig" 403 'signature' r_partsig \
	-T "$IN/part1.bin" "${PART_HREF/sig=$PSIG/sig=$(tr '0-9a-f' '1-9a-f0' <<<"$PSIG")}"

# Other gateway routes.
code=$(req xet -H "$(AUTH "$TOK")" "$BASE/api/models/$REPO/xet-write-token/main")
result "xet-write-token is 501 XetNotSupported" \
	"$([ "$code" = 501 ] && [ "$(header X-Error-Code "$RESP/xet.h")" = XetNotSupported ]; echo $?)" "$(shows xet)"
code=$(req vy -H "$(AUTH "$TOK")" -H "$J" -d '{"content":"---\nlicense: mit\n---\n# x\n","repoType":"model"}' \
	"$BASE/api/validate-yaml")
result "validate-yaml is 200 JSON naming the missing tags" \
	"$([ "$code" = 200 ] && jpy "$RESP/vy.b" 'd["errors"], d["warnings"]' | grep -q tags; echo $?)" "$(shows vy)"
code=$(req create_ok -H "$(AUTH "$TOK")" -H "$J" -d '{"name":"ruvltra","organization":"ruv","type":"model"}' \
	"$BASE/api/repos/create")
code2=$(req create_no -H "$(AUTH "$TOK")" -H "$J" -d '{"name":"newrepo","organization":"ruv","type":"model"}' \
	"$BASE/api/repos/create")
result "repos/create: an allowed repo is forwarded (upstream's 409 with url relayed), another is 403" \
	"$([ "$code" = 409 ] && [ "$(jpy "$RESP/create_ok.b" 'd["url"].endswith("/ruv/ruvltra")')" = true ] && [ "$code2" = 403 ]; echo $?)" \
	"$(shows create_ok) $(shows create_no)"

stats_now "$WORK/st_after.json"
# Reads are fine (GET, and paths-info: the immutability rule asks upstream's tree).
result "nothing was published upstream by any refusal (commits and uploads unchanged)" \
	"$([ "$(jpy "$WORK/st_after.json" 'len(d["commits"])')" = "$N_COMMITS" ] &&
		[ "$(jpy "$WORK/st_after.json" 'sum(d["uploads"].values())')" = "$N_UPLOADS" ] &&
		[ "$(jpy "$WORK/st_after.json" "[r['path'] for r in reqs if r['seq'] > $(jpy "$WORK/st_before.json" 'max([r["seq"] for r in reqs] or [0])') and r['method'] != 'GET' and '/paths-info/' not in r['path'] and 'repos/create' not in r['path']]")" = '[]' ]; echo $?)" \
	"commits $N_COMMITS -> $(jpy "$WORK/st_after.json" 'len(d["commits"])'), uploads $N_UPLOADS -> $(jpy "$WORK/st_after.json" 'sum(d["uploads"].values())')" \
	"$(jpy "$WORK/st_after.json" "[(r['method'], r['path']) for r in reqs][-10:]")"

# A refused upload must not take the blob of an accepted one: an LFS object
# staged for its commit, then the same bytes PUT under a refused name, then
# the commit that names the object (review: drop_if_unused).
RACE=ruvltra-2b-q8_0.gguf
RACE_OID=$(sha256_of "$IN/race.gguf")
RACE_SIZE=$(file_size "$IN/race.gguf")
req batch_race -H "$(AUTH "$TOK")" -H "Content-Type: $L" -H "Accept: $L" \
	-d '{"operation":"upload","transfers":["basic"],"objects":[{"oid":"'$RACE_OID'","size":'$RACE_SIZE'}],"hash_algo":"sha256"}' \
	"$BASE/$REPO.git/info/lfs/objects/batch" >/dev/null
RACE_HREF=$(jpy "$RESP/batch_race.b" 'd["objects"][0]["actions"]["upload"]["href"]' 2>/dev/null)
c1=$(req race_put -T "$IN/race.gguf" "$RACE_HREF")
c2=$(req race_refused -T "$IN/race.gguf" -H "$(AUTH "$TOK")" "$U/ruvltra-2b-q4_k_m.gguf") # Q8_0 bytes: refused once they landed
printf '%s\n' '{"key":"header","value":{"summary":"race"}}' \
	'{"key":"lfsFile","value":{"path":"'$RACE'","algo":"sha256","oid":"'$RACE_OID'","size":'$RACE_SIZE'}}' \
	>"$WORK/c_race.ndjson"
c3=$(req race_commit -H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' \
	--data-binary "@$WORK/c_race.ndjson" "$BASE/api/models/$REPO/commit/main")
result "an LFS object awaiting its commit survives a refused upload of the same bytes: the commit is 200" \
	"$([ "$c1" = 200 ] && [ "$c2" = 422 ] && [ "$c3" = 200 ]; echo $?)" \
	"put $c1, refused put $c2, commit $c3: $(shows race_commit)"
code=$(dl dl_race "$DL/race" "$BASE/$REPO/resolve/main/$RACE")
result "and $RACE downloads byte-exact" "$([ "$code" = 200 ] && cmp -s "$DL/race" "$IN/race.gguf"; echo $?)" \
	"status $code"

# Refs through the gateway: a branch needs upload scope, a tag (a release)
# admin once an admin token exists; upstream's 409 is relayed (exist_ok).
J='Content-Type: application/json'
c1=$(req br1 -H "$(AUTH "$TOK")" -H "$J" -d '{"startingPoint":"main"}' "$BASE/api/models/$REPO/branch/exp-1")
c2=$(req br2 -H "$(AUTH "$TOK")" -H "$J" -d '{}' "$BASE/api/models/$REPO/branch/exp-1")
c3=$(req br3 -H "$(AUTH "$TOK")" -H "$J" -d '{}' "$BASE/api/models/$REPO/branch/..%2Fx")
result "branch: created with an upload token (200), again is upstream's 409, a bad name 400" \
	"$([ "$c1" = 200 ] && [ "$c2" = 409 ] && [ "$c3" = 400 ]; echo $?)" \
	"$c1 $c2 $c3: $(shows br1) $(shows br2) $(shows br3)"
code=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/$REPO/resolve/exp-1/$PLAIN")
result "the new branch resolves through ggufd" "$([ "$code" = 200 ]; echo $?)" "status $code"
ADM=$(tok_add admin1 admin)
c1=$(req tag1 -H "$(AUTH "$TOK")" -H "$J" -d '{"tag":"v9"}' "$BASE/api/models/$REPO/tag/main")
c2=$(req tag2 -H "$(AUTH "$ADM")" -H "$J" -d '{"tag":"v9","message":"nine"}' "$BASE/api/models/$REPO/tag/main")
code=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/$REPO/resolve/v9/$PLAIN")
result "tag: refused for an upload token once an admin token exists (403), created with it (200), resolves" \
	"$([ "$c1" = 403 ] && [ "$c2" = 200 ] && [ "$code" = 200 ]; echo $?)" \
	"$c1 $c2 $code: $(shows tag1) $(shows tag2)"

code=$(req bound_ok -T "$IN/bound.gguf" -H "$(AUTH "$BTOK")" "$U/ruvltra-bound-0.5b-q4_k_m.gguf")
result "ci-q4 publishes within its bounds (ruvltra-bound-0.5b-q4_k_m.gguf: 200)" "$([ "$code" = 200 ]; echo $?)" \
	"status $code: $(shows bound_ok)"

# Overwrites on a protected branch: an admin must ask; a branch that is not
# protected, and a pull request (create_pr=1), take an upload token.
code=$(req ow_adm_noask -H "$(AUTH "$ADM")" -H 'Content-Type: application/x-ndjson' \
	--data-binary "@$WORK/c_ow_lfs.ndjson" "$BASE/api/models/$REPO/commit/main")
result "an admin replacing $PLAIN on main without X-Ggufd-Overwrite: 409 naming the header" \
	"$([ "$code" = 409 ] && emsg ow_adm_noask | grep -q 'X-Ggufd-Overwrite: yes'; echo $?)" "$(shows ow_adm_noask)"
code=$(req ow_branch -H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' \
	--data-binary "@$WORK/c_ow_lfs.ndjson" "$BASE/api/models/$REPO/commit/exp-1")
dl dl_ow_branch "$DL/ow_branch" "$BASE/$REPO/resolve/exp-1/$PLAIN" >/dev/null
result "an upload token replaces $PLAIN on the unprotected branch exp-1 (200, served there)" \
	"$([ "$code" = 200 ] && cmp -s "$DL/ow_branch" "$IN/plain2.gguf"; echo $?)" "status $code: $(shows ow_branch)"
code=$(req ow_pr -H "$(AUTH "$TOK")" -H 'Content-Type: application/x-ndjson' \
	--data-binary "@$WORK/c_ow_lfs.ndjson" "$BASE/api/models/$REPO/commit/main?create_pr=1")
dl dl_ow_main "$DL/ow_main" "$BASE/$REPO/resolve/main/$PLAIN" >/dev/null
result "an upload token proposes the change as a pull request (create_pr=1: 200 with pullRequestUrl); main keeps its bytes" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/ow_pr.b" '"/discussions/" in d.get("pullRequestUrl", "")')" = true ] &&
		cmp -s "$DL/ow_main" "$IN/plain.gguf"; echo $?)" "status $code: $(shows ow_pr)"
code=$(req ow_adm -T "$IN/plain2.gguf" -H "$(AUTH "$ADM")" -H 'X-Ggufd-Overwrite: yes' "$U/$PLAIN")
dl dl_ow_adm "$DL/ow_adm" "$BASE/$REPO/resolve/main/$PLAIN" >/dev/null
result "an admin with X-Ggufd-Overwrite: yes replaces $PLAIN on main (plain PUT 200, new bytes served)" \
	"$([ "$code" = 200 ] && cmp -s "$DL/ow_adm" "$IN/plain2.gguf"; echo $?)" "status $code: $(shows ow_adm)"
OW_ID=$(jpy "$RESP/ow_adm.b" 'd.get("id", "")')
code=$(req job_ow -H "$(AUTH "$ADM")" "$BASE/api/ggufd/uploads/$OW_ID")
result "its upload job is journaled as an overwrite (files[0].overwrite)" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/job_ow.b" "[d['state'], [[f['path'], f.get('overwrite', False)] for f in d['files']]]")" = \
		"[\"done\", [[\"$PLAIN\", true]]]" ]; echo $?)" \
	"status $code: $(shows job_ow)"
code=$(req card_adm -H "$(AUTH "$ADM")" -H 'Content-Type: application/x-ndjson' \
	--data-binary "@$WORK/c_card.ndjson" "$BASE/api/models/$REPO/commit/main")
dl dl_card "$DL/card" "$BASE/$REPO/resolve/main/README.md" >/dev/null
result "an admin replaces the card freely (200, served)" \
	"$([ "$code" = 200 ] && cmp -s "$DL/card" "$IN/README-drop.md"; echo $?)" "status $code: $(shows card_adm)"
printf '%s\n' '{"key":"header","value":{"summary":"drop race"}}' \
	'{"key":"deletedFile","value":{"path":"'$RACE'"}}' >"$WORK/c_del_adm.ndjson"
code=$(req del_adm -H "$(AUTH "$ADM")" -H 'Content-Type: application/x-ndjson' \
	--data-binary "@$WORK/c_del_adm.ndjson" "$BASE/api/models/$REPO/commit/main")
stats_now "$WORK/st_del.json"
result "an admin deletes $RACE (200; upstream's last commit deletes it)" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/st_del.json" 'd["commits"][-1]["deletedFiles"]')" = "[\"$RACE\"]" ]; echo $?)" \
	"status $code: $(shows del_adm) $(jpy "$WORK/st_del.json" 'd["commits"][-1]')"

# Deleting a branch or a tag needs an admin token (huggingface_hub's
# delete_branch / delete_tag: DELETE .../branch/{b}, .../tag/{t}).
stats_now "$WORK/st_refs0.json"
refuse "DELETE of the branch exp-1 with an upload token" 403 'branch exp-1 needs an admin token' r_delbr \
	-X DELETE -H "$(AUTH "$TOK")" "$BASE/api/models/$REPO/branch/exp-1"
refuse "DELETE of the tag v9 with an upload token" 403 'scope' r_deltag -X DELETE -H "$(AUTH "$TOK")" \
	"$BASE/api/models/$REPO/tag/v9"
stats_now "$WORK/st_refs1.json"
code=$(req br_put -X PUT -H "$(AUTH "$ADM")" "$BASE/api/models/$REPO/branch/exp-1")
result "the refused deletions sent nothing upstream; PUT on a ref route is 405 with Allow: POST, DELETE, OPTIONS" \
	"$([ "$(jpy "$WORK/st_refs1.json" "[r['path'] for r in reqs if r['seq'] > $(jpy "$WORK/st_refs0.json" 'max([r["seq"] for r in reqs] or [0])') and r['method'] != 'GET']")" = '[]' ] &&
		[ "$code" = 405 ] && [ "$(header Allow "$RESP/br_put.h")" = 'POST, DELETE, OPTIONS' ]; echo $?)" \
	"$(jpy "$WORK/st_refs1.json" "[(r['method'], r['path']) for r in reqs][-5:]") $(shows br_put)"
c1=$(req delbr_adm -X DELETE -H "$(AUTH "$ADM")" "$BASE/api/models/$REPO/branch/exp-1")
c2=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/$REPO/resolve/exp-1/$PLAIN")
c3=$(req delbr_again -X DELETE -H "$(AUTH "$ADM")" "$BASE/api/models/$REPO/branch/exp-1")
result "an admin deletes the branch exp-1 (200); it no longer resolves (404); again: upstream's 404" \
	"$([ "$c1" = 200 ] && [ "$c2" = 404 ] && [ "$c3" = 404 ]; echo $?)" "$c1 $c2 $c3: $(shows delbr_adm) $(shows delbr_again)"
c1=$(req deltag_adm -X DELETE -H "$(AUTH "$ADM")" "$BASE/api/models/$REPO/tag/v9")
c2=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/$REPO/resolve/v9/$PLAIN")
stats_now "$WORK/st_refs2.json"
result "an admin deletes the tag v9 (200); it no longer resolves (404); upstream got both DELETEs with the held token" \
	"$([ "$c1" = 200 ] && [ "$c2" = 404 ] &&
		[ "$(jpy "$WORK/st_refs2.json" "[(r['method'], r['path'], r['auth'] == 'Bearer $UP') for r in reqs if r['method'] == 'DELETE']")" = \
			"[[\"DELETE\", \"/api/models/$REPO/branch/exp-1\", true], [\"DELETE\", \"/api/models/$REPO/branch/exp-1\", true], [\"DELETE\", \"/api/models/$REPO/tag/v9\", true]]" ]; echo $?)" \
	"$c1 $c2: $(shows deltag_adm) $(jpy "$WORK/st_refs2.json" "[(r['method'], r['path']) for r in reqs if r['method'] == 'DELETE']")"

# --- 6. a retried Hub-protocol upload sends no bytes again ---------------------------------------------

RETRY=ruvltra-retry-0.5b-q4_k_m.gguf
RETRY_OID=$(sha256_of "$IN/retry.gguf")
fake_fault '{"status": 503, "match": "/commit/", "host": "hub", "count": -1}'
node_client js_retry1 "$TOK" --upload "$BASE" "$REPO" "$IN/retry.gguf" "$RETRY" "retry"
st=$?
fake_clear
result "with upstream's commit failing (503) the upload fails after its bytes were staged" \
	"$([ $st != 0 ] && grep -q 'status 503' "$RESP/js_retry1.err" && grep -q "\"PUT\",\"url\":\"$BASE/_ggufd/lfs/$RETRY_OID\"" "$RESP/js_retry1.err"; echo $?)" \
	"exit $st: $(head -c 2500 "$RESP/js_retry1.err")"
req batch_retry -H "$(AUTH "$TOK")" -H "Content-Type: $L" -H "Accept: $L" \
	-d '{"operation":"upload","transfers":["basic","multipart"],"objects":[{"oid":"'"$RETRY_OID"'","size":'"$(file_size "$IN/retry.gguf")"'}],"hash_algo":"sha_256"}' \
	"$BASE/$REPO.git/info/lfs/objects/batch" >/dev/null
result "a new batch for the staged oid has no actions" \
	"$([ "$(jpy "$RESP/batch_retry.b" '[o["oid"] for o in d["objects"] if "actions" not in o and "error" not in o]')" = "[\"$RETRY_OID\"]" ]; echo $?)" \
	"$(shows batch_retry)"
node_client js_retry2 "$TOK" --upload "$BASE" "$REPO" "$IN/retry.gguf" "$RETRY" "retry"
st=$?
result "the retried uploadFile succeeds: its batch answer has no actions and it PUTs nothing" \
	"$([ $st = 0 ] && [ "$(jpy "$RESP/js_retry2.json" '[[r["method"], r.get("batch")] for r in d["requests"] if r["method"] == "PUT" or "batch" in r]')" = \
		"[[\"POST\", [{\"oid\": \"$RETRY_OID\", \"actions\": false}]]]" ]; echo $?)" \
	"exit $st: $(head -c 2000 "$RESP/js_retry2.err") $(head -c 2000 "$RESP/js_retry2.json")"
dl dl_retry "$DL/retry" "$BASE/$REPO/resolve/main/$RETRY" >/dev/null
stats_now "$WORK/st_retry.json"
result "the retried file downloads byte-exact and upstream has exactly one commit of it" \
	"$(cmp -s "$DL/retry" "$IN/retry.gguf" && [ "$(commits_with "$RETRY" "$WORK/st_retry.json")" = 1 ]; echo $?)" \
	"commits with it: $(commits_with "$RETRY" "$WORK/st_retry.json"); $(shows dl_retry)"

# --- 5. upstream down during a plain PUT; ggufd restarts; the job lands once ---------------------------------

PEND=ruvltra-pend-0.5b-q4_k_m.gguf
# refuse: both ports closed for 8 s, then bound again (same URL for ggufd).
fake_fault '{"down": true, "mode": "refuse", "duration": 8}'
code=$(req pend -T "$IN/pend.gguf" -H "$(AUTH "$TOK")" -H 'X-Commit-Message: while upstream was down' "$U/$PEND")
PEND_ID=$(jpy "$RESP/pend.b" 'd["id"]' 2>/dev/null)
result "with upstream down, the plain PUT is 202 {id, state: pending}" \
	"$([ "$code" = 202 ] && [ "$(jpy "$RESP/pend.b" 'd["state"]')" = pending ] && [ -n "$PEND_ID" ]; echo $?)" \
	"status $code: $(shows pend)"
code=$(req job_pend -H "$(AUTH "$TOK")" "$BASE/api/ggufd/uploads/$PEND_ID")
result "the journal shows it pending with an attempt and an error" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/job_pend.b" "[d['state'] in ('pending', 'publishing'), d['attempts'] >= 1, bool(d.get('error'))]")" = '[true, true, true]' ]; echo $?)" \
	"status $code: $(shows job_pend)"
stop_ggufd
diag "ggufd exit status after SIGTERM with a pending job: $GGUFD_STATUS"
# The state file is written even while the hub is down.
result "ggufd stopped (SIGTERM) before the file reached upstream" \
	"$([ "$GGUFD_STATUS" != killed ] && [ "$(commits_with "$PEND" "$FAKEHUB_STATE")" = 0 ]; echo $?)" \
	"ggufd status $GGUFD_STATUS; commits with it: $(commits_with "$PEND" "$FAKEHUB_STATE")"
back=1
for ((i = 0; i < 200; i++)); do
	if gcurl --max-time 2 -o /dev/null "$HUB/_fake/health" 2>/dev/null; then back=0; break; fi
	sleep "$GG_POLL"
done
if [ $back = 0 ] && start_gateway; then
	state=
	for ((i = 0; i < 600; i++)); do
		req job_pend2 -H "$(AUTH "$TOK")" "$BASE/api/ggufd/uploads/$PEND_ID" >/dev/null
		state=$(jpy "$RESP/job_pend2.b" 'd.get("state")' 2>/dev/null)
		case $state in done | failed) break ;; esac
		sleep "$GG_POLL"
	done
	result "the hub is back, ggufd restarted on the same store: the job ends done" "$([ "$state" = "done" ]; echo $?)" \
		"state '$state': $(shows job_pend2)"
else
	not_ok "the hub is back, ggufd restarted on the same store: the job ends done" \
		"hub back: $back; $(tail -c 1500 "$GGUFD_LOG" 2>/dev/null)"
fi
stats_now "$WORK/st_pend.json"
PEND_COMMIT=$(jpy "$WORK/st_pend.json" "[c['commitOid'] for c in d['commits'] if '$PEND' in c['lfsPaths']]")
result "upstream has exactly ONE commit containing it, the one the job's commitUrl names; 2+ attempts" \
	"$([ "$(commits_with "$PEND" "$WORK/st_pend.json")" = 1 ] &&
		[ "$PEND_COMMIT" = "[\"$(jpy "$RESP/job_pend2.b" 'd["commitUrl"].rsplit("/", 1)[-1]' 2>/dev/null)\"]" ] &&
		[ "$(jpy "$RESP/job_pend2.b" 'd["attempts"] >= 2')" = true ]; echo $?)" \
	"upstream commits with it: $PEND_COMMIT; job: $(head -c 1500 "$RESP/job_pend2.b")"
dl dl_pend "$DL/pend" "$BASE/$REPO/resolve/main/$PEND" >/dev/null
result "the resumed upload downloads byte-exact through ggufd" "$(cmp -s "$DL/pend" "$IN/pend.gguf"; echo $?)" \
	"$(shows dl_pend)"

# --- 7. the audit trail, read after the restart above ------------------------------------------------------------

code=$(req audit -H "$(AUTH "$ADM")" "$BASE/api/ggufd/audit")
code2=$(req audit_up -H "$(AUTH "$TOK")" "$BASE/api/ggufd/audit")
result "GET /api/ggufd/audit: 200 JSON for an admin token, 403 for an upload token" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/audit.b" 'isinstance(d, list) and len(d) > 10')" = true ] && [ "$code2" = 403 ]; echo $?)" \
	"$code $code2: $(head -c 800 "$RESP/audit.b")"
# has ACT DECISION [RULE-SUBSTRING [BY]]: a record of the audit answer matches.
acts() {
	python3 - "$RESP/audit.b" "$@" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
want = [w.split("|") for w in sys.argv[2:]]
miss = [w for w in want if not any(r.get("act") == w[0] and r.get("decision") == w[1] and
        (len(w) < 3 or w[2] in r.get("rule", "")) and (len(w) < 4 or r.get("by") == w[3]) for r in d)]
print(json.dumps(miss))
PYEOF
}
MISS=$(acts "commit|refused|deletions need admin|ci" "upload|refused|immutable|ci" "commit|refused|immutable|ci" \
	"upload|refused|required sections|ci" "commit|refused|upload policy|ci" "upload|refused|upload policy|ci" \
	"overwrite|allowed|X-Ggufd-Overwrite|admin1" "upload|published||admin1" "commit|published||admin1" \
	"commit|published||ci" "upload|published||ci" "upload|pending||ci" \
	"branch|created||ci" "tag|created||admin1" "delete-branch|refused|admin scope|ci" \
	"delete-branch|deleted||admin1" "delete-tag|deleted||admin1" "upload|refused|repo allow list|ci" \
	"upload|refused|token bounds|ci-q4" "commit|refused|token bounds|ci-q4" "commit|refused|token bounds|ci-other" \
	"upload|published||ci-q4" "ggufd_upload_put|refused|a ggufd token is required" \
	"ggufd_upload_put|refused|token scope")
result "the audit log lists every act after the restart (uploads, overwrite, deletions, refs, refusals with their rules)" \
	"$([ "$MISS" = '[]' ]; echo $?)" "missing: $MISS"
result "a published act names its upstream commit, files with sizes and sha256s, and the client address" \
	"$([ "$(jpy "$RESP/audit.b" "[[r.get('commit'), r['client'], [[f['path'], f['size'], f['sha256']] for f in r['files']]] for r in d if r['act'] == 'upload' and r['decision'] == 'published' and r.get('files', [{}])[0].get('path') == '$PLAIN' and r['by'] == 'ci']")" = \
		"[[\"$PLAIN_COMMIT\", \"127.0.0.1\", [[\"$PLAIN\", $(file_size "$IN/plain.gguf"), \"$(sha256_of "$IN/plain.gguf")\"]]]]" ]; echo $?)" \
	"$(jpy "$RESP/audit.b" "[r for r in d if r['act'] == 'upload' and r['decision'] == 'published'][:2]")"
"$GGUFD" audit --store "$S" --token admin1 >"$RESP/audit_cli.out" 2>"$WORK/audit_cli.err"
st=$?
"$GGUFD" audit --store "$S" --since "$(($(date +%s) + 3600))" >"$RESP/audit_future.out" 2>>"$WORK/audit_cli.err"
st2=$?
result "ggufd audit --token admin1: one JSON record per line, all by admin1; --since the future: none" \
	"$([ $st = 0 ] && [ $st2 = 0 ] && [ -s "$RESP/audit_cli.out" ] && [ ! -s "$RESP/audit_future.out" ] &&
		python3 -c 'import json, sys; rs = [json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if rs and all(r["by"] == "admin1" for r in rs) else 1)' "$RESP/audit_cli.out"; echo $?)" \
	"exit $st $st2: $(head -c 600 "$RESP/audit_cli.out") $(cat "$WORK/audit_cli.err")"
"$GGUFD" audit --store "$S" >"$RESP/audit_all.out" 2>>"$WORK/audit_cli.err"
result "no token (ggufd's or the upstream one) appears in the audit log" \
	"$([ -s "$RESP/audit_all.out" ] && ! grep -qF -e "$TOK" -e "$RTOK" -e "$GONE" -e "$ADM" -e "$BTOK" -e "$OTOK" -e "$UP" "$RESP/audit_all.out" "$RESP/audit.b"; echo $?)" \
	"$(grep -oF -e "$TOK" -e "$RTOK" -e "$ADM" "$RESP/audit_all.out" | head -3)"

# --- 4. token hygiene (over everything above) ------------------------------------------------------------------

stats_now "$WORK/st_final.json"
result "the upstream token is in no ggufd log" \
	"$(ls "$WORK"/ggufd.*.log >/dev/null && ! grep -rlF -- "$UP" "$WORK"/ggufd.*; echo $?)" \
	"$(grep -rlF -- "$UP" "$WORK"/ggufd.*)"
result "the upstream token is in no answer ggufd gave (headers, bodies, client output)" \
	"$(! grep -rqF -- "$UP" "$RESP"; echo $?)" \
	"$(grep -rlF -- "$UP" "$RESP")"
result "no request on the CDN host carried Authorization" \
	"$([ "$(jpy "$WORK/st_final.json" '[len([r for r in reqs if r["host"] == "cdn"]) > 0, [r["path"] for r in reqs if r["host"] == "cdn" and r["auth"] is not None]]')" = '[true, []]' ]; echo $?)" \
	"$(jpy "$WORK/st_final.json" '[(r["method"], r["path"], r["auth"]) for r in reqs if r["host"] == "cdn"][:10]')"
result "every hub request that carried Authorization carried exactly Bearer <upstream token>" \
	"$([ "$(jpy "$WORK/st_final.json" "[len([r for r in reqs if r['host'] == 'hub' and r['auth']]) > 0, sorted(set(r['auth'] for r in reqs if r['host'] == 'hub' and r['auth'] and r['auth'] != 'Bearer $UP'))]")" = '[true, []]' ]; echo $?)" \
	"$(jpy "$WORK/st_final.json" "sorted(set(str(r['auth'])[:20] for r in reqs))")"
result "the client's ggufd tokens never reached the fake Hub" \
	"$([ "$(jpy "$WORK/st_final.json" 'len(reqs) > 0')" = true ] &&
		! grep -qF -e "$TOK" -e "$RTOK" -e "$GONE" "$WORK/st_final.json" "$FAKEHUB_LOG" "$FAKEHUB_STATE"; echo $?)" \
	"$(grep -lF -e "$TOK" -e "$RTOK" -e "$GONE" "$WORK/st_final.json" "$FAKEHUB_LOG" "$FAKEHUB_STATE")"
if grep -l 'Sanitizer' "$WORK"/ggufd.*.log >/dev/null 2>&1; then
	diag "a sanitizer report is in ggufd's log:" "$(grep -h -A8 'Sanitizer' "$WORK"/ggufd.*.log | head -40)"
fi
finish
