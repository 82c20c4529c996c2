# shellcheck shell=bash disable=SC2034
# rlib.sh: helpers shared by the reliability tests (tests/reliability/*.sh).
# Sourced after tests/integration/lib.sh, whose rules they keep: loopback
# only, every wait bounded, no timing assertions.
#
#   exact A B        A exists and has B's size and sha256
#   fetch TAG URL [CURL ARGS...]
#                    GET URL into $DL/TAG; sets RC (curl exit) and CODE
#                    (the last status); headers in $RESP/TAG.h
#   honest TAG SRC   the client's outcome is byte-exact or visibly failed:
#                    a 200/206 with curl exit 0 must hold exactly SRC
#   outcome TAG SRC  one line saying what the client got
#   blobs_ok STORE   every file under STORE/blobs/ hashes to its name
#   indexed_ok STORE SUMS
#                    every file `ggufd ls` calls present (no "(content
#                    missing)") has the size and sha256 that SUMS (lines
#                    "PATH SIZE SHA256") gives for its path, and its blob
#                    is there under that sha256 (blobs_ok checks that
#                    every blob's bytes hash to its name: run both); sets
#                    INDEXED (files present); the offenders on stdout
#   verify_store STORE
#                    ggufd verify; sets VST (exit status), output in
#                    $WORK/verify.out

DL=$WORK/dl
RESP=$WORK/resp
mkdir -p "$DL" "$RESP"

exact() {
	[ -f "$1" ] && [ "$(file_size "$1")" = "$(file_size "$2")" ] &&
		[ "$(sha256_of "$1")" = "$(sha256_of "$2")" ]
}

fetch() {
	local tag=$1 url=$2
	shift 2
	rm -f "$DL/$tag" "$RESP/$tag.h"
	gcurl --max-time 90 -D "$RESP/$tag.h" -o "$DL/$tag" "$@" "$url" 2>"$RESP/$tag.err"
	RC=$?
	CODE=$(http_status "$RESP/$tag.h" 2>/dev/null)
}

honest() {
	if [ "$RC" = 0 ] && { [ "$CODE" = 200 ] || [ "$CODE" = 206 ]; }; then
		exact "$DL/$1" "$2"
	else
		[ "$RC" != 0 ] || [ -n "$CODE" ]
	fi
}

outcome() {
	echo "curl exit $RC, status ${CODE:-none}, $(file_size "$DL/$1" 2>/dev/null || echo 0) of" \
		"$(file_size "$2") bytes; $(head -c 300 "$RESP/$1.err" 2>/dev/null)"
}

blobs_ok() {
	local bad
	# One sha256sum for every blob: "SUM  STORE/blobs/sha256/xx/NAME".
	bad=$(find "$1/blobs" -type f -exec sha256sum -- {} + 2>/dev/null |
		awk '{ n = $2; sub(/.*\//, "", n); if (n != $1) printf " %s", $2 }')
	[ -z "$bad" ] || {
		echo "wrong content:$bad"
		return 1
	}
}

indexed_ok() {
	local store=$1 sums=$2 line path size pfx want wsize wsha blob bad='' n=0
	INDEXED=0
	timeout 60 "$GGUFD" ls --store "$store" >"$WORK/ls.out" 2>&1 || {
		echo "ggufd ls failed: $(head -c 500 "$WORK/ls.out")"
		return 1
	}
	while IFS= read -r line; do
		# "    PATH   SIZE  sha256:PREFIX  [lfs] ... [(content missing)]"
		[[ $line =~ ^\ \ \ \ ([^ ]+)\ +([0-9]+)\ +sha256:([0-9a-f]{12}) ]] || continue
		path=${BASH_REMATCH[1]} size=${BASH_REMATCH[2]} pfx=${BASH_REMATCH[3]}
		case $line in *"(content missing)"*) continue ;; esac
		n=$((n + 1))
		want=$(awk -v p="$path" '$1 == p { print $2, $3; exit }' "$sums")
		wsize=${want% *} wsha=${want#* }
		blob=$store/blobs/sha256/${wsha:0:2}/$wsha
		if [ -z "$want" ] || [ "$size" != "$wsize" ] || [ "$pfx" != "${wsha:0:12}" ] ||
			[ ! -f "$blob" ]; then
			bad="$bad [$path: indexed $size sha256:$pfx, expected ${want:-nothing}]"
		fi
	done <"$WORK/ls.out"
	INDEXED=$n
	[ -z "$bad" ] || {
		echo "present in the index with other bytes:$bad"
		return 1
	}
}

verify_store() {
	timeout 120 "$GGUFD" verify --store "$1" >"$WORK/verify.out" 2>&1
	VST=$?
}

# rand_file OUT SIZE: SIZE random bytes (distinct content every time).
rand_file() {
	head -c "$2" /dev/urandom >"$1"
}
