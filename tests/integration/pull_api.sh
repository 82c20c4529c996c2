#!/usr/bin/env bash
# pull_api.sh: POST /api/ggufd/pull, the operator's prefetch over HTTP.
#
# A fake Hub holds ruv/ruvltra (two GGUF files and a config.json); a ggufd
# mirrors it.  A pull job with an include glob fetches only the matching
# file, reports its progress and result at /api/ggufd/pull[/{id}], and a
# later client download of that file causes no upstream transfer.  Bad
# bodies, unknown jobs and a ggufd without upstream answer clear errors.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY

plan 14

REPOS=$WORK/repos
mkdir -p "$REPOS"
mkgguf "$WORK/q4.gguf" --size 3000000 >/dev/null 2>&1
mkgguf "$WORK/q8.gguf" --size 2000000 --ftype Q8_0 >/dev/null 2>&1
printf '{"model_type": "qwen2"}\n' >"$WORK/config.json"
COMMIT=$(fakehub mkrepo --repos "$REPOS" --repo ruv/ruvltra --commit auto --ref main \
	"$WORK/q4.gguf=ruvltra-0.5b-q4_k_m.gguf" "$WORK/q8.gguf=ruvltra-0.5b-q8_0.gguf" \
	"$WORK/config.json" 2>/dev/null | tail -n 1)
result "fake repo created" "$([ ${#COMMIT} = 40 ]; echo $?)" "mkrepo printed '$COMMIT'"

if ! start_fakehub "$REPOS" || ! start_ggufd "$WORK/store" --upstream "$HUB"; then
	not_ok "fake Hub and ggufd started"
	finish
	exit
fi
ok "fake Hub and ggufd started"

code=$(gcurl -o "$WORK/start.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary '{"repo":"ruv/ruvltra","revision":"main","include":["*q4_k_m.gguf"],"pin":true}' \
	"$BASE/api/ggufd/pull")
result "POST /api/ggufd/pull answers 202 with a running job" \
	"$([ "$code" = 202 ] && [ "$(jpy "$WORK/start.json" 'd["id"]')" = 1 ]; echo $?)" \
	"status $code: $(cat "$WORK/start.json")"

state=
for ((i = 0; i < 300; i++)); do
	gcurl -o "$WORK/job.json" "$BASE/api/ggufd/pull/1"
	state=$(jpy "$WORK/job.json" 'd.get("state")' 2>/dev/null)
	[ "$state" = running ] || break
	sleep "$GG_POLL"
done
result "the job ends 'done'" "$([ "$state" = done ]; echo $?)" "$(cat "$WORK/job.json")"
result "the job fetched exactly the one matching file, at the main commit" \
	"$([ "$(jpy "$WORK/job.json" '[d["files"], d["fetched"], d["failed"], d["commit"]]')" = "[1, 1, 0, \"$COMMIT\"]" ]; echo $?)" \
	"$(cat "$WORK/job.json")"
gcurl -o "$WORK/jobs.json" "$BASE/api/ggufd/pull"
result "GET /api/ggufd/pull lists the job" \
	"$([ "$(jpy "$WORK/jobs.json" '[j["id"] for j in d]')" = "[1]" ]; echo $?)" "$(cat "$WORK/jobs.json")"

fake_stats "$WORK/stats1.json"
n1=$(jpy "$WORK/stats1.json" 'sum(xfers.values())')
gcurl -o "$WORK/q4.dl" "$BASE/ruv/ruvltra/resolve/main/ruvltra-0.5b-q4_k_m.gguf"
fake_stats "$WORK/stats2.json"
n2=$(jpy "$WORK/stats2.json" 'sum(xfers.values())')
result "the pulled file downloads byte-exact with no new upstream transfer" \
	"$(cmp -s "$WORK/q4.dl" "$WORK/q4.gguf" && [ "$n1" = 1 ] && [ "$n2" = 1 ]; echo $?)" \
	"transfers before $n1, after $n2"
result "the file that did not match the glob was not fetched" \
	"$(ls "$WORK/store/blobs/sha256"/*/"$(sha256_of "$WORK/q8.gguf")" >/dev/null 2>&1; [ $? != 0 ]; echo $?)"
"$GGUFD" ls --store "$WORK/store" >"$WORK/ls.out" 2>&1
result "ls shows the pulled file at the commit" \
	"$(grep -q "ruvltra-0.5b-q4_k_m.gguf" "$WORK/ls.out" && grep -q "$COMMIT" "$WORK/ls.out"; echo $?)" \
	"$(cat "$WORK/ls.out")"

code=$(gcurl -o "$WORK/bad.json" -w '%{http_code}' -X POST --data-binary '{"repo": 5}' \
	"$BASE/api/ggufd/pull")
result "a malformed body is 400 with a JSON error" \
	"$([ "$code" = 400 ] && jpy "$WORK/bad.json" 'd["error"]' >/dev/null; echo $?)" "status $code"
code=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/api/ggufd/pull/99")
result "an unknown job is 404" "$([ "$code" = 404 ]; echo $?)" "status $code"

stop_ggufd

# ggufd pull on a terminal (script(1) gives it one): a progress bar, and the
# fetch log lines printed above it, never in the middle of it.
fake_fault '{"throttle_bps": 4000000, "count": -1}'
script -q -e -c "timeout 120 '$GGUFD' pull --store '$WORK/store3' --upstream '$HUB' ruv/ruvltra" \
	"$WORK/tty.out" </dev/null >/dev/null 2>&1
st=$?
fake_clear
python3 - "$WORK/tty.out" >"$WORK/tty.check" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
bars = raw.count("MB/s ETA")
broken = []
logs = 0
for line in raw.split("\n"):
    shown = re.sub(r"\x1b\[K", "", line.rstrip("\r").split("\r")[-1])
    if " ggufd[" in shown:
        logs += 1
        if not re.match(r"^\d{4}-\d\d-\d\dT", shown):
            broken.append(shown)
print(bars, logs, len(broken))
for b in broken[:5]:
    print("BROKEN:", b)
PY
read -r bars logs broken <"$WORK/tty.check"
result "ggufd pull on a terminal exits 0 and draws a progress bar" \
	"$([ "$st" = 0 ] && [ "${bars:-0}" -ge 2 ]; echo $?)" "exit $st; $(head -c 2000 "$WORK/tty.out" | cat -v)"
result "its log lines start at the left margin, never inside the bar" \
	"$([ "${logs:-0}" -ge 2 ] && [ "${broken:-1}" = 0 ]; echo $?)" \
	"$(cat "$WORK/tty.check"; head -c 3000 "$WORK/tty.out" | cat -v)"
stop_ggufd
start_ggufd "$WORK/store2" --upstream none || true
code=$(gcurl -o "$WORK/noup.json" -w '%{http_code}' -X POST --data-binary '{"repo":"ruv/ruvltra"}' \
	"$BASE/api/ggufd/pull")
result "a ggufd without upstream refuses a pull with 409" "$([ "$code" = 409 ]; echo $?)" \
	"status $code: $(cat "$WORK/noup.json")"
finish
