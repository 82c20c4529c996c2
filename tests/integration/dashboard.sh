#!/usr/bin/env bash
# dashboard.sh: the dashboard in a real browser (Debian's chromium driven by
# playwright-core, pinned in tests/package-lock.json).
#
# A local registry (ggufd serve --upstream none) holds ruv/ruvltra with a
# few files, one of them in a sub-folder, two of them a split GGUF set.
# The page lists the repo; a click opens the repo's own view (its address
# in the URL) with every file, each with lfs, its GGUF summary (and "shard
# 1 of 2" for the split set), hits (2 for the file downloaded twice, as
# the API says) and last access; the client lines with the ollama one
# (the repo's quant as tag); the search narrows the list; a file's link
# downloads it through ggufd; a reload keeps the view; the activity view
# shows req/s, the hit ratio, the bytes and a chart of them; the uploads
# view without a token says why; and the page raises no script error and
# no CSP violation.  Screenshots in tests/artifacts/dashboard/.  Skipped,
# visibly, where chromium is not installed (./setup.sh test installs it).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

need_browser

plan 17

SHOTS=$TOP_BUILDDIR/tests/artifacts/dashboard
mkdir -p "$SHOTS"
mkgguf "$WORK/q4.gguf" --size 200000 >/dev/null 2>&1
mkgguf "$WORK/s1.gguf" --ftype Q8_0 --seed 2 >/dev/null 2>&1
mkgguf "$WORK/s2.gguf" --ftype Q8_0 --seed 3 >/dev/null 2>&1
printf '{"model_type": "qwen2"}\n' >"$WORK/config.json"
printf '# ruvltra\n' >"$WORK/README.md"
"$GGUFD" import --store "$WORK/store" ruv/ruvltra "$WORK/q4.gguf=ruvltra-0.5b-q4_k_m.gguf" \
	"$WORK/config.json" "$WORK/README.md=docs/README.md" \
	"$WORK/s1.gguf=ruvltra-7b-q8_0-00001-of-00002.gguf" \
	"$WORK/s2.gguf=ruvltra-7b-q8_0-00002-of-00002.gguf" >"$WORK/import.out" 2>&1
if ! start_ggufd "$WORK/store" --upstream none; then
	not_ok "ggufd started"
	finish
	exit
fi
ok "ggufd started"

# The q4_k_m file served twice from the store: 2 hits, counted at once.
gcurl -o /dev/null "$BASE/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf" &&
	gcurl -o /dev/null "$BASE/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf"
gcurl -o "$WORK/files.json" "$BASE/api/ggufd/files?repo=ruv/ruvltra"
f() { jpy "$WORK/files.json" "$1" 2>/dev/null; }
result "the files API: hits, lfs and last access of the file served twice; the shards of the split set" \
	"$([ "$(f '[(x["hits"], x["lfs"]) for x in d["files"] if x["path"] == "ruvltra-0.5b-q4_k_m.gguf"]')" = '[[2, true]]' ] &&
		[ "$(f '[x["lfs"] for x in d["files"] if x["path"] == "config.json"]')" = '[false]' ] &&
		[ "$(f 'all(abs(x["lastAccess"] - '"$(date +%s)"') < 120 for x in d["files"])')" = true ] &&
		[ "$(f '[x.get("shard") for x in d["files"]]')" = '[null, null, null, {"index": 1, "count": 2}, {"index": 2, "count": 2}]' ]; echo $?)" \
	"$(cat "$WORK/files.json")"

export CHROMIUM
timeout 120 node "$NODE_TESTDIR/integration/dashboard.mjs" "$BASE" ruv/ruvltra 5 0.5b "$SHOTS" \
	>"$WORK/obs.json" 2>"$WORK/obs.err"
st=$?
result "the browser drove the page to the end" "$([ "$st" = 0 ]; echo $?)" \
	"node exit $st" "$(tail -c 2000 "$WORK/obs.err")"
obs() { jpy "$WORK/obs.json" "$1" 2>/dev/null; }
result "the store view lists ruv/ruvltra and the endpoint to use" \
	"$([ "$(obs 'd["repos"]')" = '["ruv/ruvltra"]' ] && [ "$(obs 'd["endpoint"]')" = "$BASE" ]; echo $?)" \
	"$(head -c 1500 "$WORK/obs.json")"
result "a click opens the repo's own view (#store/ruv/ruvltra) with its 5 files and the client lines" \
	"$([ "$(obs 'd["url"].endswith("#store/ruv/ruvltra")')" = true ] &&
		[ "$(obs 'sorted(d["files"])')" = '["config.json", "docs/README.md", "ruvltra-0.5b-q4_k_m.gguf", "ruvltra-7b-q8_0-00001-of-00002.gguf", "ruvltra-7b-q8_0-00002-of-00002.gguf"]' ] &&
		[ "$(obs '"HF_ENDPOINT=" + d["url"].split("/#")[0] in d["howto"] and "ruv/ruvltra" in d["howto"]')" = true ]; echo $?)" \
	"$(head -c 1500 "$WORK/obs.json")"
HOSTPORT=${BASE#http://}
result "the ollama line: this host, the repo, the quant of its GGUF file as tag, --insecure; every line has a copy button" \
	"$([ "$(obs '[l["code"] for l in d["howtoLines"] if l["code"].startswith("ollama")]')" = "[\"ollama pull $HOSTPORT/ruv/ruvltra:Q4_K_M --insecure\"]" ] &&
		[ "$(obs 'len(d["howtoLines"]) == 4 and all(l["copy"] for l in d["howtoLines"])')" = true ]; echo $?)" \
	"$(obs 'd["howtoLines"]')"
result "the table's columns: lfs, GGUF, hits (updated every 30 s, on hover), last access" \
	"$([ "$(obs 'd["columns"]')" = '["path", "size", "lfs", "GGUF", "hits", "last access", "sha256", "blob", "download"]' ] &&
		obs 'd["hitsHeaderTitle"]' | grep -q 'updated every 30 s'; echo $?)" "$(obs '[d["columns"], d["hitsHeaderTitle"]]')"
row() { obs '[r for r in d["rows"] if r["path"] == "'"$1"'"][0]["'"$2"'"]'; }
result "the file served twice: lfs yes, 2 hits, accessed just now (the full time on hover); config.json: lfs no, 0 hits" \
	"$([ "$(row ruvltra-0.5b-q4_k_m.gguf lfs)" = yes ] && [ "$(row ruvltra-0.5b-q4_k_m.gguf hits)" = 2 ] &&
		row ruvltra-0.5b-q4_k_m.gguf last | grep -Eq '^(just now|[0-9]+ s ago)$' &&
		row ruvltra-0.5b-q4_k_m.gguf lastTitle | grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' &&
		[ "$(row config.json lfs)" = no ] && [ "$(row config.json hits)" = 0 ]; echo $?)" "$(obs 'd["rows"]')"
result "the split set's files say which shard they are (shard 1 of 2, shard 2 of 2) beside their GGUF summary" \
	"$([ "$(row ruvltra-7b-q8_0-00001-of-00002.gguf shard)" = 'shard 1 of 2' ] &&
		[ "$(row ruvltra-7b-q8_0-00002-of-00002.gguf shard)" = 'shard 2 of 2' ] &&
		row ruvltra-7b-q8_0-00001-of-00002.gguf gguf | grep -q 'Q8_0.*tensors' &&
		[ "$(row ruvltra-0.5b-q4_k_m.gguf shard)" = null ]; echo $?)" "$(obs 'd["rows"]')"
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
	"$(obs 'd["totals"]' | grep -q 'from the store' && ! obs 'd["totals"]' | grep -q 'started: 0 B served' &&
		[ "$(obs 'd["fetchRows"]')" = '["nothing in flight"]' ]; echo $?)" \
	"$(obs 'd["totals"]') $(obs 'd["fetchRows"]')"
result "the activity view: req/s, the hit ratio (3 hits, no miss), no upstream, a chart bar of the bytes from the store" \
	"$(obs 'd["rates"]' | grep -Eq '[0-9]+\.[0-9] req/s' &&
		obs 'd["hour"]' | grep -q 'hit ratio 100% (3 hits, 0 misses)' &&
		obs 'd["upstreamState"]' | grep -q 'no upstream' &&
		[ "$(obs 'len(d["chartBars"]) >= 1 and all(h > 0 for h in d["chartBars"])')" = true ]; echo $?)" \
	"$(obs '[d["rates"], d["hour"], d["upstreamState"], d["chartBars"]]')"
result "the audit view lists the gateway's acts (none yet here)" \
	"$([ "$(obs 'd["auditRows"]')" = '["no acts yet"]' ]; echo $?)" "$(obs 'd["auditRows"]')"
result "no script error and no CSP violation in the page" \
	"$([ "$(obs 'd["errors"]')" = "[]" ] &&
		[ "$(obs '[c for c in d["console"] if "401" not in c]')" = "[]" ]; echo $?)" \
	"errors $(obs 'd["errors"]') console $(obs 'd["console"]')"
result "screenshots of the store and activity views are kept in tests/artifacts/dashboard/" \
	"$([ -s "$SHOTS/store.png" ] && [ -s "$SHOTS/activity.png" ]; echo $?)" "$(ls -la "$SHOTS")"
stop_ggufd
finish
