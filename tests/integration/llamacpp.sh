#!/usr/bin/env bash
# llamacpp.sh: llama.cpp's two download flows through ggufd.
#
# llamacpp_client.py replays llama.cpp's requests as shared/CLIENTS.md
# section 1 gives them:
#   era B (b9842 ... v0.4.0/v0.5.0): refs -> tree at the commit (one page,
#     Link ignored) -> client-side tag choice -> HEAD and GET at the commit;
#     a second run sends refs and tree only;
#   era A (b5640 ... b8390): HEAD preset.ini (404 needed) -> manifest ->
#     HEAD and GET resolve/main, split shards, the mmproj;
# and node-llama-cpp's manifest request (UA llama-cpp, Accept */*).
# Against the fake Hub through a mirroring ggufd (upstream tree pages of
# 2 entries, so the whole listing must be joined) and against a local
# registry whose repo has more files than one tree page (1000).
# Conformance of CLIENTS.md 4.1-4.3: 40-hex targetCommit, the whole tree
# without a cursor, only 40/64-hex oids, HEAD never 405, 404 preset.ini,
# stable ETags; byte-exact downloads.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_env

plan 26

TOKEN=hf_upstreamsecret
CLIENT=$TOP_SRCDIR/tests/integration/llamacpp_client.py
IN=$WORK/in
REPOS=$WORK/repos
mkdir -p "$IN" "$REPOS"

missing=
for t in curl python3 sha256sum timeout cmp; do
	have "$t" || missing="$missing $t"
done
result "tools on PATH (curl python3 sha256sum timeout cmp)" "$([ -z "$missing" ]; echo $?)" \
	"missing:$missing"

# --- the repo -----------------------------------------------------------------------------------
# Model files at the root and a split set in a folder; one projector at the
# root serves both (its folder is an ancestor of theirs).
M4=Tiny-Q4_K_M.gguf
M8=Tiny-Q8_0.gguf
MM=mmproj-Tiny-F16.gguf
S1=split/Tiny-IQ4_XS-00001-of-00003.gguf
S2=split/Tiny-IQ4_XS-00002-of-00003.gguf
S3=split/Tiny-IQ4_XS-00003-of-00003.gguf
mkst=0
mkgguf "$IN/m4" --ftype Q4_K_M --size 700k >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/m8" --ftype Q8_0 --size 500k >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/mm" --ftype F16 --arch clip --size 100k >>"$WORK/mk.log" 2>&1 || mkst=1
for i in 1 2 3; do
	mkgguf "$IN/s$i" --ftype IQ4_XS --size 200k --seed "$((10 + i))" >>"$WORK/mk.log" 2>&1 || mkst=1
done
printf '# Tiny\n' >"$IN/README.md"
printf '{"model_type": "llama"}\n' >"$IN/config.json"
FILES=("$IN/m4=$M4" "$IN/m8=$M8" "$IN/mm=$MM" "$IN/s1=$S1" "$IN/s2=$S2" "$IN/s3=$S3"
	"$IN/README.md=README.md" "$IN/config.json=config.json")
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo ruv/tiny --commit auto "${FILES[@]}" 2>>"$WORK/mk.log")
st=$?
fakehub mkrepo --repos "$REPOS" --repo ruv/tiny-priv --commit auto --private "$IN/m8=$M8" \
	>>"$WORK/mk.log" 2>&1 || mkst=1
result "test files made (mkgguf, fakehub mkrepo)" \
	"$([ "$mkst" = 0 ] && [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]]; echo $?)" "$(tail -c 2000 "$WORK/mk.log")"

src_of() { # PATH-IN-REPO: the source file
	case $1 in
	"$M4") echo "$IN/m4" ;; "$M8") echo "$IN/m8" ;; "$MM") echo "$IN/mm" ;;
	"$S1") echo "$IN/s1" ;; "$S2") echo "$IN/s2" ;; "$S3") echo "$IN/s3" ;;
	esac
}

# run TAG MODE REF DIR [ARGS...]: the replay; report in $WORK/TAG.json, exit in RST.
run() {
	local tag=$1 mode=$2 ref=$3 dir=$4
	shift 4
	timeout 120 python3 "$CLIENT" "$mode" "$BASE" "$ref" "$dir" "$@" >"$WORK/$tag.json" 2>"$WORK/$tag.err"
	RST=$?
	[ -s "$WORK/$tag.json" ] || echo '{}' >"$WORK/$tag.json"
}

# exact_files TAG PATH...: each PATH's download (era B: dest in the report) is byte-exact.
exact_files() {
	local tag=$1 p dest
	shift
	for p in "$@"; do
		dest=$(jpy "$WORK/$tag.json" "[f['dest'] for f in d.get('files', []) if f['path'] == '$p'][0]") || return 1
		cmp -s "$dest" "$(src_of "$p")" || return 1
	done
}

# flows LABEL REPO COMMIT: both eras against $BASE (tests: 9).
flows() {
	local l=$1 repo=$2 commit=$3 n
	run "$l.b1" era-b "$repo:Q4_K_M" "$WORK/$l.cache"
	result "$l era B :Q4_K_M: refs (main, 40-hex) -> tree -> $M4 and $MM, HEAD then GET, byte-exact" \
		"$([ "$RST" = 0 ] && [ "$(jpy "$WORK/$l.b1.json" "(d['commit'], sorted(f['path'] for f in d['files']))")" = "('$commit', ['$M4', '$MM'])" ] &&
			exact_files "$l.b1" "$M4" "$MM"; echo $?)" \
		"exit $RST" "$(head -c 2000 "$WORK/$l.b1.json")" "$(tail -c 500 "$WORK/$l.b1.err")"
	result "$l era B: the tree came whole in one answer (no Link), no file skipped for its oid, no preset.ini" \
		"$([ "$(jpy "$WORK/$l.b1.json" "[r['link'] for r in d['requests'] if '/tree/' in r['path']] == [None] and d['skipped'] == [] and not d.get('preset') and d['tree_entries'] >= 9")" = true ]; echo $?)" \
		"$(jpy "$WORK/$l.b1.json" "([r for r in d['requests'] if '/tree/' in r['path']], d.get('skipped'), d.get('tree_entries'))")"
	result "$l era B: every HEAD at the commit 200 with Content-Length and Accept-Ranges (never 405)" \
		"$(jpy "$WORK/$l.b1.json" "(lambda hs: len(hs) == 2 and all(r['status'] == 200 and r['content_length'] and r['accept_ranges'] == 'bytes' for r in hs))([r for r in d['requests'] if r['method'] == 'HEAD'])" | grep -qx true; echo $?)" \
		"$(jpy "$WORK/$l.b1.json" "[r for r in d['requests'] if r['method'] == 'HEAD']")"
	run "$l.b2" era-b "$repo:Q4_K_M" "$WORK/$l.cache"
	result "$l era B second run: refs and tree only, the same commit" \
		"$([ "$RST" = 0 ] && [ "$(jpy "$WORK/$l.b2.json" "([r['method'] for r in d['requests']], d['commit'])")" = "(['GET', 'GET'], '$commit')" ]; echo $?)" \
		"$(head -c 1500 "$WORK/$l.b2.json")"
	run "$l.b3" era-b "$repo:iq4_xs" "$WORK/$l.cache3"
	result "$l era B :iq4_xs: the three shards of the split set and the projector, byte-exact" \
		"$([ "$RST" = 0 ] && exact_files "$l.b3" "$S1" "$S2" "$S3" "$MM" &&
			[ "$(jpy "$WORK/$l.b3.json" "len(d['files'])")" = 4 ]; echo $?)" \
		"exit $RST" "$(head -c 1500 "$WORK/$l.b3.json")"

	run "$l.a1" era-a "$repo:Q8_0" "$WORK/$l.a"
	result "$l era A :Q8_0: preset.ini 404, manifest ggufFile $M8 + mmprojFile $MM (JSON and b5640's regex agree)" \
		"$([ "$RST" = 0 ] && [ "$(jpy "$WORK/$l.a1.json" "(d['preset_status'], d['gguf'], d['regex_gguf'], d['mmproj'], d['regex_mmproj'])")" = "(404, '$M8', '$M8', '$MM', '$MM')" ]; echo $?)" \
		"exit $RST" "$(head -c 1500 "$WORK/$l.a1.json")"
	result "$l era A: resolve/main HEAD and GET of both files, byte-exact" \
		"$([ "$RST" = 0 ] && exact_files "$l.a1" "$M8" "$MM"; echo $?)" "$(jpy "$WORK/$l.a1.json" "d.get('files')")"
	run "$l.a2" era-a "$repo:Q8_0" "$WORK/$l.a2"
	result "$l era A: the ETags are the same on a second run (no re-download)" \
		"$([ "$RST" = 0 ] && [ "$(jpy "$WORK/$l.a1.json" "sorted((f['path'], f['etag']) for f in d['files'])")" = "$(jpy "$WORK/$l.a2.json" "sorted((f['path'], f['etag']) for f in d['files'])")" ] &&
			[ -n "$(jpy "$WORK/$l.a1.json" "d['files'][0]['etag']")" ]; echo $?)" \
		"$(jpy "$WORK/$l.a1.json" "d.get('files')")" "$(jpy "$WORK/$l.a2.json" "d.get('files')")"
	run "$l.a3" era-a "$repo:IQ4_XS" "$WORK/$l.a3" --ua llama-cpp
	result "$l era A :IQ4_XS (UA llama-cpp, b7347): ggufFile is shard 00001; shards 2 and 3 then fetched, byte-exact" \
		"$([ "$RST" = 0 ] && [ "$(jpy "$WORK/$l.a3.json" "d['gguf']")" = "$S1" ] && exact_files "$l.a3" "$S1" "$S2" "$S3"; echo $?)" \
		"exit $RST" "$(head -c 1500 "$WORK/$l.a3.json")"
}

# --- a mirror of the fake Hub -----------------------------------------------------------------------
if ! start_fakehub "$REPOS" --token "$TOKEN" --page-size 2; then
	not_ok "fakehub starts"
	finish
	exit
fi
if ! HF_TOKEN=$TOKEN start_ggufd "$WORK/store" --upstream "$HUB"; then
	not_ok "ggufd serve --upstream fakehub starts"
	finish
	exit
fi
ok "fakehub (tree pages of 2) and ggufd (mirroring it) start"
flows mirror ruv/tiny "$COMMIT"

gcurl -D "$WORK/nl.h" -o "$WORK/nl.json" -A llama-cpp -H 'accept: */*' -H 'accept-language: *' \
	-H 'sec-fetch-mode: cors' -H 'accept-encoding: gzip, deflate' "$BASE/v2/ruv/tiny/manifests/latest"
result "node-llama-cpp's manifest request (hf:ruv/tiny, tag latest): ggufFile.rfilename $M4" \
	"$([ "$(http_status "$WORK/nl.h")" = 200 ] && [ "$(jpy "$WORK/nl.json" "d['ggufFile']['rfilename']")" = "$M4" ]; echo $?)" \
	"$(cat "$WORK/nl.h")" "$(head -c 500 "$WORK/nl.json")"
code=$(gcurl -o "$WORK/nope.json" -w '%{http_code}' -A llama-cpp "$BASE/v2/ruv/tiny/manifests/IQ2_XS")
code2=$(gcurl -o /dev/null -w '%{http_code}' -A llama-cpp "$BASE/v2/ruv/tiny-priv/manifests/latest")
result "an unknown tag is 404 (node-llama-cpp: no such quantization); a private repo 401 (retried with a token)" \
	"$([ "$code" = 404 ] && [ "$code2" = 401 ]; echo $?)" "$code $code2 $(cat "$WORK/nope.json")"
stop_ggufd
stop_fakehub

# --- a local registry with more files than one tree page --------------------------------------------
mkdir -p "$IN/many"
EXTRA=()
for i in $(seq -w 1 1005); do
	printf '%s\n' "$i" >"$IN/many/f$i.txt"
	EXTRA+=("$IN/many/f$i.txt=data/f$i.txt")
done
"$GGUFD" import --store "$WORK/local" ruv/tiny "${FILES[@]}" "${EXTRA[@]}" >"$WORK/import.log" 2>&1
ist=$?
if [ "$ist" = 0 ] && start_ggufd "$WORK/local" --upstream none; then
	ok "ggufd serves a local registry (ruv/tiny with 1013 files, no upstream)"
else
	not_ok "ggufd serves a local registry (ruv/tiny with 1013 files, no upstream)" "import exit $ist" "$(tail -c 1000 "$WORK/import.log")"
fi
gcurl -o "$WORK/lrefs.json" "$BASE/api/models/ruv/tiny/refs"
LCOMMIT=$(jpy "$WORK/lrefs.json" "[b['targetCommit'] for b in d['branches'] if b['name'] == 'main'][0]")
result "local refs: main with a 40-hex targetCommit" \
	"$([[ $LCOMMIT =~ ^[0-9a-f]{40}$ ]]; echo $?)" "$(cat "$WORK/lrefs.json")"
gcurl -D "$WORK/ltree.h" -o "$WORK/ltree.json" "$BASE/api/models/ruv/tiny/tree/$LCOMMIT?recursive=true"
result "local tree without a cursor: all 1013 files (and the 2 folders) in one answer, no Link, sorted, 40/64-hex oids" \
	"$([ -z "$(header Link "$WORK/ltree.h")" ] &&
		[ "$(jpy "$WORK/ltree.json" "(sum(e['type'] == 'file' for e in d), [e['path'] for e in d] == sorted(e['path'] for e in d), all(len(e['oid']) == 40 and (e.get('lfs') is None or len(e['lfs']['oid']) == 64) for e in d))")" = "(1013, True, True)" ]; echo $?)" \
	"Link: $(header Link "$WORK/ltree.h")" "$(head -c 600 "$WORK/ltree.json")"
flows local ruv/tiny "$LCOMMIT"

finish
