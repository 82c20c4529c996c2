#!/usr/bin/env bash
# budget.sh: upstream's rate-limit budget (a 429 with Retry-After).
#
# An upstream 429 with a long Retry-After is remembered per upstream host
# (the Hub, and separately the CDN its content comes from): until it has
# passed ggufd does not ask that host again, answers from the store when it
# can (a stored file is still served, with a Warning header) and otherwise
# answers 429 with Retry-After (the seconds left) in the Hub's error shape,
# never 504.  Pull jobs and fetches keep to the same budget.  The budget is
# logged when it starts and when it ends; a short one is waited out while
# the client waits.
#
# Private and gated repos: with the upstream token held, a repo the fake
# Hub does not serve anonymously (mkrepo --private, --gated) is refused to
# anonymous clients and to tokens ggufd does not know (401 RepoNotFound,
# also once its file is in the store), served with a ggufd read token, and
# served to anyone when listed with --public-repo; the start-up log says so.
# The dashboard's listings (/api/ggufd/repos, files, disk, activity) name
# such a repo only to a read token and to the operator (an admin token, or
# a loopback client while no admin token exists), and the upstream's last
# error shows no URL path to others.
# No timing assertions; every wait is bounded.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 48

TOKEN=hf_upstreamsecret
REPO=ruv/budget
IN=$WORK/in
DL=$WORK/dl
RESP=$WORK/resp
REPOS=$WORK/repos
S=$WORK/store
mkdir -p "$IN" "$DL" "$RESP" "$REPOS"

if [ ! -x "$GGUFD" ] || [ ! -x "$MKGGUF" ] || ! have python3 || ! have curl; then
	not_ok "ggufd, mkgguf, python3 and curl are there" "GGUFD=$GGUFD MKGGUF=$MKGGUF"
	finish
	exit
fi

mkst=0
mkgguf "$IN/a.gguf" --size 3000000 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/b.gguf" --size 3000001 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/c.gguf" --size 3000002 >>"$WORK/mk.log" 2>&1 || mkst=1
echo '{"model_type": "budget"}' >"$IN/config.json"
echo 'a regular file, asked once under a short budget' >"$IN/d.txt"
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto "$IN/a.gguf" "$IN/b.gguf" \
	"$IN/c.gguf" "$IN/config.json" "$IN/d.txt" 2>>"$WORK/mk.log")
st=$?
if [ "$mkst" = 0 ] && [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]] &&
	start_fakehub "$REPOS" --token "$TOKEN" && start_ggufd "$S" --upstream "$HUB" --ref-ttl 1; then
	ok "test repo made, fake Hub and ggufd started"
else
	not_ok "test repo made, fake Hub and ggufd started" "$(tail -c 2000 "$WORK/mk.log")"
	finish
	exit
fi
R=$BASE/$REPO/resolve/main

# --- helpers --------------------------------------------------------------------------

exact() {
	[ -f "$1" ] && cmp -s "$1" "$2"
}

# get TAG URL [CURL ARGS...]: GET into $DL/TAG; RC (curl exit), CODE (status).
get() {
	local tag=$1 url=$2
	shift 2
	gcurl --max-time 20 -D "$RESP/$tag.h" -o "$DL/$tag" "$@" "$url" 2>"$RESP/$tag.err"
	RC=$?
	CODE=$(http_status "$RESP/$tag.h")
}

shows() {
	echo "curl exit $RC, status ${CODE:-none}; $(tr -d '\r' <"$RESP/$1.h" | head -c 800)" \
		"body: $(head -c 300 "$DL/$1" 2>/dev/null)"
}

stats() {
	fake_stats "$WORK/stats.json" || echo '{}' >"$WORK/stats.json"
}

# seq_now: the fake Hub's last request number.
seq_now() {
	stats
	jpy "$WORK/stats.json" 'max([r["seq"] for r in reqs] or [0])'
}

# upstream_since SEQ HOST: requests HOST (hub or cdn) got after SEQ.
upstream_since() {
	stats
	jpy "$WORK/stats.json" "len([r for r in reqs if r['seq'] > $1 and r['host'] == '$2'])"
}

requests_since() {
	jpy "$WORK/stats.json" "[(r['host'], r['method'], r['path'], r['status']) for r in reqs if r['seq'] > $1]"
}

# rate_limited TAG: a 429 in the Hub's shape with a Retry-After of most of an hour.
rate_limited() {
	local ra
	ra=$(header Retry-After "$RESP/$1.h")
	[ "$CODE" = 429 ] && [[ $ra =~ ^[0-9]+$ ]] && [ "$ra" -gt 3000 ] && [ "$ra" -le 3600 ] &&
		[ -n "$(header X-Error-Code "$RESP/$1.h")" ] && [ -n "$(header X-Error-Message "$RESP/$1.h")" ]
}

# --- the Hub rate-limits us for an hour --------------------------------------------------

get a "$R/a.gguf"
result "a.gguf downloads through ggufd (it is in the store now)" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/a" "$IN/a.gguf"; echo $?)" "$(shows a)"

seq0=$(seq_now)
fake_fault '{"status": 429, "retry_after": 3600, "host": "hub", "count": -1}'
get b "$R/b.gguf"
result "a file not in the store while the Hub answers 429 Retry-After 3600: 429 with Retry-After, X-Error-Code, X-Error-Message (not 504)" \
	"$(rate_limited b; echo $?)" "$(shows b)"
result "... and a JSON body with the error" \
	"$([ "$(jpy "$DL/b" 'bool(d.get("error"))' 2>/dev/null)" = true ]; echo $?)" "$(shows b)"
n=$(upstream_since "$seq0" hub)
result "ggufd asked the Hub once" "$([ "$n" = 1 ]; echo $?)" "$n requests: $(requests_since "$seq0")"

get b2 "$R/b.gguf"
r1=$(rate_limited b2; echo $?)
get c2 "$R/c.gguf" -I
r2=$(rate_limited c2; echo $?)
get api2 "$BASE/api/models/ruv/elsewhere"
r3=$(rate_limited api2; echo $?)
get tree2 "$BASE/api/models/ruv/elsewhere/tree/main"
r4=$(rate_limited tree2; echo $?)
result "within the budget: GET b.gguf, HEAD c.gguf, an unknown repo's info and tree all answer 429 + Retry-After" \
	"$([ "$r1$r2$r3$r4" = 0000 ]; echo $?)" "$r1$r2$r3$r4" "$(shows b2)" "$(shows c2)" "$(shows api2)" "$(shows tree2)"
n=$(upstream_since "$seq0" hub)
result "within the budget ggufd does not ask the Hub again" "$([ "$n" = 1 ]; echo $?)" \
	"$n requests: $(requests_since "$seq0")"

# main's commit is fresh for --ref-ttl 1: once it is stale ggufd would ask
# the Hub, but the budget is not over: the stored file is served as it is.
sleep 1.2
get a2 "$R/a.gguf"
result "the stored a.gguf is still served (200, byte-exact) with a Warning header" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/a2" "$IN/a.gguf" &&
		[ -n "$(header Warning "$RESP/a2.h")" ]; echo $?)" "$(shows a2)"
get info2 "$BASE/api/models/$REPO"
result "the repo's info comes from the store (200, its commit)" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$DL/info2" 'd.get("sha")' 2>/dev/null)" = "$COMMIT" ]; echo $?)" "$(shows info2)"

code=$(gcurl -o "$WORK/pull.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary "{\"repo\":\"$REPO\",\"revision\":\"main\"}" "$BASE/api/ggufd/pull")
state=
for ((i = 0; i < 200; i++)); do
	gcurl -o "$WORK/job.json" "$BASE/api/ggufd/pull/1"
	state=$(jpy "$WORK/job.json" 'd.get("state")' 2>/dev/null)
	[ "$state" = running ] || break
	sleep "$GG_POLL"
done
result "a pull job fails at once, saying upstream rate-limited us" \
	"$([ "$code" = 202 ] && [ "$state" = failed ] &&
		jpy "$WORK/job.json" 'd.get("error", "")' | grep -qi 'rate'; echo $?)" \
	"start $code $(cat "$WORK/pull.json"); job $(cat "$WORK/job.json")"
n=$(upstream_since "$seq0" hub)
result "still one request to the Hub (stale ref, info and the pull did not ask)" "$([ "$n" = 1 ]; echo $?)" \
	"$n requests: $(requests_since "$seq0")"
hubport=${HUB##*:}
result "the log says once that the Hub rate-limited us, until when" \
	"$([ "$(grep -c "upstream http://127.0.0.1:$hubport rate-limited us: no requests until [0-9][0-9]:[0-9][0-9]:[0-9][0-9] (Retry-After 3600)" "$GGUFD_LOG")" = 1 ]; echo $?)" \
	"$(grep -i 'rate' "$GGUFD_LOG" | head -5)"

# --- the CDN rate-limits us; the Hub does not ------------------------------------------------

fake_clear
start_ggufd "$S" --upstream "$HUB" --ref-ttl 1
R=$BASE/$REPO/resolve/main
seq0=$(seq_now)
fake_fault '{"status": 429, "retry_after": 3600, "host": "cdn", "match": "/cdn/", "count": -1}'
get c "$R/c.gguf"
result "c.gguf while the CDN answers 429: a visible failure, never a complete file" \
	"$({ [ "$RC" != 0 ] || [ "$CODE" != 200 ]; } && ! exact "$DL/c" "$IN/c.gguf"; echo $?)" "$(shows c)"
get c3 "$R/c.gguf"
result "asked again within the CDN's budget: 429 with Retry-After" "$(rate_limited c3; echo $?)" "$(shows c3)"
n=$(upstream_since "$seq0" cdn)
result "the CDN was asked once" "$([ "$n" = 1 ]; echo $?)" "$n requests: $(requests_since "$seq0")"
get c4 "$R/c.gguf" -I
result "HEAD c.gguf still answers 200 (the Hub is not rate-limited: the budget is per host)" \
	"$([ "$CODE" = 200 ] && [ "$(header X-Linked-Size "$RESP/c4.h")" = "$(file_size "$IN/c.gguf")" ]; echo $?)" \
	"$(shows c4)"
result "the log names the CDN host" \
	"$(grep -q "upstream http://127.0.0.2:[0-9]* rate-limited us: no requests until .* (Retry-After 3600)" "$GGUFD_LOG"; echo $?)" \
	"$(grep -i 'rate' "$GGUFD_LOG" | head -5)"

# --- a short budget is waited out while the client waits ------------------------------------

fake_clear
seq0=$(seq_now)
fake_fault '{"status": 429, "retry_after": 2, "host": "hub", "match": "d.txt", "count": 1}'
get d "$R/d.txt"
result "d.txt after a 429 with Retry-After 2: the client gets the file" \
	"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/d" "$IN/d.txt"; echo $?)" "$(shows d)"
stats
n=$(jpy "$WORK/stats.json" "(lambda s: len(s) > 1 and s[0] == 429 and 429 not in s[1:])([r['status'] for r in reqs if r['seq'] > $seq0 and r['host'] == 'hub' and r['method'] == 'HEAD'])")
result "upstream saw the 429, then HEADs that it answered" "$([ "$n" = true ]; echo $?)" \
	"$(requests_since "$seq0")"
result "the log says when the short budget started and that it ended" \
	"$(grep -q "rate-limited us: no requests until .* (Retry-After 2)" "$GGUFD_LOG" &&
		grep -q "upstream http://127.0.0.1:$hubport: the rate limit is over" "$GGUFD_LOG"; echo $?)" \
	"$(grep -i 'rate' "$GGUFD_LOG" | head -5)"

# --- a 400 from upstream on a read is relayed as the client's error, not a 502 ---------------------
fake_fault '[{"status": 400, "match": "/revision/v-nonsense", "host": "hub", "count": 1, "error_code": "BadRequest", "message": "Invalid rev id: v-nonsense"}]'
get bad400 "$BASE/api/models/$REPO/revision/v-nonsense"
result "upstream's 400 on a read is relayed as 400 with its code and message (a client's error, not a 502)" \
	"$([ "$CODE" = 400 ] && [ "$(header X-Error-Code "$RESP/bad400.h")" = BadRequest ] &&
		grep -q 'Invalid rev id' "$RESP/bad400.h" "$DL/bad400"; echo $?)" "$(shows bad400)"
fake_clear

# --- private and gated repos ----------------------------------------------------------------------

PRIV=ruv/secret
GATED=ruv/gated
echo 'a private file' >"$IN/secret.txt"
echo 'a gated file' >"$IN/gated.txt"
mkgguf "$IN/slow.gguf" --size 3000003 >>"$WORK/mk.log" 2>&1
PCOMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$PRIV" --commit auto --private "$IN/secret.txt" "$IN/a.gguf" \
	"$IN/slow.gguf" 2>>"$WORK/mk.log")
st1=$?
fakehub mkrepo --repos "$REPOS" --repo "$GATED" --commit auto --gated auto "$IN/gated.txt" >/dev/null 2>>"$WORK/mk.log"
st2=$?
code1=$(gcurl -o /dev/null -w '%{http_code}' "$HUB/$PRIV/resolve/main/secret.txt")
code2=$(gcurl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$HUB/api/models/$PRIV")
code3=$(gcurl -o /dev/null -w '%{http_code}' "$HUB/api/models/$GATED")
code4=$(gcurl -o /dev/null -w '%{http_code}' "$HUB/$GATED/resolve/main/gated.txt")
result "the fake Hub hides a --private repo from anonymous clients (401) and shows it to its token; a --gated repo's API is open, its files are not" \
	"$([ "$st1$st2" = 00 ] && [ "$code1 $code2 $code3 $code4" = "401 200 200 401" ]; echo $?)" \
	"mkrepo $st1 $st2; codes $code1 $code2 $code3 $code4" "$(tail -c 500 "$WORK/mk.log")"

READ=$("$GGUFD" token add reader --scope read --store "$S" 2>>"$WORK/token.err")
result "a ggufd read token is made" "$([[ $READ == hf_* ]]; echo $?)" "$(cat "$WORK/token.err")"
fake_clear
if HF_TOKEN=$TOKEN start_ggufd "$S" --upstream "$HUB"; then
	ok "ggufd with the upstream token starts"
else
	not_ok "ggufd with the upstream token starts"
fi
result "the start-up log says that private repos need a read token unless listed with --public-repo" \
	"$(grep -q 'private and gated upstream repos .* need a ggufd read token unless listed with --public-repo' "$GGUFD_LOG"; echo $?)" \
	"$(head -c 1500 "$GGUFD_LOG")"

get p1 "$BASE/$PRIV/resolve/main/secret.txt"
r1=$([ "$CODE" = 401 ] && [ "$(header X-Error-Code "$RESP/p1.h")" = RepoNotFound ]; echo $?)
get p2 "$BASE/api/models/$PRIV"
r2=$([ "$CODE" = 401 ] && [ "$(header X-Error-Code "$RESP/p2.h")" = RepoNotFound ]; echo $?)
get p3 "$BASE/api/models/$PRIV/tree/main"
r3=$([ "$CODE" = 401 ]; echo $?)
get p4 "$BASE/$PRIV/resolve/main/a.gguf" -H "Authorization: Bearer hf_not_a_ggufd_token"
r4=$([ "$CODE" = 401 ] && ! exact "$DL/p4" "$IN/a.gguf"; echo $?)
result "an anonymous client (or one with a token ggufd does not know) gets 401 RepoNotFound for the private repo's file, info and tree" \
	"$([ "$r1$r2$r3$r4" = 0000 ]; echo $?)" "$r1$r2$r3$r4" "$(shows p1)" "$(shows p2)" "$(shows p3)" "$(shows p4)"
get p5 "$BASE/$PRIV/resolve/main/secret.txt" -H "Authorization: Bearer $READ"
r5=$([ "$CODE" = 200 ] && exact "$DL/p5" "$IN/secret.txt"; echo $?)
get p6 "$BASE/api/models/$PRIV" -H "Authorization: Bearer $READ"
r6=$([ "$CODE" = 200 ] && [ "$(jpy "$DL/p6" 'd.get("sha")' 2>/dev/null)" = "$PCOMMIT" ]; echo $?)
result "a client with a ggufd read token gets the private repo's file and info" \
	"$([ "$r5$r6" = 00 ]; echo $?)" "$r5$r6" "$(shows p5)" "$(shows p6)"
get p7 "$BASE/$PRIV/resolve/main/secret.txt"
result "once the file is in the store, an anonymous client still gets 401" \
	"$([ "$CODE" = 401 ] && ! exact "$DL/p7" "$IN/secret.txt"; echo $?)" "$(shows p7)"
# The fast lane keeps answers to repeat them: one given to a token must
# never be repeated to anyone else (nor a range of it, on any connection).
get p7a "$BASE/$PRIV/resolve/main/a.gguf" -H "Authorization: Bearer $READ"
get p7b "$BASE/$PRIV/resolve/main/a.gguf" -H "Authorization: Bearer $READ" -r 0-9
r1=$([ "$CODE" = 206 ] && cmp -s "$DL/p7b" <(head -c 10 "$IN/a.gguf"); echo $?)
get p7c "$BASE/$PRIV/resolve/main/a.gguf" -r 0-9
r2=$([ "$CODE" = 401 ] && ! cmp -s "$DL/p7c" <(head -c 10 "$IN/a.gguf"); echo $?)
get p7d "$BASE/$PRIV/resolve/main/a.gguf"
r3=$([ "$CODE" = 401 ] && ! exact "$DL/p7d" "$IN/a.gguf"; echo $?)
result "the private repo's GGUF, read twice with a token, is still refused (401) to anonymous range and whole requests" \
	"$([ "$r1$r2$r3" = 000 ]; echo $?)" "$r1$r2$r3" "$(shows p7b)" "$(shows p7c)" "$(shows p7d)"
BREAD=$("$GGUFD" token add reader-pub --scope read --repo "$REPO" --store "$S" 2>>"$WORK/token.err")
get p10 "$BASE/$PRIV/resolve/main/secret.txt" -H "Authorization: Bearer $BREAD"
r1=$([ "$CODE" = 401 ] && ! exact "$DL/p10" "$IN/secret.txt"; echo $?)
get p11 "$BASE/$REPO/resolve/main/config.json" -H "Authorization: Bearer $BREAD"
r2=$([ "$CODE" = 200 ] && exact "$DL/p11" "$IN/config.json"; echo $?)
result "a read token bounded to another repo (--repo $REPO) does not open the private repo (401), and reads its own" \
	"$([ "$r1$r2" = 00 ]; echo $?)" "$r1$r2" "$(shows p10)" "$(shows p11)"
get g1 "$BASE/$GATED/resolve/main/gated.txt"
r1=$([ "$CODE" = 401 ]; echo $?)
get g2 "$BASE/$GATED/resolve/main/gated.txt" -H "Authorization: Bearer $READ"
r2=$([ "$CODE" = 200 ] && exact "$DL/g2" "$IN/gated.txt"; echo $?)
result "a gated repo: anonymous 401, read token 200" "$([ "$r1$r2" = 00 ]; echo $?)" "$(shows g1)" "$(shows g2)"
get pub "$BASE/$REPO/resolve/main/config.json"
result "the public repo is served to anyone" \
	"$([ "$CODE" = 200 ] && exact "$DL/pub" "$IN/config.json"; echo $?)" "$(shows pub)"

# The dashboard's listings: the private and gated repos are in the store
# now, and named only to a read token, and to the operator: on a fresh
# install (no admin token yet) a loopback client, as for the admin routes.
ids() { jpy "$DL/$1" '" ".join(sorted(e["id"] for e in d))' 2>/dev/null; }
get l0 "$BASE/api/ggufd/repos"
r1=$([ "$CODE" = 200 ] && [ "$(ids l0)" = "$REPO $GATED $PRIV" ]; echo $?)
get l0f "$BASE/api/ggufd/files?repo=$PRIV"
r2=$([ "$CODE" = 200 ] && grep -q secret.txt "$DL/l0f"; echo $?)
result "no admin token yet: the loopback operator's listings name the private and gated repos" \
	"$([ "$r1$r2" = 00 ]; echo $?)" "$r1$r2" "$(shows l0)" "$(shows l0f)"
# From here on an admin token exists: a loopback client is anyone.
ADM=$("$GGUFD" token add operator --scope admin --store "$S" 2>>"$WORK/token.err")
get l0a "$BASE/api/ggufd/repos" -H "Authorization: Bearer $ADM"
r1=$([ "$CODE" = 200 ] && [ "$(ids l0a)" = "$REPO $GATED $PRIV" ]; echo $?)
get l0b "$BASE/api/ggufd/files?repo=$PRIV" -H "Authorization: Bearer $ADM"
r2=$([ "$CODE" = 200 ] && grep -q secret.txt "$DL/l0b"; echo $?)
result "with an admin token the listings name the private repo" \
	"$([[ $ADM == hf_* ]] && [ "$r1$r2" = 00 ]; echo $?)" "$r1$r2" "$(shows l0a)" "$(shows l0b)"
get l1 "$BASE/api/ggufd/repos"
r1=$([ "$CODE" = 200 ] && [ "$(ids l1)" = "$REPO" ]; echo $?)
get l2 "$BASE/api/ggufd/repos" -H "Authorization: Bearer $READ"
r2=$([ "$CODE" = 200 ] && [ "$(ids l2)" = "$REPO $GATED $PRIV" ]; echo $?)
get l3 "$BASE/api/ggufd/repos" -H "Authorization: Bearer $BREAD"
r3=$([ "$CODE" = 200 ] && [ "$(ids l3)" = "$REPO" ]; echo $?)
result "/api/ggufd/repos names the private and gated repos only to a read token (anonymous, and one bounded to $REPO: that one only)" \
	"$([ "$r1$r2$r3" = 000 ]; echo $?)" "$r1$r2$r3" "$(shows l1)" "$(shows l2)" "$(shows l3)"
get l4 "$BASE/api/ggufd/files?repo=$PRIV"
r1=$([ "$CODE" = 401 ] && [ "$(header X-Error-Code "$RESP/l4.h")" = RepoNotFound ] &&
	! grep -q secret.txt "$DL/l4"; echo $?)
get l5 "$BASE/api/ggufd/files?repo=$PRIV" -H "Authorization: Bearer $READ"
r2=$([ "$CODE" = 200 ] &&
	[ "$(jpy "$DL/l5" '" ".join(sorted(f["path"] for f in d["files"]))')" = "a.gguf secret.txt" ]; echo $?)
get l6 "$BASE/api/ggufd/files?repo=$REPO"
r3=$([ "$CODE" = 200 ] && grep -q config.json "$DL/l6"; echo $?)
get l7 "$BASE/api/ggufd/files?repo=$GATED"
r4=$([ "$CODE" = 401 ]; echo $?)
result "/api/ggufd/files: the private and gated repos' files get 401 RepoNotFound without a read token and are listed with one; the public repo's to anyone" \
	"$([ "$r1$r2$r3$r4" = 0000 ]; echo $?)" "$r1$r2$r3$r4" "$(shows l4)" "$(shows l5)" "$(shows l7)"
get l8 "$BASE/api/ggufd/disk"
r1=$([ "$CODE" = 200 ] && ! grep -q "$PRIV\|$GATED" "$DL/l8" && grep -q "$REPO" "$DL/l8" &&
	! grep -q "$(sha256sum <"$IN/secret.txt" | cut -c1-64)" "$DL/l8"; echo $?)
get l9 "$BASE/api/ggufd/disk" -H "Authorization: Bearer $READ"
r2=$([ "$CODE" = 200 ] && grep -q "$PRIV" "$DL/l9"; echo $?)
result "/api/ggufd/disk names the private repo's files only to a read token (anonymous: not even its own blobs)" \
	"$([ "$r1$r2" = 00 ]; echo $?)" "$r1$r2" "$(shows l8)" "$(shows l9)"
# A fetch in flight (the fake Hub throttled to 1 MB/s: 3 s for the file).
fake_fault '{"throttle_bps": 1000000, "count": -1}'
gcurl --max-time 60 -o "$DL/slow" -H "Authorization: Bearer $READ" "$BASE/$PRIV/resolve/main/slow.gguf" &
SLOW=$!
seen=1 leak=0
for _ in $(seq 100); do
	gcurl --max-time 5 -o "$DL/a1" "$BASE/api/ggufd/activity"
	gcurl --max-time 5 -o "$DL/a2" -H "Authorization: Bearer $READ" "$BASE/api/ggufd/activity"
	grep -q slow.gguf "$DL/a1" && leak=1
	grep -q slow.gguf "$DL/a2" && seen=0 && break
	sleep 0.05
done
# Asked anonymously between two answers to the token that both show it.
gcurl --max-time 5 -o "$DL/a1" "$BASE/api/ggufd/activity"
gcurl --max-time 5 -o "$DL/a3" -H "Authorization: Bearer $READ" "$BASE/api/ggufd/activity"
grep -q slow.gguf "$DL/a3" || seen=1
wait "$SLOW"
st=$?
fake_clear
result "/api/ggufd/activity shows the private repo's fetch in flight to a read token, not to an anonymous client" \
	"$([ "$seen$leak$st" = 000 ] && exact "$DL/slow" "$IN/slow.gguf" && grep -q '"fetches":\[\]' "$DL/a1"; echo $?)" \
	"seen $seen leak $leak curl $st" "$(head -c 600 "$DL/a1")" "$(head -c 600 "$DL/a2")"
# A public repo the operator pulls (nobody read it anonymously): ggufd
# asks upstream whether it is public as the pull starts, and the listings
# name it to anyone.
PULLED=ruv/pulled
echo 'pulled' >"$IN/pulled.txt"
fakehub mkrepo --repos "$REPOS" --repo "$PULLED" --commit auto "$IN/pulled.txt" >/dev/null 2>>"$WORK/mk.log"
pj=$(gcurl -o "$WORK/pj.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $ADM" --data-binary "{\"repo\":\"$PULLED\"}" "$BASE/api/ggufd/pull")
pid=$(jpy "$WORK/pj.json" 'd.get("id")' 2>/dev/null)
state=
for ((i = 0; i < 200; i++)); do
	gcurl -o "$WORK/pjob.json" -H "Authorization: Bearer $ADM" "$BASE/api/ggufd/pull/$pid"
	state=$(jpy "$WORK/pjob.json" 'd.get("state")' 2>/dev/null)
	[ "$state" = running ] || break
	sleep "$GG_POLL"
done
get l10 "$BASE/api/ggufd/repos"
result "a public repo pulled by the operator is named to anyone (and the private ones still not)" \
	"$([ "$pj $state" = "202 done" ] && [ "$(ids l10)" = "$REPO $PULLED" ]; echo $?)" \
	"pull $pj, state $state" "$(shows l10)"
# The upstream's last error names the URL it failed on: its path only to
# those who may see every repo.
fake_fault '{"status": 500, "count": -1}'
get e0 "$BASE/$PRIV/resolve/main/not-there.txt" -H "Authorization: Bearer $READ"
fake_clear
get e1 "$BASE/api/ggufd/activity"
le1=$(jpy "$DL/e1" 'd["upstream"]["lastError"]' 2>/dev/null)
get e2 "$BASE/api/ggufd/activity" -H "Authorization: Bearer $READ"
le2=$(jpy "$DL/e2" 'd["upstream"]["lastError"]' 2>/dev/null)
result "/api/ggufd/activity: the upstream's last error shows the failed URL's path (the private repo) and upstream's words to a read token, to others only its host and the status" \
	"$([[ $le1 == *"://"*"/...: HTTP 500" && $le1 != *secret* && $le2 == *"$PRIV/resolve/"*"HTTP 500: "?* ]]; echo $?)" \
	"anonymous: $le1" "read token: $le2"

if HF_TOKEN=$TOKEN start_ggufd "$S" --upstream "$HUB" --public-repo "$PRIV"; then
	get p8 "$BASE/$PRIV/resolve/main/secret.txt"
	r1=$([ "$CODE" = 200 ] && exact "$DL/p8" "$IN/secret.txt"; echo $?)
	get p9 "$BASE/api/models/$PRIV"
	r2=$([ "$CODE" = 200 ]; echo $?)
	get g3 "$BASE/$GATED/resolve/main/gated.txt"
	r3=$([ "$CODE" = 401 ]; echo $?)
	result "--public-repo serves that private repo to anyone (file and info), and only that one" \
		"$([ "$r1$r2$r3" = 000 ]; echo $?)" "$r1$r2$r3" "$(shows p8)" "$(shows p9)" "$(shows g3)"
	result "the start-up log counts the listed repo" \
		"$(grep -q 'unless listed with --public-repo (1 listed)' "$GGUFD_LOG"; echo $?)" "$(grep private "$GGUFD_LOG")"
else
	not_ok "ggufd --public-repo starts"
	not_ok "the start-up log counts the listed repo"
fi
if HF_TOKEN=$TOKEN start_ggufd "$S" --upstream "$HUB" --require-token-for-read; then
	get q1 "$BASE/$PRIV/resolve/main/secret.txt" -H "Authorization: Bearer $BREAD"
	r1=$([ "$CODE" = 403 ] && [ "$(header X-Error-Code "$RESP/q1.h")" = Forbidden ] &&
		! exact "$DL/q1" "$IN/secret.txt"; echo $?)
	get q2 "$BASE/$REPO/resolve/main/config.json" -H "Authorization: Bearer $BREAD"
	r2=$([ "$CODE" = 200 ] && exact "$DL/q2" "$IN/config.json"; echo $?)
	get q3 "$BASE/$PRIV/resolve/main/secret.txt" -H "Authorization: Bearer $READ"
	r3=$([ "$CODE" = 200 ] && exact "$DL/q3" "$IN/secret.txt"; echo $?)
	result "--require-token-for-read: the bounded read token gets 403 naming the rule outside its repo and 200 in it; an unbounded one reads the private repo" \
		"$([ "$r1$r2$r3" = 000 ]; echo $?)" "$r1$r2$r3" "$(shows q1)" "$(shows q2)" "$(shows q3)"
	# The listings keep to the bounds too, for public repos as well.
	get q4 "$BASE/api/ggufd/repos" -H "Authorization: Bearer $BREAD"
	r1=$([ "$CODE" = 200 ] && [ "$(ids q4)" = "$REPO" ]; echo $?)
	get q5 "$BASE/api/ggufd/files?repo=$PULLED" -H "Authorization: Bearer $BREAD"
	r2=$([ "$CODE" = 403 ] && ! grep -q pulled.txt "$DL/q5"; echo $?)
	get q6 "$BASE/api/ggufd/files?repo=$REPO" -H "Authorization: Bearer $BREAD"
	r3=$([ "$CODE" = 200 ]; echo $?)
	result "--require-token-for-read: a bounded token's listings name its repo only, public ones outside its bounds get 403" \
		"$([ "$r1$r2$r3" = 000 ]; echo $?)" "$r1$r2$r3" "$(shows q4)" "$(shows q5)" "$(shows q6)"
else
	not_ok "ggufd --require-token-for-read starts"
	not_ok "the listings under --require-token-for-read"
fi
# --public-repo from the config file, changed under a running server.
echo '# no public repo yet' >"$WORK/pub.conf"
if HF_TOKEN=$TOKEN start_ggufd "$S" --upstream "$HUB" --config "$WORK/pub.conf"; then
	get h1 "$BASE/$PRIV/resolve/main/secret.txt"
	r1=$([ "$CODE" = 401 ]; echo $?)
	echo "public-repo = $PRIV" >"$WORK/pub.conf"
	kill -HUP "$GGUFD_PID"
	for ((i = 0; i < GG_START_POLLS; i++)); do
		grep -q 'SIGHUP: .*public-repo changed' "$GGUFD_LOG" && break
		sleep "$GG_POLL"
	done
	get h2 "$BASE/$PRIV/resolve/main/secret.txt"
	r2=$([ "$CODE" = 200 ] && exact "$DL/h2" "$IN/secret.txt"; echo $?)
	result "SIGHUP applies a --public-repo added to the config file: 401, then 200 without a restart" \
		"$([ "$r1$r2" = 00 ] && ! grep -q 'public-repo changed in .*needs a restart' "$GGUFD_LOG"; echo $?)" \
		"$r1$r2" "$(shows h1)" "$(shows h2)" "$(grep SIGHUP "$GGUFD_LOG")"
else
	not_ok "ggufd --config starts"
fi
code=$(GGUFD_PUBLIC_REPO='ruv/a/b' timeout 20 "$GGUFD" config >"$WORK/cfg.out" 2>&1; echo $?)
result "a bad --public-repo value is refused (exit 2, naming it)" \
	"$([ "$code" = 2 ] && grep -q 'GGUFD_PUBLIC_REPO' "$WORK/cfg.out"; echo $?)" "exit $code: $(cat "$WORK/cfg.out")"

# The private repo's main moves on: secret.txt's blob stays in the store,
# named at no ref.  /disk lists it (sha256, size) to those who see every
# repo, not to an anonymous client.
SSHA=$(sha256sum <"$IN/secret.txt" | cut -c1-64)
echo 'moved' >"$IN/moved.txt"
fakehub mkrepo --repos "$REPOS" --repo "$PRIV" --commit auto --private "$IN/moved.txt" >/dev/null 2>>"$WORK/mk.log"
if HF_TOKEN=$TOKEN start_ggufd "$S" --upstream "$HUB" --ref-ttl 1; then
	sleep 1.1
	get o1 "$BASE/$PRIV/resolve/main/moved.txt" -H "Authorization: Bearer $READ"
	r1=$([ "$CODE" = 200 ] && exact "$DL/o1" "$IN/moved.txt"; echo $?)
	get o2 "$BASE/api/ggufd/disk" -H "Authorization: Bearer $ADM"
	r2=$([ "$CODE" = 200 ] && grep -q "$SSHA" "$DL/o2" && ! grep -q secret.txt "$DL/o2"; echo $?)
	get o3 "$BASE/api/ggufd/disk" -H "Authorization: Bearer $READ"
	r3=$([ "$CODE" = 200 ] && grep -q "$SSHA" "$DL/o3"; echo $?)
	get o4 "$BASE/api/ggufd/disk"
	r4=$([ "$CODE" = 200 ] && ! grep -q "$SSHA" "$DL/o4" && grep -q "$REPO" "$DL/o4"; echo $?)
	get o5 "$BASE/api/ggufd/disk" -H "Authorization: Bearer $BREAD"
	r5=$([ "$CODE" = 200 ] && ! grep -q "$SSHA" "$DL/o5" && grep -q "$REPO" "$DL/o5"; echo $?)
	BADM=$("$GGUFD" token add operator-pub --scope admin --repo "$REPO" --store "$S" 2>>"$WORK/token.err")
	get o6 "$BASE/api/ggufd/disk" -H "Authorization: Bearer $BADM"
	r6=$([ "$CODE" = 200 ] && grep -q "$SSHA" "$DL/o6"; echo $?)
	# (The store holds fewer blobs than the ten /disk lists as "next".)
	result "/api/ggufd/disk: a blob no ref names any more (the private repo's old secret.txt) is listed to the operator (an admin token, bounded to a repo or not) and an unbounded read token, not to an anonymous client nor a read token bounded to $REPO" \
		"$([ "$r1$r2$r3$r4$r5$r6" = 000000 ]; echo $?)" "$r1$r2$r3$r4$r5$r6" "$(shows o2)" "$(shows o4)" "$(shows o5)" "$(shows o6)"
else
	not_ok "ggufd restarts for the moved private repo"
fi

stop_ggufd
result "ggufd stops cleanly" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" "status $GGUFD_STATUS"

finish
