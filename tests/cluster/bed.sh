#!/usr/bin/env bash
# bed.sh: the multi-host test bed (issue 13), on hosts that are network
# namespaces this script makes, joined by veth pairs to bridges (the site's
# and one per rack, all in a namespace of their own), links shaped with tc
# (netem for rate and delay where the kernel has it, else tbf for rate):
#
#   hub     the fake Hub (two addresses: hub and CDN), its link 200 Mbit/s
#           and 40 ms round trip (20 ms each way)
#   s3      a single-node Ceph with a RADOS Gateway (../shared/ceph-s3.sh,
#           its addresses moved from 127.0.0.1 to this host's)
#   site1-3 the site cluster: ggufd nodes on one bucket (--blob-store),
#           peers of each other (--peer), holding the Hub token; 1 Gbit/s
#   rack1-3 rack mirrors: ggufd with --upstream siteR then the other site
#           nodes then nothing else (no Hub token); 1 Gbit/s to the site,
#           10 Gbit/s on the rack's own bridge
#   cR-1..8 8 clients per rack (curl, compared with cmp), each on a
#           10 Gbit/s link to the rack's bridge (they reach only the rack)
#
# Every client downloads the same file (BED_SIZE_MIB, default 512) from its
# rack mirror at once, all cold.  Before that, one client alone downloads
# another file of the same size on the same links (the baseline).  Printed
# (and checked against the targets, which are figures, not timings of the
# test itself): upstream bytes / file size (1.00), the slowest client of
# the crowd / the client alone (<= 1.3), objects in the bucket (each blob
# once), and a second crowd run where a site node is killed mid-run (every
# client still ends byte-exact).
#
# Root only (namespaces, tc); skipped visibly otherwise.  Uses only the
# addresses of the namespaces it made (10.77.0.0/16 inside them; nothing is
# added to the root namespace but the namespaces themselves), and removes
# them at the end.  BED_KEEP=1 leaves them for a look (ip netns).
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

SIZE_MIB=${BED_SIZE_MIB:-512}
CLIENTS=${BED_CLIENTS:-8}
RACKS=3
SITES=3
HUB_RATE=${BED_HUB_RATE:-200mbit}
HUB_DELAY=${BED_HUB_DELAY:-20ms}
SITE_RATE=${BED_SITE_RATE:-1gbit}
CLIENT_RATE=${BED_CLIENT_RATE:-10gbit}
TOKEN=hf_bedsecret0123456789
REPO=ruv/ruvltra

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP the test bed needs root (network namespaces, tc)"
	exit 0
fi
for t in ip tc; do
	have "$t" || {
		echo "1..0 # SKIP $t is not installed (iproute2)"
		exit 0
	}
done

P=gb$$ # namespace prefix, unique per run
NS=()
N=0 # veth counter

ns() { echo "$P-$1"; }
inns() {
	local h=$1
	shift
	ip netns exec "$(ns "$h")" "$@"
}

bed_cleanup() {
	local n p
	[ "${BED_KEEP:-0}" = 1 ] && return 0
	for n in "${NS[@]}"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
}
trap 'bed_cleanup; _cleanup' EXIT

# mkhost NAME ADDR [ADDR2] RATE [DELAY]: a namespace (made if new) with
# interface $IFN (eth0) on bridge $BR (br0), address ADDR/$MASK (16),
# shaped both ways (egress of each end of the veth pair).
mkhost() {
	local name=$1 addr=$2 addr2=$3 rate=$4 delay=${5:-0ms} a b
	local br=${BR:-br0} ifn=${IFN:-eth0} mask=${MASK:-16}
	N=$((N + 1))
	a=gb$$a$N b=gb$$b$N
	if ! ip netns list | grep -qw "$(ns "$name")"; then
		ip netns add "$(ns "$name")" && NS+=("$(ns "$name")") || return 1
		inns "$name" ip link set lo up
	fi
	ip link add "$a" type veth peer name "$b" || return 1
	ip link set "$a" netns "$(ns "$name")"
	ip link set "$b" netns "$(ns sw)"
	inns "$name" ip link set "$a" name "$ifn"
	inns "$name" ip addr add "$addr/$mask" dev "$ifn"
	[ -n "$addr2" ] && inns "$name" ip addr add "$addr2/$mask" dev "$ifn"
	inns "$name" ip link set "$ifn" up
	inns sw ip link set "$b" master "$br" up
	shape "$name" "$ifn" "$rate" "$delay" && shape sw "$b" "$rate" "$delay"
}

# shape HOST DEV RATE DELAY: netem (rate and delay) where the kernel has
# it, else tbf (rate only: the delay is not applied, and said so once).
NETEM=unknown
shape() {
	local h=$1 dev=$2 rate=$3 delay=$4 bits burst
	if [ "$NETEM" != no ] && inns "$h" tc qdisc add dev "$dev" root netem rate "$rate" delay "$delay" limit 100000 2>/dev/null; then
		NETEM=yes
		return 0
	fi
	[ "$NETEM" = unknown ] && diag "this kernel has no sch_netem: links are shaped in rate only (tbf), the delays ($HUB_DELAY each way to the hub) are not applied"
	NETEM=no
	bits=$(awk -v r="${rate%bit}" 'BEGIN { m = 1; u = tolower(substr(r, length(r)))
		if (u == "k") m = 1e3; else if (u == "m") m = 1e6; else if (u == "g") m = 1e9
		if (m > 1) r = substr(r, 1, length(r) - 1); printf "%d", r * m }')
	burst=$((bits / 8 / 250))
	[ "$burst" -lt 131072 ] && burst=131072
	inns "$h" tc qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 200ms
}

plan 9

ip netns add "$(ns sw)" && NS+=("$(ns sw)")
inns sw ip link set lo up
inns sw ip link add br0 type bridge
inns sw ip link set br0 up
if ! mkhost hub 10.77.0.1 10.77.0.2 "$HUB_RATE" "$HUB_DELAY"; then
	echo "# could not make a shaped host (veth, bridge or netem missing?)"
	finish
	exit
fi
mkhost s3 10.77.0.10 "" "$SITE_RATE"
for i in $(seq 1 $SITES); do mkhost "site$i" "10.77.1.$i" "" "$SITE_RATE"; done
# A rack: its mirror's uplink on the site bridge, and a bridge of its own
# (10.78.R.0/24) that the mirror and its clients share.
for r in $(seq 1 $RACKS); do
	mkhost "rack$r" "10.77.2.$r" "" "$SITE_RATE"
	inns sw ip link add "br$r" type bridge
	inns sw ip link set "br$r" up
	BR=br$r IFN=eth1 MASK=24 mkhost "rack$r" "10.78.$r.1" "" "$CLIENT_RATE"
	for c in $(seq 1 "$CLIENTS"); do BR=br$r MASK=24 mkhost "c$r-$c" "10.78.$r.$((10 + c))" "" "$CLIENT_RATE"; done
done

# --- the fake Hub, two files of SIZE_MIB ---------------------------------
REPOS=$WORK/repos
mkdir -p "$REPOS" "$WORK/in"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/in/ruvltra-0.5b-q4_k_m.gguf"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/in/ruvltra-0.5b-q8_0.gguf"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/in/ruvltra-0.5b-q5_k_m.gguf"
SUM_KILL=$(sha256_of "$WORK/in/ruvltra-0.5b-q5_k_m.gguf")
SUM_ALONE=$(sha256_of "$WORK/in/ruvltra-0.5b-q8_0.gguf")
SUM_CROWD=$(sha256_of "$WORK/in/ruvltra-0.5b-q4_k_m.gguf")
python3 "$TOP_SRCDIR/tests/fakehub/fakehub.py" mkrepo --repos "$REPOS" --repo "$REPO" \
	"$WORK/in/ruvltra-0.5b-q4_k_m.gguf" "$WORK/in/ruvltra-0.5b-q8_0.gguf" \
	"$WORK/in/ruvltra-0.5b-q5_k_m.gguf" >/dev/null
HUB=http://10.77.0.1:8000
inns hub python3 "$TOP_SRCDIR/tests/fakehub/fakehub.py" --repos "$REPOS" --token "$TOKEN" \
	--host 10.77.0.1 --cdn-host 10.77.0.2 --port 8000 --cdn-port 8001 \
	--state-file "$WORK/fakehub.state" >"$WORK/fakehub.out" 2>"$WORK/fakehub.log" &
for ((i = 0; i < GG_START_POLLS; i++)); do
	grep -q '^fakehub hub=' "$WORK/fakehub.out" 2>/dev/null && break
	sleep "$GG_POLL"
done
hubctl() { inns hub curl -s --max-time 20 -X "$1" "$HUB/_fake/$2"; }
inns "rack$RACKS" curl -s --max-time 10 -o /dev/null "$HUB/_fake/health"
result "the hosts: ${#NS[@]} namespaces on $((1 + RACKS)) bridges, shaped (hub $HUB_RATE, ${HUB_DELAY} each way where netem exists; site $SITE_RATE; racks $CLIENT_RATE); the hub answers across them" \
	$? "$(tail -n 5 "$WORK/fakehub.log")"

# --- the bucket ----------------------------------------------------------
S3EP=
if [ -x /usr/bin/radosgw ]; then
	# ceph-s3.sh binds 127.0.0.1; the same script with this host's address.
	sed -e 's/127\.0\.0\.1/10.77.0.10/g' -e 's#127\.0\.0\.0/8#10.77.0.0/16#' \
		"$GGUFD_SHARED/ceph-s3.sh" >"$WORK/ceph-s3.sh"
	if inns s3 env BASE="$WORK/ceph" TEST=0 bash "$WORK/ceph-s3.sh" >"$WORK/ceph.out" 2>&1; then
		S3EP=http://10.77.0.10:7480
		export AWS_ACCESS_KEY_ID=PROBEACCESSKEY0000001
		export AWS_SECRET_ACCESS_KEY=probesecretkey000000000000000000000000001
		export AWS_REGION=us-east-1
	else
		diag "ceph did not start:" "$(tail -n 20 "$WORK/ceph.out")"
	fi
fi

# --- ggufd nodes ---------------------------------------------------------
# start_node HOST ADDR ARGS...: ggufd serve on ADDR:8080 in HOST (0.0.0.0
# for every address), store $WORK/HOST; waits (bounded) for it to listen.
declare -A PID
start_node() {
	local h=$1 addr=$2 i
	shift 2
	mkdir -p "$WORK/$h"
	inns "$h" "$GGUFD" serve --listen "$addr:8080" --store "$WORK/$h/store" "$@" \
		</dev/null >"$WORK/$h/out" 2>>"$WORK/$h/log" &
	PID[$h]=$!
	for ((i = 0; i < GG_START_POLLS; i++)); do
		grep -q "listening on http://$addr:8080" "$WORK/$h/log" 2>/dev/null && return 0
		kill -0 "${PID[$h]}" 2>/dev/null || break
		sleep "$GG_POLL"
	done
	diag "$h did not start:" "$(tail -n 20 "$WORK/$h/log")"
	return 1
}
SITE_ARGS=(--upstream "$HUB")
[ -n "$S3EP" ] && SITE_ARGS+=(--blob-store s3://ggufd-bed --s3-endpoint "$S3EP" --s3-create-bucket)
for i in $(seq 1 $SITES); do SITE_ARGS+=(--peer "http://10.77.1.$i:8080"); done
started=0
for i in $(seq 1 $SITES); do
	HF_TOKEN=$TOKEN start_node "site$i" "10.77.1.$i" "${SITE_ARGS[@]}" --self "http://10.77.1.$i:8080" &&
		started=$((started + 1))
done
for r in $(seq 1 $RACKS); do
	args=()
	for k in 0 1 2; do args+=(--upstream "http://10.77.1.$(((r - 1 + k) % SITES + 1)):8080"); done
	start_node "rack$r" 0.0.0.0 "${args[@]}" && started=$((started + 1))
done
result "ggufd: $SITES site nodes (Hub token, bucket ${S3EP:-none}, peers) and $RACKS rack mirrors (site tiers, no token) started" \
	"$([ "$started" = $((SITES + RACKS)) ] && echo 0 || echo 1)"

# --- downloads -----------------------------------------------------------
# client R C FILE OUT: curl in host cR-C from its rack mirror; OUT gets
# "SHA256 SECONDS CURL-EXIT HTTP-CODE".
client() {
	local r=$1 c=$2 file=$3 out=$4 t0 t1 rc same
	t0=$(date +%s%N)
	# Byte for byte against the source (cmp costs far less CPU than a hash,
	# which matters with 24 clients on two cores).
	inns "c$r-$c" curl -s --max-time 600 -D "$out.h" \
		"http://10.78.$r.1:8080/$REPO/resolve/main/$file" | cmp -s - "$WORK/in/$file"
	rc=${PIPESTATUS[0]} same=${PIPESTATUS[1]}
	t1=$(date +%s%N)
	echo "$([ "$same" = 0 ] && echo exact || echo differs) $(((t1 - t0) / 1000000)) $rc $(http_status "$out.h")" >"$out.r"
}

# crowd FILE TAG: every client of every rack at once; waits for all.
crowd() {
	local file=$1 tag=$2 r c pids=()
	mkdir -p "$WORK/$tag"
	for r in $(seq 1 $RACKS); do
		for c in $(seq 1 "$CLIENTS"); do
			client "$r" "$c" "$file" "$WORK/$tag/$r-$c" &
			pids+=($!)
		done
	done
	wait "${pids[@]}"
}

# exact_all TAG: every client got the file byte for byte, curl exit 0, 200.
exact_all() {
	local f bad=0
	for f in "$WORK/$1"/*.r; do
		read -r s _ rc code <"$f"
		[ "$s" = exact ] && [ "$rc" = 0 ] && [ "$code" = 200 ] || {
			bad=$((bad + 1))
			diag "$(basename "$f"): $(cat "$f")"
		}
	done
	[ "$bad" = 0 ]
}
# slowest TAG: the slowest client's milliseconds.
slowest() { cat "$WORK/$1"/*.r | awk '$2 > m { m = $2 } END { print m + 0 }'; }

# up_bytes SHA: the fake Hub's content bytes sent for SHA.
up_bytes() {
	hubctl GET stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_sent"].get(sys.argv[1], 0))' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# 1. One client alone, cold, on the same links: the baseline.
mkdir -p "$WORK/alone"
client 1 1 ruvltra-0.5b-q8_0.gguf "$WORK/alone/1-1"
exact_all alone >"$WORK/diag"
result "one client alone: byte-exact" $? "$(cat "$WORK/diag")"
T1=$(slowest alone)

# 2. Every client at once, another file of the same size, cold.
crowd ruvltra-0.5b-q4_k_m.gguf crowd
exact_all crowd >"$WORK/diag"
result "$((RACKS * CLIENTS)) clients at once: all byte-exact" $? "$(cat "$WORK/diag")"
TN=$(slowest crowd)
UP=$(up_bytes "$SUM_CROWD")
UPR=$(ratio "$UP" $((SIZE_MIB << 20)))
TR=$(ratio "$TN" "$T1")
diag "figures: upstream bytes / file size $UPR (target 1.00); slowest of $((RACKS * CLIENTS)) / one alone = $TN ms / $T1 ms = $TR (target <= 1.3)"
echo "bed: upstream_ratio=$UPR slowest_ratio=$TR crowd_ms=$TN alone_ms=$T1 size_mib=$SIZE_MIB clients=$((RACKS * CLIENTS))" >"$WORK/figures"
result "upstream bytes for the crowd's file: exactly its size ($UP bytes, ratio $UPR)" \
	"$([ "$UP" = $((SIZE_MIB << 20)) ] && echo 0 || echo 1)"

# Only the site nodes hold the Hub token: every request the hub saw
# carried it, and the CDN (a redirect host) never saw an Authorization.
hubctl GET stats >"$WORK/stats.json"
bad=$(jpy "$WORK/stats.json" "[(r['host'], r['method'], r['path'], (r['auth'] or '')[:12]) for r in reqs if not r['path'].startswith('/_fake') and (r['auth'] not in (None, 'Bearer $TOKEN') if r['host'] == 'hub' else r['auth'] is not None)]")
result "no Authorization but the site nodes' Hub token reached the hub (the racks hold none), and none the CDN" \
	"$([ "$bad" = "[]" ] && echo 0 || echo 1)" "$bad"

# 3. The bucket: each blob once, named by its sha256, nothing else.
if [ -n "$S3EP" ]; then
	# The site nodes upload verified blobs in the background: wait (bounded)
	# for both files' objects.
	keys=
	for ((i = 0; i < 300; i++)); do
		keys=$(inns s3 curl -s --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
			"$S3EP/ggufd-bed?list-type=2" | grep -o '<Key>[^<]*</Key>' | sed 's#<Key>\(.*\)</Key>#\1#' | sort)
		case $keys in *"$SUM_ALONE"*"$SUM_CROWD"* | *"$SUM_CROWD"*"$SUM_ALONE"*) break ;; esac
		sleep 0.2
	done
	want=$(printf '%s\n' "$SUM_ALONE" "$SUM_CROWD" | sort)
	got=$(printf '%s\n' "$keys" | sed 's#.*/##' | sort)
	echo "bed: bucket_objects=$(printf '%s\n' "$keys" | grep -c .)" >>"$WORK/figures"
	# ... and each was sent there once, by its owner among the peers (the
	# others leave it to the owner, then find it there).
	stored=0
	for i in $(seq 1 $SITES); do
		n=$(inns "site$i" curl -s --max-time 10 "http://10.77.1.$i:8080/metrics" |
			awk '/^ggufd_blob_store_uploads_total\{result="stored"\}/ { print $2 }')
		stored=$((stored + ${n:-0}))
	done
	echo "bed: bucket_uploads=$stored" >>"$WORK/figures"
	result "the bucket holds each blob once, named by its sha256 ($(printf '%s\n' "$keys" | grep -c .) objects for 2 files), each sent there once ($stored uploads)" \
		"$([ "$got" = "$want" ] && [ "$stored" = 2 ] && echo 0 || echo 1)" "keys: $keys" "uploads by the site nodes: $stored"
else
	not_ok "the bucket holds each blob once" "no bucket: Ceph did not start or ggufd has no --blob-store"
fi

# 4. A site node killed mid-run: every client still ends byte-exact.
mkdir -p "$WORK/kill"
crowd ruvltra-0.5b-q5_k_m.gguf kill &
CROWD=$!
for ((i = 0; i < 600; i++)); do
	[ "$(up_bytes "$SUM_KILL")" -gt $((SIZE_MIB << 18)) ] && break
	sleep 0.1
done
kill -9 "${PID[site1]}"
diag "site1 killed after $(up_bytes "$SUM_KILL") upstream bytes of $((SIZE_MIB << 20))"
wait "$CROWD"
exact_all kill >"$WORK/diag"
result "site1 killed mid-run: all $((RACKS * CLIENTS)) clients still byte-exact" $? "$(cat "$WORK/diag")"
echo "bed: kill_upstream_ratio=$(ratio "$(up_bytes "$SUM_KILL")" $((SIZE_MIB << 20))) kill_slowest_ms=$(slowest kill)" >>"$WORK/figures"

# Every node's store verifies (the killed one after its kill -9 too).
bad=
for h in $(seq 1 $SITES | sed 's/^/site/') $(seq 1 $RACKS | sed 's/^/rack/'); do
	kill -TERM "${PID[$h]}" 2>/dev/null
done
for h in $(seq 1 $SITES | sed 's/^/site/') $(seq 1 $RACKS | sed 's/^/rack/'); do
	for ((i = 0; i < GG_STOP_POLLS; i++)); do kill -0 "${PID[$h]}" 2>/dev/null || break; sleep "$GG_POLL"; done
	"$GGUFD" verify --store "$WORK/$h/store" >"$WORK/$h/verify" 2>&1 || bad="$bad $h"
done
result "ggufd verify passes on every node's store" "$([ -z "$bad" ] && echo 0 || echo 1)" "failed:$bad"
cat "$WORK/figures"
[ -n "${BED_FIGURES:-}" ] && cp "$WORK/figures" "$BED_FIGURES"
finish
