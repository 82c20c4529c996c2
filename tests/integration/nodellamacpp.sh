#!/usr/bin/env bash
# nodellamacpp.sh: the real node-llama-cpp 3.21.1 (npm, pinned in
# tests/package-lock.json) pulling through ggufd in front of the fake Hub,
# MODEL_ENDPOINT pointing at ggufd (shared/CLIENTS.md section 3):
#   - `npx --no node-llama-cpp pull hf:user/repo:Q4_K_M`: the manifest, the
#     info GET it never reads, 3 parallel ranges; cold (one upstream
#     transfer) and warm into a fresh folder (no upstream file byte);
#     byte-exact;
#   - `hf:user/repo/sub/dir/file.gguf#branch`: a file only on a branch
#     other than main, in a folder, byte-exact;
#   - its prebuilt native part (@node-llama-cpp/linux-x64, CPU, never built
#     from source): a tiny random-weight llama GGUF (tinyllama.py) pulled
#     through ggufd is loaded and generates tokens.
# HOME is a temp folder, so nothing reaches ~/.node-llama-cpp.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_env

plan 10

IN=$WORK/in
REPOS=$WORK/repos
NLC=$NODE_TESTDIR/node_modules/node-llama-cpp
DRIVER=$NODE_TESTDIR/integration/nodellamacpp.mjs
mkdir -p "$IN" "$REPOS" "$WORK/home"
NTOK=8
NVOCAB=267 # tinyllama.py: 3 special, 256 byte and 8 word tokens

missing=
for t in node npx python3 sha256sum timeout cmp curl; do
	have "$t" || missing="$missing $t"
done
nlc_version=$(node -p 'require(process.argv[1] + "/package.json").version' "$NLC" 2>/dev/null)
result "tools on PATH (node npx python3 sha256sum timeout cmp curl), node-llama-cpp 3.21.1 installed (npm ci --prefix tests)" \
	"$([ -z "$missing" ] && [ "$nlc_version" = 3.21.1 ]; echo $?)" \
	"missing:$missing" "node-llama-cpp in $NLC: '${nlc_version:-absent}'"

# --- the repos ------------------------------------------------------------------------------------
# ruv/ruvltra: a 12 MiB Q4_K_M (more than two of node-llama-cpp's 5 MiB
# chunks, so its 3 connections all get ranges) and a Q8_0 on main; branch
# dev adds sub/dir/ruvltra-F16.gguf, which main does not have.
# ruv/tinyllama: the loadable model.
M4=ruvltra-Q4_K_M.gguf
M8=ruvltra-Q8_0.gguf
BR=sub/dir/ruvltra-F16.gguf
TL=tinyllama-F32.gguf
mkst=0
mkgguf "$IN/$M4" --ftype Q4_K_M --size 12M >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/$M8" --ftype Q8_0 --size 300k --seed 2 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/br.gguf" --ftype F16 --size 700k --seed 3 >>"$WORK/mk.log" 2>&1 || mkst=1
timeout 120 python3 "$TOP_SRCDIR/tests/integration/tinyllama.py" "$IN/$TL" >>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/ruvltra --commit auto "$IN/$M4" "$IN/$M8" \
	>>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/ruvltra --commit auto --ref refs/heads/dev --inherit \
	"$IN/br.gguf=$BR" >>"$WORK/mk.log" 2>&1 || mkst=1
fakehub mkrepo --repos "$REPOS" --repo ruv/tinyllama --commit auto "$IN/$TL" \
	>>"$WORK/mk.log" 2>&1 || mkst=1
result "test files made (mkgguf, tinyllama.py, fakehub mkrepo with a dev branch)" "$mkst" \
	"$(tail -c 2000 "$WORK/mk.log")"
SHA_M4=$(sha256_of "$IN/$M4")

if ! start_fakehub "$REPOS"; then
	not_ok "fakehub starts"
	finish
	exit
fi
if ! start_ggufd "$WORK/store" --upstream "$HUB"; then
	not_ok "ggufd serve --upstream fakehub starts"
	finish
	exit
fi
ok "fakehub and ggufd (mirroring it) start"

# nlc_pull TAG DIR URI: `npx --no node-llama-cpp pull` run from the folder
# with node_modules; the endpoint is ggufd, HOME a temp folder, no token;
# exit in PST, output in $WORK/TAG.out.
nlc_pull() {
	local tag=$1 dir=$2 uri=$3
	mkdir -p "$dir"
	(cd "$NODE_TESTDIR" && env -u HF_ENDPOINT -u HF_TOKEN -u HF_HOME -u XDG_CACHE_HOME \
		HOME="$WORK/home" MODEL_ENDPOINT="$BASE" NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
		npm_config_cache="$WORK/home/.npm" npm_config_update_notifier=false CI=true \
		timeout 180 npx --no node-llama-cpp pull --dir "$dir" --noProgress "$uri") \
		>"$WORK/$tag.out" 2>&1 </dev/null
	PST=$?
}

# only_gguf DIR: the one .gguf in DIR (fails if there is not exactly one).
only_gguf() {
	local f
	f=$(find "$1" -type f -name '*.gguf')
	[ -n "$f" ] && [ "$(printf '%s\n' "$f" | wc -l)" = 1 ] && printf '%s\n' "$f"
}

# --- hf:user/repo:quant, cold and warm ------------------------------------------------------------
nlc_pull cold "$WORK/d1" hf:ruv/ruvltra:Q4_K_M
got=$(only_gguf "$WORK/d1")
result "cold pull hf:ruv/ruvltra:Q4_K_M: exit 0, one .gguf, byte-exact with the fake Hub's $M4" \
	"$([ "$PST" = 0 ] && [ -n "$got" ] && cmp -s "$got" "$IN/$M4"; echo $?)" \
	"exit $PST" "$(tail -c 1500 "$WORK/cold.out")" "$(ls -la "$WORK/d1")"
fake_stats "$WORK/st1.json"
result "cold: one upstream transfer of $M4 (its info GET and parallel ranges share it)" \
	"$([ "$(jpy "$WORK/st1.json" "xfers.get('$SHA_M4', 0)")" = 1 ]; echo $?)" \
	"$(jpy "$WORK/st1.json" "xfers")" "$(grep -c '' "$GGUFD_LOG") log lines; $(tail -c 800 "$GGUFD_LOG")"

nlc_pull warm "$WORK/d2" hf:ruv/ruvltra:q4_k_m
got=$(only_gguf "$WORK/d2")
fake_stats "$WORK/st2.json"
result "warm pull (tag q4_k_m, a fresh folder): byte-exact, and no upstream file byte (transfers and bytes unchanged)" \
	"$([ "$PST" = 0 ] && [ -n "$got" ] && cmp -s "$got" "$IN/$M4" &&
		[ "$(jpy "$WORK/st2.json" "(sum(xfers.values()), sum(d['bytes_sent'].values()))")" = "$(jpy "$WORK/st1.json" "(sum(xfers.values()), sum(d['bytes_sent'].values()))")" ]; echo $?)" \
	"exit $PST" "$(tail -c 1000 "$WORK/warm.out")" "before $(jpy "$WORK/st1.json" "d['bytes_sent']")" \
	"after $(jpy "$WORK/st2.json" "d['bytes_sent']")"

# --- hf:user/repo/path#branch ---------------------------------------------------------------------
code_main=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/ruv/ruvltra/resolve/main/$BR")
nlc_pull branch "$WORK/d3" "hf:ruv/ruvltra/$BR#dev"
got=$(only_gguf "$WORK/d3")
result "hf:ruv/ruvltra/$BR#dev (only on branch dev; main answers 404): byte-exact" \
	"$([ "$code_main" = 404 ] && [ "$PST" = 0 ] && [ -n "$got" ] && cmp -s "$got" "$IN/br.gguf"; echo $?)" \
	"main: $code_main, exit $PST" "$(tail -c 1500 "$WORK/branch.out")"

# --- the prebuilt native part: load and generate --------------------------------------------------
nlc_pull tiny "$WORK/d4" hf:ruv/tinyllama
TINY=$(only_gguf "$WORK/d4")
result "hf:ruv/tinyllama (tag latest): the random-weight llama GGUF, byte-exact" \
	"$([ "$PST" = 0 ] && [ -n "$TINY" ] && cmp -s "$TINY" "$IN/$TL"; echo $?)" \
	"exit $PST" "$(tail -c 1500 "$WORK/tiny.out")"

# The prebuilt binary for this machine, as npm ci installed it: never a
# build from source (the driver asks for build "never").
arch=$(node -p 'process.arch' 2>/dev/null)
PREBUILT=$NODE_TESTDIR/node_modules/@node-llama-cpp/linux-$arch
result "the prebuilt native part @node-llama-cpp/linux-$arch is installed (llama-addon.node)" \
	"$([ -f "$PREBUILT/bins/linux-$arch/llama-addon.node" ] || [ -n "$(find "$PREBUILT" -name llama-addon.node 2>/dev/null)" ]; echo $?)" \
	"not found under $PREBUILT; npm ci --prefix tests installs it (an optional dependency of node-llama-cpp)" \
	"$(ls "$NODE_TESTDIR/node_modules/@node-llama-cpp" 2>&1)"

(cd "$NODE_TESTDIR" && env -u XDG_CACHE_HOME HOME="$WORK/home" NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
	NODE_LLAMA_CPP_GPU=false CI=true timeout 180 node "$DRIVER" "$TINY" "$NTOK") \
	>"$WORK/gen.json" 2>"$WORK/gen.err" </dev/null
gst=$?
[ -s "$WORK/gen.json" ] || echo '{}' >"$WORK/gen.json"
result "getLlama (prebuilt, CPU) loads it and generates $NTOK tokens after a prompt" \
	"$([ "$gst" = 0 ] && [ "$(jpy "$WORK/gen.json" "(d['binary'], d['gpu'], len(d['tokens']), d['prompt_tokens'] > 0, all(isinstance(t, int) and 0 <= t < $NVOCAB for t in d['tokens']))")" = "('prebuilt', False, $NTOK, True, True)" ]; echo $?)" \
	"exit $gst" "$(head -c 2000 "$WORK/gen.json")" "$(tail -c 2000 "$WORK/gen.err")"

finish
