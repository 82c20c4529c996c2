#!/usr/bin/env bash
# admin.sh: the operator's token routes (/api/ggufd/tokens) with curl, and
# the dashboard's admin view (#admin) in a real browser (Debian's chromium
# driven by playwright-core), in front of the fake Hub.
#
# Tokens made with `ggufd token add` before the server starts: an admin
# (root) and an upload token (up).  With curl: every token route refuses
# no token (401) and an upload token (403); a bad body is 400 with the
# Hub's error headers, a taken name 409, an unknown name 404; a token made
# over HTTP works (whoami 200) until it is revoked (401).  In the browser:
# the view refuses in words without a token and with the upload token;
# with root it lists the tokens, adds one (shown once, with the warning),
# the new token works, a revoke (confirmed) stops it, and a pull of the
# fake Hub's repo is followed to "done" (its pinned files then in the
# Pins list) and listed in #pulls.  No token
# value reaches the audit log or the server's log; screenshots of every
# view are kept in tests/artifacts/admin/.  Skipped, visibly, where
# chromium is not installed.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

need_browser

plan 25

REPO=ruv/ruvltra
S=$WORK/store
REPOS=$WORK/repos
SHOTS=$TOP_BUILDDIR/tests/artifacts/admin
mkdir -p "$REPOS" "$SHOTS"
rm -f "$SHOTS"/*.png
mkgguf "$WORK/q4.gguf" --size 2000000 --seed 5 >"$WORK/mk.log" 2>&1
mkgguf "$WORK/q8.gguf" --size 1000000 --seed 6 --ftype Q8_0 >>"$WORK/mk.log" 2>&1
printf '{"model_type": "qwen2"}\n' >"$WORK/config.json"
fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main \
	"$WORK/q4.gguf=ruvltra-0.5b-q4_k_m.gguf" "$WORK/q8.gguf=ruvltra-0.5b-q8_0.gguf" \
	"$WORK/config.json" >>"$WORK/mk.log" 2>&1
ADM=$("$GGUFD" token add root --scope admin --store "$S" 2>>"$WORK/token.err")
UPT=$("$GGUFD" token add up --scope upload --store "$S" 2>>"$WORK/token.err")
if [ -z "$ADM" ] || [ -z "$UPT" ] || ! start_fakehub "$REPOS" ||
	! start_ggufd "$S" --upstream "$HUB"; then
	not_ok "tokens made, fake Hub and ggufd started" "$(cat "$WORK/mk.log" "$WORK/token.err")"
	finish
	exit
fi
ok "tokens made, fake Hub and ggufd started"

# --- the routes, with curl ------------------------------------------------------

# api NAME METHOD PATH [TOKEN [BODY]]: status on stdout; headers in
# $WORK/NAME.h, body in $WORK/NAME.json.
api() {
	local name=$1 method=$2 path=$3 tok=${4:-} body=${5:-}
	gcurl -o "$WORK/$name.json" -D "$WORK/$name.h" -w '%{http_code}' -X "$method" \
		${tok:+-H "Authorization: Bearer $tok"} \
		${body:+-H 'Content-Type: application/json' --data-binary "$body"} "$BASE$path"
}
hdr() { tr -d '\r' <"$WORK/$1.h" | sed -n "s/^$2: //Ip" | head -n 1; }
# has TEXT PATTERN: grep -q on a string (no pipe: grep -q's early exit
# would fail the producer under pipefail).
has() { grep -q -- "$2" <<<"$1"; }
GOOD='{"name":"ci","scope":"upload","repos":["ruv/ruvltra"],"paths":["ruvltra-*.gguf"]}'

codes=
for m in "GET /api/ggufd/tokens" "POST /api/ggufd/tokens" "DELETE /api/ggufd/tokens/up"; do
	# shellcheck disable=SC2086
	codes="$codes $(api noauth $m "" "$GOOD")"
done
result "every token route refuses a request without a token: 401 with a message" \
	"$([ "$codes" = " 401 401 401" ] && has "$(hdr noauth X-Error-Message)" 'admin token'; echo $?)" \
	"statuses:$codes" "$(cat "$WORK/noauth.h")"
codes=
for m in "GET /api/ggufd/tokens" "POST /api/ggufd/tokens" "DELETE /api/ggufd/tokens/up"; do
	# shellcheck disable=SC2086
	codes="$codes $(api upauth $m "$UPT" "$GOOD")"
done
result "every token route refuses an upload-scope token: 403 naming the scope" \
	"$([ "$codes" = " 403 403 403" ] && has "$(hdr upauth X-Error-Message)" "has scope upload; this needs admin"; echo $?)" \
	"statuses:$codes" "$(cat "$WORK/upauth.h")"

code=$(api list GET /api/ggufd/tokens "$ADM")
result "GET /api/ggufd/tokens lists root (admin) and up (upload), never a token" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/list.json" '[[t["name"], t["scope"], t["revoked"]] for t in d]')" = '[["root", "admin", false], ["up", "upload", false]]' ] &&
		! grep -qF -e "$ADM" -e "$UPT" -e '"token"' "$WORK/list.json"; echo $?)" "status $code: $(cat "$WORK/list.json")"

bad=
for b in '{"name":"x","scope":"upload"' '[1]' '{"scope":"upload"}' '{"name":"x"}' \
	'{"name":"x","scope":"root"}' '{"name":"a b","scope":"read"}' \
	'{"name":"x","scope":"read","repos":["a/b/c"]}' '{"name":"x","scope":"read","repos":"ruv/ruvltra"}' \
	'{"name":"x","scope":"read","paths":[""]}' '{"name":"x","scope":"read","paths":[7]}'; do
	code=$(api bad POST /api/ggufd/tokens "$ADM" "$b")
	if [ "$code" != 400 ] || [ "$(hdr bad X-Error-Code)" != BadRequest ] || [ -z "$(hdr bad X-Error-Message)" ] ||
		[ -z "$(jpy "$WORK/bad.json" 'd["error"]' 2>/dev/null)" ]; then
		bad="$bad [$b -> $code $(hdr bad X-Error-Message)]"
	fi
done
result "bad bodies are 400 BadRequest with X-Error-Message and a JSON error (JSON, name, scope, repos, paths)" \
	"$([ -z "$bad" ]; echo $?)" "$bad"
code=$(api none POST /api/ggufd/tokens "$ADM" '{"name":"x","scope":"read","repos":["a/b/c"]}')
result "a bad repo bound says what a repo bound is" \
	"$(has "$(hdr none X-Error-Message)" 'repos: each is a repo id'; echo $?)" "$(cat "$WORK/none.h")"

code=$(api add POST /api/ggufd/tokens "$ADM" "$GOOD")
CI=$(jpy "$WORK/add.json" 'd["token"]' 2>/dev/null)
re='^hf_[0-9a-f]{40}$'
result "POST makes a token: 201, the token once (no-store), its scope and bounds" \
	"$([ "$code" = 201 ] && [[ $CI =~ $re ]] && hdr add Cache-Control | grep -q no-store &&
		[ "$(jpy "$WORK/add.json" '[d["name"], d["scope"], d["repos"], d["paths"], d["revoked"]]')" = '["ci", "upload", ["ruv/ruvltra"], ["ruvltra-*.gguf"], false]' ]; echo $?)" \
	"status $code: $(cat "$WORK/add.h" "$WORK/add.json")"
code=$(api who GET /api/whoami-v2 "$CI")
result "the token made over HTTP works: whoami 200 names it" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/who.json" 'd["name"]')" = ci ]; echo $?)" "status $code: $(cat "$WORK/who.json")"
"$GGUFD" token ls --store "$S" >"$WORK/ls.out" 2>&1
result "ggufd token ls shows it with its bounds (one store, one implementation)" \
	"$(grep -qE '^ci +upload .*repo=ruv/ruvltra +path=ruvltra-\*\.gguf$' "$WORK/ls.out"; echo $?)" "$(cat "$WORK/ls.out")"
code=$(api dup POST /api/ggufd/tokens "$ADM" '{"name":"ci","scope":"read"}')
result "the same name again is 409 Conflict with a message" \
	"$([ "$code" = 409 ] && [ "$(hdr dup X-Error-Code)" = Conflict ] && has "$(hdr dup X-Error-Message)" "'ci'"; echo $?)" \
	"status $code: $(cat "$WORK/dup.h")"
code=$(api unknown DELETE /api/ggufd/tokens/nobody "$ADM")
result "revoking an unknown name is 404 TokenNotFound" \
	"$([ "$code" = 404 ] && [ "$(hdr unknown X-Error-Code)" = TokenNotFound ]; echo $?)" "status $code: $(cat "$WORK/unknown.h")"
code=$(api del DELETE /api/ggufd/tokens/ci "$ADM")
code2=$(api who2 GET /api/whoami-v2 "$CI")
code3=$(api del2 DELETE /api/ggufd/tokens/ci "$ADM")
result "DELETE revokes it: 200, then the token gets 401, and a second revoke is 404" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/del.json" 'd["revoked"]')" = true ] && [ "$code2" = 401 ] && [ "$code3" = 404 ]; echo $?)" \
	"statuses $code $code2 $code3: $(cat "$WORK/del.json")"

# --- the page --------------------------------------------------------------------

export CHROMIUM
timeout 240 node "$NODE_TESTDIR/integration/admin.mjs" "$BASE" "$ADM" "$UPT" "$REPO" "$SHOTS" \
	>"$WORK/obs.json" 2>"$WORK/obs.err"
st=$?
result "the browser drove the admin view to the end" "$([ "$st" = 0 ]; echo $?)" \
	"node exit $st" "$(tail -c 2000 "$WORK/obs.err")"
obs() { jpy "$WORK/obs.json" "$1" 2>/dev/null; }
result "without a token the view refuses in words (401), with an upload token too (403); no forms shown" \
	"$(has "$(obs 'd["noToken"]["text"]')" '^Refused: 401 .*admin token' &&
		has "$(obs 'd["upToken"]["text"]')" '^Refused: 403 .*has scope upload' &&
		[ "$(obs '[d["noToken"]["body"], d["upToken"]["body"]]')" = '[false, false]' ]; echo $?)" \
	"$(obs 'd["noToken"]') $(obs 'd["upToken"]')"
result "with the admin token the view lists the tokens (name, scope, state)" \
	"$([ "$(obs '[[r[0], r[1], r[5]] for r in d["tokens"]]')" = '[["ci", "upload", "revoked"], ["root", "admin", "live"], ["up", "upload", "live"]]' ]; echo $?)" \
	"$(obs 'd["tokens"]')"
NEW=$(obs 'd["newToken"]["token"]')
result "adding a token shows it once, with a copy button and the warning; the list has it with its bounds" \
	"$([[ $NEW =~ $re ]] && has "$(obs 'd["newToken"]["warning"]')" 'will not be shown again' &&
		[ "$(obs 'd["newToken"]["copyButton"]')" = true ] &&
		[ "$(obs '[r[:4] + [r[5]] for r in d["tokensAfterAdd"] if r[0] == "web1"]')" = '[["web1", "upload", "ruv/ruvltra", "ruvltra-*.gguf README.md", "live"]]' ]; echo $?)" \
	"$(obs 'd["newToken"]["warning"]') $(obs 'd["tokensAfterAdd"]')"
result "the token shown works (whoami 200); the same name again is refused in the page (409), no token shown" \
	"$([ "$(obs 'd["whoamiNew"]')" = 200 ] && has "$(obs 'd["duplicate"]["result"]')" '^refused: 409' &&
		[ "$(obs 'd["duplicate"]["shown"]')" = false ]; echo $?)" "$(obs 'd["whoamiNew"]') $(obs 'd["duplicate"]')"
code=$(api whoweb GET /api/whoami-v2 "$NEW")
result "a revoke asks first, then the token is revoked in the list and refused (401, page and curl)" \
	"$(has "$(obs 'd["confirm"]')" 'Revoke web1?' && [ "$(obs 'd["whoamiRevoked"]')" = 401 ] && [ "$code" = 401 ] &&
		[ "$(obs '[r[5] for r in d["tokensAfterRevoke"] if r[0] == "web1"]')" = '["revoked"]' ]; echo $?)" \
	"confirm $(obs 'd["confirm"]'); whoami $(obs 'd["whoamiRevoked"]') / curl $code; $(obs 'd["tokensAfterRevoke"]')"
gcurl -o "$WORK/files.json" "$BASE/api/ggufd/files?repo=$REPO"
result "the pull started in the page reaches done (2 of 2 files, all bytes, the bar full), the GGUFs here and pinned" \
	"$(has "$(obs 'd["pull"]["text"]')" '^job 1 done: 2 / 2 files, .* (2 fetched, 0 already here, 0 failed)' &&
		[ "$(obs 'd["pull"]["cls"]')" = "done" ] && [ "$(obs 'd["pull"]["value"] == d["pull"]["max"] > 1')" = true ] &&
		[ "$(jpy "$WORK/files.json" 'sorted([f["path"], f["present"], f.get("pinned")] for f in d["files"] if f["path"].endswith(".gguf"))')" = \
			'[["ruvltra-0.5b-q4_k_m.gguf", true, true], ["ruvltra-0.5b-q8_0.gguf", true, true]]' ]; echo $?)" \
	"$(obs 'd["pull"]')" "$(head -c 1500 "$WORK/files.json")"
result "the admin view links to #pulls, which lists the job done; its Pins list has the two GGUFs pinned" \
	"$([ "$(obs 'd["pullsUrl"].endswith("#pulls")')" = true ] &&
		[ "$(obs '[[r[0], r[1], r[3]] for r in d["pulls"]]')" = '[["1", "ruv/ruvltra@main", "done"]]' ] &&
		[ "$(obs 'sorted([r[2], r[3]] for r in d["pins"])')" = '[["here", "ruv/ruvltra@main/ruvltra-0.5b-q4_k_m.gguf"], ["here", "ruv/ruvltra@main/ruvltra-0.5b-q8_0.gguf"]]' ]; echo $?)" \
	"$(obs 'd["pullsUrl"]') $(obs 'd["pulls"]') $(obs 'd["pins"]')"
result "the token was never stored: after a reload the field is empty and the view refuses; no storage, no cookie" \
	"$([ "$(obs 'd["afterReload"]["token"]')" = "" ] && has "$(obs 'd["afterReload"]["text"]')" '^Refused: 401' &&
		[ "$(obs 'd["storage"]')" = '{"local": 0, "session": 0, "cookie": ""}' ]; echo $?)" \
	"$(obs 'd["afterReload"]') $(obs 'd["storage"]')"
png=0
for v in store activity uploads upload pulls audit admin admin-refused; do
	[ "$(head -c 4 "$SHOTS/$v.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e47 ] && png=$((png + 1))
done
result "screenshots of every view are in tests/artifacts/admin/" "$([ "$png" = 8 ]; echo $?)" \
	"$png of 8 PNGs: $(ls -l "$SHOTS" 2>&1)"
result "no script error and no CSP violation in the page (refusals the page asked for aside)" \
	"$([ "$(obs 'd["errors"]')" = "[]" ] &&
		[ "$(obs '[c for c in d["console"] if not __import__("re").search("status of (401|403|409)", c)]')" = "[]" ]; echo $?)" \
	"errors $(obs 'd["errors"]') console $(obs 'd["console"]')"

stop_ggufd
stop_fakehub
"$GGUFD" audit --store "$S" >"$WORK/audit.out" 2>&1
acts=$(python3 -c '
import json, sys
print(json.dumps([[r["act"], r.get("name"), r.get("by", ""), r.get("client", "")] for r in map(json.loads, open(sys.argv[1])) if r["act"].startswith("token-")]))' "$WORK/audit.out")
result "the audit log records every add and revoke: by whom, from where, the token's name" \
	"$([ "$acts" = '[["token-add", "root", "", "cli"], ["token-add", "up", "", "cli"], ["token-add", "ci", "root", "127.0.0.1"], ["token-revoke", "ci", "root", "127.0.0.1"], ["token-add", "web1", "root", "127.0.0.1"], ["token-revoke", "web1", "root", "127.0.0.1"]]' ]; echo $?)" \
	"$acts" "$(head -c 3000 "$WORK/audit.out")"
leaks=
for t in "$ADM" "$UPT" "$CI" "$NEW"; do
	[ -n "$t" ] || continue
	grep -qF -- "$t" "$WORK/audit.out" "$GGUFD_LOG" "$GGUFD_LOG.out" "$WORK/token.err" && leaks="$leaks ${t:0:8}..."
done
result "no token value is in the audit log, the server's log or the CLI's messages" \
	"$([ -z "$leaks" ] && [ -n "$CI" ] && [ -n "$NEW" ] && [ -s "$GGUFD_LOG" ]; echo $?)" "leaked:$leaks"
finish
