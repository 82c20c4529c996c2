#!/usr/bin/env bash
# dashboard.sh: the dashboard in a real browser (Debian's chromium driven by
# playwright-core, pinned in tests/package-lock.json).
#
# A local registry (ggufd serve --upstream none) holds ruv/ruvltra with a
# few files, one of them in a sub-folder.  The page lists the repo; a click
# opens the repo's own view (its address in the URL) with every file; the
# search narrows the list; a file's link downloads it through ggufd; a
# reload keeps the view; the uploads view without a token says why; and the
# page raises no script error and no CSP violation.  Skipped, visibly,
# where chromium is not installed (./setup.sh test installs it).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "1..0 # SKIP $CHROMIUM is not installed (apt-get install chromium; ./setup.sh test does)"
	exit 0
fi
if [ ! -d "$NODE_TESTDIR/node_modules/playwright-core" ]; then
	echo "1..0 # SKIP playwright-core is not installed (npm ci --prefix tests)"
	exit 0
fi

plan 10

mkgguf "$WORK/q4.gguf" --size 200000 >/dev/null 2>&1
printf '{"model_type": "qwen2"}\n' >"$WORK/config.json"
printf '# ruvltra\n' >"$WORK/README.md"
"$GGUFD" import --store "$WORK/store" ruv/ruvltra "$WORK/q4.gguf=ruvltra-0.5b-q4_k_m.gguf" \
	"$WORK/config.json" "$WORK/README.md=docs/README.md" >"$WORK/import.out" 2>&1
if ! start_ggufd "$WORK/store" --upstream none; then
	not_ok "ggufd started"
	finish
	exit
fi
ok "ggufd started"

export CHROMIUM
timeout 120 node "$NODE_TESTDIR/integration/dashboard.mjs" "$BASE" ruv/ruvltra 3 .gguf \
	>"$WORK/obs.json" 2>"$WORK/obs.err"
st=$?
result "the browser drove the page to the end" "$([ "$st" = 0 ]; echo $?)" \
	"node exit $st" "$(tail -c 2000 "$WORK/obs.err")"
obs() { jpy "$WORK/obs.json" "$1" 2>/dev/null; }
result "the store view lists ruv/ruvltra and the endpoint to use" \
	"$([ "$(obs 'd["repos"]')" = '["ruv/ruvltra"]' ] && [ "$(obs 'd["endpoint"]')" = "$BASE" ]; echo $?)" \
	"$(head -c 1500 "$WORK/obs.json")"
result "a click opens the repo's own view (#store/ruv/ruvltra) with its 3 files and the client lines" \
	"$([ "$(obs 'd["url"].endswith("#store/ruv/ruvltra")')" = true ] &&
		[ "$(obs 'sorted(d["files"])')" = '["config.json", "docs/README.md", "ruvltra-0.5b-q4_k_m.gguf"]' ] &&
		[ "$(obs '"HF_ENDPOINT=" + d["url"].split("/#")[0] in d["howto"] and "ruv/ruvltra" in d["howto"]')" = true ]; echo $?)" \
	"$(head -c 1500 "$WORK/obs.json")"
result "the search narrows the list to the matching file, whose row shows its GGUF summary" \
	"$([ "$(obs 'd["filtered"]')" = '["ruvltra-0.5b-q4_k_m.gguf"]' ] &&
		obs 'd["ggufCell"]' | grep -q 'Q4_K_M.*tensors'; echo $?)" "$(obs 'd["filtered"]') $(obs 'd["ggufCell"]')"
result "the file's link downloads it through ggufd, byte count exact" \
	"$([ "$(obs 'd["download"]["status"]')" = 200 ] &&
		[ "$(obs 'd["download"]["bytes"]')" = "$(file_size "$WORK/q4.gguf")" ]; echo $?)" "$(obs 'd["download"]')"
result "a reload keeps the repo's view; the uploads view without a token says why" \
	"$([ "$(obs 'd["reloaded"]')" = true ] && obs 'd["uploadsError"]' | grep -q '401'; echo $?)" \
	"$(obs 'd["uploadsError"]')"
result "the activity view shows the totals (the download counted from the store) and no fetch in flight" \
	"$(obs 'd["totals"]' | grep -q 'from the store' && ! obs 'd["totals"]' | grep -q '^0 B served' &&
		[ "$(obs 'd["fetchRows"]')" = '["nothing in flight"]' ]; echo $?)" \
	"$(obs 'd["totals"]') $(obs 'd["fetchRows"]')"
result "the audit view lists the gateway's acts (none yet here)" \
	"$([ "$(obs 'd["auditRows"]')" = '["no acts yet"]' ]; echo $?)" "$(obs 'd["auditRows"]')"
result "no script error and no CSP violation in the page" \
	"$([ "$(obs 'd["errors"]')" = "[]" ] &&
		[ "$(obs '[c for c in d["console"] if "401" not in c]')" = "[]" ]; echo $?)" \
	"errors $(obs 'd["errors"]') console $(obs 'd["console"]')"
stop_ggufd
finish
