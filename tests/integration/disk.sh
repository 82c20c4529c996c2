#!/usr/bin/env bash
# disk.sh: the dashboard's disk view (#disk) and the admin view's pins, in
# a real browser (Debian's chromium driven by playwright-core), in front of
# the fake Hub.
#
# The fake Hub holds ruv/a: four GGUF files of 300000 bytes (f1..f4).  An
# admin token is made before a ggufd with a 1000000-byte quota starts.
# With curl: GET /api/ggufd/pins is refused without the admin token (401),
# GET /api/ggufd/disk is public; f1..f4 are fetched, so f1 (least recently
# used) is evicted.  In the browser, with no token: #disk shows the used
# bytes against the quota (as text, exact bytes on hover, the bar's
# segments in proportion), the filesystem's size and free space, the blobs
# next to go (oldest first, with the files naming each, size, hits, a
# copy button for the sha256) and the eviction naming f1's path; a download
# of f1 from outside evicts f2, which the poll shows without a reload.  In
# #admin with the token: nothing pinned, then the form pins f3 (the answer
# in words, the list and the API have it), #store shows it "pinned", #disk
# counts it pinned and no longer next to go; unpin empties the list; an
# unknown revision shows the 404.  Restarted without a quota, #disk says
# "no quota" and shows the filesystem, and that no blob store is
# configured (blobStore null in the API).  No script error, no CSP violation;
# screenshots in tests/artifacts/disk/ (not in git).  Skipped, visibly,
# where chromium is not installed.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY HF_ENDPOINT

need_browser

plan 25

REPO=ruv/a
S=$WORK/store
REPOS=$WORK/repos
SHOTS=$TOP_BUILDDIR/tests/artifacts/disk
mkdir -p "$REPOS" "$SHOTS" "$WORK/in" "$WORK/dl"
rm -f "$SHOTS"/*.png
declare -A SHA NAME
NAME=([1]=ruvltra-0.5b-q4_k_m.gguf [2]=ruvltra-0.5b-q5_k_m.gguf [3]=ruvltra-0.5b-q6_k.gguf
	[4]=ruvltra-0.5b-q8_0.gguf)
args=()
for i in 1 2 3 4; do
	mkgguf "$WORK/in/f$i.gguf" --size 300000 --name "model $i" >>"$WORK/mk.log" 2>&1
	SHA[$i]=$(sha256_of "$WORK/in/f$i.gguf")
	args+=("$WORK/in/f$i.gguf=${NAME[$i]}")
done
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto --ref main "${args[@]}" \
	2>>"$WORK/mk.log" | tail -n 1)
ADM=$("$GGUFD" token add root --scope admin --store "$S" 2>>"$WORK/token.err")
if [ ${#COMMIT} != 40 ] || [ -z "$ADM" ] || ! start_fakehub "$REPOS" ||
	! start_ggufd "$S" --upstream "$HUB" --max-store-size 1000000; then
	not_ok "repo and admin token made, fake Hub and ggufd (quota 1000000 bytes) started" \
		"$(cat "$WORK/mk.log" "$WORK/token.err")"
	finish
	exit
fi
ok "repo and admin token made, fake Hub and ggufd (quota 1000000 bytes) started"

# --- the routes, with curl ------------------------------------------------------

# api NAME PATH [TOKEN]: status on stdout; headers in $WORK/NAME.h, body in
# $WORK/NAME.json.
api() {
	gcurl -o "$WORK/$1.json" -D "$WORK/$1.h" -w '%{http_code}' ${3:+-H "Authorization: Bearer $3"} "$BASE$2"
}
hdr() { tr -d '\r' <"$WORK/$1.h" | sed -n "s/^$2: //Ip" | head -n 1; }
get() { # get N: downloads f$N through ggufd, byte-exact
	gcurl -f -o "$WORK/dl/f$1" "$BASE/$REPO/resolve/main/${NAME[$1]}" 2>"$WORK/dl/f$1.err" &&
		cmp -s "$WORK/dl/f$1" "$WORK/in/f$1.gguf"
}
# size N: N bytes as the page writes them (binary units, one decimal).
size() {
	python3 -c '
import sys
n, u = float(sys.argv[1]), ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
i = 0
while n >= 1024 and i < len(u) - 1:
    n /= 1024
    i += 1
print(("%.1f" % n if i else "%d" % n) + " " + u[i])' "$1"
}

code=$(api nopins /api/ggufd/pins)
code2=$(api pins /api/ggufd/pins "$ADM")
result "GET /api/ggufd/pins without the admin token is refused (401, with a message); with it 200 []" \
	"$([ "$code" = 401 ] && [ -n "$(hdr nopins X-Error-Message)" ] && [ "$code2" = 200 ] &&
		[ "$(cat "$WORK/pins.json")" = "[]" ]; echo $?)" "statuses $code $code2: $(cat "$WORK/nopins.h" "$WORK/pins.json")"
code=$(api disk0 /api/ggufd/disk)
result "GET /api/ggufd/disk is public: 200 without a token, the quota 1000000" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/disk0.json" '[d["quota"], d["used"], d["evictions"]]')" = '[1000000, 0, 0]' ]; echo $?)" \
	"status $code: $(cat "$WORK/disk0.json")"

# One second between downloads: the index keeps the last access in whole
# seconds, and the housekeeping thread's flush (every few seconds) drops the
# finer time, so two uses within one second may tie (then the sha256
# decides).  Apart, the least recently used is f1, then f2, f3, f4.
get 1 && sleep 1 && get 2 && sleep 1 && get 3 && sleep 1 && get 4 && sleep 1
result "f1..f4 fetched through ggufd, byte-exact" $? "$(cat "$WORK"/dl/*.err)"
api disk1 /api/ggufd/disk >/dev/null
d1() { jpy "$WORK/disk1.json" "$1" 2>/dev/null; }
result "the fourth file evicted the least recently used (f1): 900000 used, f2 f3 f4 next, f1 recent" \
	"$([ "$(d1 '[d["used"], d["evictions"], d["evictedBytes"]]')" = '[900000, 1, 300000]' ] &&
		[ "$(d1 '[b["sha256"] for b in d["next"]]')" = "[\"${SHA[2]}\", \"${SHA[3]}\", \"${SHA[4]}\"]" ] &&
		[ "$(d1 '[d["recent"][0]["sha256"], d["recent"][0]["files"][0]["path"]]')" = "[\"${SHA[1]}\", \"${NAME[1]}\"]" ]; echo $?)" \
	"$(cat "$WORK/disk1.json")"

# --- the page, under the quota -----------------------------------------------------

export CHROMIUM
timeout 240 node "$NODE_TESTDIR/integration/disk.mjs" "$BASE" quota "$SHOTS" "$ADM" "$REPO" \
	"${NAME[3]}" "${NAME[1]}" >"$WORK/obs.json" 2>"$WORK/obs.err"
st=$?
result "the browser drove the disk view and the pins to the end" "$([ "$st" = 0 ]; echo $?)" \
	"node exit $st" "$(tail -c 2000 "$WORK/obs.err")"
obs() { jpy "$WORK/obs.json" "$1" 2>/dev/null; }
has() { grep -q -- "$2" <<<"$1"; }

summary=$(obs 'd["disk"]["summary"]')
result "#disk (no token) says the used bytes against the quota: $(size 900000) of $(size 1000000) (90%), exact on hover" \
	"$([ "$summary" = "$(size 900000) used of a $(size 1000000) quota (90%), in 3 blobs" ] &&
		has "$(obs 'd["disk"]["summaryTitle"]')" '900000 bytes used, 0 being written, quota 1000000 bytes' &&
		[ "$(obs 'd["navActive"]')" = Disk ]; echo $?)" "$summary / $(obs 'd["disk"]["summaryTitle"]')"
result "the legend names each part in words with its size: nothing pinned, $(size 900000) evictable, $(size 100000) free" \
	"$([ "$(obs 'd["disk"]["legend"]')" = "[\"pinned (never evicted) 0 B\", \"in use (being read or published) 0 B\", \"evictable $(size 900000)\", \"being written 0 B\", \"free under the quota $(size 100000)\"]" ]; echo $?)" \
	"$(obs 'd["disk"]["legend"]')"
result "the bar's evictable segment fills 90% of it, the others nothing" \
	"$([ "$(obs '[[c, "%.2f" % w] for c, w in d["disk"]["segs"]]')" = '[["pinned", "0.00"], ["held", "0.00"], ["evictable", "0.90"], ["writing", "0.00"]]' ]; echo $?)" \
	"$(obs 'd["disk"]["segs"]')"
result "the filesystem's total and free space are shown, as the API says" \
	"$(has "$(obs 'd["disk"]["fs"]')" "^Filesystem: $(size "$(d1 'd["fsTotal"]')") total, .* free" ; echo $?)" \
	"$(obs 'd["disk"]["fs"]') / fsTotal $(d1 'd["fsTotal"]')"
result "next to go: f2, f3, f4 in that order, each with its size (exact on hover), last access, hits (as the API says: 0, a cold download is a miss), short sha256 and copy, its file" \
	"$([ "$(obs '[[r[0], r[1], r[4][:12], r[5]] for r in d["disk"]["next"]]')" = "[[\"1\", \"$(size 300000)\", \"${SHA[2]:0:12}\", \"$REPO@main/${NAME[2]}\"], [\"2\", \"$(size 300000)\", \"${SHA[3]:0:12}\", \"$REPO@main/${NAME[3]}\"], [\"3\", \"$(size 300000)\", \"${SHA[4]:0:12}\", \"$REPO@main/${NAME[4]}\"]]" ] &&
		[ "$(obs '[int(r[3]) for r in d["disk"]["next"]]')" = "$(d1 '[b["hits"] for b in d["next"]]')" ] &&
		[ "$(obs 'all(int(r[3]) == 0 for r in d["disk"]["next"])')" = true ] &&
		[ "$(obs 'all(__import__("re").fullmatch(r"just now|\d+ (s|min|h|d) ago", r[2]) for r in d["disk"]["next"])')" = true ] &&
		[ "$(obs 'd["disk"]["nextTitles"]')" = '["300000 bytes", "300000 bytes", "300000 bytes"]' ] &&
		[ "$(obs 'd["disk"]["copyButtons"]')" = 3 ]; echo $?)" "$(obs 'd["disk"]["next"]') $(obs 'd["disk"]["nextTitles"]')"
result "recent evictions: one, f1, naming its file (repo@revision/path)" \
	"$(has "$(obs 'd["disk"]["evictions"]')" "^1 eviction since ggufd started ($(size 300000))" &&
		[ "$(obs '[[r[1], r[3][:12], r[4]] for r in d["disk"]["recent"]]')" = "[[\"$(size 300000)\", \"${SHA[1]:0:12}\", \"$REPO@main/${NAME[1]}\"]]" ]; echo $?)" \
	"$(obs 'd["disk"]["evictions"]') $(obs 'd["disk"]["recent"]')"
result "the view polls: f1 fetched again from outside evicts f2, shown newest first without a reload" \
	"$([ "$(obs '[d["refetch"]["status"], d["refetch"]["bytes"]]')" = '[200, 300000]' ] &&
		[ "$(obs '[r[4] for r in d["diskPolled"]["recent"]]')" = "[\"$REPO@main/${NAME[2]}\", \"$REPO@main/${NAME[1]}\"]" ] &&
		has "$(obs 'd["diskPolled"]["evictions"]')" '^2 evictions' &&
		[ "$(obs 'd["urlPolled"].endswith("#disk")')" = true ]; echo $?)" \
	"$(obs 'd["refetch"]') $(obs 'd["diskPolled"]["recent"]')"

result "#admin lists no pins, then the form pins f3 and says so in words" \
	"$([ "$(obs 'd["pinsBefore"]')" = '[["nothing pinned"]]' ] &&
		[ "$(obs 'd["pin"]["text"]')" = "pinned 1 file (1 blob, $(size 300000)) of $REPO@${COMMIT:0:12}…" ] &&
		[ "$(obs 'd["pin"]["cls"]')" = "done" ]; echo $?)" "$(obs 'd["pinsBefore"]') $(obs 'd["pin"]')"
result "the pins list shows f3's blob (short sha256, size, here, its file); the API agrees" \
	"$([ "$(obs '[[r[0][:12], r[1], r[2], r[3]] for r in d["pinsAfterPin"]]')" = "[[\"${SHA[3]:0:12}\", \"$(size 300000)\", \"here\", \"$REPO@main/${NAME[3]}\"]]" ] &&
		[ "$(obs '[d["apiAfterPin"]["status"]] + [[b["sha256"], b["present"]] for b in d["apiAfterPin"]["body"]]')" = "[200, [\"${SHA[3]}\", true]]" ]; echo $?)" \
	"$(obs 'd["pinsAfterPin"]') $(obs 'd["apiAfterPin"]')"
result "#store shows f3 pinned (and only f3) after the pin" \
	"$([ "$(obs 'sorted(d["storeAfterPin"].items())')" = "[[\"${NAME[1]}\", \"here\"], [\"${NAME[2]}\", \"not fetched\"], [\"${NAME[3]}\", \"here, pinned\"], [\"${NAME[4]}\", \"here\"]]" ]; echo $?)" \
	"$(obs 'd["storeAfterPin"]')"
result "#disk counts $(size 300000) pinned and f3 is no longer next to go" \
	"$(has "$(obs 'd["diskAfterPin"]["legend"]')" "pinned (never evicted) $(size 300000)\", \"in use (being read or published) 0 B\", \"evictable $(size 600000)" &&
		[ "$(obs '[r[5] for r in d["diskAfterPin"]["next"]]')" = "[\"$REPO@main/${NAME[4]}\", \"$REPO@main/${NAME[1]}\"]" ]; echo $?)" \
	"$(obs 'd["diskAfterPin"]["legend"]') $(obs 'd["diskAfterPin"]["next"]')"
result "unpin through the form: said in words, the list and the API are empty, #store shows no pin" \
	"$([ "$(obs 'd["unpin"]["text"]')" = "unpinned 1 file (1 blob, $(size 300000)) of $REPO@${COMMIT:0:12}…" ] &&
		[ "$(obs 'd["pinsAfterUnpin"]')" = '[["nothing pinned"]]' ] &&
		[ "$(obs 'd["apiAfterUnpin"]')" = '{"status": 200, "body": []}' ] &&
		[ "$(obs '"pinned" in str(d["storeAfterUnpin"])')" = false ] &&
		[ "$(obs 'd["storeAfterUnpin"]["'"${NAME[3]}"'"]')" = here ]; echo $?)" \
	"$(obs 'd["unpin"]') $(obs 'd["pinsAfterUnpin"]') $(obs 'd["apiAfterUnpin"]') $(obs 'd["storeAfterUnpin"]')"
result "an unknown revision is refused in the page with the 404 and its message" \
	"$(has "$(obs 'd["unknown"]["text"]')" '^refused: 404 No such repo or revision in the store' &&
		[ "$(obs 'd["unknown"]["cls"]')" = refused ]; echo $?)" "$(obs 'd["unknown"]')"
result "no script error and no CSP violation in the page (the 404 the page asked for aside)" \
	"$([ "$(obs 'd["errors"]')" = "[]" ] &&
		[ "$(obs '[c for c in d["console"] if "status of 404" not in c]')" = "[]" ]; echo $?)" \
	"errors $(obs 'd["errors"]') console $(obs 'd["console"]')"
has "$(cat "$GGUFD_LOG")" "pinned 1 files (1 blobs, 300000 bytes) of $REPO@${COMMIT:0:12} by root" &&
	has "$(cat "$GGUFD_LOG")" "unpinned 1 files (1 blobs, 300000 bytes) of $REPO@${COMMIT:0:12} by root"
result "the server's log records the pin and the unpin, by the token's name" $? "$(grep -i pin "$GGUFD_LOG")"

# --- the page, without a quota --------------------------------------------------------

if ! start_ggufd "$S" --upstream "$HUB"; then
	not_ok "ggufd restarted without a quota"
else
	ok "ggufd restarted without a quota"
fi
api disk2 /api/ggufd/disk >/dev/null
timeout 120 node "$NODE_TESTDIR/integration/disk.mjs" "$BASE" noquota "$SHOTS" \
	>"$WORK/obs2.json" 2>"$WORK/obs2.err"
st=$?
obs2() { jpy "$WORK/obs2.json" "$1" 2>/dev/null; }
d2() { jpy "$WORK/disk2.json" "$1" 2>/dev/null; }
total=$(size "$(d2 'd["fsTotal"]')")
result "without a quota #disk says \"no quota\" and shows the filesystem's size and free space" \
	"$([ "$st" = 0 ] && [ "$(d2 'd["quota"]')" = 0 ] &&
		has "$(obs2 'd["disk"]["summary"]')" "^no quota: $(size 900000) used in 3 blobs; the store may fill the filesystem (.* free of $total)" &&
		has "$(obs2 'd["disk"]["fs"]')" "^Filesystem: $total total" &&
		has "$(obs2 'd["disk"]["legend"]')" 'other files on the filesystem' &&
		has "$(obs2 'd["disk"]["legend"]')" 'free on the filesystem' &&
		[ "$(obs2 'd["errors"] + d["console"]')" = "[]" ]; echo $?)" \
	"node exit $st $(tail -c 1000 "$WORK/obs2.err") $(obs2 'd["disk"]') $(cat "$WORK/disk2.json")"
result "without a blob store the API says blobStore null and #disk says none is configured" \
	"$([ "$(d2 '"blobStore" in d and d["blobStore"] is None')" = true ] && [ "$(obs2 'd["disk"]["blobStoreTable"]')" = false ] &&
		has "$(obs2 'd["disk"]["blobStore"]')" '^No blob store configured (--blob-store s3://BUCKET\[/PREFIX\] with --s3-endpoint)'; echo $?)" \
	"$(obs2 'd["disk"]["blobStore"]') api: $(d2 'd.get("blobStore", "absent")')"
png=0
for v in disk disk-pinned admin disk-noquota; do
	[ "$(head -c 4 "$SHOTS/$v.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e47 ] && png=$((png + 1))
done
result "screenshots of #disk (under the quota, with a pin, without a quota) and #admin are in tests/artifacts/disk/" \
	"$([ "$png" = 4 ]; echo $?)" "$png of 4 PNGs: $(ls -l "$SHOTS" 2>&1)"
stop_ggufd
stop_fakehub
finish
