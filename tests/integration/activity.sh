#!/usr/bin/env bash
# activity.sh: the dashboard's Activity view while a cold fetch runs, in a
# real browser (Debian's chromium driven by playwright-core).
#
# The fake Hub serves an 8 MB GGUF file at about 1 MB/s; a curl starts the
# cold fetch through ggufd while the page shows #activity: its progress bar
# for that fetch moves (several values, rising, below the size while in
# flight), the row names the file, the totals count the bytes, the page
# raises no script error, and a screenshot is kept in
# tests/artifacts/activity/.  The download itself ends byte-exact.
# Skipped, visibly, where chromium is not installed (./setup.sh test
# installs it).

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

plan 7

REPOS=$WORK/repos
SHOTS=$TOP_BUILDDIR/tests/artifacts/activity
mkdir -p "$REPOS" "$SHOTS"
mkgguf "$WORK/big.gguf" --size 8M >/dev/null 2>&1
C=$(fakehub mkrepo --repos "$REPOS" --repo ruv/ruvltra --commit auto --ref main \
	"$WORK/big.gguf=ruvltra-3b-q4_k_m.gguf" 2>/dev/null | tail -n 1)
if [ ${#C} != 40 ] || ! start_fakehub "$REPOS" || ! start_ggufd "$WORK/store" --upstream "$HUB"; then
	not_ok "fake Hub and ggufd started" "mkrepo: '$C'"
	finish
	exit
fi
ok "fake Hub and ggufd started"
fake_fault '{"throttle_bps": 1000000, "count": -1}'

# The page first (it polls every 2 s), then the cold download.
timeout 120 node "$NODE_TESTDIR/integration/activity.mjs" "$BASE" "$SHOTS" \
	>"$WORK/page.json" 2>"$WORK/page.err" &
PAGE=$!
sleep 1
gcurl -o "$WORK/dl.gguf" "$BASE/ruv/ruvltra/resolve/main/ruvltra-3b-q4_k_m.gguf" 2>"$WORK/dl.err"
st=$?
result "the cold download through ggufd ends byte-exact" \
	"$([ "$st" = 0 ] && cmp -s "$WORK/dl.gguf" "$WORK/big.gguf"; echo $?)" "curl $st: $(cat "$WORK/dl.err")"
wait "$PAGE"
j() { jpy "$WORK/page.json" "$1"; }
result "the page ran without script errors or console errors" \
	"$([ "$(j 'len(d["errors"]) + len(d["console"])')" = 0 ]; echo $?)" \
	"$(cat "$WORK/page.json" "$WORK/page.err")"
result "the fetch's progress bar moved: at least two values, rising" \
	"$([ "$(j 'int(len(d["samples"]) >= 2 and all(a["value"] < b["value"] for a, b in zip(d["samples"], d["samples"][1:])))')" = 1 ]; echo $?)" \
	"$(j 'd["samples"]')"
result "while in flight the bar was below the file's size, which is its max" \
	"$([ "$(j 'int(any(0 < s["value"] < s["max"] == 8388608 for s in d["samples"]))')" = 1 ]; echo $?)" \
	"$(j 'd["samples"]')"
result "the row names the file being fetched" \
	"$([ "$(j 'int(all("ruvltra-3b-q4_k_m.gguf" in s["text"] for s in d["samples"]))')" = 1 ]; echo $?)" \
	"$(j 'd["samples"]')"
result "a screenshot of the view is kept in tests/artifacts/activity/" \
	"$([ -s "$SHOTS/activity.png" ]; echo $?)" "$(ls -la "$SHOTS")"
finish
