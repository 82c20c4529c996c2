#!/usr/bin/env bash
# webupload.sh: the dashboard's upload form (#upload) in a real browser
# (Debian's chromium driven by playwright-core), in front of the fake Hub.
#
# The form PUTs the file to the plain upload route with the token typed in
# the page, so every gateway rule applies the same way as through the Hub
# protocol: a new GGUF is published (upstream has its commit, ggufd serves
# it byte-exact); replacing it with other bytes on main is refused (409,
# the message shown in the page) and so is a card without front matter
# (422); an admin replaces it only when it ticks "replace" (X-Ggufd-Overwrite);
# the audit log names the refusals with their rules; nothing refused went
# upstream.  Skipped, visibly, where chromium is not installed.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

need_browser

plan 9

REPO=ruv/ruvltra
NAME=ruvltra-0.5b-q4_k_m.gguf
S=$WORK/store
REPOS=$WORK/repos
UP=hf_up$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$REPOS"
mkgguf "$WORK/a.gguf" --size 150000 --seed 3 >"$WORK/mk.log" 2>&1
mkgguf "$WORK/b.gguf" --size 160000 --seed 4 >>"$WORK/mk.log" 2>&1
printf '# no front matter\n' >"$WORK/bad-README.md"
printf '{"model_type": "qwen2"}\n' >"$WORK/config.json"
fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main "$WORK/config.json" \
	>>"$WORK/mk.log" 2>&1
TOK=$("$GGUFD" token add web --scope upload --store "$S" 2>>"$WORK/token.err")
ADM=$("$GGUFD" token add root --scope admin --store "$S" 2>>"$WORK/token.err")
if [ -z "$TOK" ] || [ -z "$ADM" ] || ! start_fakehub "$REPOS" --token "$UP" ||
	! HF_TOKEN=$UP start_ggufd "$S" --upstream "$HUB"; then
	not_ok "tokens made, fake Hub and ggufd started" "$(cat "$WORK/mk.log" "$WORK/token.err")"
	finish
	exit
fi
ok "tokens made, fake Hub and ggufd started"

export CHROMIUM
timeout 180 node "$NODE_TESTDIR/integration/webupload.mjs" "$BASE" "$TOK" "$ADM" \
	"$WORK/a.gguf" "$WORK/b.gguf" "$WORK/bad-README.md" >"$WORK/obs.json" 2>"$WORK/obs.err"
st=$?
result "the browser drove the upload form to the end" "$([ "$st" = 0 ]; echo $?)" \
	"node exit $st" "$(tail -c 2000 "$WORK/obs.err")"
obs() { jpy "$WORK/obs.json" "$1" 2>/dev/null; }
fake_stats "$WORK/st.json"
result "without a token the page asks for one and sends nothing" \
	"$([ "$(obs 'd["visible"]')" = true ] && obs 'd["noToken"]["error"]' | grep -q 'needs a ggufd token' &&
		[ "$(obs 'd["noToken"]["text"]')" = "" ]; echo $?)" "$(obs 'd["noToken"]')"
gcurl -o "$WORK/dl.gguf" "$BASE/$REPO/resolve/main/$NAME" >/dev/null
first_commit=$(obs 'd["first"]["text"]' | sed -n 's/.*commit \([0-9a-f]\{40\}\).*/\1/p')
result "an upload token publishes the GGUF from the page: the page names the commit upstream made" \
	"$([ "$(obs 'd["first"]["cls"]')" = done ] && [ -n "$first_commit" ] &&
		[ "$(jpy "$WORK/st.json" "[c['summary'] for c in d['commits'] if c['commitOid'] == '$first_commit' and '$NAME' in c.get('lfsPaths', [])]")" = '["from the web page"]' ]; echo $?)" \
	"$(obs 'd["first"]')" "$(jpy "$WORK/st.json" 'd["commits"]')"
result "replacing it with other bytes on main is refused in the page (409, the immutability rule)" \
	"$([ "$(obs 'd["overwrite"]["cls"]')" = refused ] &&
		obs 'd["overwrite"]["text"]' | grep -q '^refused: 409 .*immutable'; echo $?)" "$(obs 'd["overwrite"]')"
result "a model card without front matter is refused in the page (422 naming license and tags)" \
	"$(obs 'd["badCard"]["text"]' | grep -qE '^refused: 422 .*license.*tags'; echo $?)" "$(obs 'd["badCard"]')"
result "an admin is refused too until it ticks replace (409 naming X-Ggufd-Overwrite), then replaces it" \
	"$(obs 'd["adminNoAsk"]["text"]' | grep -q '409.*X-Ggufd-Overwrite: yes' &&
		[ "$(obs 'd["adminAsk"]["cls"]')" = done ] && cmp -s "$WORK/dl.gguf" "$WORK/b.gguf"; echo $?)" \
	"$(obs 'd["adminNoAsk"]') $(obs 'd["adminAsk"]')"
gcurl -H "Authorization: Bearer $ADM" -o "$WORK/audit.json" "$BASE/api/ggufd/audit" >/dev/null
result "upstream got two commits of the file, no README; the audit log names each refusal's rule" \
	"$([ "$(jpy "$WORK/st.json" "sum(1 for c in d['commits'] if '$NAME' in c.get('lfsPaths', []))")" = 2 ] &&
		[ "$(jpy "$WORK/st.json" "sum(1 for c in d['commits'] if 'README.md' in c.get('files', []) + c.get('lfsPaths', []))")" = 0 ] &&
		[ "$(jpy "$WORK/audit.json" "sorted(set(a.get('rule', '') for a in d if a['decision'] == 'refused'))")" = \
			'["published model files are immutable", "upload policy"]' ]; echo $?)" \
	"$(jpy "$WORK/st.json" 'd["commits"]')" "$(head -c 3000 "$WORK/audit.json")"
result "no script error and no CSP violation in the page" \
	"$([ "$(obs 'd["errors"]')" = "[]" ] &&
		[ "$(obs '[c for c in d["console"] if "409" not in c and "422" not in c]')" = "[]" ]; echo $?)" \
	"errors $(obs 'd["errors"]') console $(obs 'd["console"]')"
stop_ggufd
stop_fakehub
finish
