#!/usr/bin/env bash
# hostile.sh: requests a hostile client sends, answered locally and at once.
#
# A fake Hub (tests/fakehub/fakehub.py --token UP) holds ruv/ruvltra; a ggufd
# with HF_TOKEN=UP mirrors it and runs the upload gateway.  Each hostile
# request must get the right status with a Hub-style error (X-Error-Code,
# X-Error-Message, a JSON body), and the fake Hub must see no request for
# it (its request log, /_fake/stats, counted before and after):
#   1. a NUL byte in the target (raw, which libmicrohttpd hands over as a
#      cut C string, or %00, in the path or the query, whose values
#      libmicrohttpd would hand over cut short) and bytes that are not
#      UTF-8 in a path or revision: 400 BadRequest;
#   2. malformed paths-info bodies (bad JSON, a non-string path, paths not
#      an array, not UTF-8, a \u0000 escape; a form with %FF, %00 or a bad
#      escape) and a commit whose path holds \u0000: 400 BadRequest;
#   3. a target (path and query) over 8 KiB: 414 URITooLong;
#   4. empty uploads: an empty .gitattributes is published (plain PUT and
#      a Hub commit), an empty .gguf is refused with the real reason (422);
#   5. a Content-Length over a route's cap, with no body sent: 413 at once
#      and the connection closed (paths-info, commit, a plain PUT over
#      --upload-max-size).
# Then ggufd is still up and a GGUF downloads byte-exact.
# Raw requests go through a small Python socket client (every read bounded
# by a socket timeout); curl --path-as-is for the rest.  No timing
# assertions; every wait is bounded.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

plan 39

REPO=ruv/ruvltra
IN=$WORK/in
RESP=$WORK/resp
REPOS=$WORK/repos
S=$WORK/store
mkdir -p "$IN" "$RESP" "$REPOS"
UP=hf_up$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
GGUF=ruvltra-0.5b-q4_k_m.gguf

# --- helpers -------------------------------------------------------------------

# raw NAME PYBYTES [SEND_BODY]: sends the Python bytes literal PYBYTES as is
# to ggufd over one connection and reads the answer until the server closes
# or 20 s pass without a byte.  $RESP/NAME.json: {"status", "headers"
# (lower-case names), "body", "eof"} (eof: the server closed the
# connection).  Prints the status ("none" when nothing came).
cat >"$WORK/raw.py" <<'PYEOF'
import ast, json, socket, sys
base, out, lit = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = base.split("//", 1)[1].split(":")
data = ast.literal_eval(lit)
res = {"status": None, "headers": {}, "body": "", "eof": False}
buf = b""
try:
    s = socket.create_connection((host, int(port)), timeout=20)
    s.sendall(data)
    while len(buf) < (4 << 20):
        c = s.recv(65536)
        if not c:
            res["eof"] = True
            break
        buf += c
        head, sep, body = buf.partition(b"\r\n\r\n")
        if sep:
            cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if cl and len(body) >= int(cl[0].split(b":", 1)[1]):
                # The whole answer is in: does the server close now?
                s.settimeout(20)
                try:
                    res["eof"] = s.recv(1) == b""
                except OSError:
                    pass
                break
    s.close()
except OSError as e:
    res["error"] = repr(e)
head, sep, body = buf.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
if lines and lines[0].startswith("HTTP/"):
    res["status"] = int(lines[0].split()[1])
    for l in lines[1:]:
        k, _, v = l.partition(":")
        res["headers"][k.strip().lower()] = v.strip()
res["body"] = body.decode("utf-8", "replace")
json.dump(res, open(out, "w"))
print(res["status"] if res["status"] is not None else "none")
PYEOF
raw() {
	timeout 60 python3 "$WORK/raw.py" "$BASE" "$RESP/$1.json" "$2"
}
# req NAME CURL-ARGS...: one request with curl; $RESP/NAME.h and .b; prints the status.
req() {
	local name=$1
	shift
	gcurl --path-as-is -D "$RESP/$name.h" -o "$RESP/$name.b" -w '%{http_code}' "$@"
}
# hub_err NAME CODE WORDS: a saved curl answer is a Hub-style error: X-Error-Code
# CODE, WORDS in X-Error-Message and in the JSON body's "error".
hub_err() {
	local m
	m=$(header X-Error-Message "$RESP/$1.h")
	[ "$(header X-Error-Code "$RESP/$1.h")" = "$2" ] && [[ $m == *"$3"* ]] &&
		[ "$(jpy "$RESP/$1.b" "'$3' in d['error'] and d.get('code') == '$2'" 2>/dev/null)" = true ]
}
# raw_err NAME CODE WORDS: the same for a raw answer.
raw_err() {
	[ "$(jpy "$RESP/$1.json" "d['headers'].get('x-error-code') == '$2' and '$3' in d['headers'].get('x-error-message', '') and '$3' in json.loads(d['body'])['error']" 2>/dev/null)" = true ]
}
# shows NAME: a saved answer, for diagnostics.
shows() {
	head -c 1200 "$RESP/$1.h" "$RESP/$1.b" "$RESP/$1.json" 2>/dev/null | LC_ALL=C tr -c '[:print:]\n' '.'
}
# hub_n: how many requests the fake Hub has seen.
hub_n() {
	fake_stats "$WORK/stats.json" >/dev/null && jpy "$WORK/stats.json" 'len(reqs)'
}
# hub_new N: the requests the fake Hub saw after the first N (diagnostics).
hub_new() {
	fake_stats "$WORK/stats.json" >/dev/null &&
		jpy "$WORK/stats.json" "[(r['method'], r['path'][:100], r['status']) for r in reqs[$1:]]"
}
AUTH() { printf 'Authorization: Bearer %s' "$TOK"; }

# --- setup ---------------------------------------------------------------------------

mkst=0
mkgguf "$IN/$GGUF" --size 300000 >>"$WORK/mk.log" 2>&1 || mkst=1
printf '{"model_type": "qwen2"}\n' >"$IN/config.json"
printf -- '---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# RuvLTRA\n' >"$IN/README.md"
fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main "$IN/config.json" \
	"$IN/README.md" "$IN/$GGUF" >>"$WORK/mk.log" 2>&1 || mkst=1
TOK=$("$GGUFD" token add ci --scope upload --store "$S" 2>>"$WORK/mk.log")
: >"$IN/empty"
if [ $mkst != 0 ] || [ -z "$TOK" ] || ! start_fakehub "$REPOS" --token "$UP" ||
	! HF_TOKEN=$UP start_ggufd "$S" --upstream "$HUB" --upload-max-size 6000000; then
	not_ok "test data, fake Hub and ggufd ready" "$(tail -c 2000 "$WORK/mk.log")"
	finish
	exit
fi
# Warm up: the repo's main is known, so nothing below needs upstream but
# what it asks for.
code=$(req warm "$BASE/$REPO/resolve/main/config.json")
result "test data, fake Hub and ggufd ready (a normal download is 200)" \
	"$([ "$code" = 200 ] && cmp -s "$RESP/warm.b" "$IN/config.json"; echo $?)" "$(shows warm)"

# --- 1. NUL bytes and bytes that are not UTF-8 in the target ------------------------------

n0=$(hub_n)
code=$(raw nul_raw 'b"GET /ruv/ruvltra/resolve/main/config.json\x00/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"')
result "a raw NUL byte in the path is 400 BadRequest naming it (not config.json)" \
	"$([ "$code" = 400 ] && raw_err nul_raw BadRequest 'NUL byte'; echo $?)" "$(shows nul_raw)"
code=$(raw nul_raw_q 'b"GET /ruv/ruvltra/resolve/main/config.json?x=\x00y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"')
result "a raw NUL byte in the query is 400 BadRequest" \
	"$([ "$code" = 400 ] && raw_err nul_raw_q BadRequest 'NUL byte'; echo $?)" "$(shows nul_raw_q)"
code=$(req nul_q_cursor "$BASE/api/models/$REPO/tree/main?cursor=ab%00cd")
c2=$(req nul_q_expand "$BASE/api/models/$REPO?expand=sha%00x")
c3=$(req nul_q_resolve "$BASE/$REPO/resolve/main/config.json?download=%00")
result "%00 in the query (a tree cursor, an info expand, a resolve) is 400 BadRequest, never a value cut short" \
	"$([ "$code" = 400 ] && [ "$c2" = 400 ] && [ "$c3" = 400 ] && hub_err nul_q_cursor BadRequest 'NUL byte' &&
		hub_err nul_q_resolve BadRequest '%00 in the query'; echo $?)" "$code $c2 $c3" "$(shows nul_q_cursor)"
code=$(req utf8_q_cursor "$BASE/api/models/$REPO/tree/main?cursor=ab%FFcd")
c2=$(req utf8_q_path "$BASE/api/models/$REPO/tree/main?cursor=%C3")
result "a query that is not UTF-8 once decoded (%FF, a cut %C3) is 400 BadRequest, not sent upstream" \
	"$([ "$code" = 400 ] && [ "$c2" = 400 ] && hub_err utf8_q_cursor BadRequest 'not UTF-8'; echo $?)" \
	"$code $c2" "$(shows utf8_q_cursor)"
code=$(req nul_pct "$BASE/$REPO/resolve/main/config.json%00/../../etc/passwd")
result "%00 in the path is 400 BadRequest 'a NUL byte (%00)'" \
	"$([ "$code" = 400 ] && hub_err nul_pct BadRequest 'NUL byte (%00)'; echo $?)" "$(shows nul_pct)"
code=$(req nul_rev "$BASE/$REPO/resolve/ma%00in/config.json")
result "%00 in the revision is 400 BadRequest" \
	"$([ "$code" = 400 ] && hub_err nul_rev BadRequest 'NUL byte (%00)'; echo $?)" "$(shows nul_rev)"
code=$(req utf8_pct "$BASE/$REPO/resolve/main/conf%FFig.json")
c2=$(req utf8_long "$BASE/$REPO/resolve/main/a%C0%AF..%C0%AFconfig.json")
result "%FF and an overlong %C0%AF in the path are 400 BadRequest 'not UTF-8'" \
	"$([ "$code" = 400 ] && [ "$c2" = 400 ] && hub_err utf8_pct BadRequest 'not UTF-8' &&
		hub_err utf8_long BadRequest 'not UTF-8'; echo $?)" "$(shows utf8_pct)" "$(shows utf8_long)"
code=$(raw utf8_raw 'b"GET /ruv/ruvltra/resolve/main/conf\xffig.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"')
result "a raw 0xFF byte in the path is 400 BadRequest 'not UTF-8'" \
	"$([ "$code" = 400 ] && raw_err utf8_raw BadRequest 'not UTF-8'; echo $?)" "$(shows utf8_raw)"
code=$(req utf8_rev "$BASE/$REPO/resolve/ma%FFin/config.json")
c2=$(req utf8_tree "$BASE/api/models/$REPO/tree/main/sub%E6%97")
c3=$(req utf8_pi -X POST -d 'paths=config.json' "$BASE/api/models/$REPO/paths-info/%C3")
result "not UTF-8 in a resolve revision, a tree path, a paths-info revision: 400 each" \
	"$([ "$code" = 400 ] && [ "$c2" = 400 ] && [ "$c3" = 400 ] && hub_err utf8_rev BadRequest 'not UTF-8' &&
		hub_err utf8_tree BadRequest 'not UTF-8'; echo $?)" "$code $c2 $c3" "$(shows utf8_tree)"
n1=$(hub_n)
result "the fake Hub saw none of the requests above" "$([ -n "$n0" ] && [ "$n0" = "$n1" ]; echo $?)" \
	"new upstream requests: $(hub_new "${n0:-0}")"

# --- 2. malformed bodies are refused before anything goes upstream ---------------------------

PI=$BASE/api/models/$REPO/paths-info/main
J='Content-Type: application/json'
n0=$(hub_n)
code=$(req pi_badjson -H "$J" -d '{not json' "$PI")
result "paths-info: malformed JSON is 400 BadRequest 'not valid JSON'" \
	"$([ "$code" = 400 ] && hub_err pi_badjson BadRequest 'not valid JSON'; echo $?)" "$(shows pi_badjson)"
code=$(req pi_num -H "$J" -d '{"paths":["config.json",1]}' "$PI")
c2=$(req pi_str -H "$J" -d '{"paths":"config.json"}' "$PI")
result "paths-info: a non-string path, or paths not an array, is 400 BadRequest" \
	"$([ "$code" = 400 ] && [ "$c2" = 400 ] && hub_err pi_num BadRequest 'must hold strings' &&
		hub_err pi_str BadRequest '"paths" array'; echo $?)" "$(shows pi_num)" "$(shows pi_str)"
printf '{"paths":["conf\377ig.json"]}' >"$WORK/pi_ff.json"
code=$(req pi_ff -H "$J" --data-binary @"$WORK/pi_ff.json" "$PI")
result "paths-info: a JSON path that is not UTF-8 is 400 BadRequest" \
	"$([ "$code" = 400 ] && hub_err pi_ff BadRequest 'not UTF-8'; echo $?)" "$(shows pi_ff)"
code=$(req pi_nul -H "$J" -d '{"paths":["config.json\u0000.exe"]}' "$PI")
result "paths-info: a \\u0000 escape in a JSON path is 400 BadRequest" \
	"$([ "$code" = 400 ] && hub_err pi_nul BadRequest 'u0000'; echo $?)" "$(shows pi_nul)"
code=$(req pi_fff -d 'paths=conf%FFig.json' "$PI")
c2=$(req pi_f00 -d 'paths=config.json%00.exe' "$PI")
c3=$(req pi_fbad -d 'paths=config.json%zz' "$PI")
result "paths-info: a form with %FF, %00 or a bad escape is 400 BadRequest 'Malformed form body'" \
	"$([ "$code" = 400 ] && [ "$c2" = 400 ] && [ "$c3" = 400 ] && hub_err pi_fff BadRequest 'not UTF-8' &&
		hub_err pi_f00 BadRequest 'NUL' && hub_err pi_fbad BadRequest 'percent-escape'; echo $?)" \
	"$code $c2 $c3" "$(shows pi_fff)"
printf '%s\n' '{"key":"header","value":{"summary":"nul"}}' \
	'{"key":"file","value":{"path":"notes.txt\u0000.exe","content":"aGk=","encoding":"base64"}}' >"$WORK/nul.ndjson"
code=$(req commit_nul -H "$(AUTH)" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/nul.ndjson" \
	"$BASE/api/models/$REPO/commit/main")
result "commit: a path with a \\u0000 escape is 400 BadRequest, nothing published as notes.txt" \
	"$([ "$code" = 400 ] && hub_err commit_nul BadRequest 'u0000'; echo $?)" "$(shows commit_nul)"
n1=$(hub_n)
result "the fake Hub saw none of the malformed bodies" "$([ -n "$n0" ] && [ "$n0" = "$n1" ]; echo $?)" \
	"new upstream requests: $(hub_new "${n0:-0}")"
code=$(req pi_ok -H "$J" -d '{"paths":["config.json"]}' "$PI")
n2=$(hub_n)
result "a well-formed paths-info still answers (200, config.json) through upstream" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/pi_ok.b" "[e['path'] for e in d]")" = '["config.json"]' ] &&
		[ "$n2" -gt "$n1" ]; echo $?)" "$(shows pi_ok)" "upstream requests $n1 -> $n2"

# --- 3. long targets --------------------------------------------------------------------------

n0=$(hub_n)
pad9=$(head -c 9000 /dev/zero | tr '\0' 'a')
pad20=$(head -c 20000 /dev/zero | tr '\0' 'a')
code=$(req long9 "$BASE/api/models/$REPO/tree/main?x=$pad9")
c2=$(req long20 "$BASE/api/models/$REPO?x=$pad20")
c3=$(req long_path "$BASE/$REPO/resolve/main/$pad9")
result "a 9000- or 20000-byte query, or a 9000-byte path, is 414 URITooLong" \
	"$([ "$code" = 414 ] && [ "$c2" = 414 ] && [ "$c3" = 414 ] && hub_err long9 URITooLong 'over 8192 bytes' &&
		hub_err long20 URITooLong 'URI too long'; echo $?)" "$code $c2 $c3" "$(shows long9)"
n1=$(hub_n)
result "the fake Hub saw none of the long targets" "$([ -n "$n0" ] && [ "$n0" = "$n1" ]; echo $?)" \
	"new upstream requests: $(hub_new "${n0:-0}")"
pad7=$(head -c 7000 /dev/zero | tr '\0' 'a')
code=$(req long7a "$BASE/api/models/$REPO?x=${pad7}&expand=sha")
c2=$(req long7b "$BASE/api/models/$REPO?x=${pad7}&expand=lastModified")
result "targets under 8 KiB that differ only at their end are two answers, not one cached" \
	"$([ "$code" = 200 ] && [ "$c2" = 200 ] && [ "$(jpy "$RESP/long7a.b" "('sha' in d, 'lastModified' in d)")" = "(True, False)" ] &&
		[ "$(jpy "$RESP/long7b.b" "('sha' in d, 'lastModified' in d)")" = "(False, True)" ]; echo $?)" \
	"$code $c2" "$(head -c 300 "$RESP/long7a.b")" "$(head -c 300 "$RESP/long7b.b")"

# --- 4. empty uploads -------------------------------------------------------------------------

commits() { fake_stats "$WORK/stats.json" >/dev/null && jpy "$WORK/stats.json" 'len(d["commits"])'; }
c0=$(commits)
code=$(req put_empty -H "$(AUTH)" -T "$IN/empty" "$BASE/api/ggufd/upload/$REPO/.gitattributes")
result "plain PUT of an empty .gitattributes is published (200 done)" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/put_empty.b" 'd["state"]')" = "done" ]; echo $?)" "$(shows put_empty)"
code=$(req get_empty "$BASE/$REPO/resolve/main/.gitattributes")
result "... and downloads from ggufd as 0 bytes" \
	"$([ "$code" = 200 ] && [ "$(header Content-Length "$RESP/get_empty.h")" = 0 ]; echo $?)" "$(shows get_empty)"
printf '%s\n' '{"key":"header","value":{"summary":"empty"}}' \
	'{"key":"file","value":{"path":"empty.txt","content":"","encoding":"base64"}}' >"$WORK/empty.ndjson"
code=$(req commit_empty -H "$(AUTH)" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/empty.ndjson" \
	"$BASE/api/models/$REPO/commit/main")
result "Hub commit with an empty regular file is published (200, a commit id)" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/commit_empty.b" 'len(d["commitOid"])')" = 40 ]; echo $?)" "$(shows commit_empty)"
c1=$(commits)
result "both reached the fake Hub as commits" "$([ -n "$c0" ] && [ "$c1" = $((c0 + 2)) ]; echo $?)" "commits $c0 -> $c1"
code=$(req put_empty_gguf -H "$(AUTH)" -T "$IN/empty" "$BASE/api/ggufd/upload/$REPO/ruvltra-3b-q4_k_m.gguf")
result "plain PUT of an empty .gguf is 422 PolicyViolation 'an empty file is not a valid GGUF file'" \
	"$([ "$code" = 422 ] && hub_err put_empty_gguf PolicyViolation 'an empty file is not a valid GGUF file' &&
		! grep -q hash "$RESP/put_empty_gguf.b"; echo $?)" "$(shows put_empty_gguf)"
printf '%s\n' '{"key":"header","value":{"summary":"empty gguf"}}' \
	'{"key":"file","value":{"path":"ruvltra-3b-q4_k_m.gguf","content":"","encoding":"base64"}}' >"$WORK/empty_gguf.ndjson"
code=$(req commit_empty_gguf -H "$(AUTH)" -H 'Content-Type: application/x-ndjson' \
	--data-binary @"$WORK/empty_gguf.ndjson" "$BASE/api/models/$REPO/commit/main")
result "Hub commit of an empty .gguf is 422 with the same reason, not a hash mismatch" \
	"$([ "$code" = 422 ] && hub_err commit_empty_gguf PolicyViolation 'an empty file is not a valid GGUF file' &&
		! grep -q hash "$RESP/commit_empty_gguf.b"; echo $?)" "$(shows commit_empty_gguf)"
result "neither empty .gguf reached the fake Hub" "$([ "$(commits)" = "$c1" ]; echo $?)" "commits: $(commits)"

# --- 5. a declared body over the cap: 413 at once --------------------------------------------

n0=$(hub_n)
code=$(raw cl_pi 'b"POST /api/models/ruv/ruvltra/paths-info/main HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"')
result "paths-info declaring 5 MB, no body sent: 413 PayloadTooLarge naming the cap" \
	"$([ "$code" = 413 ] && raw_err cl_pi PayloadTooLarge 'at most 1048576 bytes'; echo $?)" "$(shows cl_pi)"
result "... with Connection: close, and the connection is closed" \
	"$([ "$(jpy "$RESP/cl_pi.json" "d['headers'].get('connection', '').lower() == 'close' and d['eof']")" = true ]; echo $?)" \
	"$(shows cl_pi)"
code=$(raw cl_commit "b\"POST /api/models/ruv/ruvltra/commit/main HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $TOK\\r\\nContent-Type: application/x-ndjson\\r\\nContent-Length: 300000000\\r\\n\\r\\n\"")
result "commit declaring 300 MB, no body sent: 413 at once, connection closed" \
	"$([ "$code" = 413 ] && raw_err cl_commit PayloadTooLarge 'at most 268435456 bytes' &&
		[ "$(jpy "$RESP/cl_commit.json" "d['eof']")" = true ]; echo $?)" "$(shows cl_commit)"
code=$(raw cl_put "b\"PUT /api/ggufd/upload/ruv/ruvltra/$GGUF HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $TOK\\r\\nContent-Length: 7000000\\r\\n\\r\\n\"")
result "plain PUT declaring more than --upload-max-size, no body sent: 413 at once, connection closed" \
	"$([ "$code" = 413 ] && raw_err cl_put PolicyViolation 'over the upload limit' &&
		[ "$(jpy "$RESP/cl_put.json" "d['eof']")" = true ]; echo $?)" "$(shows cl_put)"
n1=$(hub_n)
result "the fake Hub saw none of the oversized requests" "$([ -n "$n0" ] && [ "$n0" = "$n1" ]; echo $?)" \
	"new upstream requests: $(hub_new "${n0:-0}")"

# --- after all that ---------------------------------------------------------------------------

result "ggufd is still running" "$(kill -0 "$GGUFD_PID" 2>/dev/null; echo $?)" "$(tail -c 1500 "$GGUFD_LOG")"
code=$(req healthz "$BASE/healthz")
result "/healthz answers 200" "$([ "$code" = 200 ]; echo $?)" "$(shows healthz)"
code=$(gcurl -o "$WORK/dl.gguf" -w '%{http_code}' "$BASE/$REPO/resolve/main/$GGUF")
result "a GGUF downloads through ggufd byte-exact" \
	"$([ "$code" = 200 ] && cmp -s "$WORK/dl.gguf" "$IN/$GGUF"; echo $?)" "status $code"
code=$(raw keepalive 'b"GET /ruv/ruvltra/resolve/main/config.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"')
result "and a raw request on a new connection still gets config.json" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/keepalive.json" "d['body']")" = "$(cat "$IN/config.json")" ]; echo $?)" \
	"$(shows keepalive)"
stop_ggufd
result "ggufd stops cleanly (exit 0)" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" "status $GGUFD_STATUS"

finish
