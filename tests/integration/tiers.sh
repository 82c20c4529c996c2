#!/usr/bin/env bash
# tiers.sh: several upstreams in order (--upstream URL, repeatable), with
# failover, back-off and the token kept for the last one.
#
#   client -> C --upstream B --upstream HUB      B --upstream HUB
#
# The fake Hub runs without --token, so it takes any bearer and records
# it: B holds hf_tokenB and C hf_tokenC, and the bearer a hub request
# carries says which node sent it.
#   - B up: C's cold files come through B; the hub never sees C's token;
#   - B killed: C fails over to the hub (byte-exact), with one "is down"
#     log line, the failover counted in /metrics and shown in
#     /api/ggufd/activity; C's token now reaches the hub (C is its origin);
#   - B restarted on its address: after the back-off C uses B again, with
#     one "is back" line, and its cold fetch is B's;
#   - B killed -9 while a slow (throttled) fetch streams through it: C
#     resumes with a Range at the hub and the file ends byte-exact;
#   - a second fake Hub as the first tier of node D: D's token never
#     reaches it, and its 503s send D to the next tier.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 22

REPO=ruv/ruvltra
IN=$WORK/in
DL=$WORK/dl
REPOS=$WORK/repos
mkdir -p "$IN" "$DL" "$REPOS"

if [ ! -x "$GGUFD" ] || [ ! -x "$MKGGUF" ]; then
	not_ok "ggufd and mkgguf binaries exist" "GGUFD=$GGUFD MKGGUF=$MKGGUF"
	finish
	exit
fi

# F1..F4 small, F5 large enough to be cut mid-transfer, F6 and F7 for D.
mkst=0
for i in 1 2 3 4 6 7; do
	mkgguf "$IN/ruvltra-t$i-q4_k_m.gguf" --size $((3000000 + i * 17)) >>"$WORK/mk.log" 2>&1 || mkst=1
done
mkgguf "$IN/ruvltra-t5-q4_k_m.gguf" --size 16000000 >>"$WORK/mk.log" 2>&1 || mkst=1
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto "$IN"/*.gguf 2>>"$WORK/mk.log")
st=$?
result "test files made (mkgguf, fakehub mkrepo)" \
	"$([ "$mkst" = 0 ] && [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]]; echo $?)" \
	"$(tail -c 2000 "$WORK/mk.log")"
f() { echo "ruvltra-t$1-q4_k_m.gguf"; }

start_fakehub "$REPOS" || {
	finish
	exit
}

# A free port for B, so that it comes back at the same URL.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
B_ADDR=127.0.0.1:$(free_port)

start_b() {
	HF_TOKEN=hf_tokenB start_ggufd2 "$WORK/sb" --upstream "$HUB" --listen "$B_ADDR"
}
start_b || {
	finish
	exit
}
B_URL=$BASE2
HF_TOKEN=hf_tokenC start_ggufd "$WORK/sc" --upstream "$B_URL" --upstream "$HUB" --ref-ttl 0 || {
	finish
	exit
}
C_LOG=$GGUFD_LOG

# get N: GET file N through C into $DL/N; 0 if byte-exact.
get() {
	gcurl --max-time 120 -o "$DL/$1" "$BASE/$REPO/resolve/main/$(f "$1")" 2>"$DL/$1.err" &&
		cmp -s "$DL/$1" "$IN/$(f "$1")"
}
# hub_auths N [METHOD]: the distinct Authorization values of hub requests
# (of METHOD, default any) for file N.
hub_auths() {
	fake_stats "$WORK/st.json"
	jpy "$WORK/st.json" "sorted(set(str(r['auth']) for r in reqs if r['host'] == 'hub' and '$(f "$1")' in r['path'] and r['method'] in '${2:-GET HEAD}'.split()))"
}
metric() {
	gcurl --max-time 20 "$BASE/metrics" | grep -E "^$1" | head -1 | awk '{ print $NF }'
}
tier0() { printf 'ggufd_upstream_tier_%s{index="0",url="%s"}' "$1" "$B_URL"; }

# --- B up: through B ------------------------------------------------------------------------

get 1
result "B up: file 1 through C is byte-exact" $? "$(cat "$DL/1.err")"
a=$(hub_auths 1)
result "B up: the hub saw only B's token for file 1 (C asked B, C's token never left C)" \
	"$([ "$a" = '["Bearer hf_tokenB"]' ]; echo $?)" "$a"
result "B up: tier 0 is up in C's /metrics, no failover" \
	"$([ "$(metric "$(tier0 up)")" = 1 ] && [ "$(metric "$(tier0 failovers_total)")" = 0 ]; echo $?)" \
	"$(gcurl "$BASE/metrics" | grep upstream_tier)"

# --- B killed: C fails over to the hub -----------------------------------------------------------

kill -KILL "$GGUFD2_PID" 2>/dev/null
wait "$GGUFD2_PID" 2>/dev/null
GGUFD2_PID=
get 2
result "B killed: file 2 through C is byte-exact (from the hub)" $? "$(cat "$DL/2.err")"
a=$(hub_auths 2)
result "B killed: the hub served file 2 to C, the origin tier, with C's token" \
	"$(grep -q 'Bearer hf_tokenC' <<<"$a" && ! grep -q hf_tokenB <<<"$a"; echo $?)" "$a"
fo=$(metric "$(tier0 failovers_total)")
result "B killed: C's /metrics counts the failover and shows tier 0 down" \
	"$([ "${fo:-0}" -ge 1 ] && [ "$(metric "$(tier0 up)")" = 0 ]; echo $?)" \
	"$(gcurl "$BASE/metrics" | grep upstream_tier)"
gcurl --max-time 20 -o "$WORK/act.json" "$BASE/api/ggufd/activity"
t=$(jpy "$WORK/act.json" "[t['up'] for t in d['upstream']['tiers']]")
result "B killed: /api/ggufd/activity shows the tiers' health (B down, the hub up)" \
	"$([ "$t" = '[false, true]' ]; echo $?)" "$(head -c 1500 "$WORK/act.json")"
get 3
result "B still down: file 3 byte-exact (B skipped)" $? \
	"$(cat "$DL/3.err")"
n=$(grep -c 'upstream tier 0 .* is down' "$C_LOG")
result "C logged B's going down once, not once per request" "$([ "$n" = 1 ]; echo $?)" \
	"$(grep 'upstream tier' "$C_LOG")"

# --- B back: C uses it again after the back-off ------------------------------------------------------

start_b || {
	finish
	exit
}
back=1
for ((i = 0; i < 90; i++)); do
	# HEADs ask upstream every time (--ref-ttl 0): each may be B's probe.
	gcurl --max-time 20 -I -o /dev/null "$BASE/$REPO/resolve/main/$(f 4)"
	if grep -q 'upstream tier 0 .* is back' "$C_LOG"; then
		back=0
		break
	fi
	sleep 1
done
result "B restarted: C probes it after the back-off and logs it back (no restart of C)" "$back" \
	"$(grep 'upstream tier' "$C_LOG")"
get 4
result "B back: file 4 through C is byte-exact" $? "$(cat "$DL/4.err")"
a=$(hub_auths 4 GET)
result "B back: file 4's content came from the hub to B (B's token), not to C (C's HEADs probed B)" \
	"$(grep -q 'Bearer hf_tokenB' <<<"$a" && ! grep -q hf_tokenC <<<"$a"; echo $?)" "$a"
result "B back: tier 0 is up again in C's /metrics" "$([ "$(metric "$(tier0 up)")" = 1 ]; echo $?)" \
	"$(gcurl "$BASE/metrics" | grep upstream_tier)"

# --- B killed -9 mid-transfer: C resumes at the hub --------------------------------------------------

SHA5=$(sha256_of "$IN/$(f 5)")
fake_fault "{\"throttle_bps\": 2000000, \"match\": \"$SHA5\", \"host\": \"cdn\", \"count\": -1}"
gcurl --max-time 120 -o "$DL/5" "$BASE/$REPO/resolve/main/$(f 5)" 2>"$DL/5.err" &
P5=$!
bg_track "$P5"
landed=0
for ((i = 0; i < 200; i++)); do
	gcurl --max-time 5 -o "$WORK/act5.json" "$BASE/api/ggufd/activity" 2>/dev/null
	landed=$(jpy "$WORK/act5.json" "max([x['landed'] for x in d.get('fetches', []) if x['key'] == '$SHA5'] or [0])" 2>/dev/null)
	[ "${landed:-0}" -ge 2000000 ] && break
	sleep 0.1
done
kill -KILL "$GGUFD2_PID" 2>/dev/null
wait "$GGUFD2_PID" 2>/dev/null
GGUFD2_PID=
wait "$P5"
st=$?
cmp -s "$DL/5" "$IN/$(f 5)"
result "B killed -9 mid-transfer ($landed bytes landed at C): file 5 ends byte-exact" \
	"$([ "$st" = 0 ] && cmp -s "$DL/5" "$IN/$(f 5)"; echo $?)" "curl $st: $(cat "$DL/5.err")"
fake_stats "$WORK/st5.json"
rng=$(jpy "$WORK/st5.json" "[r['range'] for r in reqs if r['host'] == 'hub' and '$(f 5)' in r['path'] and r['auth'] == 'Bearer hf_tokenC' and r['method'] == 'GET']")
result "... C resumed at the hub with a Range from where B stopped (not from 0)" \
	"$(jpy "$WORK/st5.json" "any((r['range'] or '').startswith('bytes=') and (r['range'] or '') != 'bytes=0-' for r in reqs if r['host'] == 'hub' and '$(f 5)' in r['path'] and r['auth'] == 'Bearer hf_tokenC' and r['method'] == 'GET')" | grep -q true; echo $?)" \
	"$rng"
result "... and C's store holds it verified (the log says sha256 verified)" \
	"$(grep -q "fetched .*$(f 5): 16000000 bytes, sha256 $SHA5 verified" "$C_LOG"; echo $?)" \
	"$(grep "$(f 5)" "$C_LOG" | tail -5)"
fake_clear
stop_ggufd

# --- the token never reaches an intermediate tier; a 5xx tier fails over ------------------------------

HUB1=$HUB
FH2_LOG=$WORK/fakehub2.log
python3 "$TOP_SRCDIR/tests/fakehub/fakehub.py" --repos "$REPOS" --host 127.0.0.1 --cdn-host 127.0.0.2 \
	--port 0 --cdn-port 0 --state-file "$FH2_LOG.state.json" </dev/null >"$FH2_LOG.out" 2>"$FH2_LOG" &
FH2_PID=$!
bg_track "$FH2_PID"
HUB2=
for ((i = 0; i < GG_START_POLLS; i++)); do
	HUB2=$(sed -n 's/^fakehub hub=\([^ ]*\) .*/\1/p' "$FH2_LOG.out" 2>/dev/null)
	[ -n "$HUB2" ] && break
	sleep "$GG_POLL"
done
result "a second fake Hub (the intermediate tier) is up" "$([ -n "$HUB2" ]; echo $?)" "$(head -c 1000 "$FH2_LOG")"
HF_TOKEN=hf_tokenD start_ggufd "$WORK/sd" --upstream "$HUB2" --upstream "$HUB1" || {
	finish
	exit
}

gcurl --max-time 60 -o "$DL/6" "$BASE/$REPO/resolve/main/$(f 6)" && cmp -s "$DL/6" "$IN/$(f 6)"
result "D: file 6 byte-exact from its first tier" $?
HUB=$HUB2 fake_stats "$WORK/st2.json"
a=$(jpy "$WORK/st2.json" "sorted(set(str(r['auth']) for r in reqs))")
n=$(jpy "$WORK/st2.json" "len([r for r in reqs if '$(f 6)' in r['path']])")
result "D: the intermediate tier served file 6 and never saw an Authorization" \
	"$([ "$a" = '["None"]' ] && [ "$n" -ge 1 ]; echo $?)" "auths $a, requests for file 6: $n"
HUB=$HUB2 fake_fault '{"status": 503, "count": -1}'
gcurl --max-time 60 -o "$DL/7" "$BASE/$REPO/resolve/main/$(f 7)" && cmp -s "$DL/7" "$IN/$(f 7)"
result "D: the first tier answers 503: file 7 byte-exact from the next tier" $?
a=$(hub_auths 7)
HUB=$HUB2 fake_stats "$WORK/st2.json"
a2=$(jpy "$WORK/st2.json" "sorted(set(str(r['auth']) for r in reqs))")
result "D: the origin got D's token for file 7; the intermediate tier still never saw one" \
	"$(grep -q 'Bearer hf_tokenD' <<<"$a" && [ "$a2" = '["None"]' ]; echo $?)" "origin: $a, intermediate: $a2"
kill -TERM "$FH2_PID" 2>/dev/null
finish
