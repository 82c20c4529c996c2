#!/usr/bin/env bash
# activity.sh: the dashboard's Activity view, in a real browser (Debian's
# chromium driven by playwright-core), in front of the fake Hub.
#
# A cold fetch: the fake Hub serves an 8 MB GGUF file at about 1 MB/s; a
# curl starts the fetch through ggufd while the page shows #activity: its
# progress bar for that fetch moves (several values, rising, below the size
# while in flight), the row names the file, the page raises no script
# error, and a screenshot is kept in tests/artifacts/activity/.  The
# download itself ends byte-exact.
#
# Then the rest of the view, against what ggufd's API says: a second
# download (a hit), and the fake Hub answering 429 twice (Retry-After 1)
# before a HEAD gets through: the page shows requests per second, the hit
# ratio (1 hit, 1 miss), the last hour as a chart (an svg with bars and
# upstream points), upstream reachable, the two 429s with their
# Retry-After and the last error.  A 503 from the API mirror leaves a last
# error without the query string or the token, and the fake Hub going down
# makes the page say unreachable; /metrics has the 429s and
# ggufd_upstream_up.  Screenshots of each state.  Skipped, visibly, where
# chromium is not installed (./setup.sh test installs it).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

need_browser

plan 20

REPOS=$WORK/repos
SHOTS=$TOP_BUILDDIR/tests/artifacts/activity
mkdir -p "$REPOS" "$SHOTS"
mkgguf "$WORK/big.gguf" --size 8M >/dev/null 2>&1
printf '# ruvltra\n' >"$WORK/README.md"
printf '{"model_type": "qwen2"}\n' >"$WORK/config.json"
C=$(fakehub mkrepo --repos "$REPOS" --repo ruv/ruvltra --commit auto --ref main \
	"$WORK/big.gguf=ruvltra-3b-q4_k_m.gguf" "$WORK/README.md" "$WORK/config.json" 2>/dev/null | tail -n 1)
# A Hub token for ggufd to hold: it must never reach the page.
SECRET=hf_activitytestsecret0123456789
if [ ${#C} != 40 ] || ! start_fakehub "$REPOS" ||
	! HF_TOKEN=$SECRET start_ggufd "$WORK/store" --upstream "$HUB"; then
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

# --- rates, hit ratio, the last hour, upstream health ----------------------
fake_clear
gcurl -o "$WORK/dl2.gguf" "$BASE/ruv/ruvltra/resolve/main/ruvltra-3b-q4_k_m.gguf" 2>"$WORK/dl2.err"
# Two 429s (Retry-After: 1) before the HEAD of a file ggufd has not seen
# gets through: ggufd waits them out, as a client waits for it.
fake_fault '{"status": 429, "retry_after": 1, "count": 2}'
code=$(gcurl -I -o /dev/null -w '%{http_code}' "$BASE/ruv/ruvltra/resolve/main/README.md")
result "a second download (a hit) and a HEAD that got through two 429s" \
	"$(cmp -s "$WORK/dl2.gguf" "$WORK/big.gguf" && [ "$code" = 200 ]; echo $?)" "HEAD $code $(cat "$WORK/dl2.err")"
gcurl -o "$WORK/act1.json" "$BASE/api/ggufd/activity"
a() { jpy "$WORK/act1.json" "$1"; }
result "the activity API: 1 hit, 1 miss, upstream reachable, 2 429s (Retry-After 1), an hour's history of the bytes" \
	"$([ "$(a '[d["totals"]["hits"], d["totals"]["misses"]]')" = '[1, 1]' ] &&
		[ "$(a '[d["upstream"]["reachable"], d["upstream"]["tooMany"], d["upstream"]["retryAfter"]]')" = '[true, 2, 1]' ] &&
		[ "$(a 'd["upstream"]["base"] == "'"$HUB"'" and "429" in d["upstream"]["lastError"] and d["upstream"]["lastErrorAt"] > 0')" = true ] &&
		[ "$(a 'sum(m["servedStore"] for m in d["history"]) == sum(m["servedFetch"] for m in d["history"]) == 8388608')" = true ] &&
		[ "$(a 'sum(m["upstreamBytes"] for m in d["history"]) >= 8388608 and 1 <= len(d["history"]) <= 60')" = true ] &&
		[ "$(a 'all(m["t"] % 60 == 0 for m in d["history"])')" = true ]; echo $?)" "$(cat "$WORK/act1.json")"

timeout 120 node "$NODE_TESTDIR/integration/activity.mjs" "$BASE" "$SHOTS" health health \
	>"$WORK/health.json" 2>"$WORK/health.err"
h() { jpy "$WORK/health.json" "$1"; }
result "the page ran without script errors or console errors (health)" \
	"$([ "$(h 'len(d["errors"]) + len(d["console"])')" = 0 ]; echo $?)" \
	"$(cat "$WORK/health.json" "$WORK/health.err")"
result "requests per second and the hit ratio of the last hour (1 hit, 1 miss)" \
	"$(h 'd["rates"]' | grep -Eq 'Now: [0-9]+\.[0-9] req/s' &&
		h 'd["hour"]' | grep -q 'hit ratio 50% (1 hit, 1 miss)' &&
		h 'd["totals"]' | grep -q 'hit ratio 50% (1 hit, 1 miss)'; echo $?)" \
	"rates: $(h 'd["rates"]') hour: $(h 'd["hour"]') totals: $(h 'd["totals"]')"
result "bytes from the store vs from upstream, as numbers: 8.4 MB each way" \
	"$(h 'd["hour"]' | grep -q '16.8 MB served, 8.4 MB pulled from upstream (50% saved)'; echo $?)" "$(h 'd["hour"]')"
result "the last hour as a chart: an svg with store and fetch bars and upstream points, laid out" \
	"$([ "$(h 'd["chart"]["tag"] == "svg" and d["chart"]["storeBars"] >= 1 and d["chart"]["fetchBars"] >= 1 and d["chart"]["points"] >= 1 and d["chart"]["line"] is not None')" = true ] &&
		[ "$(h 'd["chart"]["width"] > 300 and d["chart"]["height"] > 50')" = true ] &&
		[ "$(h 'any("from the store" in t and "from upstream" in t for t in d["chart"]["tips"])')" = true ]; echo $?)" \
	"$(h 'd["chart"]')"
result "upstream reachable, since a time shown with its date on hover" \
	"$(h 'd["state"]' | grep -q 'reachable since' && ! h 'd["state"]' | grep -q unreachable &&
		[ "$(h 'd["stateClass"]')" = ok ] && h 'd["stateTitle"]' | grep -Eq '^20[0-9]{2}-' &&
		[ "$(h 'd["upstream"]')" = "$HUB" ]; echo $?)" "$(h '[d["upstream"], d["state"], d["stateClass"], d["stateTitle"]]')"
result "the 429 answers (2, last Retry-After 1 s) and the last error" \
	"$(h 'd["tooMany"]' | grep -q 'answers: 2 (last Retry-After 1 s)' &&
		h 'd["lastError"]' | grep -q 'Last error: HEAD .*README.md: 429 Too Many Requests (Retry-After 1 s)'; echo $?)" \
	"$(h '[d["tooMany"], d["lastError"]]')"

# A 503 from the API mirror (a URL with a query string), then the fake Hub down.
fake_fault '{"status": 503, "match": "/tree/", "count": 5, "message": "overloaded"}'
code=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/api/models/ruv/ruvltra/tree/main?recursive=true&expand=true")
gcurl -o "$WORK/act2.json" "$BASE/api/ggufd/activity"
result "a 5xx from upstream is the last error: method, URL without its query, status, message; never the token" \
	"$([ "$(jpy "$WORK/act2.json" 'd["upstream"]["lastError"]')" = "GET $HUB/api/models/ruv/ruvltra/tree/main: HTTP 503: overloaded" ] &&
		! grep -q "$SECRET" "$WORK/act2.json"; echo $?)" "code $code $(jpy "$WORK/act2.json" 'd["upstream"]')"
fake_clear
fake_fault '{"down": true, "mode": "close", "host": "hub"}'
code=$(gcurl -I -o /dev/null -w '%{http_code}' "$BASE/ruv/ruvltra/resolve/main/config.json")
gcurl -o "$WORK/metrics" "$BASE/metrics"
result "/metrics: the 429s, and ggufd_upstream_up 0 while the Hub is down" \
	"$(grep -qx 'ggufd_upstream_requests_total{status="429"} 2' "$WORK/metrics" &&
		grep -qx 'ggufd_upstream_up 0' "$WORK/metrics" &&
		grep -qx 'ggufd_upstream_retry_after_seconds 1' "$WORK/metrics"; echo $?)" \
	"HEAD $code; $(grep upstream "$WORK/metrics")"
timeout 120 node "$NODE_TESTDIR/integration/activity.mjs" "$BASE" "$SHOTS" health down \
	>"$WORK/down.json" 2>"$WORK/down.err"
fake_fault '{"down": false}'
g() { jpy "$WORK/down.json" "$1"; }
result "with the Hub down: a 504 to the client, and the page says unreachable, with the error" \
	"$([ "$code" = 504 ] && g 'd["state"]' | grep -q 'unreachable since' && [ "$(g 'd["stateClass"]')" = bad ] &&
		g 'd["lastError"]' | grep -q "HEAD $HUB/ruv/ruvltra/resolve/[0-9a-z]*/config.json: " &&
		g 'd["tooMany"]' | grep -q 'answers: 2'; echo $?)" \
	"HEAD $code $(g '[d["state"], d["lastError"], d["tooMany"], d["errors"], d["console"]]')"
result "no token in the page, the API or the log" \
	"$(! grep -q "$SECRET" "$WORK/health.json" "$WORK/down.json" "$WORK/act1.json" "$GGUFD_LOG"; echo $?)"
result "screenshots of the healthy and the down states are kept" \
	"$([ -s "$SHOTS/health.png" ] && [ -s "$SHOTS/down.png" ]; echo $?)" "$(ls -la "$SHOTS")"
finish
