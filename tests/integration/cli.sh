#!/usr/bin/env bash
# cli.sh: the ggufd command line, end to end, against a temporary store.
#
# Covers --version, help and per-command --help, usage errors (exit 2 and
# one "ggufd: " line on stderr), import (hashes, FILE=PATH, commits that
# keep the branch's earlier files), import of a huggingface_hub cache, ls
# with its GGUF summary, verify on a good store and on a store with one
# flipped byte (the blob is named, quarantined and the exit status is 1),
# and a failed import that must leave nothing in the index.  The resolve
# route is used as a second witness of what the index holds.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 66

S=$WORK/store
IN=$WORK/in
mkdir -p "$IN"

REPO=ruv/test
GGUF_ARCH=llama
GGUF_QUANT=Q4_K_M

# run NAME CMD...: runs CMD with stdout, stderr and status kept under
# $WORK/NAME.{out,err,rc}, bounded by timeout(1).
run() {
	local name=$1
	shift
	timeout 120 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
	echo $? >"$WORK/$name.rc"
}
rc() { cat "$WORK/$1.rc"; }
out() { cat "$WORK/$1.out"; }
show() {
	printf 'exit %s\n--- stdout\n%s\n--- stderr\n%s\n' "$(rc "$1")" \
		"$(head -c 1500 "$WORK/$1.out")" "$(head -c 1500 "$WORK/$1.err")"
}

# usage_error NAME DESC: exit 2, exactly one stderr line starting "ggufd: ".
usage_error() {
	local n
	n=$(wc -l <"$WORK/$1.err")
	if [ "$(rc "$1")" = 2 ] && [ "$n" -eq 1 ] && head -n1 "$WORK/$1.err" | grep -q '^ggufd: '; then
		ok "$2"
	else
		not_ok "$2" "want exit 2 and one stderr line starting 'ggufd: '" "$(show "$1")"
	fi
}

# imported NAME PATH FILE: the import output has "imported PATH SHA SIZE"
# with FILE's sha256 and size.
imported() {
	local want
	want="imported $2 $(sha256_of "$3") $(file_size "$3")"
	if grep -qxF "$want" "$WORK/$1.out"; then
		ok "import prints '$want'"
	else
		not_ok "import prints 'imported $2 <sha256> <size>' matching sha256sum" \
			"want line: $want" "$(show "$1")"
	fi
}

# commit_of NAME: the 40-hex of the final "commit" line, or "".
commit_of() {
	tail -n1 "$WORK/$1.out" | sed -n 's/^commit \([0-9a-f]\{40\}\)$/\1/p'
}

# --- version, help, usage errors --------------------------------------

if [ ! -x "$GGUFD" ]; then
	not_ok "ggufd binary exists" "GGUFD=$GGUFD is not an executable file"
	finish
	exit
fi

run version "$GGUFD" --version
if [ "$(rc version)" = 0 ] && [ "$(out version)" = "ggufd 0.1.0" ]; then
	ok "--version prints 'ggufd 0.1.0' and exits 0"
else
	not_ok "--version prints 'ggufd 0.1.0' and exits 0" "$(show version)"
fi

run help "$GGUFD" help
if [ "$(rc help)" = 0 ] && grep -q import "$WORK/help.out" && grep -q serve "$WORK/help.out" &&
	grep -q verify "$WORK/help.out" && grep -qw ls "$WORK/help.out"; then
	ok "help prints usage naming every command on stdout, exit 0"
else
	not_ok "help prints usage naming every command on stdout, exit 0" "$(show help)"
fi

for cmd in import ls verify serve; do
	run "help_$cmd" "$GGUFD" "$cmd" --help
	if [ "$(rc "help_$cmd")" = 0 ] && grep -q "$cmd" "$WORK/help_$cmd.out"; then
		ok "$cmd --help prints its usage on stdout, exit 0"
	else
		not_ok "$cmd --help prints its usage on stdout, exit 0" "$(show "help_$cmd")"
	fi
done

run badcmd "$GGUFD" frobnicate
usage_error badcmd "unknown command: exit 2, one 'ggufd: ' line on stderr"
run badflag "$GGUFD" ls --store "$S" --frobnicate
usage_error badflag "unknown flag of a command: exit 2, one 'ggufd: ' line on stderr"
run badgflag "$GGUFD" --frobnicate
usage_error badgflag "unknown flag before any command: exit 2, one 'ggufd: ' line on stderr"
run noarg "$GGUFD" import --store "$S"
usage_error noarg "import without REPO and FILE: exit 2, one 'ggufd: ' line on stderr"

# --- import ------------------------------------------------------------

GGUF=$IN/model.gguf
if mkgguf "$GGUF" --arch "$GGUF_ARCH" --ftype "$GGUF_QUANT" --ctx 32768 >"$WORK/mkgguf.log" 2>&1 && [ -s "$GGUF" ]; then
	ok "mkgguf made a test GGUF"
else
	not_ok "mkgguf made a test GGUF" "$(cat "$WORK/mkgguf.log")"
fi
printf '{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}\n' >"$IN/config.json"
printf '{"note": "second import"}\n' >"$IN/extra.json"

run imp1 "$GGUFD" import --store "$S" "$REPO" "$GGUF" "$IN/config.json"
result "import REPO FILE... exits 0" "$(rc imp1)" "$(show imp1)"
imported imp1 model.gguf "$GGUF"
imported imp1 config.json "$IN/config.json"
C1=$(commit_of imp1)
result "import ends with 'commit <40-hex>'" "$([ -n "$C1" ]; echo $?)" "$(show imp1)"

SHA_GGUF=$(sha256_of "$GGUF")
SHA_CFG=$(sha256_of "$IN/config.json")
f=$S/blobs/sha256/${SHA_GGUF:0:2}/$SHA_GGUF
result "the GGUF blob is at blobs/sha256/<2 hex>/<64 hex> with the same bytes" \
	"$(cmp -s "$f" "$GGUF"; echo $?)" "missing or different: $f" "$(cd "$S" 2>/dev/null && find . -maxdepth 4 | head -20)"

run imp2 "$GGUFD" import --store "$S" "$REPO" "$IN/extra.json=sub/dir/extra.json"
result "import FILE=PATH into a sub-folder exits 0" "$(rc imp2)" "$(show imp2)"
imported imp2 sub/dir/extra.json "$IN/extra.json"
C2=$(commit_of imp2)
if [ -n "$C2" ] && [ "$C2" != "$C1" ]; then
	ok "a second import into the same branch makes a new commit"
else
	not_ok "a second import into the same branch makes a new commit" "first: $C1" "$(show imp2)"
fi

# The revision option, on a branch of its own.
run imp3 "$GGUFD" import --store "$S" --revision dev "$REPO" "$IN/extra.json=notes.json"
C3=$(commit_of imp3)
result "import --revision dev makes a commit on branch dev" \
	"$([ "$(rc imp3)" = 0 ] && [ -n "$C3" ] && [ "$C3" != "$C2" ]; echo $?)" "$(show imp3)"

# --- ls ------------------------------------------------------------------

run lsall "$GGUFD" ls --store "$S"
result "ls lists the repo" \
	"$([ "$(rc lsall)" = 0 ] && grep -qF "$REPO" "$WORK/lsall.out"; echo $?)" "$(show lsall)"

run lsrepo "$GGUFD" ls --store "$S" "$REPO"
result "ls REPO exits 0" "$(rc lsrepo)" "$(show lsrepo)"
# The lines that follow a mention of commit $1, each run ending at a line
# naming another 40-hex id: that commit's files, whatever else ls prints
# around them.  (mawk has no {40}: the regex is built.)
commit_block() {
	awk -v c="$1" '
		BEGIN { for (i = 0; i < 40; i++) hex = hex "[0-9a-f]" }
		index($0, c) { on = 1; next }
		match($0, hex) && substr($0, RSTART, 40) != c { on = 0 }
		on { print }' "$2"
}
commit_block "${C2:-none}" "$WORK/lsrepo.out" >"$WORK/lsrepo.c2"
missing=
for p in model.gguf config.json sub/dir/extra.json; do
	grep -qF "$p" "$WORK/lsrepo.c2" || missing="$missing $p"
done
result "ls REPO: the second commit on main holds the files of both imports" \
	"$([ -z "$missing" ]; echo $?)" "commit $C2 misses:$missing" "$(show lsrepo)"
result "ls REPO shows the latest commit of main" \
	"$(grep -q "${C2:-no-commit}" "$WORK/lsrepo.out" || grep -q "${C2:0:7}" "$WORK/lsrepo.out"; echo $?)" \
	"commit: $C2" "$(show lsrepo)"
result "ls REPO shows branch dev and its file" \
	"$(grep -qw dev "$WORK/lsrepo.out" && grep -qF notes.json "$WORK/lsrepo.out"; echo $?)" "$(show lsrepo)"
result "ls REPO shows the GGUF summary: architecture" \
	"$(grep -F model.gguf "$WORK/lsrepo.out" | grep -qw "$GGUF_ARCH"; echo $?)" \
	"want '$GGUF_ARCH' on the model.gguf line" "$(show lsrepo)"
result "ls REPO shows the GGUF summary: quant" \
	"$(grep -F model.gguf "$WORK/lsrepo.out" | grep -qiw "$GGUF_QUANT"; echo $?)" \
	"want '$GGUF_QUANT' on the model.gguf line" "$(show lsrepo)"
result "ls REPO shows the GGUF summary: context length" \
	"$(grep -F model.gguf "$WORK/lsrepo.out" | grep -qE '32768|32[Kk]'; echo $?)" \
	"want 32768 (or 32K) on the model.gguf line" "$(show lsrepo)"
result "ls REPO shows a sha256 prefix of the GGUF" \
	"$(grep -F model.gguf "$WORK/lsrepo.out" | grep -q "${SHA_GGUF:0:8}"; echo $?)" "$(show lsrepo)"

# --- failed import ---------------------------------------------------------

run impbad "$GGUFD" import --store "$S" "$REPO" "$IN/config.json" "$WORK/does-not-exist.gguf"
result "import of a nonexistent file exits non-zero" \
	"$([ "$(rc impbad)" != 0 ] && [ "$(rc impbad)" != 124 ]; echo $?)" "$(show impbad)"
run lsbad "$GGUFD" ls --store "$S" "$REPO"
result "the failed import left no indexed entry" \
	"$([ "$(rc lsbad)" = 0 ] && ! grep -q does-not-exist "$WORK/lsbad.out"; echo $?)" "$(show lsbad)"

# --- huggingface_hub cache import --------------------------------------------
#
# The layout huggingface_hub writes: blobs named by the etag (sha256 for LFS
# files, git sha1 for regular ones), snapshots/<commit>/<path> symlinks into
# blobs, refs/<branch> holding the commit without a newline.

HC=$WORK/hfcache
HREPO=acme/tiny-gguf
HCOMMIT=0123456789abcdef0123456789abcdef01234567
HD=$HC/models--acme--tiny-gguf
mkdir -p "$HD/blobs" "$HD/refs" "$HD/snapshots/$HCOMMIT/tok" "$IN/hf"
mkgguf "$IN/hf/tiny.gguf" --arch qwen2 --ftype Q8_0 >>"$WORK/mkgguf.log" 2>&1
printf '{"model_type": "qwen2"}\n' >"$IN/hf/config.json"
printf '{"version": "1.0", "vocab": {}}\n' >"$IN/hf/tokenizer.json"
H_GGUF=$(sha256_of "$IN/hf/tiny.gguf")
H_CFG=$(gitsha1_of "$IN/hf/config.json")
H_TOK=$(gitsha1_of "$IN/hf/tokenizer.json")
cp "$IN/hf/tiny.gguf" "$HD/blobs/$H_GGUF"
cp "$IN/hf/config.json" "$HD/blobs/$H_CFG"
cp "$IN/hf/tokenizer.json" "$HD/blobs/$H_TOK"
ln -s "../../blobs/$H_GGUF" "$HD/snapshots/$HCOMMIT/tiny.gguf"
ln -s "../../blobs/$H_CFG" "$HD/snapshots/$HCOMMIT/config.json"
ln -s "../../../blobs/$H_TOK" "$HD/snapshots/$HCOMMIT/tok/tokenizer.json"
printf '%s' "$HCOMMIT" >"$HD/refs/main"

run imphf "$GGUFD" import --store "$S" --hf-cache "$HC"
result "import --hf-cache exits 0" "$(rc imphf)" "$(show imphf)"
run lshf "$GGUFD" ls --store "$S" "$HREPO"
result "ls shows the cache's commit" \
	"$([ "$(rc lshf)" = 0 ] && { grep -q "$HCOMMIT" "$WORK/lshf.out" || grep -q "${HCOMMIT:0:7}" "$WORK/lshf.out"; }; echo $?)" \
	"commit: $HCOMMIT" "$(show lshf)"
commit_block "$HCOMMIT" "$WORK/lshf.out" >"$WORK/lshf.c"
missing=
for p in tiny.gguf config.json tok/tokenizer.json; do
	grep -qF "$p" "$WORK/lshf.c" || missing="$missing $p"
done
result "ls shows the cache's files under its commit, sub-folder included" \
	"$([ -z "$missing" ]; echo $?)" "missing:$missing" "$(show lshf)"
result "ls shows the cached GGUF's architecture" \
	"$(grep -F tiny.gguf "$WORK/lshf.out" | grep -qw qwen2; echo $?)" "$(show lshf)"

# --- the index, seen through the server -----------------------------------

# resolve_hdrs NAME URL: HEAD with headers kept in $WORK/NAME.h.
resolve_hdrs() {
	gcurl -I -o /dev/null -D "$WORK/$1.h" "$2" 2>"$WORK/$1.cerr"
}
# etag_is NAME WANT DESC
etag_is() {
	local got
	got=$(header ETag "$WORK/$1.h")
	if [ "$(http_status "$WORK/$1.h")" = 200 ] && [ "$got" = "\"$2\"" ]; then
		ok "$3"
	else
		not_ok "$3" "want 200 and ETag \"$2\"" "$(cat "$WORK/$1.h" "$WORK/$1.cerr" 2>/dev/null)"
	fi
}

if start_ggufd "$S" --upstream none; then
	ok "serve starts on the store"
else
	not_ok "serve starts on the store"
fi
BASE=${BASE:-http://127.0.0.1:9}

resolve_hdrs r1 "$BASE/$REPO/resolve/main/model.gguf"
etag_is r1 "$SHA_GGUF" "resolve main/model.gguf: ETag is the sha256"
result "resolve main/model.gguf: X-Repo-Commit is the second commit (the failed import made none)" \
	"$([ "$(header X-Repo-Commit "$WORK/r1.h")" = "$C2" ]; echo $?)" "want $C2" "$(cat "$WORK/r1.h")"
resolve_hdrs r2 "$BASE/$REPO/resolve/main/sub/dir/extra.json"
etag_is r2 "$(gitsha1_of "$IN/extra.json")" "resolve main/sub/dir/extra.json: ETag is the git blob sha1"
resolve_hdrs r3 "$BASE/$REPO/resolve/$C1/sub/dir/extra.json"
result "the first commit does not hold the second import's file (404)" \
	"$([ "$(http_status "$WORK/r3.h")" = 404 ]; echo $?)" "$(cat "$WORK/r3.h")"
resolve_hdrs r4 "$BASE/$REPO/resolve/$C1/config.json"
etag_is r4 "$(gitsha1_of "$IN/config.json")" "the first commit still resolves config.json"
resolve_hdrs r5 "$BASE/$REPO/resolve/main/does-not-exist.gguf"
result "the failed import's file is not served (404)" \
	"$([ "$(http_status "$WORK/r5.h")" = 404 ]; echo $?)" "$(cat "$WORK/r5.h")"
resolve_hdrs r6 "$BASE/$REPO/resolve/dev/notes.json"
etag_is r6 "$(gitsha1_of "$IN/extra.json")" "branch dev resolves notes.json"

resolve_hdrs h1 "$BASE/$HREPO/resolve/main/tiny.gguf"
etag_is h1 "$H_GGUF" "hf-cache import: tiny.gguf resolves with its sha256 ETag"
result "hf-cache import: main is the cache's commit" \
	"$([ "$(header X-Repo-Commit "$WORK/h1.h")" = "$HCOMMIT" ]; echo $?)" "want $HCOMMIT" "$(cat "$WORK/h1.h")"
resolve_hdrs h2 "$BASE/$HREPO/resolve/$HCOMMIT/config.json"
etag_is h2 "$H_CFG" "hf-cache import: config.json resolves by commit with its git sha1 ETag"
resolve_hdrs h3 "$BASE/$HREPO/resolve/main/tok/tokenizer.json"
etag_is h3 "$H_TOK" "hf-cache import: tok/tokenizer.json resolves"
gcurl -o "$WORK/h4.body" "$BASE/$HREPO/resolve/main/tiny.gguf" 2>"$WORK/h4.err"
result "hf-cache import: tiny.gguf bytes are the cache's bytes" \
	"$(cmp -s "$WORK/h4.body" "$IN/hf/tiny.gguf"; echo $?)" "$(cat "$WORK/h4.err")"

stop_ggufd
result "SIGTERM stops serve with exit status 0" "$([ "$GGUFD_STATUS" = 0 ]; echo $?)" \
	"exit status: $GGUFD_STATUS" "$(tail -n 20 "$GGUFD_LOG")"

# --- verify ------------------------------------------------------------------

NBLOBS=$(find "$S/blobs/sha256" -type f | wc -l)
run ver1 "$GGUFD" verify --store "$S"
# The summary line starts "N blobs ok"; more counts may follow it.
if [ "$(rc ver1)" = 0 ] && grep -qE "^$NBLOBS blobs ok([ ,;]|\$)" "$WORK/ver1.out"; then
	ok "verify on a good store: '$NBLOBS blobs ok', exit 0"
else
	not_ok "verify on a good store: '$NBLOBS blobs ok', exit 0" "$(show ver1)"
fi
result "verify on a good store prints no 'bad' line" \
	"$(! grep -q '^bad ' "$WORK/ver1.out"; echo $?)" "$(show ver1)"

# Flip one byte in the middle of the config.json blob.
B=$S/blobs/sha256/${SHA_CFG:0:2}/$SHA_CFG
if [ -f "$B" ]; then
	chmod u+w "$B"
	off=$(($(file_size "$B") / 2))
	byte=$(od -An -tu1 -j "$off" -N1 "$B" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf '%03o' $((byte ^ 0x20)))" |
		dd of="$B" bs=1 seek="$off" count=1 conv=notrunc status=none
	BAD_SHA=$(sha256_of "$B")
fi
result "one byte of a blob flipped" "$([ -f "$B" ] && [ "${BAD_SHA:-}" != "$SHA_CFG" ]; echo $?)" "blob: $B"

run ver2 "$GGUFD" verify --store "$S"
result "verify with a corrupt blob exits 1" "$([ "$(rc ver2)" = 1 ]; echo $?)" "$(show ver2)"
result "verify prints 'bad <sha256>' for the corrupt blob" \
	"$(grep -qE "^bad $SHA_CFG( |\$)" "$WORK/ver2.out"; echo $?)" "$(show ver2)"
result "verify names only the corrupt blob" \
	"$([ "$(grep -c '^bad ' "$WORK/ver2.out")" = 1 ]; echo $?)" "$(show ver2)"
result "the corrupt blob is gone from blobs/" "$([ ! -e "$B" ]; echo $?)" "still there: $B"
q=$(find "$S/quarantine" -type f -name "*$SHA_CFG*" 2>/dev/null | head -n1)
result "the corrupt blob is in quarantine/ with its corrupt bytes" \
	"$([ -n "$q" ] && [ "$(sha256_of "$q")" = "$BAD_SHA" ]; echo $?)" \
	"quarantine/: $(find "$S/quarantine" 2>/dev/null | head -10)"
result "the other blobs stay in blobs/" \
	"$([ "$(find "$S/blobs/sha256" -type f | wc -l)" = $((NBLOBS - 1)) ] && cmp -s "$f" "$GGUF"; echo $?)" \
	"$(find "$S/blobs/sha256" -type f)"

# --- gc --------------------------------------------------------------------------
# Every blob of the store is named by a file: gc removes none, even with no
# age bound; a bad --min-age is a usage error.
run gc1 "$GGUFD" gc --store "$S" --min-age 0
result "gc on a store whose blobs are all named removes nothing and says so" \
	"$([ "$(rc gc1)" = 0 ] && grep -q '^removed 0 blobs (0 bytes)' "$WORK/gc1.out" &&
		[ "$(find "$S/blobs/sha256" -type f | wc -l)" = $((NBLOBS - 1)) ]; echo $?)" "$(show gc1)"
run gc2 "$GGUFD" gc --store "$S" --min-age soon
result "gc --min-age soon is a usage error (exit 2)" "$([ "$(rc gc2)" = 2 ]; echo $?)" "$(show gc2)"

# --- import --link ------------------------------------------------------------------
# On the store's filesystem the file is not copied: a reflink where the
# filesystem clones, else a hard link (same inode); the blob verifies; the
# store keeps it when the source goes.  Across filesystems it is copied.
LS=$WORK/linkstore
head -c 3000000 /dev/urandom >"$WORK/linked.bin"
LSHA=$(sha256_of "$WORK/linked.bin")
run ln1 "$GGUFD" import --store "$LS" --link ruv/linked "$WORK/linked.bin"
LB=$LS/blobs/sha256/${LSHA:0:2}/$LSHA
result "import --link on the same filesystem: hard-linked or reflinked, said so" \
	"$([ "$(rc ln1)" = 0 ] && grep -qE "^imported linked.bin $LSHA 3000000 \((hard-linked|reflinked)\)$" "$WORK/ln1.out"; echo $?)" \
	"$(show ln1)"
if grep -q hard-linked "$WORK/ln1.out"; then
	same=$([ "$(stat -c %i "$LB")" = "$(stat -c %i "$WORK/linked.bin")" ]; echo $?)
else
	same=$(cmp -s "$LB" "$WORK/linked.bin"; echo $?)
fi
result "the blob is the file itself (hard link: same inode) or a clone (same bytes)" "$same" \
	"$(stat -c '%i %h %n' "$LB" "$WORK/linked.bin" 2>&1)"
rm -f "$WORK/linked.bin"
run ln2 "$GGUFD" verify --store "$LS"
result "with the source removed, the store keeps the blob and verify passes" \
	"$([ "$(rc ln2)" = 0 ] && [ "$(sha256_of "$LB")" = "$LSHA" ]; echo $?)" "$(show ln2)"
run ln3 "$GGUFD" import --store "$LS" --link --revision dev ruv/linked "$LB=again.bin"
result "import --link of bytes already stored: said so, same blob" \
	"$([ "$(rc ln3)" = 0 ] && grep -q "^imported again.bin $LSHA 3000000 (already stored)$" "$WORK/ln3.out"; echo $?)" \
	"$(show ln3)"
# Another filesystem: /dev/shm (tmpfs) when it is one, else skip visibly.
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$WORK")" ]; then
	X=$(mktemp -d /dev/shm/ggufd-link.XXXXXX)
	head -c 100000 /dev/urandom >"$X/other.bin"
	XSHA=$(sha256_of "$X/other.bin")
	run ln4 "$GGUFD" import --store "$LS" --link ruv/linked "$X/other.bin"
	XB=$LS/blobs/sha256/${XSHA:0:2}/$XSHA
	result "import --link across filesystems copies, and says so" \
		"$([ "$(rc ln4)" = 0 ] && grep -q "^imported other.bin $XSHA 100000 (copied: " "$WORK/ln4.out" &&
			[ "$(stat -c %d "$XB")" != "$(stat -c %d "$X/other.bin")" ]; echo $?)" "$(show ln4)"
	rm -rf "$X"
else
	skip "import --link across filesystems copies, and says so" "no separate /dev/shm filesystem here"
fi
run ln5 "$GGUFD" import --store "$LS" --link ruv/linked "$WORK/no-such-file"
result "import --link of a missing file fails (exit 1), nothing recorded" \
	"$([ "$(rc ln5)" = 1 ]; echo $?)" "$(show ln5)"

finish
