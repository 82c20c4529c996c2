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
# ggufd_upstream_up.  Screenshots of each state.
#
# Then ggufd again with two tiers, the first a dead port (its URL with a
# user:password, which must never be shown), the fake Hub second, and two
# peers: itself (--self) and a dead port that owns the file (rendezvous
# weight computed here in Python as peers.h says).  A cold download fails
# over twice and ends byte-exact; the activity API says the first tier
# down (failed over, its error), the second up and the origin, this node
# marked self among the peers and the dead peer down; the page shows both
# tables in words and icons (up/down, "this node", "origin") with the
# since time on hover and a screenshot (nodes.png).  Skipped, visibly,
# where chromium is not installed (./setup.sh test installs it).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

need_browser

plan 27

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

# --- tiers and peers -----------------------------------------------------------
fake_clear
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# weight KEY URL: peers.h's rendezvous weight, as a decimal number.
weight() {
	python3 -c 'import hashlib, sys; print(int.from_bytes(hashlib.sha256((sys.argv[1] + sys.argv[2]).encode()).digest()[:8], "big"))' "$1" "$2"
}
KEY=$(sha256_of "$WORK/big.gguf")
DEAD_TIER=127.0.0.1:$(free_port)
# Two free addresses: of the two, the one that outranks the other for the
# file is the dead peer (asked first), the other this node.  (Picking this
# node first and then looking for an address above it failed when this
# node's weight happened to be near the top.)
SELF= DEAD_PEER=
for ((i = 0; i < 16; i++)); do
	a=http://127.0.0.1:$(free_port) b=http://127.0.0.1:$(free_port)
	[ "$a" = "$b" ] && continue
	if python3 -c 'import sys; sys.exit(int(sys.argv[1]) <= int(sys.argv[2]))' \
		"$(weight "$KEY" "$a")" "$(weight "$KEY" "$b")"; then
		DEAD_PEER=$a SELF=$b
	else
		DEAD_PEER=$b SELF=$a
	fi
	break
done
if [ -n "$DEAD_PEER" ] && HF_TOKEN=$SECRET start_ggufd "$WORK/store2" --listen "${SELF#http://}" \
	--upstream "http://ops:tierpass0123@$DEAD_TIER" --upstream "$HUB" \
	--peer "$SELF" --peer "$DEAD_PEER" --self "$SELF"; then
	ok "ggufd with two tiers (the first a dead port) and two peers (itself, a dead one owning the file)"
else
	not_ok "ggufd with two tiers (the first a dead port) and two peers (itself, a dead one owning the file)" \
		"dead peer '$DEAD_PEER'"
fi
gcurl -o "$WORK/dl3.gguf" "$BASE/ruv/ruvltra/resolve/main/ruvltra-3b-q4_k_m.gguf" 2>"$WORK/dl3.err"
st=$?
result "a cold download fails over (the dead peer, the dead tier) and ends byte-exact" \
	"$([ "$st" = 0 ] && cmp -s "$WORK/dl3.gguf" "$WORK/big.gguf"; echo $?)" "curl $st: $(cat "$WORK/dl3.err")"
gcurl -o "$WORK/act3.json" "$BASE/api/ggufd/activity"
n() { jpy "$WORK/act3.json" "$1"; }
result "the activity API: tier 1 down (failed over, its error, no user:password), tier 2 up and the origin" \
	"$([ "$(n '[t["url"] for t in d["upstream"]["tiers"]]')" = "[\"http://$DEAD_TIER\", \"$HUB\"]" ] &&
		[ "$(n '[[t["up"], t["origin"]] for t in d["upstream"]["tiers"]]')" = '[[false, false], [true, true]]' ] &&
		[ "$(n 'd["upstream"]["tiers"][0]["failovers"] >= 1 and d["upstream"]["tiers"][0]["failures"] >= 1')" = true ] &&
		[ "$(n 'd["upstream"]["tiers"][0]["lastError"] != "" and d["upstream"]["tiers"][0]["since"] > 0')" = true ] &&
		[ "$(n 'all(isinstance(t["retryIn"], (int, float)) and t["retryIn"] >= 0 for t in d["upstream"]["tiers"])')" = true ] &&
		[ "$(n 'd["upstream"]["tiers"][1]["failovers"]')" = 0 ]; echo $?)" "$(n 'd["upstream"]')"
result "the activity API: peers in --peer order, this node marked self, the dead owner down and failed over" \
	"$([ "$(n 'd["upstream"]["self"]')" = "$SELF" ] &&
		[ "$(n '[[p["url"], p["self"], p["up"]] for p in d["upstream"]["peers"]]')" = "[[\"$SELF\", true, true], [\"$DEAD_PEER\", false, false]]" ] &&
		[ "$(n 'd["upstream"]["peers"][1]["failovers"] >= 1')" = true ]; echo $?)" "$(n 'd["upstream"]')"
timeout 120 node "$NODE_TESTDIR/integration/activity.mjs" "$BASE" "$SHOTS" nodes nodes \
	>"$WORK/nodes.json" 2>"$WORK/nodes.err"
p() { jpy "$WORK/nodes.json" "$1"; }
result "the page: both tiers in order at the top, 1 of 2 down; tier 1 by its URL, down in words and icon, since (date on hover), when it is probed next; tier 2 up, the origin" \
	"$([ "$(p 'len(d["tiers"])')" = 2 ] &&
		[ "$(p 'd["upstream"]')" = "http://$DEAD_TIER → $HUB" ] &&
		p 'd["state"]' | grep -qF '(1 of 2 tiers down: see Upstream tiers below)' &&
		p 'd["tiers"][0]["cells"]' | grep -qF "\"http://$DEAD_TIER\", \"\u2717 down\"" &&
		[ "$(p '[d["tiers"][0]["stateClass"], d["tiers"][0]["cls"]]')" = '["bad", "down"]' ] &&
		p 'd["tiers"][0]["sinceTitle"]' | grep -Eq '^20[0-9]{2}-' &&
		p 'd["tiers"][0]["cells"][5]' | grep -Eq '^(in [0-9]+ s|with the next request that needs it)$' &&
		[ "$(p 'd["tiers"][0]["cells"][4]')" -ge 1 ] &&
		p 'd["tiers"][1]["cells"]' | grep -qF "\"${HUB}origin (gets the token)\", \"\u2713 up\"" &&
		[ "$(p 'd["tiers"][1]["stateClass"]')" = ok ]; echo $?)" "$(p '[d["upstream"], d["state"], d["tiers"]]') $(cat "$WORK/nodes.err")"
result "the page: the peers, this node marked (\"this node\", \"self\"), the dead one down" \
	"$([ "$(p 'd["peersShown"]')" = true ] && [ "$(p 'len(d["peers"])')" = 2 ] &&
		p 'd["peers"][0]["cells"]' | grep -qF "\"${SELF}self\", \"\u25cf this node\"" &&
		[ "$(p 'd["peers"][0]["cls"]')" = self ] &&
		p 'd["peers"][1]["cells"]' | grep -qF "\"$DEAD_PEER\", \"\u2717 down\"" &&
		[ "$(p 'd["peers"][1]["stateClass"]')" = bad ]; echo $?)" "$(p 'd["peers"]')"
result "no script error, no token or tier password in the page, the API or the log, a screenshot (nodes.png)" \
	"$([ "$(p 'len(d["errors"]) + len(d["console"])')" = 0 ] && [ -s "$SHOTS/nodes.png" ] &&
		! grep -q -e "$SECRET" -e tierpass0123 "$WORK/nodes.json" "$WORK/act3.json" "$GGUFD_LOG"; echo $?)" \
	"$(p '[d["errors"], d["console"]]') $(cat "$WORK/nodes.err")"
finish
