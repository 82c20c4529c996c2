#!/usr/bin/env bash
# registry.sh: versions, the registry, model cards and offline exports
# (issue 12: tags and branches, "keep the registry in sync with the Hub",
# offline hosts).
#   A. A local store (ggufd import, --tag, a branch with "/") served with
#      --upstream none: refs list the tag under "tags" in the Hub's shape;
#      resolve, tree, paths-info and repo info take the tag and the encoded
#      branch; a tag never moves.
#   B. The registry (GET /api/ggufd/registry and ggufd registry): every
#      .gguf with size, sha256, quant, architecture, parameters, context,
#      shard set and a download URL, checked against the files themselves;
#      SHA256SUMS passes sha256sum -c over the files downloaded from those
#      URLs (and fails on a changed byte).
#   C. ggufd card: front matter parsed as YAML (python3-yaml) with license,
#      language, tags and base_model from the GGUF, files and hardware
#      tables (the KV cache from the GGUF's shape), usage lines.
#   D. ggufd export --hf-cache: the huggingface_hub layout, hard-linked
#      blobs, read back by huggingface_hub 0.36.2 with HF_HUB_OFFLINE=1
#      byte-exact, and re-imported with ggufd import --hf-cache.
#   E. A mirror of the fake Hub: upstream's tags passed through and learnt,
#      so the store lists them as tags offline; pull --include records the
#      other GGUFs, which the registry lists as not present; the card is
#      accepted by the gateway's card policy as README.md, and under
#      --card-files-table a card that drops a row of its files table is not.
# No timing assertions; every wait is bounded.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
unset "${!HF_@}" HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY TRANSFORMERS_OFFLINE

plan 37

PY=/usr/bin/python3
VENDOR=$GGUFD_SHARED/vendor/huggingface_hub-0.36.2
REPO=org/model
IN=$WORK/in
DL=$WORK/dl
S=$WORK/store
mkdir -p "$IN" "$DL"

missing=
for t in curl python3 sha256sum timeout; do
	have "$t" || missing="$missing $t"
done
[ -x "$PY" ] && "$PY" -c 'import yaml' 2>/dev/null || missing="$missing $PY+yaml(python3-yaml)"
[ -d "$VENDOR/huggingface_hub" ] || missing="$missing $VENDOR"
[ -x "$GGUFD" ] && [ -x "$MKGGUF" ] || missing="$missing ggufd/mkgguf"
result "tools present (curl, sha256sum, Debian python3 with yaml, huggingface_hub 0.36.2)" \
	"$([ -z "$missing" ]; echo $?)" "missing:$missing"
if [ -n "$missing" ]; then
	finish
	exit
fi

# json FILE EXPR: jpy with Debian's python (the same JSON helper).
# py_ok DESC FILE EXPR: ok if the Python expression over d (the JSON in
# FILE) is true.
py_ok() {
	local desc=$1 file=$2 expr=$3 v
	v=$(jpy "$file" "$expr" 2>&1)
	result "$desc" "$([ "$v" = true ]; echo $?)" "got: $v" "$(head -c 1500 "$file")"
}

# --- the files ------------------------------------------------------------------

SHAPE=(--kv llama.block_count=u32:24 --kv llama.embedding_length=u32:896
	--kv llama.attention.head_count=u32:14 --kv llama.attention.head_count_kv=u32:2)
mk=0
mkgguf "$IN/model-Q4_K_M.gguf" --ftype Q4_K_M --ctx 32768 --size 40000 --seed 3 "${SHAPE[@]}" \
	--kv general.license=apache-2.0 --kv general.languages=en,fr \
	--kv general.base_model.0.repo_url=https://huggingface.co/Qwen/Qwen2.5-0.5B || mk=1
mkgguf "$IN/model-Q8_0.gguf" --ftype Q8_0 --ctx 8192 --seed 5 || mk=1
mkgguf "$IN/model-Q8_0-00001-of-00002.gguf" --ftype Q8_0 --ctx 8192 --seed 7 || mk=1
mkgguf "$IN/model-Q8_0-00002-of-00002.gguf" --ftype Q8_0 --ctx 8192 --seed 9 || mk=1
mkgguf "$IN/model-F16.gguf" --ftype F16 --ctx 4096 --seed 11 || mk=1
printf '{"model_type": "llama"}\n' >"$IN/config.json"
printf '# org/model\n' >"$IN/README.md"

# The tag v1.0 (C1): two quants, a split set, README, config.  Then main
# moves on with F16 (C2); feature/x is a branch with a "/" (C3).
imp() { "$GGUFD" import --store "$S" "$@" >>"$WORK/import.out" 2>&1; }
imp --tag v1.0 "$REPO" "$IN/model-Q4_K_M.gguf" "$IN/model-Q8_0.gguf" "$IN/README.md" \
	"$IN/config.json" "$IN/model-Q8_0-00001-of-00002.gguf=split/model-Q8_0-00001-of-00002.gguf" \
	"$IN/model-Q8_0-00002-of-00002.gguf=split/model-Q8_0-00002-of-00002.gguf" || mk=1
C1=$(sed -n 's/^commit //p' "$WORK/import.out" | tail -1)
imp "$REPO" "$IN/model-F16.gguf" || mk=1
C2=$(sed -n 's/^commit //p' "$WORK/import.out" | tail -1)
imp --revision feature/x "$REPO" "$IN/config.json=feature.json" || mk=1
C3=$(sed -n 's/^commit //p' "$WORK/import.out" | tail -1)
result "mkgguf and ggufd import (--tag v1.0, main, feature/x) made three commits" \
	"$([ $mk = 0 ] && [ ${#C1} = 40 ] && [ ${#C2} = 40 ] && [ ${#C3} = 40 ] && [ "$C1" != "$C2" ]; echo $?)" \
	"$(cat "$WORK/import.out")"

"$GGUFD" import --store "$S" --tag v1.0 "$REPO" "$IN/model-F16.gguf" >"$WORK/retag.out" 2>&1
st=$?
result "import --tag of an existing tag is refused (a tag does not move)" \
	"$([ $st != 0 ] && grep -q 'does not move' "$WORK/retag.out"; echo $?)" "exit $st: $(cat "$WORK/retag.out")"

if ! start_ggufd "$S" --upstream none; then
	not_ok "ggufd serves the store (--upstream none)"
	finish
	exit
fi
ok "ggufd serves the store (--upstream none)"

# --- A. tags and branches ---------------------------------------------------------------

gcurl -o "$WORK/refs.json" "$BASE/api/models/$REPO/refs"
py_ok "refs: v1.0 under tags in the Hub's shape (name, ref refs/tags/v1.0, targetCommit), not a branch" \
	"$WORK/refs.json" "d['tags'] == [{'name': 'v1.0', 'ref': 'refs/tags/v1.0', 'targetCommit': '$C1'}] and 'v1.0' not in [b['name'] for b in d['branches']]"
py_ok "refs: main and feature/x are branches (refs/heads/feature/x)" "$WORK/refs.json" \
	"sorted((b['name'], b['ref'], b['targetCommit']) for b in d['branches']) == [('feature/x', 'refs/heads/feature/x', '$C3'), ('main', 'refs/heads/main', '$C2')]"

gcurl -D "$WORK/rt.h" -o "$DL/rt.gguf" "$BASE/$REPO/resolve/v1.0/model-Q4_K_M.gguf"
code=$(gcurl -o /dev/null -w '%{http_code}' -D "$WORK/rt404.h" "$BASE/$REPO/resolve/v1.0/model-F16.gguf")
result "resolve by tag: the tagged commit's file byte-exact, a later file 404 EntryNotFound" \
	"$(cmp -s "$DL/rt.gguf" "$IN/model-Q4_K_M.gguf" && [ "$(header X-Repo-Commit "$WORK/rt.h")" = "$C1" ] &&
		[ "$code" = 404 ] && [ "$(header X-Error-Code "$WORK/rt404.h")" = EntryNotFound ]; echo $?)" \
	"$(cat "$WORK/rt.h" "$WORK/rt404.h")"

gcurl -o "$WORK/tree.json" "$BASE/api/models/$REPO/tree/v1.0?recursive=true"
py_ok "tree at the tag lists the tagged files (no model-F16.gguf)" "$WORK/tree.json" \
	"sorted(e['path'] for e in d if e['type'] == 'file') == ['README.md', 'config.json', 'model-Q4_K_M.gguf', 'model-Q8_0.gguf', 'split/model-Q8_0-00001-of-00002.gguf', 'split/model-Q8_0-00002-of-00002.gguf']"
gcurl -o "$WORK/pi.json" -d 'paths=model-Q8_0.gguf&paths=model-F16.gguf' "$BASE/api/models/$REPO/paths-info/v1.0"
py_ok "paths-info at the tag (form body): the tagged file with its sha256, not the later one" "$WORK/pi.json" \
	"[(e['path'], e['lfs']['oid']) for e in d] == [('model-Q8_0.gguf', '$(sha256_of "$IN/model-Q8_0.gguf")')]"
gcurl -o "$WORK/info_tag.json" "$BASE/api/models/$REPO/revision/v1.0"
gcurl -o "$WORK/info_br.json" "$BASE/api/models/$REPO/revision/feature%2Fx"
gcurl -o "$WORK/tree_br.json" "$BASE/api/models/$REPO/tree/feature%2Fx"
gcurl -o "$DL/feature.json" "$BASE/$REPO/resolve/feature%2Fx/feature.json"
result "repo info by tag and by encoded branch feature%2Fx; tree and resolve on the branch" \
	"$([ "$(jpy "$WORK/info_tag.json" 'd["sha"]')" = "$C1" ] && [ "$(jpy "$WORK/info_br.json" 'd["sha"]')" = "$C3" ] &&
		[ "$(jpy "$WORK/tree_br.json" '"feature.json" in [e["path"] for e in d]')" = true ] &&
		cmp -s "$DL/feature.json" "$IN/config.json"; echo $?)" \
	"$(head -c 600 "$WORK/info_tag.json" "$WORK/info_br.json" "$WORK/tree_br.json")"

# --- B. the registry ---------------------------------------------------------------------

code=$(gcurl -o "$WORK/reg.json" -w '%{http_code}' "$BASE/api/ggufd/registry/$REPO?revision=v1.0")
result "GET /api/ggufd/registry/$REPO?revision=v1.0 is 200 at the tagged commit" \
	"$([ "$code" = 200 ] && [ "$(jpy "$WORK/reg.json" '[d["repo"], d["revision"], d["commit"]]')" = "[\"$REPO\", \"v1.0\", \"$C1\"]" ]; echo $?)" \
	"status $code: $(head -c 800 "$WORK/reg.json")"

# The expected table, from the files themselves.
exp_py() {
	local p=$1 f=$2 q=$3 ctx=$4
	printf '("%s", %s, "%s", "%s", %s),' "$p" "$(file_size "$f")" "$(sha256_of "$f")" "$q" "$ctx"
}
EXP="[$(exp_py model-Q4_K_M.gguf "$IN/model-Q4_K_M.gguf" Q4_K_M 32768)$(exp_py model-Q8_0.gguf "$IN/model-Q8_0.gguf" Q8_0 8192)$(exp_py split/model-Q8_0-00001-of-00002.gguf "$IN/model-Q8_0-00001-of-00002.gguf" Q8_0 8192)$(exp_py split/model-Q8_0-00002-of-00002.gguf "$IN/model-Q8_0-00002-of-00002.gguf" Q8_0 8192)]"
py_ok "registry: each .gguf with its size, sha256 (as sha256sum), quant (mkgguf --ftype) and context" \
	"$WORK/reg.json" "[(f['file'], f['size'], f['sha256'], f['quant'], f['context_length']) for f in d['files']] == $EXP"
py_ok "registry: architecture, parameters, present, kind, quant read from the header" "$WORK/reg.json" \
	"all(f['architecture'] == 'llama' and f['parameters'] > 0 and f['present'] is True and f['kind'] == 'model' and f['quant_from'] == 'header' for f in d['files'])"
py_ok "registry: the split set (index, count, set, set_size), single files have shard null" "$WORK/reg.json" \
	"[f['shard'] and (f['shard']['index'], f['shard']['count'], f['shard']['set'], f['shard'].get('set_size')) for f in d['files']] == [None, None, (1, 2, 'split/model-Q8_0', $(($(file_size "$IN/model-Q8_0-00001-of-00002.gguf") + $(file_size "$IN/model-Q8_0-00002-of-00002.gguf")))), (2, 2, 'split/model-Q8_0', None)]"
py_ok "registry: absolute download URLs on this mirror at the revision" "$WORK/reg.json" \
	"[f['url'] for f in d['files']] == ['$BASE/$REPO/resolve/v1.0/' + f['file'] for f in d['files']]"

# Download every file from its URL, then sha256sum -c over SHA256SUMS.
dl_ok=0
while read -r url file; do
	mkdir -p "$DL/sums/$(dirname "$file")"
	gcurl -f -o "$DL/sums/$file" "$url" || dl_ok=1
done < <(jpy "$WORK/reg.json" '"\n".join(f["url"] + " " + f["file"] for f in d["files"])')
gcurl -o "$WORK/SHA256SUMS" "$BASE/api/ggufd/registry/$REPO?revision=v1.0&format=sha256sums"
(cd "$DL/sums" && sha256sum -c "$WORK/SHA256SUMS") >"$WORK/sumc.out" 2>&1
st=$?
result "SHA256SUMS (?format=sha256sums): sha256sum -c passes over the files downloaded from the URLs" \
	"$([ $dl_ok = 0 ] && [ $st = 0 ] && [ "$(grep -c ': OK$' "$WORK/sumc.out")" = 4 ]; echo $?)" \
	"$(cat "$WORK/SHA256SUMS" "$WORK/sumc.out")"
printf 'x' | dd of="$DL/sums/model-Q8_0.gguf" bs=1 seek=100 conv=notrunc 2>/dev/null
(cd "$DL/sums" && sha256sum -c "$WORK/SHA256SUMS") >"$WORK/sumc2.out" 2>&1
st=$?
result "... and fails once a byte of a file changed" \
	"$([ $st != 0 ] && grep -q 'model-Q8_0.gguf: FAILED' "$WORK/sumc2.out"; echo $?)" "$(cat "$WORK/sumc2.out")"

"$GGUFD" registry --store "$S" --revision v1.0 --base "$BASE/" "$REPO" >"$WORK/reg_cli.json" 2>"$WORK/reg_cli.err"
"$GGUFD" registry --store "$S" --revision v1.0 --format sha256sums "$REPO" >"$WORK/SUMS_cli" 2>>"$WORK/reg_cli.err"
result "ggufd registry (--base URL) gives the route's JSON; --format sha256sums its SHA256SUMS" \
	"$([ "$(jpy "$WORK/reg_cli.json" 'd')" = "$(jpy "$WORK/reg.json" 'd')" ] && cmp -s "$WORK/SUMS_cli" "$WORK/SHA256SUMS"; echo $?)" \
	"$(cat "$WORK/reg_cli.err"; head -c 600 "$WORK/reg_cli.json")"

c1=$(gcurl -o "$WORK/r404.json" -w '%{http_code}' -D "$WORK/r404.h" "$BASE/api/ggufd/registry/org/nope")
c2=$(gcurl -o "$WORK/r404b.json" -w '%{http_code}' -D "$WORK/r404b.h" "$BASE/api/ggufd/registry/$REPO?revision=v9")
c3=$(gcurl -o "$WORK/r400.json" -w '%{http_code}' "$BASE/api/ggufd/registry/$REPO?format=yaml")
"$GGUFD" registry --store "$S" org/nope >/dev/null 2>"$WORK/rcli404.err"
st=$?
result "registry errors: unknown repo 401 RepoNotFound (as the Hub answers), unknown revision 404 RevisionNotFound, bad format 400, CLI exit 1" \
	"$([ "$c1" = 401 ] && [ "$(header X-Error-Code "$WORK/r404.h")" = RepoNotFound ] && [ "$c2" = 404 ] &&
		[ "$(header X-Error-Code "$WORK/r404b.h")" = RevisionNotFound ] && [ "$c3" = 400 ] && [ $st = 1 ]; echo $?)" \
	"statuses $c1 $c2 $c3, exit $st: $(cat "$WORK/r404.json" "$WORK/r400.json" "$WORK/rcli404.err")"

# --- C. the card ----------------------------------------------------------------------------

"$GGUFD" card --store "$S" --revision v1.0 --base "$BASE" "$REPO" >"$WORK/card.md" 2>"$WORK/card.err"
st=$?
# fm FILE: the card's front matter as JSON (yaml.safe_load), or an error.
fm() {
	"$PY" -c '
import json, sys, yaml
t = open(sys.argv[1]).read()
assert t.startswith("---\n"), "no front matter"
print(json.dumps(yaml.safe_load(t.split("---\n")[1])))' "$1" >"$1.fm.json" 2>&1
}
fm "$WORK/card.md"
result "ggufd card: exit 0, front matter is valid YAML" "$([ $st = 0 ] && jpy "$WORK/card.md.fm.json" 'd' >/dev/null 2>&1; echo $?)" \
	"exit $st: $(cat "$WORK/card.err" "$WORK/card.md.fm.json"; head -c 800 "$WORK/card.md")"
py_ok "card front matter: license, language, base_model from the GGUF; tags gguf, arch, quants" "$WORK/card.md.fm.json" \
	"d['license'] == 'apache-2.0' and d['language'] == ['en', 'fr'] and d['base_model'] == 'Qwen/Qwen2.5-0.5B' and d['tags'][:1] == ['gguf'] and {'llama', 'Q4_K_M', 'Q8_0'} <= set(d['tags'])"
rows_ok=0
for f in model-Q4_K_M.gguf model-Q8_0.gguf split/model-Q8_0-00001-of-00002.gguf; do
	grep -E "^\| \[$f\]\($BASE/$REPO/resolve/v1.0/$f\) \| .* \| \`$(sha256_of "$IN/$(basename "$f")")\` \|$" "$WORK/card.md" >/dev/null || rows_ok=1
done
result "card files table: a row per file (link, size, quant, parameters, context, sha256)" "$rows_ok" \
	"$(grep '^|' "$WORK/card.md")"
# Qwen2.5-0.5B's shape: 24 layers x 32768 x (896/14*2) x 2 (K, V) x 2 bytes = 384 MiB.
result "card hardware table: an estimate, the KV cache from the GGUF's shape (384 MiB at 32768)" \
	"$(grep -q 'Estimates, not measurements' "$WORK/card.md" &&
		grep -E '^\| model-Q4_K_M.gguf \| Q4_K_M \| .* \| 48.00 MiB \| .* \| 32768 \| 384.00 MiB \|' "$WORK/card.md" >/dev/null; echo $?)" \
	"$(sed -n '/Hardware/,/Usage/p' "$WORK/card.md")"
HP=${BASE#http://}
result "card usage: curl, HF_ENDPOINT, llama.cpp, node-llama-cpp and Ollama lines for Q4_K_M" \
	"$(grep -qF "curl -fLO $BASE/$REPO/resolve/v1.0/model-Q4_K_M.gguf" "$WORK/card.md" &&
		grep -qF "HF_ENDPOINT=$BASE " "$WORK/card.md" &&
		grep -qF "MODEL_ENDPOINT=$BASE/ llama-cli -hf $REPO:Q4_K_M" "$WORK/card.md" &&
		grep -qF "MODEL_ENDPOINT=$BASE/ npx --no node-llama-cpp pull hf:$REPO:Q4_K_M" "$WORK/card.md" &&
		grep -qF "ollama pull $HP/$REPO:Q4_K_M --insecure" "$WORK/card.md"; echo $?)" \
	"$(sed -n '/Usage/,$p' "$WORK/card.md")"
"$GGUFD" card --store "$S" --license mit --language de,it --base-model a/b "$REPO" >"$WORK/card2.md" 2>&1
fm "$WORK/card2.md"
py_ok "card --license --language --base-model override the GGUF's" "$WORK/card2.md.fm.json" \
	"(d['license'], d['language'], d['base_model']) == ('mit', ['de', 'it'], 'a/b')"

# --- D. export to a huggingface_hub cache ------------------------------------------------------

H=$WORK/hfcache
"$GGUFD" export --store "$S" --hf-cache "$H" "$REPO@v1.0" >"$WORK/exp.out" 2>&1
st=$?
M=$H/models--org--model
q4=$(sha256_of "$IN/model-Q4_K_M.gguf")
result "export: exit 0; blobs by sha256 (LFS) and git sha1 (config.json), refs/v1.0 holds the commit" \
	"$([ $st = 0 ] && [ -f "$M/blobs/$q4" ] && [ -f "$M/blobs/$(gitsha1_of "$IN/config.json")" ] &&
		[ "$(cat "$M/refs/v1.0")" = "$C1" ]; echo $?)" "exit $st: $(cat "$WORK/exp.out"; find "$H" | head -30)"
result "export: snapshots are relative symlinks (../../blobs, ../../../blobs in split/)" \
	"$([ "$(readlink "$M/snapshots/$C1/model-Q4_K_M.gguf")" = "../../blobs/$q4" ] &&
		[ "$(readlink "$M/snapshots/$C1/split/model-Q8_0-00002-of-00002.gguf")" = "../../../blobs/$(sha256_of "$IN/model-Q8_0-00002-of-00002.gguf")" ]; echo $?)" \
	"$(ls -lR "$M/snapshots" | head -20)"
result "export: blobs hard-linked to the store's (same filesystem), so no second copy" \
	"$([ "$(stat -c %i "$M/blobs/$q4")" = "$(stat -c %i "$S/blobs/sha256/${q4:0:2}/$q4")" ] && grep -q 'hard-linked' "$WORK/exp.out"; echo $?)" \
	"$(stat -c '%i %h %n' "$M/blobs/$q4" "$S/blobs/sha256/${q4:0:2}/$q4" 2>&1)"
"$GGUFD" export --store "$S" --hf-cache "$H" "$REPO" >>"$WORK/exp.out" 2>&1 || st=1
"$GGUFD" export --store "$S" --hf-cache "$WORK/hfcopy" --copy --include '*Q8_0*' "$REPO@v1.0" >"$WORK/expc.out" 2>&1
st2=$?
result "export of main beside it; --copy --include '*Q8_0*' copies only the Q8_0 files" \
	"$([ $st = 0 ] && [ $st2 = 0 ] && [ "$(cat "$M/refs/main")" = "$C2" ] &&
		[ "$(find "$WORK/hfcopy" -path '*/blobs/*' -type f | wc -l)" = 3 ] &&
		[ "$(stat -c %h "$(find "$WORK/hfcopy" -path '*/blobs/*' -type f | head -1)")" = 1 ]; echo $?)" \
	"$(cat "$WORK/expc.out"; find "$WORK/hfcopy" | head)"

# huggingface_hub, offline, from the exported cache only.
"$PY" - "$VENDOR" "$H" "$WORK/off.json" <<'PYEOF' >"$WORK/off.err" 2>&1
import hashlib, json, os, sys
vendor, cache, out = sys.argv[1:4]
os.environ.update(HF_HUB_OFFLINE="1", HF_HUB_CACHE=cache, HF_HOME=cache + "-home",
                  HF_HUB_DISABLE_TELEMETRY="1")
sys.path.insert(0, vendor)
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import LocalEntryNotFoundError
r = {}
for rev, f in [("v1.0", "model-Q4_K_M.gguf"), ("v1.0", "split/model-Q8_0-00002-of-00002.gguf"),
               ("v1.0", "config.json"), (None, "model-F16.gguf")]:
    p = hf_hub_download("org/model", f, revision=rev)
    r[f] = hashlib.sha256(open(p, "rb").read()).hexdigest()
try:
    hf_hub_download("org/model", "model-F16.gguf", revision="v1.0")
    r["missing"] = "found"
except LocalEntryNotFoundError:
    r["missing"] = "LocalEntryNotFoundError"
json.dump(r, open(out, "w"))
PYEOF
st=$?
result "huggingface_hub (HF_HUB_OFFLINE=1, HF_HUB_CACHE=export) returns the exact bytes by tag and main, and nothing else" \
	"$([ $st = 0 ] && [ "$(jpy "$WORK/off.json" '[d["model-Q4_K_M.gguf"], d["split/model-Q8_0-00002-of-00002.gguf"], d["config.json"], d["model-F16.gguf"], d["missing"]]')" = \
		"[\"$q4\", \"$(sha256_of "$IN/model-Q8_0-00002-of-00002.gguf")\", \"$(sha256_of "$IN/config.json")\", \"$(sha256_of "$IN/model-F16.gguf")\", \"LocalEntryNotFoundError\"]" ]; echo $?)" \
	"exit $st: $(cat "$WORK/off.err" "$WORK/off.json" 2>/dev/null)"

S2=$WORK/store2
"$GGUFD" import --store "$S2" --hf-cache "$H" >"$WORK/reimp.out" 2>&1
st=$?
"$GGUFD" registry --store "$S2" --revision v1.0 --format sha256sums "$REPO" >"$WORK/SUMS2" 2>>"$WORK/reimp.out"
"$GGUFD" verify --store "$S2" >>"$WORK/reimp.out" 2>&1 || st=1
result "ggufd import --hf-cache of the export round-trips: same commit at v1.0, same SHA256SUMS, verify clean" \
	"$([ $st = 0 ] && cmp -s "$WORK/SUMS2" "$WORK/SHA256SUMS" && grep -q "ref v1.0 -> $C1" "$WORK/reimp.out"; echo $?)" \
	"exit $st: $(cat "$WORK/reimp.out" "$WORK/SUMS2")"
stop_ggufd

# --- E. a mirror of the fake Hub ------------------------------------------------------------------

REPOS=$WORK/repos
MREPO=org/mirror
UP=hf_up$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
cp "$IN/model-Q4_K_M.gguf" "$IN/mirror-Q4_K_M.gguf"
cp "$IN/model-Q8_0.gguf" "$IN/mirror-Q8_0.gguf"
printf -- '---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# mirror\n' >"$IN/README-up.md"
MC=$(fakehub mkrepo --repos "$REPOS" --repo "$MREPO" --commit auto --ref main --ref refs/tags/v2.0 \
	"$IN/mirror-Q4_K_M.gguf" "$IN/mirror-Q8_0.gguf" "$IN/README-up.md=README.md" 2>"$WORK/mkrepo.err")
S3=$WORK/store3
if ! start_fakehub "$REPOS" --token "$UP"; then
	not_ok "fake Hub started with $MREPO (main and tag v2.0)"
	finish
	exit
fi
HF_TOKEN=$UP timeout 120 "$GGUFD" pull --store "$S3" --upstream "$HUB" --include '*Q4_K_M*' "$MREPO" >"$WORK/pull.out" 2>&1
st=$?
if ! HF_TOKEN=$UP start_ggufd "$S3" --upstream "$HUB" --upload-repo "$MREPO" --card-files-table; then
	not_ok "fake Hub, ggufd pull --include '*Q4_K_M*' and the mirror started"
	finish
	exit
fi
result "fake Hub, ggufd pull --include '*Q4_K_M*' and the mirror started" "$([ $st = 0 ] && [ ${#MC} = 40 ]; echo $?)" \
	"exit $st, commit '$MC': $(cat "$WORK/pull.out" "$WORK/mkrepo.err")"

gcurl -o "$WORK/mrefs.json" "$BASE/api/models/$MREPO/refs"
gcurl -o /dev/null "$BASE/$MREPO/resolve/v2.0/README.md"
py_ok "mirror: refs relay upstream's tag v2.0 under tags" "$WORK/mrefs.json" \
	"[(t['name'], t['ref'], t['targetCommit']) for t in d['tags']] == [('v2.0', 'refs/tags/v2.0', '$MC')]"

gcurl -o "$WORK/mreg.json" "$BASE/api/ggufd/registry/$MREPO"
py_ok "mirror registry: the pulled Q4_K_M present; Q8_0 listed from the index, not present, size and sha256 known, quant from its name" \
	"$WORK/mreg.json" \
	"[(f['file'], f['present'], f['size'], f['sha256'], f['quant'], f['quant_from']) for f in d['files']] == [('mirror-Q4_K_M.gguf', True, $(file_size "$IN/mirror-Q4_K_M.gguf"), '$q4', 'Q4_K_M', 'header'), ('mirror-Q8_0.gguf', False, $(file_size "$IN/mirror-Q8_0.gguf"), '$(sha256_of "$IN/mirror-Q8_0.gguf")', 'Q8_0', 'name')]"

# The card through the gateway's card policy (an upload token, README.md).
TOK=$("$GGUFD" token add ci --scope upload --store "$S3" 2>>"$WORK/token.err")
"$GGUFD" card --store "$S3" --base "$BASE" "$MREPO" >"$WORK/mcard.md" 2>"$WORK/mcard.err"
code=$(gcurl -o "$WORK/put.json" -w '%{http_code}' -T "$WORK/mcard.md" -H "Authorization: Bearer $TOK" \
	"$BASE/api/ggufd/upload/$MREPO/README.md")
gcurl -o "$DL/mcard.md" "$BASE/$MREPO/resolve/main/README.md"
result "the card passes the gateway's card policy: uploaded as README.md (200) and served" \
	"$([ "$code" = 200 ] && cmp -s "$DL/mcard.md" "$WORK/mcard.md"; echo $?)" \
	"status $code: $(cat "$WORK/put.json" "$WORK/mcard.err" "$WORK/token.err")"
# Every table row naming the Q8_0 file goes (files and hardware tables).
grep -v '^|.*mirror-Q8_0\.gguf' "$WORK/mcard.md" >"$WORK/mcard-drop.md"
code=$(gcurl -o "$WORK/put2.json" -w '%{http_code}' -T "$WORK/mcard-drop.md" -H "Authorization: Bearer $TOK" \
	"$BASE/api/ggufd/upload/$MREPO/README.md")
result "--card-files-table reads the card's files table: a card dropping its Q8_0 rows is refused (422)" \
	"$([ "$code" = 422 ] && grep -q 'mirror-Q8_0.gguf' "$WORK/put2.json"; echo $?)" "status $code: $(cat "$WORK/put2.json")"

# Offline: the store alone lists the learnt tag as a tag.
stop_ggufd
stop_fakehub
if ! start_ggufd "$S3" --upstream none; then
	not_ok "the mirror's store served with --upstream none"
	finish
	exit
fi
gcurl -o "$WORK/orefs.json" "$BASE/api/models/$MREPO/refs"
py_ok "offline (--upstream none): the store lists v2.0 as a tag, once, not as a branch" "$WORK/orefs.json" \
	"[(t['name'], t['targetCommit']) for t in d['tags']] == [('v2.0', '$MC')] and [b['name'] for b in d['branches']] == ['main']"

finish
