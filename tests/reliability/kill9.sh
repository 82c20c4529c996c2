#!/usr/bin/env bash
# kill9.sh: ggufd killed with SIGKILL at random moments, again and again.
#
# RELIABILITY_ITERS iterations (default 52) rotate among four kinds of
# work in progress at the kill:
#   fetch    a client downloading a cold file (the fake Hub's CDN throttled
#            so that the transfer lasts about 0.8 s);
#   range    a client asking a random Range of a cold file (the same);
#   upload   a client sending a file with the plain PUT route
#            (PUT /api/ggufd/upload/...), its body slowed by the client;
#   publish  ggufd publishing an upload upstream (the fake Hub answers the
#            LFS PUT and the commit late, after doing them).
# ggufd is killed (kill -9) a random 0-800 ms after the client started
# (RELIABILITY_SEED makes the moments reproducible).  Then, every time:
#   - the client saw a visible failure (curl exit status, HTTP error) or
#     got exactly the right bytes;
#   - ggufd restarts on the same store, ggufd verify passes, every blob
#     holds the bytes its name says and every file the index calls present
#     has exactly its bytes (ggufd ls against the inputs' sha256): no
#     partial is ever indexed;
#   - retried, the interrupted transfer completes byte-exact (a range: a
#     206 with exactly those bytes); an upload is published upstream
#     exactly once: if the journal has the job, ggufd's worker finishes it
#     (the client does not send it again), else the client sends it again;
#     then one job for the file, done, one upstream commit adding it, one
#     LFS upload of it (the bytes went up once), the object in the fake
#     Hub's LFS store, and the file byte-exact from ggufd.
# At the end the moments the kills hit are counted (diagnostics): a fetch
# killed mid-transfer leaves a partial; an upload killed while its body
# came in leaves no job; one killed while publishing leaves the object or
# the commit upstream without ggufd knowing.
# No timing assertions; every wait is bounded.

# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
# shellcheck source-path=SCRIPTDIR source=rlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/rlib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

ITERS=${RELIABILITY_ITERS:-52}
SEED=${RELIABILITY_SEED:-$$}
RANDOM=$SEED
KINDS=(fetch range upload publish)
SIZE=2000000      # bytes of each file
RATE=2500000      # bytes/s: the throttled CDN, the slowed upload body
KILL_MAX_MS=800   # kill a random 0..KILL_MAX_MS ms after the client starts

REPO=ruv/ruvltra
IN=$WORK/in
REPOS=$WORK/repos
S=$WORK/store
SUMS=$WORK/sums
mkdir -p "$IN" "$REPOS"

plan $((2 + 3 * ITERS + 1))
diag "RELIABILITY_ITERS=$ITERS RELIABILITY_SEED=$SEED"

missing=
for t in curl python3 sha256sum timeout head tail; do
	have "$t" || missing="$missing $t"
done
result "tools on PATH (curl python3 sha256sum timeout head tail)" "$([ -z "$missing" ]; echo $?)" "missing:$missing"

# --- the inputs: a cold file per fetch/range iteration, a file per upload -------------

: >"$SUMS"
files=()
for ((i = 0; i < ITERS; i++)); do
	kind=${KINDS[i % 4]}
	case $kind in
	fetch | range) f=$IN/cold-$i.bin ;;
	*) f=$IN/rel-up-$i.bin ;;
	esac
	rand_file "$f" "$SIZE"
	echo "$(basename "$f") $SIZE $(sha256_of "$f")" >>"$SUMS"
	case $kind in fetch | range) files+=("$f") ;; esac
done
# The repo needs a file even with no fetch iteration.
echo seed >"$IN/seed.txt"
echo "seed.txt $(file_size "$IN/seed.txt") $(sha256_of "$IN/seed.txt")" >>"$SUMS"
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto "$IN/seed.txt" ${files[@]+"${files[@]}"} 2>"$WORK/mk.log")
st=$?
UP=hf_up$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
TOK=$("$GGUFD" token add ci --scope upload --store "$S" 2>"$WORK/token.err")
GARGS=(--upstream "" --upload-allow 'rel-up-*.bin')
serve() {
	GARGS[1]=$HUB
	HF_TOKEN=$UP start_ggufd "$S" "${GARGS[@]}"
}
if [ "$st" = 0 ] && [[ $COMMIT =~ ^[0-9a-f]{40}$ ]] && [ -n "$TOK" ] &&
	start_fakehub "$REPOS" --token "$UP" && serve; then
	ok "a fake Hub with the files, ggufd in front of it, an upload token"
else
	not_ok "a fake Hub with the files, ggufd in front of it, an upload token" \
		"mkrepo $st: $(cat "$WORK/mk.log"); token: $(cat "$WORK/token.err")"
	finish
	exit
fi

# --- helpers ----------------------------------------------------------------------

sum_of() { awk -v p="$1" '$1 == p { print $3; exit }' "$SUMS"; }

# (Python starts slowly: one call per question, answering all of it.)

# journal: the upload journal in $WORK/jobs.json.
journal() {
	gcurl --max-time 20 -o "$WORK/jobs.json" -H "Authorization: Bearer $TOK" "$BASE/api/ggufd/uploads"
}

# upstream PATH SHA: "COMMITS UPLOADS" for the file PATH with content SHA
# at the fake Hub: commits adding it, LFS uploads of it (PUTs accepted).
upstream() {
	fake_stats "$WORK/st.json" &&
		jpy "$WORK/st.json" "'%d %d' % (len([c for c in d['commits'] if '$1' in c['lfsPaths']]), d['uploads'].get('$2', 0))"
}

# published PATH SHA: "JOBS COMMITS UPLOADS STORED": the journal's jobs
# for PATH as id:state words joined by commas, then the fake Hub's commits
# adding it and uploads of it, and whether its LFS store holds SHA with
# the file's size.
published() {
	journal && fake_stats "$WORK/st.json" && fake_ctl GET "lfs/$2" >"$WORK/lfs.json" &&
		python3 -c '
import json, sys
path, sha, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
jobs = json.load(open(sys.argv[4]))
st = json.load(open(sys.argv[5]))
lfs = json.load(open(sys.argv[6]))
mine = ",".join("%d:%s" % (j["id"], j["state"]) for j in jobs if path in [f["path"] for f in j["files"]])
print(mine or "-", len([c for c in st["commits"] if path in c["lfsPaths"]]), st["uploads"].get(sha, 0),
      "yes" if lfs["exists"] and lfs["size"] == size else "no")
' "$1" "$2" "$SIZE" "$WORK/jobs.json" "$WORK/st.json" "$WORK/lfs.json"
}

# The store after a restart: verify, blobs, the index.
store_ok() {
	local x
	verify_store "$S"
	[ "$VST" = 0 ] || {
		echo "ggufd verify exit $VST: $(tail -c 600 "$WORK/verify.out")"
		return 1
	}
	x=$(blobs_ok "$S") || {
		echo "$x"
		return 1
	}
	indexed_ok "$S" "$SUMS"
}

declare -A HIT=()
hit() { HIT[$1]=$((${HIT[$1]:-0} + 1)); }

# --- the iterations --------------------------------------------------------------------

for ((i = 0; i < ITERS; i++)); do
	kind=${KINDS[i % 4]}
	ms=$((RANDOM % (KILL_MAX_MS + 1)))
	tag=it$i
	case $kind in fetch | range) name=cold-$i.bin ;; *) name=rel-up-$i.bin ;; esac
	src=$IN/$name
	sha=$(sum_of "$name")
	want=$src
	cargs=()
	fake_clear
	case $kind in
	fetch)
		fake_fault "{\"throttle_bps\": $RATE, \"match\": \"$sha\", \"count\": -1}"
		upath=/$REPO/resolve/$COMMIT/$name
		;;
	range)
		fake_fault "{\"throttle_bps\": $RATE, \"match\": \"$sha\", \"count\": -1}"
		upath=/$REPO/resolve/$COMMIT/$name
		first=$(((RANDOM * 32768 + RANDOM) % SIZE))
		last=$((first + (RANDOM * 32768 + RANDOM) % 1000000))
		[ "$last" -lt "$SIZE" ] || last=$((SIZE - 1))
		cargs=(-r "$first-$last")
		want=$WORK/$tag.want
		tail -c +$((first + 1)) "$src" | head -c $((last - first + 1)) >"$want"
		;;
	upload)
		upath=/api/ggufd/upload/$REPO/$name
		cargs=(-T "$src" -H "Authorization: Bearer $TOK" --limit-rate "$RATE")
		;;
	publish)
		fake_fault "[{\"slow_first_byte\": 0.3, \"match\": \"/s3/$sha\", \"host\": \"cdn\", \"count\": 1},
			{\"slow_first_byte\": 0.3, \"match\": \"/commit/\", \"host\": \"hub\", \"count\": 1}]"
		upath=/api/ggufd/upload/$REPO/$name
		cargs=(-T "$src" -H "Authorization: Bearer $TOK")
		;;
	esac
	(
		fetch "$tag" "$BASE$upath" "${cargs[@]}"
		echo "$RC" >"$DL/$tag.rc"
	) &
	bg_track $!
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill9_ggufd
	bg_wait
	fake_clear
	RC=$(cat "$DL/$tag.rc" 2>/dev/null)
	CODE=$(http_status "$RESP/$tag.h" 2>/dev/null)
	what="$i/$kind ($name, kill -9 after $ms ms)"

	# 1. What the client saw.
	case $kind in
	fetch | range)
		if [ -n "$(find "$S/tmp" -name "$sha*" -type f 2>/dev/null)" ]; then
			hit "$kind mid-transfer (a partial left)"
		else
			hit "$kind before or after the transfer (no partial)"
		fi
		result "$what: the client got a visible failure or the exact bytes ($(outcome "$tag" "$want"))" \
			"$(honest "$tag" "$want"; echo $?)" "$(cat "$RESP/$tag.h" 2>/dev/null)"
		;;
	*)
		# Where the kill hit, as upstream saw it (the journal is read
		# after the restart).
		phase=
		read -r c u <<<"$(upstream "$name" "$sha")"
		if [ "$RC" = 0 ] && [ "$CODE" = 200 ]; then
			phase="after the answer (200)"
		elif [ "${c:-0}" != 0 ]; then
			phase="after the upstream commit, before ggufd recorded it"
		elif [ "${u:-0}" != 0 ]; then
			phase="after the LFS upload upstream, before the commit"
		fi
		result "$what: the client got a visible failure or 200 done ($(outcome "$tag" "$src"))" \
			"$([ "$RC" != 0 ] || { [ -n "$CODE" ] && [ "$CODE" != 200 ]; } ||
				[ "$(jpy "$DL/$tag" "d['state']" 2>/dev/null)" = "done" ]; echo $?)" \
			"$(cat "$RESP/$tag.h" "$DL/$tag" 2>/dev/null | head -c 1500)"
		;;
	esac

	# 2. The restart, the store.
	if serve; then
		store_ok >"$WORK/store_ok.out"
		result "$what: ggufd restarts on the same store, verify passes, every present file is exact" \
			"$?" "$(cat "$WORK/store_ok.out")"
	else
		not_ok "$what: ggufd restarts on the same store" "$(tail -n 20 "$GGUFD_LOG" 2>/dev/null)"
		not_ok "$what: not retried (no ggufd)"
		break
	fi

	# 3. The retry.
	case $kind in
	fetch)
		fetch "$tag.again" "$BASE$upath"
		result "$what: retried, the file is byte-exact" \
			"$([ "$RC" = 0 ] && [ "$CODE" = 200 ] && exact "$DL/$tag.again" "$src"; echo $?)" \
			"$(outcome "$tag.again" "$src")" "$(tail -n 5 "$GGUFD_LOG")"
		;;
	range)
		fetch "$tag.again" "$BASE$upath" "${cargs[@]}"
		result "$what: retried, the range ${cargs[1]} is a 206 with exactly those bytes" \
			"$([ "$RC" = 0 ] && [ "$CODE" = 206 ] && exact "$DL/$tag.again" "$want"; echo $?)" \
			"$(outcome "$tag.again" "$want")" "$(tail -n 5 "$GGUFD_LOG")"
		;;
	*)
		read -r jobs c u o <<<"$(published "$name" "$sha")"
		if [ "$jobs" = - ]; then
			hit "$kind ${phase:-while the body came in (no job)}"
			fetch "$tag.again" "$BASE$upath" -T "$src" -H "Authorization: Bearer $TOK"
			how="no job after the restart: sent again, status $CODE"
		else
			hit "$kind ${phase:-with the job journaled, nothing upstream yet}"
			# ggufd's worker publishes it: wait (bounded) until no job
			# is pending or publishing.
			for ((w = 0; w < 300; w++)); do
				journal && ! grep -qE '"state": ?"(pending|publishing)"' "$WORK/jobs.json" && break
				sleep "$GG_POLL"
			done
			how="journaled after the restart ($jobs): left to ggufd"
		fi
		read -r jobs c u o <<<"$(published "$name" "$sha")"
		fetch "$tag.get" "$BASE/$REPO/resolve/main/$name"
		result "$what: published exactly once (one job, done; one upstream commit; one LFS upload, the object upstream; byte-exact from ggufd)" \
			"$([[ $jobs =~ ^[0-9]+:done$ ]] && [ "$c" = 1 ] && [ "$u" = 1 ] && [ "$o" = yes ] &&
				[ "$RC" = 0 ] && exact "$DL/$tag.get" "$src"; echo $?)" \
			"$how; jobs now: $jobs; upstream commits adding it: $c, LFS uploads of it: $u, object upstream: $o;" \
			"GET: $(outcome "$tag.get" "$src")" "$(tail -n 8 "$GGUFD_LOG")"
		;;
	esac
done

for k in "${!HIT[@]}"; do
	diag "kills: $k: ${HIT[$k]}"
done | sort

# --- the end ------------------------------------------------------------------------

store_ok >"$WORK/store_ok.out"
result "at the end: verify passes, every blob and every present file is exact (${INDEXED:-0} files present)" \
	"$?" "$(cat "$WORK/store_ok.out")"

stop_ggufd
stop_fakehub
finish
