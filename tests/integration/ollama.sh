#!/usr/bin/env bash
# ollama.sh: Ollama pulls through ggufd's registry front (/v2/...).
#
# ollama_client.py replays Ollama's requests exactly as shared/CLIENTS.md
# section 2 gives them (ollama v0.33.0-rc2): the manifest with its Accept
# header and UA, a HEAD of each blob, the probe GET that must carry a
# Location, up to 16 parallel ranges that Ollama copies without looking at
# the status, and the final sha256 check.  Against the fake Hub through a
# mirroring ggufd, cold and warm, and against a local registry:
#   - the manifest: model, projector, template and params layers and a
#     config; tags (Q4_K_M, latest, case, a file name); 404 MANIFEST_UNKNOWN;
#     400 for a split GGUF pulled by Ollama (llama.cpp still gets it);
#     401 for a private repo; HEAD = GET's headers;
#   - blobs: Content-Length on HEAD, the probe's Location, 206 ranges, no
#     compression, byte-exact and verified, one upstream transfer, none warm;
#     404 BLOB_UNKNOWN for a digest the repo does not name;
#   - a cold pull whose upstream fetch outlasts the stall window (the fake
#     Hub throttles the CDN; the window is scaled from 30 s to 2 s) ends
#     with a verified blob and no wrong byte.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_env

plan 33

TOKEN=hf_upstreamsecret
CLIENT=$TOP_SRCDIR/tests/integration/ollama_client.py
IN=$WORK/in
REPOS=$WORK/repos
mkdir -p "$IN" "$REPOS"
OLLAMA_UA="ollama/0.33.0 (amd64 linux) Go/go1.24.4"
ACCEPT="application/vnd.docker.distribution.manifest.v2+json"
# Ollama's numbers scaled down: parts of 256 KiB (a 4 MiB blob makes 16),
# a 2 s stall window instead of 30 s.
PULL=(--min-part 262144 --max-part 1048576 --deadline 30)

missing=
for t in curl python3 sha256sum timeout cmp; do
	have "$t" || missing="$missing $t"
done
result "tools on PATH (curl python3 sha256sum timeout cmp)" "$([ -z "$missing" ]; echo $?)" \
	"missing:$missing"

# --- the repos ----------------------------------------------------------------------------------
M4=m-Q4_K_M.gguf
M8=m-Q8_0.gguf
MM=mmproj-m-F16.gguf
SL=slow-Q4_K_M.gguf
mkst=0
mkgguf "$IN/$M4" --ftype Q4_K_M --size 4M >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$M8" --ftype Q8_0 --size 300k >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$MM" --ftype F16 --arch clip --size 100k >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$SL" --ftype Q4_K_M --size 4M --seed 7 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/s1.gguf" --ftype Q4_K_M --size 200k --seed 3 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/s2.gguf" --ftype Q4_K_M --size 200k --seed 4 >>"$WORK/mk.log" 2>&1 || mkst=1
printf '{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}<|assistant|>' >"$IN/template"
printf '{"stop":["<|user|>"],"temperature":0.7}' >"$IN/params"
printf '# test model\n' >"$IN/README.md"
fakehub mkrepo --repos "$REPOS" --repo ruv/olla --commit auto "$IN/$M4" "$IN/$M8" "$IN/$MM" \
	"$IN/template" "$IN/params" "$IN/README.md" >>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/olla-split --commit auto \
	"$IN/s1.gguf=s-Q4_K_M-00001-of-00002.gguf" "$IN/s2.gguf=s-Q4_K_M-00002-of-00002.gguf" \
	>>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/olla-priv --commit auto --private "$IN/$M8" \
	>>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/olla-slow --commit auto "$IN/$SL" \
	>>"$WORK/mk.log" 2>&1 || mkst=1
# ruv/olla-rev: git tags v1 and Q4_K_M at an older commit whose $M4 differs
# from main's; branch dev holds only an F16.
mkgguf "$IN/old.gguf" --ftype Q4_K_M --size 300k --seed 21 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/dev.gguf" --ftype F16 --size 200k --seed 22 >>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/olla-rev --commit auto --ref refs/tags/v1 \
	--ref refs/tags/Q4_K_M "$IN/old.gguf=$M4" >>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/olla-rev --commit auto "$IN/$M4" "$IN/$M8" \
	>>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/olla-rev --commit auto --ref refs/heads/dev \
	"$IN/dev.gguf=m-F16.gguf" >>"$WORK/mk.log" 2>&1 || mkst=1
result "test files made (mkgguf, fakehub mkrepo)" "$mkst" "$(tail -c 2000 "$WORK/mk.log")"
SHA_M4=$(sha256_of "$IN/$M4")
SHA_MM=$(sha256_of "$IN/$MM")
SHA_SL=$(sha256_of "$IN/$SL")
SHA_OLD=$(sha256_of "$IN/old.gguf")
SHA_DEV=$(sha256_of "$IN/dev.gguf")

# pull TAG NAME:TAG OUT [ARGS...]: the replayed pull; report in $WORK/TAG.json.
pull() {
	local tag=$1 ref=$2 out=$3
	shift 3
	timeout 120 python3 "$CLIENT" "$BASE" "${ref%%:*}" "${ref#*:}" "$out" "${PULL[@]}" "$@" \
		>"$WORK/$tag.json" 2>"$WORK/$tag.err"
	PST=$?
	[ -s "$WORK/$tag.json" ] || echo '{}' >"$WORK/$tag.json"
}

# manifest TAG NAME TAG [UA]: GET the manifest as Ollama does; $WORK/TAG.{h,json}, CODE.
manifest() {
	gcurl --max-time 30 -D "$WORK/$1.h" -o "$WORK/$1.json" -H "Accept: $ACCEPT" \
		-A "${4:-$OLLAMA_UA}" "$BASE/v2/$2/manifests/$3" 2>"$WORK/$1.err"
	CODE=$(http_status "$WORK/$1.h")
}

# --- a mirror of the fake Hub ---------------------------------------------------------------------
if ! start_fakehub "$REPOS" --token "$TOKEN" --page-size 2; then
	not_ok "fakehub starts"
	finish
	exit
fi
if ! HF_TOKEN=$TOKEN start_ggufd "$WORK/store" --upstream "$HUB" --log-level debug; then
	not_ok "ggufd serve --upstream fakehub starts"
	finish
	exit
fi
ok "fakehub and ggufd (mirroring it) start"

pull cold ruv/olla:Q4_K_M "$WORK/o1"
want_layers="[['application/vnd.ollama.image.model', 'sha256:$SHA_M4', $(file_size "$IN/$M4")], ['application/vnd.ollama.image.projector', 'sha256:$SHA_MM', $(file_size "$IN/$MM")], ['application/vnd.ollama.image.template', 'sha256:$(sha256_of "$IN/template")', $(file_size "$IN/template")], ['application/vnd.ollama.image.params', 'sha256:$(sha256_of "$IN/params")', $(file_size "$IN/params")]]"
result "cold pull ruv/olla:Q4_K_M: manifest with the model, projector, template and params layers and a config" \
	"$([ "$PST" = 0 ] && [ "$(jpy "$WORK/cold.json" "[[l['mediaType'], l['digest'], l['size']] for l in d['manifest']['layers']] == $want_layers and d['manifest']['config']['mediaType'] == 'application/vnd.docker.container.image.v1+json'")" = true ]; echo $?)" \
	"exit $PST" "$(head -c 2500 "$WORK/cold.json")" "$(tail -c 1000 "$WORK/cold.err")"
result "cold pull: every blob (layers and config) verified by its sha256; the model byte-exact" \
	"$([ "$(jpy "$WORK/cold.json" "len(d['blobs']) == 5 and all(b['verified'] for b in d['blobs'].values())")" = true ] &&
		cmp -s "$WORK/o1/blobs/sha256-$SHA_M4" "$IN/$M4" && cmp -s "$WORK/o1/blobs/sha256-$SHA_MM" "$IN/$MM"; echo $?)" \
	"$(jpy "$WORK/cold.json" "d.get('blobs'), d.get('error')")"
result "HEAD of each blob: 200 with Content-Length = its size, not chunked" \
	"$(jpy "$WORK/cold.json" "all(r['status'] == 200 and r['content_length'] is not None and r['transfer_encoding'] is None for r in d['requests'] if r['method'] == 'HEAD') and sum(r['method'] == 'HEAD' for r in d['requests']) == 5" | grep -qx true; echo $?)" \
	"$(jpy "$WORK/cold.json" "[r for r in d['requests'] if r['method'] == 'HEAD']")"
result "the probe GET of each blob: 200 with Location = its own path, not compressed" \
	"$(jpy "$WORK/cold.json" "[(r['status'], r['location'] == r['path'], r['content_encoding']) for r in d['requests'] if r['method'] == 'GET' and r['range'] is None and '/blobs/' in r['path']] == [(200, True, None)] * 5" | grep -qx true; echo $?)" \
	"$(jpy "$WORK/cold.json" "[r for r in d['requests'] if r['method'] == 'GET' and r['range'] is None]")"
result "the model in 16 parallel ranges, each a 206 with its exact Content-Range" \
	"$(jpy "$WORK/cold.json" "(lambda rs: len(rs) == 16 and all(r['status'] == 206 and r['content_range'] == 'bytes %s/%d' % (r['range'][6:], $(file_size "$IN/$M4")) for r in rs))([r for r in d['requests'] if r['range'] and r['path'].endswith('$SHA_M4')])" | grep -qx true; echo $?)" \
	"$(jpy "$WORK/cold.json" "[(r['range'], r['status'], r.get('content_range')) for r in d['requests'] if r['range']]")"
fake_stats "$WORK/st1.json"
result "one upstream transfer of the model for the whole cold pull" \
	"$([ "$(jpy "$WORK/st1.json" "xfers.get('$SHA_M4', 0)")" = 1 ]; echo $?)" "$(jpy "$WORK/st1.json" "xfers")"
CFG1=$(jpy "$WORK/cold.json" "d['manifest']['config']['digest']")
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
	"$WORK/o1/blobs/sha256-${CFG1#sha256:}" >"$WORK/cfg1.json" 2>&1
result "the config blob: model_format gguf, file_type Q4_K_M, architecture amd64, os linux" \
	"$([ "$(jpy "$WORK/cfg1.json" "(d['model_format'], d['file_type'], d['architecture'], d['os'])")" = "('gguf', 'Q4_K_M', 'amd64', 'linux')" ]; echo $?)" \
	"$(cat "$WORK/cfg1.json")"

pull warm ruv/olla:Q4_K_M "$WORK/o2"
fake_stats "$WORK/st2.json"
result "warm pull (a fresh Ollama): verified, byte-exact, no new upstream transfer" \
	"$([ "$PST" = 0 ] && cmp -s "$WORK/o2/blobs/sha256-$SHA_M4" "$IN/$M4" &&
		[ "$(jpy "$WORK/st2.json" "sum(xfers.values())")" = "$(jpy "$WORK/st1.json" "sum(xfers.values())")" ]; echo $?)" \
	"exit $PST" "$(jpy "$WORK/warm.json" "d.get('error')")" "$(jpy "$WORK/st2.json" "xfers")"
CFG2=$(jpy "$WORK/warm.json" "d['manifest']['config']['digest']")
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
	"$WORK/o2/blobs/sha256-${CFG2#sha256:}" >"$WORK/cfg2.json" 2>&1
result "warm: the config now carries the GGUF header's family (llama), and its digest is stable" \
	"$([ "$(jpy "$WORK/cfg2.json" "(d['model_family'], d['model_families'], d['file_type'])")" = "('llama', ['llama'], 'Q4_K_M')" ] &&
		manifest again ruv/olla Q4_K_M && [ "$(jpy "$WORK/again.json" "d['config']['digest']")" = "$CFG2" ]; echo $?)" \
	"$(cat "$WORK/cfg2.json")"

manifest latest ruv/olla latest
manifest lower ruv/olla q8_0
manifest fname ruv/olla "$M8"
result "tags: latest -> $M4, q8_0 (any case) -> $M8, the file name -> that file" \
	"$([ "$(jpy "$WORK/latest.json" "d['ggufFile']['rfilename']")" = "$M4" ] &&
		[ "$(jpy "$WORK/lower.json" "d['ggufFile']['rfilename']")" = "$M8" ] &&
		[ "$(jpy "$WORK/fname.json" "d['ggufFile']['rfilename']")" = "$M8" ]; echo $?)" \
	"$(head -c 300 "$WORK/latest.json")" "$(head -c 300 "$WORK/lower.json")"
# revs LABEL REPO: a tag naming a git tag or a branch resolves at that
# revision (the latest rule there); quant names keep main (tests: 2).
revs() {
	local l=$1 repo=$2
	manifest "$l.v1" "$repo" v1
	pull "$l.pull" "$repo:v1" "$WORK/$l.o"
	result "$l: tag v1 (a git tag) -> v1's own $M4 (not main's); the pull verified, byte-exact" \
		"$([ "$(jpy "$WORK/$l.v1.json" "(d['ggufFile']['rfilename'], d['layers'][0]['digest'])")" = "('$M4', 'sha256:$SHA_OLD')" ] &&
			[ "$PST" = 0 ] && cmp -s "$WORK/$l.o/blobs/sha256-$SHA_OLD" "$IN/old.gguf"; echo $?)" \
		"status $CODE exit $PST" "$(head -c 600 "$WORK/$l.v1.json")" "$(jpy "$WORK/$l.pull.json" "d.get('error')")"
	manifest "$l.q4" "$repo" Q4_K_M
	manifest "$l.q8" "$repo" q8_0
	manifest "$l.dev" "$repo" dev
	manifest "$l.none" "$repo" v2
	result "$l: Q4_K_M (upstream also a git tag) and q8_0 stay at main; branch dev -> its F16; v2 (no such ref) 404" \
		"$([ "$(jpy "$WORK/$l.q4.json" "d['layers'][0]['digest']")" = "sha256:$SHA_M4" ] &&
			[ "$(jpy "$WORK/$l.q8.json" "d['ggufFile']['rfilename']")" = "$M8" ] &&
			[ "$(jpy "$WORK/$l.dev.json" "(d['ggufFile']['rfilename'], d['layers'][0]['digest'])")" = "('m-F16.gguf', 'sha256:$SHA_DEV')" ] &&
			[ "$CODE" = 404 ] && [ "$(jpy "$WORK/$l.none.json" "d['errors'][0]['code']")" = MANIFEST_UNKNOWN ]; echo $?)" \
		"$(head -c 300 "$WORK/$l.q4.json")" "$(head -c 300 "$WORK/$l.q8.json")" \
		"$(head -c 300 "$WORK/$l.dev.json")" "$(head -c 300 "$WORK/$l.none.json")"
}
revs mirror-rev ruv/olla-rev

fake_stats "$WORK/st3.json"
result "upstream's tree of ruv/olla was asked once (its pages joined) for every manifest so far" \
	"$([ "$(jpy "$WORK/st3.json" "len([r for r in reqs if r['path'].startswith('/api/models/ruv/olla/tree/') and 'cursor=' not in (r.get('query') or '')])")" = 1 ]; echo $?)" \
	"$(jpy "$WORK/st3.json" "[(r['path'], r.get('query')) for r in reqs if '/api/' in r['path']]")"
manifest nope ruv/olla IQ2_XS
pull nopepull ruv/olla:IQ2_XS "$WORK/o3"
result "unknown tag: 404 MANIFEST_UNKNOWN in the registry's error shape; Ollama: file does not exist" \
	"$([ "$CODE" = 404 ] && [ "$(jpy "$WORK/nope.json" "d['errors'][0]['code']")" = MANIFEST_UNKNOWN ] &&
		[ "$PST" = 1 ] && grep -q 'file does not exist' "$WORK/nopepull.json"; echo $?)" \
	"status $CODE" "$(cat "$WORK/nope.json")" "$(head -c 500 "$WORK/nopepull.json")"

manifest split ruv/olla-split latest
pull splitpull ruv/olla-split:latest "$WORK/o4"
result "split GGUF pulled by Ollama: 400 MANIFEST_INVALID saying so, which Ollama prints" \
	"$([ "$CODE" = 400 ] && [ "$(jpy "$WORK/split.json" "d['errors'][0]['code']")" = MANIFEST_INVALID ] &&
		grep -q '400: .*split GGUF is not supported' "$WORK/splitpull.json"; echo $?)" \
	"status $CODE" "$(cat "$WORK/split.json")" "$(head -c 500 "$WORK/splitpull.json")"
manifest splitlc ruv/olla-split Q4_K_M llama-cpp
result "the same split repo for llama.cpp: 200, ggufFile = shard 00001" \
	"$([ "$CODE" = 200 ] && [ "$(jpy "$WORK/splitlc.json" "d['ggufFile']['rfilename']")" = s-Q4_K_M-00001-of-00002.gguf ]; echo $?)" \
	"status $CODE" "$(head -c 500 "$WORK/splitlc.json")"

manifest priv ruv/olla-priv latest
result "a private upstream repo without a ggufd read token: 401" \
	"$([ "$CODE" = 401 ]; echo $?)" "status $CODE" "$(cat "$WORK/priv.json")"

code=$(gcurl -o "$WORK/bu.json" -w '%{http_code}' "$BASE/v2/ruv/olla-split/blobs/sha256:$SHA_M4")
code2=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/v2/ruv/olla/blobs/sha256:$(printf '%064d' 0)")
result "a digest the repo's manifests do not name: 404 BLOB_UNKNOWN (another repo's blob is not served)" \
	"$([ "$code" = 404 ] && [ "$code2" = 404 ] && [ "$(jpy "$WORK/bu.json" "d['errors'][0]['code']")" = BLOB_UNKNOWN ]; echo $?)" \
	"status $code / $code2" "$(cat "$WORK/bu.json")"

gcurl -I -D "$WORK/mh.h" -o /dev/null -A "$OLLAMA_UA" "$BASE/v2/ruv/olla/manifests/Q4_K_M"
gcurl -D "$WORK/mg.h" -o "$WORK/mg.json" -A "$OLLAMA_UA" -H 'Accept-Encoding: gzip' "$BASE/v2/ruv/olla/manifests/Q4_K_M"
result "HEAD manifest: GET's headers (Content-Length, Docker-Content-Digest = sha256 of GET's body, uncompressed)" \
	"$([ "$(http_status "$WORK/mh.h")" = 200 ] && [ "$(header Content-Length "$WORK/mh.h")" = "$(file_size "$WORK/mg.json")" ] &&
		[ "$(header Docker-Content-Digest "$WORK/mh.h")" = "sha256:$(sha256_of "$WORK/mg.json")" ] &&
		[ -z "$(header Content-Encoding "$WORK/mg.h")" ] &&
		[ "$(header Content-Type "$WORK/mg.h")" = "$ACCEPT" ]; echo $?)" \
	"$(cat "$WORK/mh.h" "$WORK/mg.h")"

# --- the slow upstream: the fetch outlasts Ollama's stall window ----------------------------------
fake_fault '{"throttle_bps": 524288, "host": "cdn", "count": -1}'
pull slow ruv/olla-slow:latest "$WORK/o5" --stall 2
fake_clear
fake_stats "$WORK/st5.json"
result "cold pull through a throttled upstream (4 MiB at 512 KiB/s, stall window 2 s): verified, byte-exact" \
	"$([ "$PST" = 0 ] && cmp -s "$WORK/o5/blobs/sha256-$SHA_SL" "$IN/$SL"; echo $?)" \
	"exit $PST" "$(jpy "$WORK/slow.json" "(d.get('error'), d.get('stalls'), d.get('blobs'))")" "$(tail -c 1500 "$WORK/slow.err")"
result "the replay saw stalled parts (restarted, as Ollama does) and still no wrong byte" \
	"$([ "$(jpy "$WORK/slow.json" "d['stalls'] >= 1")" = true ]; echo $?)" "stalls: $(jpy "$WORK/slow.json" "d.get('stalls')")"
result "one upstream transfer of the slow blob, however many parts restarted" \
	"$([ "$(jpy "$WORK/st5.json" "xfers.get('$SHA_SL', 0)")" = 1 ]; echo $?)" "$(jpy "$WORK/st5.json" "xfers")"
result "no wrong byte reached the client: every 200/206 the parts got was a range answer" \
	"$(jpy "$WORK/slow.json" "all(r['status'] == 206 for r in d['requests'] if r['range'])" | grep -qx true; echo $?)" \
	"$(jpy "$WORK/slow.json" "[(r['range'], r['status']) for r in d['requests'] if r['range']][:40]")"
stop_ggufd
stop_fakehub

# --- a local registry (no upstream) -------------------------------------------------------------
"$GGUFD" import --store "$WORK/local" local/olla "$IN/$M4" "$IN/$MM" "$IN/template" \
	>"$WORK/import.log" 2>&1
ist=$?
# local/olla-rev as ruv/olla-rev (without the Q4_K_M git tag): tag v1, branch
# dev, then main moves on.
"$GGUFD" import --store "$WORK/local" --tag v1 local/olla-rev "$IN/old.gguf=$M4" \
	>>"$WORK/import.log" 2>&1 || ist=1
"$GGUFD" import --store "$WORK/local" --revision dev local/olla-rev "$IN/dev.gguf=m-F16.gguf" \
	>>"$WORK/import.log" 2>&1 || ist=1
"$GGUFD" import --store "$WORK/local" local/olla-rev "$IN/$M4" "$IN/$M8" \
	>>"$WORK/import.log" 2>&1 || ist=1
if [ "$ist" = 0 ] && start_ggufd "$WORK/local" --upstream none; then
	ok "ggufd serves a local registry (imported repo, no upstream)"
else
	not_ok "ggufd serves a local registry (imported repo, no upstream)" "import exit $ist" "$(cat "$WORK/import.log")"
fi
pull local local/olla:latest "$WORK/o6"
result "local pull local/olla:latest: model, projector, template; verified and byte-exact" \
	"$([ "$PST" = 0 ] && cmp -s "$WORK/o6/blobs/sha256-$SHA_M4" "$IN/$M4" && cmp -s "$WORK/o6/blobs/sha256-$SHA_MM" "$IN/$MM" &&
		[ "$(jpy "$WORK/local.json" "[l['mediaType'].rsplit('.', 1)[1] for l in d['manifest']['layers']]")" = '["model", "projector", "template"]' ]; echo $?)" \
	"exit $PST" "$(head -c 1500 "$WORK/local.json")"
CFGL=$(jpy "$WORK/local.json" "d['manifest']['config']['digest']")
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
	"$WORK/o6/blobs/sha256-${CFGL#sha256:}" >"$WORK/cfgl.json" 2>&1
result "local: the config comes from the GGUF header (family llama, a parameter count, Q4_K_M)" \
	"$([ "$(jpy "$WORK/cfgl.json" "(d['model_family'], bool(d.get('model_type')), d['file_type'])")" = "('llama', True, 'Q4_K_M')" ]; echo $?)" \
	"$(cat "$WORK/cfgl.json")"
revs local-rev local/olla-rev
manifest lnope local/nope latest
result "local: an unknown repo is 404 MANIFEST_UNKNOWN" \
	"$([ "$CODE" = 404 ] && [ "$(jpy "$WORK/lnope.json" "d['errors'][0]['code']")" = MANIFEST_UNKNOWN ]; echo $?)" \
	"status $CODE" "$(cat "$WORK/lnope.json")"
code=$(gcurl -o "$WORK/ping.json" -w '%{http_code}' "$BASE/v2/")
result "GET /v2/: 200 {}" "$([ "$code" = 200 ] && [ "$(cat "$WORK/ping.json")" = '{}' ]; echo $?)" "status $code"

finish
