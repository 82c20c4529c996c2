#!/usr/bin/env bash
# peers.sh: three ggufd nodes with the same --peer list (each with --self)
# in front of the fake Hub.  Each blob's owner is picked by rendezvous
# hashing (SHA-256 of the blob's sha256 hex followed by the peer's URL,
# the first 8 bytes big-endian, highest wins: recomputed here in Python);
# the owner fetches it upstream, the others read it from the owner.
#
# The fake Hub runs without --token and records the bearer of each
# request: node i holds hf_tokenI, so a hub GET tells which node fetched.
#   - one file asked at all three nodes at once (throttled upstream): one
#     upstream transfer, exactly the file's size, by the owner; all three
#     byte-exact;
#   - the owner of a file killed: the two others still serve it, skipping
#     it, and one transfer still suffices (the next in the ranking owns it);
#   - the owner restarted at its URL: after the back-off the others use it
#     again (its files come from the hub to it alone), no restart of them.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 11

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

# X: the big one asked everywhere at once; s1..s24: small ones, whose
# owners are known once the nodes' URLs are.
mkst=0
mkgguf "$IN/ruvltra-x-q4_k_m.gguf" --size 16000000 >>"$WORK/mk.log" 2>&1 || mkst=1
for i in $(seq 1 24); do
	mkgguf "$IN/ruvltra-s$i-q4_k_m.gguf" --size $((1000000 + i * 13)) >>"$WORK/mk.log" 2>&1 || mkst=1
done
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto "$IN"/*.gguf 2>>"$WORK/mk.log")
st=$?
result "test files made (mkgguf, fakehub mkrepo)" \
	"$([ "$mkst" = 0 ] && [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]]; echo $?)" \
	"$(tail -c 2000 "$WORK/mk.log")"

start_fakehub "$REPOS" || {
	finish
	exit
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
URL=()
for i in 0 1 2; do
	URL[i]=http://127.0.0.1:$(free_port)
done
PID=()
LOG=()

# start_node I: node I (0..2) on its URL, hf_tokenI, the three peers.
start_node() {
	local i=$1 k line
	LOG[i]=$WORK/node$i.$RANDOM.log
	HF_TOKEN=hf_token$i "$GGUFD" serve --listen "${URL[i]#http://}" --store "$WORK/s$i" \
		--upstream "$HUB" --peer "${URL[0]}" --peer "${URL[1]}" --peer "${URL[2]}" \
		--self "${URL[i]}" </dev/null >"${LOG[i]}.out" 2>"${LOG[i]}" &
	PID[i]=$!
	bg_track "${PID[i]}"
	for ((k = 0; k < GG_START_POLLS; k++)); do
		line=$(grep -m1 -o 'listening on http://127\.0\.0\.1:[0-9]*' "${LOG[i]}" 2>/dev/null)
		[ -n "$line" ] && return 0
		kill -0 "${PID[i]}" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	diag "node $i did not start: $(head -c 2000 "${LOG[i]}")"
	return 1
}
for i in 0 1 2; do
	start_node "$i" || {
		finish
		exit
	}
done

# rank SHA: the node indexes from owner to last, as peers.c orders them.
rank() {
	python3 -c '
import hashlib, sys
key, urls = sys.argv[1], sys.argv[2:]
w = [int.from_bytes(hashlib.sha256((key + u).encode()).digest()[:8], "big") for u in urls]
print(" ".join(str(i) for i in sorted(range(len(urls)), key=lambda i: (-w[i], i))))
' "$1" "${URL[@]}"
}
f() { echo "ruvltra-$1-q4_k_m.gguf"; }
# get NODE NAME: GET file NAME at NODE into $DL/NODE.NAME; 0 if byte-exact.
get() {
	gcurl --max-time 120 -o "$DL/$1.$2" "${URL[$1]}/$REPO/resolve/main/$(f "$2")" 2>"$DL/$1.$2.err" &&
		cmp -s "$DL/$1.$2" "$IN/$(f "$2")"
}
# gets NAME: the bearers of the hub's content GETs of file NAME.
gets() {
	fake_stats "$WORK/st.json"
	jpy "$WORK/st.json" "sorted(str(r['auth']) for r in reqs if r['host'] == 'hub' and r['method'] == 'GET' and '$(f "$1")' in r['path'])"
}

# --- one file, three nodes at once: one transfer, by the owner ----------------------------------------

SHAX=$(sha256_of "$IN/$(f x)")
SIZEX=$(file_size "$IN/$(f x)")
read -r -a RX <<<"$(rank "$SHAX")"
fake_fault "{\"throttle_bps\": 8000000, \"match\": \"$SHAX\", \"host\": \"cdn\", \"count\": -1}"
for i in 0 1 2; do
	get "$i" x &
	bg_track $!
	P[i]=$!
done
okx=0
for i in 0 1 2; do
	wait "${P[i]}" || okx=1
done
result "file x asked at the three nodes at once: byte-exact at each" "$okx" \
	"$(cat "$DL"/*.x.err 2>/dev/null)"
fake_stats "$WORK/stx.json"
sent=$(jpy "$WORK/stx.json" "d['bytes_sent'].get('$SHAX', 0)")
xf=$(jpy "$WORK/stx.json" "xfers.get('$SHAX', 0)")
result "... upstream sent its bytes once: $sent of $SIZEX, in $xf transfer(s)" \
	"$([ "$sent" = "$SIZEX" ] && [ "$xf" = 1 ]; echo $?)"
g=$(gets x)
result "... fetched from the hub by its owner (node ${RX[0]}) alone" \
	"$([ "$g" = "[\"Bearer hf_token${RX[0]}\"]" ]; echo $?)" "hub GETs: $g"
fake_clear

# --- the owner down: the others skip it ---------------------------------------------------------------

# The node that owns the most small files plays the one that dies.
declare -A OWNS
for i in $(seq 1 24); do
	r=$(rank "$(sha256_of "$IN/$(f "s$i")")")
	OWNS[${r%% *}]+=" s$i"
done
V=0
for i in 1 2; do
	[ "$(wc -w <<<"${OWNS[$i]:-}")" -gt "$(wc -w <<<"${OWNS[$V]:-}")" ] && V=$i
done
read -r -a VF <<<"${OWNS[$V]}"
Y=${VF[0]}
read -r -a RY <<<"$(rank "$(sha256_of "$IN/$(f "$Y")")")"
kill -KILL "${PID[V]}" 2>/dev/null
wait "${PID[V]}" 2>/dev/null
others=()
for i in 0 1 2; do
	[ "$i" != "$V" ] && others+=("$i")
done
get "${others[0]}" "$Y" &
p1=$!
get "${others[1]}" "$Y" &
p2=$!
bg_track "$p1" "$p2"
wait "$p1"
s1=$?
wait "$p2"
s2=$?
result "owner node $V of $Y killed: nodes ${others[*]} still serve $Y byte-exact" \
	"$([ "$s1" = 0 ] && [ "$s2" = 0 ]; echo $?)" "$(cat "$DL"/*."$Y".err 2>/dev/null)"
g=$(gets "$Y")
result "... fetched from the hub once, by the next in its ranking (node ${RY[1]})" \
	"$([ "$g" = "[\"Bearer hf_token${RY[1]}\"]" ]; echo $?)" "hub GETs: $g"
n=0
for i in "${others[@]}"; do
	grep -q "peer $V (${URL[V]}) is down" "${LOG[i]}" && n=$((n + 1))
done
result "... and the nodes that asked it logged it down (one line each)" \
	"$([ "$n" -ge 1 ] && [ "$(cat "${LOG[${others[0]}]}" "${LOG[${others[1]}]}" | grep -c "peer $V .* is down")" -le 2 ]; echo $?)" \
	"$(grep -h 'peer ' "${LOG[${others[0]}]}" "${LOG[${others[1]}]}")"
# A: a node that asked the owner and logged it down.  Which of the two asks
# it depends on timing (test 7 wants one at least): the one that saw it
# down must show it down and be the one that later sees it back.
A=${others[0]}
grep -q "peer $V (${URL[V]}) is down" "${LOG[A]}" || A=${others[1]}
m=$(gcurl --max-time 20 "${URL[A]}/metrics" | grep "^ggufd_peer_up{index=\"$V\"")
result "... its state (down) is in /metrics of a node that saw it down (node $A)" "$([ "${m##* }" = 0 ]; echo $?)" "$m"

# --- the owner back: used again after the back-off ------------------------------------------------------

start_node "$V" || {
	finish
	exit
}
back=1
used=
for ((k = 1; k < ${#VF[@]}; k++)); do
	Z=${VF[k]}
	get "$A" "$Z" || break
	if grep -q "peer $V (${URL[V]}) is back" "${LOG[A]}"; then
		back=0
		used=$Z
		break
	fi
	sleep 1
done
result "node $V restarted: node $A probes it after the back-off and logs it back" "$back" \
	"$(grep 'peer ' "${LOG[A]}")"
if [ -n "$used" ]; then
	g=$(gets "$used")
	result "... and $used, which node $V owns, came from the hub to node $V alone" \
		"$([ "$g" = "[\"Bearer hf_token$V\"]" ]; echo $?)" "hub GETs: $g"
else
	not_ok "... a file node $V owns came through it" "node $A never saw it back"
fi
Z=${VF[${#VF[@]} - 1]}
if [ "$Z" != "$used" ] && [ "$Z" != "$Y" ]; then
	get "${others[1]}" "$Z"
	st=$?
	g=$(gets "$Z")
	result "... node ${others[1]} too fetches $Z from node $V (byte-exact, one hub GET by node $V)" \
		"$([ "$st" = 0 ] && [ "$g" = "[\"Bearer hf_token$V\"]" ]; echo $?)" "hub GETs: $g"
else
	skip "... node ${others[1]} too fetches from node $V" "node $V owns too few files for a fresh one"
fi
finish
