#!/usr/bin/env bash
# clients.sh: real download clients against a running ggufd.
#
# A ~24 MB GGUF and a small JSON are imported into ruv/ruvltra, the daemon
# serves the store on 127.0.0.1, and then: curl (HEAD headers, a full
# download, a prefix), wget -c resuming that prefix, aria2c with 8
# connections, the npm @huggingface/gguf parser and @huggingface/hub's
# fileDownloadInfo/downloadFile.  Every download must be byte-exact.  A
# missing client is a failure, not a skip: CI must have them all
# (apt: wget aria2 curl nodejs npm; npm ci --prefix tests).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 31

S=$WORK/store
IN=$WORK/in
DL=$WORK/dl
mkdir -p "$IN" "$DL"

REPO=ruv/ruvltra
NAME=ruvltra-0.5b-q4_k_m.gguf
ARCH=qwen2
SIZE=25000000
CLIENT=$NODE_TESTDIR/integration/gguf_client.mjs

# --- clients present ------------------------------------------------------

missing=
for t in curl wget aria2c node sha256sum od; do
	have "$t" || missing="$missing $t"
done
result "client tools on PATH (curl wget aria2c node)" "$([ -z "$missing" ]; echo $?)" \
	"missing:$missing (Debian: apt-get install -y curl wget aria2 nodejs npm)"
nm=$NODE_TESTDIR/node_modules/@huggingface
result "npm clients installed (@huggingface/gguf, @huggingface/hub)" \
	"$([ -f "$nm/gguf/package.json" ] && [ -f "$nm/hub/package.json" ]; echo $?)" \
	"not found under $NODE_TESTDIR/node_modules: run 'npm ci --prefix tests' (make check does)"

if [ ! -x "$GGUFD" ]; then
	not_ok "ggufd binary exists" "GGUFD=$GGUFD is not an executable file"
	finish
	exit
fi

# --- the store ---------------------------------------------------------------

GGUF=$IN/$NAME
mkgguf "$GGUF" --size "$SIZE" --arch "$ARCH" --ftype Q4_K_M >"$WORK/mkgguf.log" 2>&1
result "mkgguf --size $SIZE made the test GGUF" \
	"$([ -f "$GGUF" ] && [ "$(file_size "$GGUF")" -ge $((SIZE - 1048576)) ]; echo $?)" \
	"$(cat "$WORK/mkgguf.log")" "$(ls -l "$GGUF" 2>&1)"
printf '{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}\n' >"$IN/config.json"

REAL_SIZE=$(file_size "$GGUF")
SHA=$(sha256_of "$GGUF")
# What the file itself says, read independently of ggufd and the npm parser.
GGUF_VERSION=$(od -An -tu4 -j4 -N4 "$GGUF" | tr -d ' ')
GGUF_TENSORS=$(od -An -tu8 -j8 -N8 "$GGUF" | tr -d ' ')

timeout 300 "$GGUFD" import --store "$S" "$REPO" "$GGUF" "$IN/config.json" \
	>"$WORK/import.out" 2>"$WORK/import.err" </dev/null
st=$?
COMMIT=$(tail -n1 "$WORK/import.out" | sed -n 's/^commit \([0-9a-f]\{40\}\)$/\1/p')
result "import into $REPO exits 0 with a commit line" "$([ "$st" = 0 ] && [ -n "$COMMIT" ]; echo $?)" \
	"exit $st" "$(cat "$WORK/import.out" "$WORK/import.err")"

if start_ggufd "$S" --upstream none; then
	ok "serve starts and reports its port"
else
	not_ok "serve starts and reports its port"
fi
BASE=${BASE:-http://127.0.0.1:9}
URL=$BASE/$REPO/resolve/main/$NAME

# --- curl -I -------------------------------------------------------------------

gcurl -I "$URL" >"$WORK/head.h" 2>"$WORK/head.err"
hdr() { header "$1" "$WORK/head.h"; }
hfail() { cat "$WORK/head.h" "$WORK/head.err"; }
result "curl -I: 200" "$([ "$(http_status "$WORK/head.h")" = 200 ]; echo $?)" "$(hfail)"
result "curl -I: Content-Length is the real size ($REAL_SIZE)" \
	"$([ "$(hdr Content-Length)" = "$REAL_SIZE" ]; echo $?)" "$(hfail)"
result "curl -I: ETag is the quoted sha256" "$([ "$(hdr ETag)" = "\"$SHA\"" ]; echo $?)" \
	"want \"$SHA\"" "$(hfail)"
result "curl -I: X-Repo-Commit is the imported commit" \
	"$([ "$(hdr X-Repo-Commit)" = "$COMMIT" ]; echo $?)" "want $COMMIT" "$(hfail)"
result "curl -I: Accept-Ranges: bytes" "$([ "$(hdr Accept-Ranges)" = bytes ]; echo $?)" "$(hfail)"
result "curl -I: X-Linked-Etag and X-Linked-Size on the LFS file" \
	"$([ "$(hdr X-Linked-Etag)" = "\"$SHA\"" ] && [ "$(hdr X-Linked-Size)" = "$REAL_SIZE" ]; echo $?)" "$(hfail)"
result "curl -I: no Location, Content-Encoding or X-Xet-* header" \
	"$(! grep -qiE '^(location|content-encoding|x-xet-[a-z-]*):' "$WORK/head.h"; echo $?)" "$(hfail)"

gcurl -I "$BASE/$REPO/resolve/main/config.json" >"$WORK/headc.h" 2>&1
result "curl -I config.json: ETag is the git blob sha1" \
	"$([ "$(header ETag "$WORK/headc.h")" = "\"$(gitsha1_of "$IN/config.json")\"" ] &&
		[ "$(header Content-Length "$WORK/headc.h")" = "$(file_size "$IN/config.json")" ]; echo $?)" \
	"want \"$(gitsha1_of "$IN/config.json")\"" "$(cat "$WORK/headc.h")"

# --- curl GET -------------------------------------------------------------------

gcurl -f -o "$DL/curl.gguf" "$URL" 2>"$WORK/curl.err"
st=$?
result "curl full download exits 0" "$st" "$(cat "$WORK/curl.err")"
result "curl full download is byte-exact" "$(cmp -s "$DL/curl.gguf" "$GGUF"; echo $?)" \
	"got $(file_size "$DL/curl.gguf" 2>/dev/null) bytes, sha256 $(sha256_of "$DL/curl.gguf" 2>/dev/null)"

# --- wget -c resume ---------------------------------------------------------------
#
# The first 10 000 000 bytes come from curl into the file wget will write
# (named after the URL), then wget -c asks for the rest.

mkdir -p "$DL/wget"
gcurl -f -r 0-9999999 -o "$DL/wget/$NAME" -D "$WORK/prefix.h" "$URL" 2>"$WORK/prefix.err"
result "curl -r 0-9999999: 206 with 10000000 bytes" \
	"$([ "$(http_status "$WORK/prefix.h")" = 206 ] && [ "$(file_size "$DL/wget/$NAME")" = 10000000 ]; echo $?)" \
	"$(cat "$WORK/prefix.h" "$WORK/prefix.err")"
result "curl -r 0-9999999: Content-Range bytes 0-9999999/$REAL_SIZE" \
	"$([ "$(header Content-Range "$WORK/prefix.h")" = "bytes 0-9999999/$REAL_SIZE" ]; echo $?)" \
	"$(cat "$WORK/prefix.h")"
if have wget; then
	(cd "$DL/wget" && timeout 120 wget -c -S --no-proxy --tries=1 --timeout=30 --no-verbose "$URL") \
		>"$WORK/wget.out" 2>&1
	st=$?
else
	st=127
	echo "wget: not found on PATH" >"$WORK/wget.out"
fi
result "wget -c completes the partial file (exit 0)" "$st" "$(tail -n 30 "$WORK/wget.out")"
result "wget -c resumed with a 206 (did not restart)" \
	"$(grep -q 'HTTP/1\.[01] 206' "$WORK/wget.out"; echo $?)" "$(tail -n 30 "$WORK/wget.out")"
result "wget -c result has the source's sha256" \
	"$([ "$(sha256_of "$DL/wget/$NAME" 2>/dev/null)" = "$SHA" ]; echo $?)" \
	"got $(file_size "$DL/wget/$NAME" 2>/dev/null) bytes"

# --- aria2c ------------------------------------------------------------------------

if have aria2c; then
	timeout 180 aria2c -x8 -s8 -k1M --no-conf=true --all-proxy= --file-allocation=none \
		--allow-overwrite=true --auto-file-renaming=false --max-tries=2 --timeout=30 \
		--connect-timeout=10 --summary-interval=0 --console-log-level=warn \
		--dir="$DL" --out=aria2.gguf "$URL" >"$WORK/aria2.out" 2>&1
	st=$?
else
	st=127
	echo "aria2c: not found on PATH (Debian package aria2)" >"$WORK/aria2.out"
fi
result "aria2c -x8 -s8 -k1M exits 0" "$st" "$(tail -n 30 "$WORK/aria2.out")"
result "aria2c result has the source's sha256" \
	"$([ "$(sha256_of "$DL/aria2.gguf" 2>/dev/null)" = "$SHA" ]; echo $?)" \
	"got $(file_size "$DL/aria2.gguf" 2>/dev/null) bytes"

# --- npm clients ------------------------------------------------------------------

# js NAME ARGS...: runs gguf_client.mjs; its JSON line in $WORK/NAME.json.
js() {
	local name=$1
	shift
	if have node; then
		timeout 180 node "$CLIENT" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
	else
		echo "node: not found on PATH" >"$WORK/$name.err"
		return 127
	fi
}
# field NAME KEY: a top-level value of the JSON line (strings unquoted).
field() {
	node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const v = o[process.argv[2]]; process.stdout.write(v === null || v === undefined ? "" : String(v));' \
		"$WORK/$1.json" "$2" 2>/dev/null
}

js gguf "$URL"
st=$?
result "@huggingface/gguf parses the file over HTTP ranges" "$st" "$(cat "$WORK/gguf.err" "$WORK/gguf.json")"
result "@huggingface/gguf: architecture $ARCH" "$([ "$(field gguf architecture)" = "$ARCH" ]; echo $?)" \
	"$(cat "$WORK/gguf.json")"
result "@huggingface/gguf: tensor count $GGUF_TENSORS and version $GGUF_VERSION, as in the file" \
	"$([ -n "$GGUF_TENSORS" ] && [ "$(field gguf tensorCount)" = "$GGUF_TENSORS" ] &&
		[ "$(field gguf tensorInfos)" = "$GGUF_TENSORS" ] && [ "$(field gguf version)" = "$GGUF_VERSION" ]; echo $?)" \
	"$(cat "$WORK/gguf.json")"

js hub --hub "$BASE" "$REPO" "$NAME"
st=$?
result "@huggingface/hub fileDownloadInfo + downloadFile succeed" "$st" "$(cat "$WORK/hub.err" "$WORK/hub.json")"
result "@huggingface/hub: size, etag and commit match" \
	"$([ "$(field hub size)" = "$REAL_SIZE" ] && [ "$(field hub etag)" = "\"$SHA\"" ] &&
		[ "$(field hub commit)" = "$COMMIT" ]; echo $?)" \
	"want size $REAL_SIZE etag \"$SHA\" commit $COMMIT" "$(cat "$WORK/hub.json")"
result "@huggingface/hub: downloadFile bytes have the source's sha256" \
	"$([ "$(field hub sha256)" = "$SHA" ] && [ "$(field hub downloadedSize)" = "$REAL_SIZE" ]; echo $?)" \
	"$(cat "$WORK/hub.json")"

js hubc --hub "$BASE" "$REPO" config.json "$COMMIT"
st=$?
result "@huggingface/hub on a small file by commit (needs a 206 to Range: bytes=0-0)" "$st" \
	"$(cat "$WORK/hubc.err" "$WORK/hubc.json")"
result "@huggingface/hub small file: size, git-sha1 etag, bytes" \
	"$([ "$(field hubc size)" = "$(file_size "$IN/config.json")" ] &&
		[ "$(field hubc etag)" = "\"$(gitsha1_of "$IN/config.json")\"" ] &&
		[ "$(field hubc sha256)" = "$(sha256_of "$IN/config.json")" ]; echo $?)" \
	"$(cat "$WORK/hubc.json")"

# --- shutdown ------------------------------------------------------------------------

pid=$GGUFD_PID
stop_ggufd
result "SIGTERM stops serve with exit status 0" \
	"$([ -n "$pid" ] && [ "$GGUFD_STATUS" = 0 ] && ! kill -0 "$pid" 2>/dev/null; echo $?)" \
	"exit status: $GGUFD_STATUS" "$(tail -n 20 "$GGUFD_LOG")"

finish
