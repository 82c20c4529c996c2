#!/usr/bin/env bash
# cache.sh: what the hot path keeps between requests (the lookup cache,
# the repo-info answer cache, the open-descriptor cache, the kept small
# answers) never serves an old answer after the index or the upstream
# changed, nor one name's answer for another.
#
#   A. A local registry (--upstream none): a file and the repo's info are
#      asked for several times (cached), then `ggufd import`, another
#      process, writes a new version of the same path on main while the
#      server runs: the next requests get the new bytes (whole, a probe,
#      a range), the new X-Repo-Commit and ETag, and the info lists the
#      new commit and LFS hash.
#   B. A mirror of the fake Hub with --ref-ttl 1: a file is fetched and
#      served from the store several times, then the fake Hub moves main
#      to a commit with other bytes at the same path; once the ref TTL has
#      passed, the new bytes are served (the ref update is an index write).
#      This is the ref-TTL path end to end; a stale cache entry there would
#      only cost upstream requests (a stale ref is asked upstream), so A is
#      the part that catches an answer kept past an index write.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env

plan 12

REPO=ruv/ruvltra
S=$WORK/store
mkdir -p "$WORK/v1" "$WORK/v2"
mkgguf "$WORK/v1/m.gguf" --size 300000 >/dev/null 2>&1
mkgguf "$WORK/v2/m.gguf" --size 200000 --seed 2 --arch qwen2 >/dev/null 2>&1
printf '{"v": 1}\n' >"$WORK/v1/config.json"
printf '{"v": 2, "changed": true}\n' >"$WORK/v2/config.json"
imp() { "$GGUFD" import --store "$S" "$REPO" "$@" >>"$WORK/import.out" 2>&1; }
imp "$WORK/v1/m.gguf" "$WORK/v1/config.json" "$WORK/v1/m.gguf=copy.gguf" \
	"$WORK/v1/config.json=docs/a-long-name-so-that-the-repo-info-is-over-1-KiB-and-gzipped.json"
C1=$(sed -n 's/^commit //p' "$WORK/import.out" | tail -1)
if ! start_ggufd "$S" --upstream none; then
	not_ok "ggufd serves the local store"
	finish
	exit
fi
ok "ggufd serves the local store"

F=$BASE/$REPO/resolve/main/m.gguf
C=$BASE/$REPO/resolve/main/config.json
I="$BASE/api/models/$REPO?blobs=true"
# Warm every cache: the same names asked several times.
for _ in 1 2 3; do
	gcurl -o "$WORK/a.bin" "$F"
	gcurl -o /dev/null -r 0-0 "$F"
	gcurl -o "$WORK/a.json" "$C"
	gcurl -o "$WORK/a.info" "$I"
	gcurl --compressed -D "$WORK/gz.h" -o "$WORK/a.infogz" "$I"
	gcurl -I -o "$WORK/a.head" "$F"
done
result "before: main serves the first version (file, config, info with commit $C1, the same info gzip'd)" \
	"$(cmp -s "$WORK/a.bin" "$WORK/v1/m.gguf" && cmp -s "$WORK/a.json" "$WORK/v1/config.json" &&
		[ "$(jpy "$WORK/a.info" 'd["sha"]')" = "$C1" ] &&
		[ "$(header Content-Encoding "$WORK/gz.h")" = gzip ] && cmp -s "$WORK/a.info" "$WORK/a.infogz"; echo $?)" \
	"$(head -c 300 "$WORK/a.info")" "$(cat "$WORK/gz.h")"
# Kept answers are per name: one blob under two paths, two range lengths.
for _ in 1 2; do
	gcurl -D "$WORK/n1.h" -o /dev/null -r 0-0 "$F"
	gcurl -D "$WORK/n2.h" -o /dev/null -r 0-0 "$BASE/$REPO/resolve/main/copy.gguf"
	gcurl -o "$WORK/n3.bin" -r 0-1 "$F"
done
result "one blob under two names: each probe has its own Content-Disposition, one ETag; bytes=0-1 is 2 bytes" \
	"$(header Content-Disposition "$WORK/n1.h" | grep -q 'filename="m.gguf"' &&
		header Content-Disposition "$WORK/n2.h" | grep -q 'filename="copy.gguf"' &&
		[ "$(header ETag "$WORK/n1.h")" = "$(header ETag "$WORK/n2.h")" ] &&
		cmp -s "$WORK/n3.bin" <(head -c 2 "$WORK/v1/m.gguf"); echo $?)" \
	"$(cat "$WORK/n1.h" "$WORK/n2.h")"

# Another process writes a new version of the same paths on main.
imp "$WORK/v2/m.gguf" "$WORK/v2/config.json"
C2=$(sed -n 's/^commit //p' "$WORK/import.out" | tail -1)
gcurl -D "$WORK/b.h" -o "$WORK/b.bin" "$F"
result "after an import by another process: the whole file is the new version, X-Repo-Commit the new commit" \
	"$([ -n "$C2" ] && [ "$C2" != "$C1" ] && cmp -s "$WORK/b.bin" "$WORK/v2/m.gguf" &&
		[ "$(header X-Repo-Commit "$WORK/b.h")" = "$C2" ] &&
		[ "$(header ETag "$WORK/b.h")" = "\"$(sha256_of "$WORK/v2/m.gguf")\"" ]; echo $?)" \
	"$(cat "$WORK/b.h")"
gcurl -I -o "$WORK/b.head" "$F"
result "HEAD, kept before, now has the new version's length, ETag and commit, as the GET" \
	"$([ "$(header Content-Length "$WORK/a.head")" = "$(file_size "$WORK/v1/m.gguf")" ] &&
		[ "$(header Content-Length "$WORK/b.head")" = "$(file_size "$WORK/v2/m.gguf")" ] &&
		[ "$(header ETag "$WORK/b.head")" = "$(header ETag "$WORK/b.h")" ] &&
		[ "$(header X-Repo-Commit "$WORK/b.head")" = "$C2" ]; echo $?)" \
	"$(cat "$WORK/a.head" "$WORK/b.head")"
gcurl -D "$WORK/p.h" -o "$WORK/p.bin" -r 0-0 "$F"
gcurl -o "$WORK/r.bin" -r 1000-5095 "$F"
result "a probe and a 4 KiB range give the new version's bytes and size" \
	"$([ "$(header Content-Range "$WORK/p.h")" = "bytes 0-0/$(file_size "$WORK/v2/m.gguf")" ] &&
		cmp -s "$WORK/r.bin" <(tail -c +1001 "$WORK/v2/m.gguf" | head -c 4096); echo $?)" \
	"$(cat "$WORK/p.h")"
gcurl -o "$WORK/b.json" "$C"
gcurl -o "$WORK/b.info" "$I"
gcurl --compressed -o "$WORK/b.infogz" "$I"
result "the small file and the repo info are the new ones (commit, LFS sha256), gzip'd too" \
	"$(cmp -s "$WORK/b.json" "$WORK/v2/config.json" &&
		[ "$(jpy "$WORK/b.info" 'd["sha"]')" = "$C2" ] &&
		[ "$(jpy "$WORK/b.info" '[s["lfs"]["sha256"] for s in d["siblings"] if s["rfilename"] == "m.gguf"][0]')" = "$(sha256_of "$WORK/v2/m.gguf")" ] &&
		cmp -s "$WORK/b.info" "$WORK/b.infogz"; echo $?)" \
	"$(head -c 600 "$WORK/b.info")"
# The old commit is still served at its own revision (a pinned name).
gcurl -o "$WORK/c1.bin" "$BASE/$REPO/resolve/$C1/m.gguf"
result "the first commit, asked by its id, still serves the first version" \
	"$(cmp -s "$WORK/c1.bin" "$WORK/v1/m.gguf"; echo $?)"
stop_ggufd

# B. A mirror: the fake Hub moves main.
REPOS=$WORK/repos
H1=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main \
	"$WORK/v1/m.gguf=m.gguf" "$WORK/v1/config.json=config.json" 2>>"$WORK/mkrepo.err")
if ! start_fakehub "$REPOS" || ! start_ggufd "$WORK/mstore" --upstream "$HUB" --ref-ttl 1; then
	not_ok "the fake Hub and a mirror of it started"
F=$BASE/$REPO/resolve/main/m.gguf
C=$BASE/$REPO/resolve/main/config.json
	finish
	exit
fi
ok "the fake Hub and a mirror of it started"
F=$BASE/$REPO/resolve/main/m.gguf
C=$BASE/$REPO/resolve/main/config.json
for _ in 1 2 3; do
	gcurl -D "$WORK/m1.h" -o "$WORK/m1.bin" "$F"
	gcurl -o "$WORK/m1.json" "$C"
	gcurl -o /dev/null -r 0-0 "$F"
done
result "the mirror serves main's first commit $H1" \
	"$(cmp -s "$WORK/m1.bin" "$WORK/v1/m.gguf" && cmp -s "$WORK/m1.json" "$WORK/v1/config.json" &&
		[ "$(header X-Repo-Commit "$WORK/m1.h")" = "$H1" ]; echo $?)" "$(cat "$WORK/m1.h")"
H2=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main \
	"$WORK/v2/m.gguf=m.gguf" "$WORK/v2/config.json=config.json" 2>>"$WORK/mkrepo.err")
# Past the ref TTL (1 s): polled, bounded; the answer is checked, not the time.
for ((i = 0; i < 50; i++)); do
	gcurl -D "$WORK/m2.h" -o "$WORK/m2.bin" "$F"
	[ "$(header X-Repo-Commit "$WORK/m2.h")" = "$H2" ] && break
	sleep 0.1
done
result "after main moved upstream: the new commit's bytes are served" \
	"$([ -n "$H2" ] && [ "$H2" != "$H1" ] && cmp -s "$WORK/m2.bin" "$WORK/v2/m.gguf"; echo $?)" \
	"$(cat "$WORK/m2.h")" "$(cat "$WORK/mkrepo.err" 2>/dev/null)"
gcurl -o "$WORK/m2.json" "$C"
gcurl -D "$WORK/mp.h" -o /dev/null -r 0-0 "$F"
result "and the small file and a probe follow (new bytes, new size)" \
	"$(cmp -s "$WORK/m2.json" "$WORK/v2/config.json" &&
		[ "$(header Content-Range "$WORK/mp.h")" = "bytes 0-0/$(file_size "$WORK/v2/m.gguf")" ]; echo $?)" \
	"$(cat "$WORK/mp.h")"
finish
