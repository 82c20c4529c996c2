#!/usr/bin/env bash
# python.sh: the Python Hub client (huggingface_hub 0.36.2, vendored in
# ../shared/vendor: $GGUFD_SHARED/vendor, on Debian's /usr/bin/python3)
# through ggufd, mirror and gateway, in front of the fake Hub.  Every call
# runs in its own process (tests/integration/hf_client.py), configured as a
# user would: HF_ENDPOINT (ggufd), a fresh HF_HOME per scenario, HF_TOKEN (a
# ggufd token) for writes.
#   A. mirror, cold and warm: hf_hub_download (branch, tag, 40-hex commit,
#      refs/pr/1, sub-folder, force_download, local_dir), snapshot_download
#      (patterns, revision, all), model_info(files_metadata), list_repo_files,
#      list_repo_tree (paginated through ggufd's Link), get_paths_info,
#      list_repo_refs, list_repo_commits, file_exists, repo_exists, whoami;
#   B. the fake Hub stopped: HF_HUB_OFFLINE=1 and try_to_load_from_cache on
#      the client's cache, then plain downloads served from ggufd's store;
#   C. gateway (a ggufd upload token; an admin token where issue 11's rules
#      ask for one): create_repo(exist_ok), upload_file (regular, LFS,
#      multipart), upload_folder, create_commit (add, LFS add, delete (admin;
#      403 with the upload token); copy), create_branch, create_tag (admin),
#      delete_branch and delete_tag (admin; 403 with the upload token),
#      create_pr, a plain PUT, and the policy refusals as HfHubHTTPError with
#      ggufd's words;
#   D. metadata right after an upload (no stale cached answer); then the fake
#      Hub stopped: every file of the new main (and of the new PR) downloads
#      with hf_hub_download and curl, model_info and snapshot_download show
#      the new main.
# Over everything: the client only ever talks to ggufd, and no answer it
# gets (Location, Link, commitUrl, pullRequestUrl, url) names the fake Hub.
# Files are checked by sha256 against the fake Hub's own files on disk.
# No timing assertions; every wait is bounded.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_env
# Nothing of the user's Hub configuration may reach the client under test.
unset "${!HF_@}" HUGGING_FACE_HUB_TOKEN HUGGINGFACE_API_KEY TRANSFORMERS_OFFLINE

plan 65

REPO=ruv/ruvltra
PY=/usr/bin/python3
VENDOR=$GGUFD_SHARED/vendor/huggingface_hub-0.36.2
DRIVER=$TOP_SRCDIR/tests/integration/hf_client.py
IN=$WORK/in
DL=$WORK/dl
RESP=$WORK/resp
REPOS=$WORK/repos
MAN=$WORK/manifests
HFH=$WORK/hf
S=$WORK/store
mkdir -p "$IN" "$DL" "$RESP" "$REPOS" "$MAN" "$HFH"

UP=hf_up$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
# Small thresholds so that a 5 MB file goes multipart, client to ggufd and
# ggufd to the fake Hub.
MP=(--multipart-threshold 3000000 --multipart-chunk 1000000)
FH_ARGS=(--token "$UP" --page-size 3 --lfs-store "$WORK/lfs" "${MP[@]}")

# --- helpers -------------------------------------------------------------------

# hf NAME HOME OP JSON [VAR=VALUE...]: one huggingface_hub call (hf_client.py)
# with HF_HOME=$HFH/HOME; output in $RESP/py_NAME.json.  Returns its status.
hf() {
	local name=$1 home=$2 op=$3 kw=$4
	shift 4
	env PYTHONPATH="$VENDOR" PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1 \
		HF_ENDPOINT="$BASE" HF_HOME="$HFH/$home" HF_HUB_CACHE="$HFH/$home/hub" \
		HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1 \
		HF_HUB_ETAG_TIMEOUT=30 HF_HUB_DOWNLOAD_TIMEOUT=60 "$@" \
		timeout 180 "$PY" "$DRIVER" "$op" "$kw" >"$RESP/py_$name.json" 2>"$RESP/py_$name.err"
}
# hfw: hf with the ggufd upload token (a user who set HF_TOKEN).
hfw() {
	local name=$1 home=$2 op=$3 kw=$4
	shift 4
	hf "$name" "$home" "$op" "$kw" HF_TOKEN="$TOK" "$@"
}

# hfa: hf with a ggufd admin token (deletions, tags: issue 11).
hfa() {
	local name=$1 home=$2 op=$3 kw=$4
	shift 4
	hf "$name" "$home" "$op" "$kw" HF_TOKEN="$ADM" "$@"
}

# pyok NAME EXPR: the Python expression EXPR is true over the output of
# `hf NAME ...`: o (all of it), r (result), err (error or {}), reqs
# (requests), M (manifests: M["main"][path] = {size, sha256, gitsha1, lfs}),
# E (environment: BASE, HUB, C1, ...) and the helpers below.
pyok() {
	python3 - "$RESP/py_$1.json" "$2" "$MAN" <<'EOF'
import json, os, re, sys
E = os.environ
o = json.load(open(sys.argv[1]))
r, err, reqs = o.get("result"), o.get("error") or {}, o.get("requests", [])
M = {f[:-5]: json.load(open(os.path.join(sys.argv[3], f))) for f in os.listdir(sys.argv[3])}
B = E["BASE"]

def sha(man, path):
    return M[man][path]["sha256"]

def files_of(man):
    return {p: v["sha256"] for p, v in M[man].items()}

def elsewhere(reqs):
    """Requests that went anywhere but ggufd, or whose answer names another host."""
    bad = []
    for x in reqs:
        s = json.dumps(x)
        if not x["url"].startswith(B + "/") or E["HUB_HOST"] in s or E["CDN_HOST"] in s:
            bad.append(x)
        for k, v in x["headers"].items():
            if k.lower() in ("location", "link", "content-location") and not \
                    re.search(r"<?" + re.escape(B) + r"/", v):
                bad.append(x)
    return bad

def http_error(status, pattern):
    return "HfHubHTTPError" in err.get("classes", []) and err.get("status") == status and \
        re.search(pattern, err.get("message", ""), re.I) is not None

def commit_ok():
    """A CommitInfo whose URLs are ggufd's, for a commit the fake Hub made
    (its str() is the commit, blob or tree URL, by the call)."""
    return not err and re.fullmatch("[0-9a-f]{40}", r["oid"]) is not None and \
        r["commit_url"] == B + "/" + E["REPO"] + "/commit/" + r["oid"] and \
        r["_str"].startswith(B + "/" + E["REPO"] + "/") and r["oid"] in E.get("UP_COMMITS", "").split()

sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
# show NAME: diagnostics for a failed check.
show() {
	python3 - "$RESP/py_$1.json" <<'EOF' 2>&1
import json, sys
try:
    o = json.load(open(sys.argv[1]))
except Exception as e:
    print("no JSON output:", e)
    sys.exit(0)
if o.get("error"):
    e = dict(o["error"]); e.pop("headers", None)
    print("error:", json.dumps(e)[:1500])
print("result:", json.dumps(o.get("result"))[:1500])
print("requests:", json.dumps([(x["method"], x["url"], x["status"], x["headers"]) for x in o.get("requests", [])])[:1500])
EOF
	tail -c 1500 "$RESP/py_$1.err" 2>/dev/null
}
# tpy DESC NAME EXPR: one TAP test over a driver output.
tpy() {
	result "$1" "$(pyok "$2" "$3"; echo $?)" "$(show "$2")"
}

# manifest NAME COMMIT: what the fake Hub serves at COMMIT, from its own files
# (size, sha256, git blob sha1, LFS or not) into $MAN/NAME.json.
manifest() {
	python3 - "$REPOS/models/$REPO/$2" "$MAN/$1.json" <<'EOF'
import hashlib, json, os, sys
top, out = sys.argv[1], sys.argv[2]
try:
    lfs = json.load(open(top + ".meta.json")).get("lfs", {})
except (OSError, ValueError):
    lfs = {}
m = {}
for root, dirs, names in os.walk(top):
    for n in names:
        p = os.path.join(root, n)
        rel = os.path.relpath(p, top)
        b = open(p, "rb").read()
        m[rel] = {"size": len(b), "sha256": hashlib.sha256(b).hexdigest(),
                  "gitsha1": hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest(),
                  "lfs": lfs.get(rel, rel.endswith(".gguf") or len(b) >= 10485760)}
json.dump(m, open(out, "w"), indent=1, sort_keys=True)
EOF
}
# ref_of REF: the commit a ref of the fake repo points at (its refs.json).
ref_of() { jpy "$REPOS/models/$REPO/refs.json" "d.get('$1', '')"; }

# up_commits: the ids of every commit the fake Hub made through its API.
up_commits() {
	fake_stats "$WORK/st.json"
	UP_COMMITS=$(jpy "$WORK/st.json" '" ".join(c["commitOid"] for c in d["commits"])' 2>/dev/null)
	export UP_COMMITS
}

# all_ggufd: no driver output so far shows a request that went elsewhere
# than ggufd or an answer that names another host (the first offender's
# name in $WORK/elsewhere.txt).
all_ggufd() {
	local f n
	: >"$WORK/elsewhere.txt"
	for f in "$RESP"/py_*.json; do
		n=${f##*/py_}
		n=${n%.json}
		pyok "$n" 'not elsewhere(reqs)' || { echo "$n" >"$WORK/elsewhere.txt"; return 1; }
	done
}
elsewhere_diag() {
	local n
	n=$(cat "$WORK/elsewhere.txt")
	[ -n "$n" ] && echo "first offender: $n" && show "$n"
}

# hub_restart: the fake Hub again, on the ports it had (ggufd's upstream URL).
hub_restart() {
	local want=$HUB
	start_fakehub "$REPOS" "${FH_ARGS[@]}" --port "${HUB##*:}" --cdn-port "${CDN##*:}" &&
		[ "$HUB" = "$want" ]
}

# --- tools and data ---------------------------------------------------------------

missing=
for t in curl python3 sha256sum timeout od; do
	have "$t" || missing="$missing $t"
done
[ -x "$PY" ] || missing="$missing $PY"
[ -f "$VENDOR/huggingface_hub/__init__.py" ] || missing="$missing $VENDOR"
[ -x "$GGUFD" ] && [ -x "$MKGGUF" ] || missing="$missing ggufd/mkgguf"
if [ -z "$missing" ]; then
	vout=$(PYTHONPATH="$VENDOR" PYTHONDONTWRITEBYTECODE=1 timeout 60 "$PY" -c \
		'import huggingface_hub as h, requests, filelock, fsspec, packaging, yaml, tqdm, typing_extensions; print(h.__version__)' 2>&1)
	[ "$vout" = 0.36.2 ] || missing="$missing huggingface_hub-0.36.2-importable($vout)"
fi
result "tools present: $PY with the vendored huggingface_hub 0.36.2 and its Debian packages" \
	"$([ -z "$missing" ]; echo $?)" "missing:$missing (setup.sh installs TEST_PKGS)"
if [ -n "$missing" ]; then
	finish
	exit
fi

Q4=ruvltra-0.5b-q4_k_m.gguf
Q8=ruvltra-0.5b-q8_0.gguf
mkst=0
mkgguf "$IN/q4.gguf" --size 2000000 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/q8.gguf" --size 1000003 --ftype Q8_0 --seed 2 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/up-q4.gguf" --size 300000 --seed 11 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/up-big.gguf" --size 5000000 --ftype Q8_0 --seed 12 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/up-q2.gguf" --size 250000 --ftype Q2_K --seed 13 >>"$WORK/mk.log" 2>&1 || mkst=1
mkgguf "$IN/q5.gguf" --size 150000 --ftype Q5_K_M --seed 14 >>"$WORK/mk.log" 2>&1 || mkst=1
python3 -c 'import os, sys; sys.stdout.buffer.write(os.urandom(100000))' >"$IN/random.bin"
printf -- '---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# RuvLTRA v1\n' >"$IN/README-v1.md"
printf -- '---\nlicense: apache-2.0\ntags:\n- gguf\n- ruvltra\n---\n# RuvLTRA\n\nThe current card.\n' >"$IN/README.md"
printf '{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}\n' >"$IN/config.json"
printf '{"vocab": {"a": 0, "b": 1}}\n' >"$IN/tokenizer.json"
printf 'notes on the sub folder\n' >"$IN/notes.txt"
printf 'only in the pull request\n' >"$IN/pr-only.txt"
printf 'v0.2: smaller\n' >"$IN/changelog.txt"
printf '{"temperature": 0.7}\n' >"$IN/params.json"
printf '{"from": "a pull request"}\n' >"$IN/pr-file.json"
printf '{"plain": true}\n' >"$IN/plain.json"
printf 'copied alongside\n' >"$IN/copy-note.txt"
mkdir -p "$IN/folder/docs"
printf '{"extra": 1}\n' >"$IN/folder/extra.json"
printf '# Guide\n' >"$IN/folder/docs/guide.md"
mkrepo() { fakehub mkrepo --repos "$REPOS" --repo "$REPO" --commit auto "$@" 2>>"$WORK/mk.log" | tail -n 1; }
C1=$(mkrepo --ref refs/tags/v1.0 "$IN/README-v1.md=README.md" "$IN/config.json" "$IN/q4.gguf=$Q4")
C2=$(mkrepo --ref main "$IN/README.md" "$IN/config.json" "$IN/q4.gguf=$Q4" "$IN/q8.gguf=$Q8" \
	"$IN/tokenizer.json=sub/dir/tokenizer.json" "$IN/notes.txt=sub/notes.txt")
C3=$(mkrepo --ref refs/pr/1 --inherit "$IN/pr-only.txt")
manifest v1 "$C1"
manifest main "$C2"
manifest pr1 "$C3"
export C1 C2 C3 REPO Q4 Q8
re='^[0-9a-f]{40}$'
result "test files and the fake repo made (v1.0 tag, main, refs/pr/1)" \
	"$([ "$mkst" = 0 ] && [[ $C1 =~ $re ]] && [[ $C2 =~ $re ]] && [[ $C3 =~ $re ]] &&
		[ "$(jpy "$MAN/main.json" 'len(d)')" = 6 ] && [ "$(jpy "$MAN/pr1.json" 'len(d)')" = 7 ]; echo $?)" \
	"commits '$C1' '$C2' '$C3'" "$(tail -c 1500 "$WORK/mk.log")"

TOK=$("$GGUFD" token add ci --scope upload --store "$S" 2>>"$WORK/token.err")
ADM=$("$GGUFD" token add boss --scope admin --store "$S" 2>>"$WORK/token.err")
# --ref-ttl 3600: an answer ggufd cached stays fresh for the whole run, so
# one that is stale after a publish shows, whatever the machine's speed.
if ! start_fakehub "$REPOS" "${FH_ARGS[@]}" ||
	! HF_TOKEN=$UP start_ggufd "$S" --upstream "$HUB" --ref-ttl 3600 "${MP[@]}"; then
	not_ok "fake Hub and ggufd (gateway, upload token) started"
	finish
	exit
fi
HUB_HOST=${HUB#http://}
CDN_HOST=${CDN#http://}
export BASE HUB HUB_HOST CDN_HOST
result "fake Hub and ggufd (gateway, upload token) started" "$([[ $TOK =~ ^hf_ ]]; echo $?)" \
	"token '$TOK': $(cat "$WORK/token.err")"

# --- A. mirror: downloads, cold and warm ----------------------------------------------

xfers() { # SHA: fake Hub content transfers of that blob so far
	fake_stats "$WORK/xf.json" >/dev/null && jpy "$WORK/xf.json" "xfers.get('$1', 0)"
}
SHA_Q4=$(sha256_of "$IN/q4.gguf")

hf readme h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "README.md"}'
tpy "hf_hub_download README.md at main: byte-exact, in the snapshot of main's commit" readme \
	'r["sha256"] == sha("main", "README.md") and "/snapshots/" + E["C2"] + "/README.md" in r["path"]'
hf q4cold h1 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"$Q4\"}"
hf q4warm h2 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"$Q4\"}"
n=$(xfers "$SHA_Q4")
result "hf_hub_download of an LFS GGUF, cold then warm (a fresh cache): both byte-exact, one upstream transfer" \
	"$(pyok q4cold 'r["sha256"] == sha("main", E["Q4"])' && pyok q4warm 'r["sha256"] == sha("main", E["Q4"])' &&
		[ "$n" = 1 ]; echo $?)" "transfers of $SHA_Q4: $n" "$(show q4cold)" "$(show q4warm)"
hf tag h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "README.md", "revision": "v1.0"}'
tpy "hf_hub_download at tag v1.0: the tag's README, in the tag commit's snapshot" tag \
	'r["sha256"] == sha("v1", "README.md") and "/snapshots/" + E["C1"] + "/" in r["path"]'
hf bycommit h1 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"README.md\", \"revision\": \"$C1\"}"
tpy "hf_hub_download at a 40-hex commit" bycommit \
	'r["sha256"] == sha("v1", "README.md") and "/snapshots/" + E["C1"] + "/" in r["path"]'
hf pr h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "pr-only.txt", "revision": "refs/pr/1"}'
tpy "hf_hub_download at refs/pr/1 (sent as refs%2Fpr%2F1)" pr \
	'r["sha256"] == sha("pr1", "pr-only.txt") and "/snapshots/" + E["C3"] + "/" in r["path"] and any("refs%2Fpr%2F1" in x["url"] for x in reqs)'
hf sub h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "sub/dir/tokenizer.json"}'
hf subfolder h2 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "tokenizer.json", "subfolder": "sub/dir"}'
result "hf_hub_download of a sub-folder path, as filename and as subfolder=" \
	"$(pyok sub 'r["sha256"] == sha("main", "sub/dir/tokenizer.json")' &&
		pyok subfolder 'r["sha256"] == sha("main", "sub/dir/tokenizer.json") and r["path"].endswith("/sub/dir/tokenizer.json")'; echo $?)" \
	"$(show sub)" "$(show subfolder)"

# force_download: damage the cached blob (same size), then ask twice.
hf cfg h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "config.json"}'
blob=$(jpy "$RESP/py_cfg.json" 'd["result"]["realpath"]' 2>/dev/null)
[ -f "$blob" ] && python3 -c 'import sys; p = sys.argv[1]; b = open(p, "rb").read(); open(p, "wb").write(b[::-1])' "$blob"
hf noforce h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "config.json"}'
hf force h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "config.json", "force_download": true}'
result "force_download fetches again through ggufd: without it the damaged cached copy comes back, with it the right bytes" \
	"$(pyok cfg 'r["sha256"] == sha("main", "config.json")' && pyok noforce 'r["sha256"] != sha("main", "config.json")' &&
		pyok force 'r["sha256"] == sha("main", "config.json") and any(x["method"] == "GET" and "/resolve/" in x["url"] for x in reqs)'; echo $?)" \
	"$(show noforce)" "$(show force)"

LD=$WORK/localdir
export LD
hf ld1 h3 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"sub/dir/tokenizer.json\", \"local_dir\": \"$LD\"}"
hf ld2 h3 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"$Q4\", \"local_dir\": \"$LD\"}"
hf ld3 h3 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"$Q4\", \"local_dir\": \"$LD\"}"
result "hf_hub_download(local_dir=): files at their repo paths, byte-exact; a second call downloads nothing" \
	"$(pyok ld1 'r["path"] == E["LD"] + "/sub/dir/tokenizer.json" and r["sha256"] == sha("main", "sub/dir/tokenizer.json")' &&
		pyok ld2 'r["path"] == E["LD"] + "/" + E["Q4"] and r["sha256"] == sha("main", E["Q4"])' &&
		pyok ld3 'r["sha256"] == sha("main", E["Q4"]) and not any(x["method"] == "GET" for x in reqs)'; echo $?)" \
	"$(show ld1)" "$(show ld2)" "$(show ld3)"

hf snap_pat h4 snapshot_download '{"repo_id": "ruv/ruvltra", "allow_patterns": ["*.json", "sub/*"]}'
tpy "snapshot_download(allow_patterns=[*.json, sub/*]): exactly those files, byte-exact" snap_pat \
	'r["files"] == {p: s for p, s in files_of("main").items() if p.endswith(".json") or p.startswith("sub/")} and len(r["files"]) == 3'
hf snap_rev h4 snapshot_download '{"repo_id": "ruv/ruvltra", "revision": "v1.0"}'
tpy "snapshot_download(revision=v1.0): the tag's whole tree, byte-exact, in its commit's snapshot" snap_rev \
	'r["files"] == files_of("v1") and r["path"].endswith("/snapshots/" + E["C1"])'
hf snap_main h5 snapshot_download '{"repo_id": "ruv/ruvltra"}'
tpy "snapshot_download of main: every file, byte-exact (ggufd now holds all of main)" snap_main \
	'r["files"] == files_of("main") and r["path"].endswith("/snapshots/" + E["C2"])'

# --- A. mirror: metadata ------------------------------------------------------------------

hf info h5 model_info '{"repo_id": "ruv/ruvltra", "files_metadata": true}'
tpy "model_info(files_metadata=True): id, sha, and per sibling size, blob_id (regular) and lfs sha256/size" info \
	'r["id"] == E["REPO"] and r["sha"] == E["C2"] and {s["rfilename"]: (s["size"], s["blob_id"] if not M["main"][s["rfilename"]]["lfs"] else (s["lfs"]["sha256"], s["lfs"]["size"])) for s in r["siblings"]} == {p: (v["size"], v["gitsha1"] if not v["lfs"] else (v["sha256"], v["size"])) for p, v in M["main"].items()}'
hf files h5 list_repo_files '{"repo_id": "ruv/ruvltra"}'
hf files_v1 h5 list_repo_files '{"repo_id": "ruv/ruvltra", "revision": "v1.0"}'
result "list_repo_files at main and at v1.0: exactly the fake Hub's paths" \
	"$(pyok files 'sorted(r) == sorted(M["main"])' && pyok files_v1 'sorted(r) == sorted(M["v1"])'; echo $?)" \
	"$(show files)" "$(show files_v1)"
hf tree h5 list_repo_tree '{"repo_id": "ruv/ruvltra", "recursive": true}'
tpy "list_repo_tree(recursive=True): files (size, blob_id, lfs) and folders, in one answer (the whole listing without a cursor, upstream's pages joined)" tree \
	'{e["path"]: (e["size"], e["blob_id"] if not e["lfs"] else e["lfs"]["sha256"]) for e in r if e["_class"] == "RepoFile"} == {p: (v["size"], v["gitsha1"] if not v["lfs"] else v["sha256"]) for p, v in M["main"].items()} and sorted(e["path"] for e in r if e["_class"] == "RepoFolder") == ["sub", "sub/dir"] and len([x for x in reqs if "/tree/" in x["url"]]) == 1 and all(x["headers"]["Link"].startswith("<" + B + "/api/models/ruv/ruvltra/tree/") for x in reqs if "Link" in x["headers"]) and not elsewhere(reqs)'
hf tree_sub h5 list_repo_tree '{"repo_id": "ruv/ruvltra", "path_in_repo": "sub"}'
tpy "list_repo_tree(path_in_repo=sub): its folder and file" tree_sub \
	'sorted((e["_class"], e["path"]) for e in r) == [("RepoFile", "sub/notes.txt"), ("RepoFolder", "sub/dir")]'
hf paths h5 get_paths_info "{\"repo_id\": \"$REPO\", \"paths\": [\"config.json\", \"$Q4\", \"sub/dir\", \"nope.txt\"]}"
tpy "get_paths_info: a regular file, an LFS file, a folder; the unknown path left out" paths \
	'sorted((e["_class"], e["path"]) for e in r) == sorted([("RepoFile", "config.json"), ("RepoFile", E["Q4"]), ("RepoFolder", "sub/dir")]) and [e["blob_id"] for e in r if e["path"] == "config.json"] == [M["main"]["config.json"]["gitsha1"]] and [(e["lfs"]["sha256"], e["size"]) for e in r if e["path"] == E["Q4"]] == [(sha("main", E["Q4"]), M["main"][E["Q4"]]["size"])]'
hf refs h5 list_repo_refs '{"repo_id": "ruv/ruvltra", "include_pull_requests": true}'
tpy "list_repo_refs(include_pull_requests=True): main, tag v1.0, refs/pr/1 with their commits" refs \
	'[(b["name"], b["target_commit"]) for b in r["branches"]] == [("main", E["C2"])] and [(t["name"], t["target_commit"]) for t in r["tags"]] == [("v1.0", E["C1"])] and [(p["ref"], p["target_commit"]) for p in r["pull_requests"]] == [("refs/pr/1", E["C3"])]'
hf commits h5 list_repo_commits '{"repo_id": "ruv/ruvltra"}'
tpy "list_repo_commits (GET /api/models/{repo}/commits/{rev}, a Hub route): main's history starts at its commit" commits \
	'not err and r[0]["commit_id"] == E["C2"]'
hf fe1 h5 file_exists '{"repo_id": "ruv/ruvltra", "filename": "sub/dir/tokenizer.json"}'
hf fe2 h5 file_exists '{"repo_id": "ruv/ruvltra", "filename": "nope.txt"}'
hf fe3 h5 file_exists "{\"repo_id\": \"$REPO\", \"filename\": \"$Q8\", \"revision\": \"v1.0\"}"
hf re1 h5 repo_exists '{"repo_id": "ruv/ruvltra"}'
hf re2 h5 repo_exists '{"repo_id": "ruv/nope"}'
result "file_exists (present, absent, absent at v1.0) and repo_exists (known, unknown)" \
	"$(pyok fe1 'r is True' && pyok fe2 'r is False' && pyok fe3 'r is False' && pyok re1 'r is True' && pyok re2 'r is False'; echo $?)" \
	"$(show fe1)" "$(show fe2)" "$(show fe3)" "$(show re1)" "$(show re2)"
hf meta_lfs h5 get_hf_file_metadata "{\"url\": \"$BASE/$REPO/resolve/main/$Q4\"}"
hf meta_reg h5 get_hf_file_metadata "{\"url\": \"$BASE/$REPO/resolve/main/config.json\"}"
result "get_hf_file_metadata: commit, etag (sha256 of an LFS file, git blob sha1 of a regular one), size; location is ggufd's URL" \
	"$(pyok meta_lfs 'r["commit_hash"] == E["C2"] and r["etag"] == sha("main", E["Q4"]) and r["size"] == M["main"][E["Q4"]]["size"] and r["location"] == B + "/ruv/ruvltra/resolve/main/" + E["Q4"]' &&
		pyok meta_reg 'r["commit_hash"] == E["C2"] and r["etag"] == M["main"]["config.json"]["gitsha1"] and r["size"] == M["main"]["config.json"]["size"] and r["location"] == B + "/ruv/ruvltra/resolve/main/config.json"'; echo $?)" \
	"$(show meta_lfs)" "$(show meta_reg)"
hf no_file h5 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "nope.json"}'
hf no_rev h5 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "config.json", "revision": "no-such-branch"}'
hf no_repo_dl h5 hf_hub_download '{"repo_id": "ruv/nope", "filename": "config.json"}'
result "errors are the client's own: EntryNotFoundError, RevisionNotFoundError, RepositoryNotFoundError" \
	"$(pyok no_file '"EntryNotFoundError" in err["classes"] and err["status"] == 404' &&
		pyok no_rev '"RevisionNotFoundError" in err["classes"] and err["status"] == 404' &&
		pyok no_repo_dl '"RepositoryNotFoundError" in err["classes"] and err["status"] == 401'; echo $?)" \
	"$(show no_file)" "$(show no_rev)" "$(show no_repo_dl)"
hf who h5 whoami "{\"token\": \"$TOK\"}"
hf who_bad h5 whoami '{"token": "hf_0123456789abcdef0123456789abcdef01234567"}'
result "whoami: the ggufd token (ci, write); an unknown token is a 401 HTTPError" \
	"$(pyok who 'r["name"] == "ci" and r["auth"]["accessToken"]["role"] == "write"' &&
		pyok who_bad '"HTTPError" in err["classes"] and err["status"] == 401'; echo $?)" "$(show who)" "$(show who_bad)"

fake_stats "$WORK/stA.json"
result "the client never reached the fake Hub (no hf_hub user agent there), and every URL it used or was given was ggufd's" \
	"$([ "$(jpy "$WORK/stA.json" 'len(reqs) > 0 and not [r for r in reqs if "hf_hub" in (r.get("user_agent") or "")]')" = true ] &&
		all_ggufd; echo $?)" \
	"$(jpy "$WORK/stA.json" '[r["path"] for r in reqs if "hf_hub" in (r.get("user_agent") or "")][:5]')" "$(elsewhere_diag)"

# --- B. the fake Hub stopped: the client's cache, then ggufd's store ----------------------------

stop_fakehub
hf off_q4 h1 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"$Q4\"}" HF_HUB_OFFLINE=1
hf off_tag h1 hf_hub_download '{"repo_id": "ruv/ruvltra", "filename": "README.md", "revision": "v1.0"}' HF_HUB_OFFLINE=1
result "fake Hub stopped, HF_HUB_OFFLINE=1: hf_hub_download answers from the client's cache (main, v1.0), no request" \
	"$(pyok off_q4 'r["sha256"] == sha("main", E["Q4"]) and reqs == []' &&
		pyok off_tag 'r["sha256"] == sha("v1", "README.md") and reqs == []'; echo $?)" "$(show off_q4)" "$(show off_tag)"
hf tc1 h1 try_to_load_from_cache '{"repo_id": "ruv/ruvltra", "filename": "README.md"}'
hf tc2 h1 try_to_load_from_cache '{"repo_id": "ruv/ruvltra", "filename": "README.md", "revision": "v1.0"}'
hf tc3 h1 try_to_load_from_cache '{"repo_id": "ruv/ruvltra", "filename": "never-asked.json"}'
result "try_to_load_from_cache: main's and v1.0's README from the cache ggufd filled; an unknown file is None" \
	"$(pyok tc1 'r["sha256"] == sha("main", "README.md")' && pyok tc2 'r["sha256"] == sha("v1", "README.md")' &&
		pyok tc3 'r == {"path": None}'; echo $?)" "$(show tc1)" "$(show tc2)" "$(show tc3)"
hf off_each h6 hf_hub_download_each "{\"downloads\": [
	{\"repo_id\": \"$REPO\", \"filename\": \"$Q4\"},
	{\"repo_id\": \"$REPO\", \"filename\": \"README.md\", \"revision\": \"v1.0\"},
	{\"repo_id\": \"$REPO\", \"filename\": \"README.md\", \"revision\": \"$C1\"},
	{\"repo_id\": \"$REPO\", \"filename\": \"pr-only.txt\", \"revision\": \"refs/pr/1\"},
	{\"repo_id\": \"$REPO\", \"filename\": \"sub/dir/tokenizer.json\"}]}"
tpy "fake Hub stopped, a fresh cache, no offline flag: hf_hub_download served from ggufd's store (main, tag, commit, PR, sub-folder)" off_each \
	'[x.get("sha256") for x in r] == [sha("main", E["Q4"]), sha("v1", "README.md"), sha("v1", "README.md"), sha("pr1", "pr-only.txt"), sha("main", "sub/dir/tokenizer.json")]'
hf off_snap h7 snapshot_download '{"repo_id": "ruv/ruvltra"}'
tpy "fake Hub stopped: snapshot_download of main from ggufd (fresh cache), every file byte-exact" off_snap \
	'r["files"] == files_of("main")'

if ! hub_restart; then
	not_ok "the fake Hub restarted on its ports" "$(tail -c 1500 "$FAKEHUB_LOG" 2>/dev/null)"
	finish
	exit
fi
ok "the fake Hub restarted on its ports"

# --- C. gateway -------------------------------------------------------------------------------------

# upchk NAME PATH IN-FILE: PATH at ggufd's main is IN-FILE (a fresh cache each time).
upchk() {
	hf "$1" "u_$1" hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"$2\"}"
	pyok "$1" "r['sha256'] == '$(sha256_of "$3")'"
}

hfw create h8 create_repo '{"repo_id": "ruv/ruvltra", "exist_ok": true}'
tpy "create_repo(exist_ok=True) on the existing repo: a RepoUrl on ggufd (upstream's 409 url rewritten)" create \
	'not err and r["_str"] == B + "/ruv/ruvltra" and r["repo_id"] == "ruv/ruvltra"'

hfw up_txt h8 upload_file '{"repo_id": "ruv/ruvltra", "path_or_fileobj": "'"$IN"'/changelog.txt", "path_in_repo": "changelog.txt"}'
up_commits
tpy "upload_file of a regular file: a CommitInfo whose commit_url is on ggufd, for the commit the fake Hub made" up_txt \
	'commit_ok()'
result "the uploaded regular file downloads byte-exact with hf_hub_download" \
	"$(upchk dl_txt changelog.txt "$IN/changelog.txt"; echo $?)" "$(show dl_txt)"

UPQ4=ruvltra-1.5b-q4_k_m.gguf
UPQ4_OID=$(sha256_of "$IN/up-q4.gguf")
export UPQ4_OID
hfw up_lfs h8 upload_file "{\"repo_id\": \"$REPO\", \"path_or_fileobj\": \"$IN/up-q4.gguf\", \"path_in_repo\": \"$UPQ4\", \"commit_message\": \"python lfs\"}"
up_commits
tpy "upload_file of an LFS GGUF: preupload, LFS batch, one bearer-less PUT to ggufd's signed href, commit; URLs on ggufd" up_lfs \
	'commit_ok() and [(x["method"], x["url"].split("?")[0].replace(B, ""), x["auth"]) for x in reqs if x["method"] in ("PUT", "POST")] == [("POST", "/api/models/ruv/ruvltra/preupload/main", True), ("POST", "/ruv/ruvltra.git/info/lfs/objects/batch", True), ("PUT", "/_ggufd/lfs/" + E["UPQ4_OID"], False), ("POST", "/api/models/ruv/ruvltra/commit/main", True)]'
gcurl -L -o "$DL/hub_upq4" "$HUB/$REPO/resolve/main/$UPQ4"
result "the uploaded GGUF downloads byte-exact through ggufd, and from the fake Hub itself (published)" \
	"$(upchk dl_lfs "$UPQ4" "$IN/up-q4.gguf" && cmp -s "$DL/hub_upq4" "$IN/up-q4.gguf"; echo $?)" "$(show dl_lfs)"

BIG=ruvltra-3b-q8_0.gguf
BIG_OID=$(sha256_of "$IN/up-big.gguf")
export BIG_OID
hfw up_big h8 upload_file "{\"repo_id\": \"$REPO\", \"path_or_fileobj\": \"$IN/up-big.gguf\", \"path_in_repo\": \"$BIG\"}"
up_commits
tpy "upload_file of a 5 MB GGUF goes multipart: 5 part PUTs and a completion on ggufd, none with Authorization" up_big \
	'commit_ok() and sorted(x["url"].split("?")[0].replace(B + "/_ggufd/lfs/" + E["BIG_OID"], "") for x in reqs if "/_ggufd/" in x["url"]) == ["/complete", "/part/1", "/part/2", "/part/3", "/part/4", "/part/5"] and not any(x["auth"] for x in reqs if "/_ggufd/" in x["url"]) and all(x["status"] == 200 for x in reqs)'
result "the multipart upload downloads byte-exact through ggufd" \
	"$(upchk dl_big "$BIG" "$IN/up-big.gguf"; echo $?)" "$(show dl_big)"

hfw up_folder h8 upload_folder "{\"repo_id\": \"$REPO\", \"folder_path\": \"$IN/folder\"}"
up_commits
result "upload_folder: a CommitInfo on ggufd; both files (one in a sub-folder) download byte-exact" \
	"$(pyok up_folder 'commit_ok()' && upchk dl_f1 extra.json "$IN/folder/extra.json" &&
		upchk dl_f2 docs/guide.md "$IN/folder/docs/guide.md"; echo $?)" "$(show up_folder)" "$(show dl_f1)" "$(show dl_f2)"

hfw up_del h8 create_commit "{\"repo_id\": \"$REPO\", \"commit_message\": \"delete\", \"operations\": [
	{\"op\": \"delete\", \"path_in_repo\": \"sub/notes.txt\"}]}"
result "create_commit deleting a file with an upload token: HfHubHTTPError 403 naming the admin rule" \
	"$(pyok up_del '"HfHubHTTPError" in err["classes"] and err["status"] == 403 and "needs an admin token" in err["message"]'; echo $?)" \
	"$(show up_del)"

Q2=ruvltra-0.5b-q2_k.gguf
hfa up_ops h8 create_commit "{\"repo_id\": \"$REPO\", \"commit_message\": \"several operations\", \"operations\": [
	{\"op\": \"add\", \"path_in_repo\": \"params.json\", \"path_or_fileobj\": \"$IN/params.json\"},
	{\"op\": \"add\", \"path_in_repo\": \"$Q2\", \"path_or_fileobj\": \"$IN/up-q2.gguf\"},
	{\"op\": \"delete\", \"path_in_repo\": \"sub/notes.txt\"},
	{\"op\": \"delete\", \"path_in_repo\": \"sub/dir/\", \"is_folder\": true}]}"
up_commits
jpy "$WORK/st.json" "[[c['files'], c['lfsPaths'], c['deletedFiles'], c['deletedFolders']] for c in d['commits'] if c['summary'] == 'several operations']" >"$WORK/ops.txt"
result "create_commit (add, LFS add, delete a file, delete a folder): one upstream commit with exactly those operations, URL on ggufd" \
	"$(pyok up_ops 'commit_ok()' && [ "$(cat "$WORK/ops.txt")" = "[[[\"params.json\"], [\"$Q2\"], [\"sub/notes.txt\"], [\"sub/dir\"]]]" ]; echo $?)" \
	"upstream: $(cat "$WORK/ops.txt")" "$(show up_ops)"
hf gone h9 file_exists '{"repo_id": "ruv/ruvltra", "filename": "sub/notes.txt"}'
hf gone2 h9 file_exists '{"repo_id": "ruv/ruvltra", "filename": "sub/dir/tokenizer.json"}'
result "after it: both added files download byte-exact, the deleted file and folder are gone from main" \
	"$(upchk dl_p params.json "$IN/params.json" && upchk dl_q2 "$Q2" "$IN/up-q2.gguf" && pyok gone 'r is False' &&
		pyok gone2 'r is False'; echo $?)" "$(show dl_p)" "$(show dl_q2)" "$(show gone)" "$(show gone2)"

COPY=ruvltra-copy-0.5b-q4_k_m.gguf
hfw up_copy h8 create_commit "{\"repo_id\": \"$REPO\", \"commit_message\": \"copy\", \"operations\": [
	{\"op\": \"copy\", \"src_path_in_repo\": \"$Q4\", \"path_in_repo\": \"$COPY\"},
	{\"op\": \"add\", \"path_in_repo\": \"copy-note.txt\", \"path_or_fileobj\": \"$IN/copy-note.txt\"}]}"
up_commits
result "create_commit with a copy of an LFS file (lfsFile without size): committed, the copy downloads byte-exact" \
	"$(pyok up_copy 'commit_ok()' && upchk dl_copy "$COPY" "$IN/q4.gguf"; echo $?)" "$(show up_copy)" "$(show dl_copy)"

hfw branch h8 create_branch '{"repo_id": "ruv/ruvltra", "branch": "dev"}'
hfa tagc h8 create_tag '{"repo_id": "ruv/ruvltra", "tag": "v2.0", "tag_message": "second"}'
hf refs2 h9 list_repo_refs '{"repo_id": "ruv/ruvltra"}'
result "create_branch(dev) through ggufd (the Hub's POST /api/models/{repo}/branch/{branch}); list_repo_refs shows it" \
	"$(pyok branch 'not err' && pyok refs2 '"dev" in [b["name"] for b in r["branches"]]'; echo $?)" \
	"$(show branch)" "$(show refs2)"
result "create_tag(v2.0) through ggufd (the Hub's POST /api/models/{repo}/tag/{rev}); list_repo_refs shows it" \
	"$(pyok tagc 'not err' && pyok refs2 '"v2.0" in [t["name"] for t in r["tags"]]'; echo $?)" \
	"$(show tagc)" "$(show refs2)"

hfw brtmp h8 create_branch '{"repo_id": "ruv/ruvltra", "branch": "tmp"}'
hfa tagtmp h8 create_tag '{"repo_id": "ruv/ruvltra", "tag": "v-tmp"}'
hfw delbr_up h8 delete_branch '{"repo_id": "ruv/ruvltra", "branch": "tmp"}'
hfa delbr h8 delete_branch '{"repo_id": "ruv/ruvltra", "branch": "tmp"}'
hfa deltag h8 delete_tag '{"repo_id": "ruv/ruvltra", "tag": "v-tmp"}'
hf refs3 h9 list_repo_refs '{"repo_id": "ruv/ruvltra"}'
result "delete_branch: 403 with an upload token; delete_branch(tmp) and delete_tag(v-tmp) with an admin token; list_repo_refs shows neither, dev and v2.0 stay" \
	"$(pyok brtmp 'not err' && pyok tagtmp 'not err' && pyok delbr_up 'err["status"] == 403' && pyok delbr 'not err' && pyok deltag 'not err' &&
		pyok refs3 '[b["name"] for b in r["branches"] if b["name"] in ("dev", "tmp")] == ["dev"] and [t["name"] for t in r["tags"] if t["name"] in ("v2.0", "v-tmp")] == ["v2.0"]'; echo $?)" \
	"$(show brtmp)" "$(show tagtmp)" "$(show delbr_up)" "$(show delbr)" "$(show deltag)" "$(show refs3)"

hfw up_pr h8 upload_file "{\"repo_id\": \"$REPO\", \"path_or_fileobj\": \"$IN/pr-file.json\", \"path_in_repo\": \"pr-file.json\", \"create_pr\": true}"
up_commits
tpy "upload_file(create_pr=True): commit_url and pr_url on ggufd, pr_revision refs/pr/2" up_pr \
	'commit_ok() and r["pr_url"] == B + "/ruv/ruvltra/discussions/2" and r["pr_revision"] == "refs/pr/2" and r["pr_num"] == 2'
# By its commit id: refs/pr/2 itself is asked for only with upstream down (D).
PR_OID=$(jpy "$WORK/st.json" '[c["commitOid"] for c in d["commits"] if c["pr"]][-1]' 2>/dev/null)
hf pr_dl h9 hf_hub_download "{\"repo_id\": \"$REPO\", \"filename\": \"pr-file.json\", \"revision\": \"$PR_OID\"}"
hf pr_main h9 file_exists '{"repo_id": "ruv/ruvltra", "filename": "pr-file.json"}'
result "the PR's file downloads byte-exact at the PR's commit, and is not on main" \
	"$(pyok pr_dl "r['sha256'] == '$(sha256_of "$IN/pr-file.json")'" && pyok pr_main 'r is False'; echo $?)" \
	"$(show pr_dl)" "$(show pr_main)"

code=$(gcurl -o "$RESP/plain.b" -w '%{http_code}' -T "$IN/plain.json" -H "Authorization: Bearer $TOK" \
	"$BASE/api/ggufd/upload/$REPO/plain.json")
PLAIN_ID=$(jpy "$RESP/plain.b" 'd["id"]' 2>/dev/null)
gcurl -o "$RESP/job.b" -H "Authorization: Bearer $TOK" "$BASE/api/ggufd/uploads/$PLAIN_ID"
result "a plain PUT (curl): 200 done; its answer and its journal entry name ggufd in commitUrl" \
	"$([ "$code" = 200 ] && [ "$(jpy "$RESP/plain.b" "d['commitUrl'] == '$BASE/$REPO/commit/' + d['commitOid']")" = true ] &&
		[ "$(jpy "$RESP/job.b" "d['commitUrl'].startswith('$BASE/$REPO/commit/')")" = true ]; echo $?)" \
	"status $code: $(head -c 600 "$RESP/plain.b")" "journal: $(head -c 600 "$RESP/job.b")"

fake_stats "$WORK/st_before.json"
hfw stale h8 upload_file "{\"repo_id\": \"$REPO\", \"path_or_fileobj\": \"$IN/params.json\", \"path_in_repo\": \"stale.json\", \"parent_commit\": \"$C2\"}"
tpy "upload_file(parent_commit=<an old commit>): upstream's 412 comes back as HfHubHTTPError 412" stale \
	'http_error(412, r"A commit has happened since")'
hfw no_repo h8 upload_file "{\"repo_id\": \"other/repo\", \"path_or_fileobj\": \"$IN/q5.gguf\", \"path_in_repo\": \"ruvltra-0.5b-q5_k_m.gguf\"}"
tpy "refused: a repo that is not allowed is HfHubHTTPError 403 with ggufd's message" no_repo \
	'http_error(403, r"other/repo.*not allowed")'
hfw no_name h8 upload_file "{\"repo_id\": \"$REPO\", \"path_or_fileobj\": \"$IN/q5.gguf\", \"path_in_repo\": \"model-0.5b-q5_k_m.gguf\"}"
tpy "refused: a badly named GGUF is HfHubHTTPError 422 naming the convention" no_name \
	'http_error(422, r"must be named ruvltra-\[\{variant\}-\]\{size\}-\{quant\}\.gguf")'
hfw no_gguf h8 upload_file "{\"repo_id\": \"$REPO\", \"path_or_fileobj\": \"$IN/random.bin\", \"path_in_repo\": \"ruvltra-0.5b-q5_k_m.gguf\"}"
tpy "refused: random bytes named .gguf are HfHubHTTPError 422 'not a valid GGUF'" no_gguf \
	'http_error(422, r"not a valid GGUF")'
fake_stats "$WORK/st_after.json"
result "no refusal published anything upstream" \
	"$([ "$(jpy "$WORK/st_after.json" 'len(d["commits"])')" = "$(jpy "$WORK/st_before.json" 'len(d["commits"])')" ] &&
		[ "$(jpy "$WORK/st_after.json" 'sum(d["uploads"].values())')" = "$(jpy "$WORK/st_before.json" 'sum(d["uploads"].values())')" ]; echo $?)" \
	"$(jpy "$WORK/st_after.json" 'd["commits"][-1]')"

result "over every call above: the client only talked to ggufd and no answer (Location, Link, JSON bodies) named the fake Hub" \
	"$(all_ggufd; echo $?)" "$(elsewhere_diag)"

# --- D. the fake Hub stopped after the publishes ------------------------------------------------------------

# Metadata asked just before an upload must not be answered stale after it.
hf meta_pre h12 model_info '{"repo_id": "ruv/ruvltra"}'
hf refs_pre h12 list_repo_refs '{"repo_id": "ruv/ruvltra"}'
hf files_pre h12 list_repo_files '{"repo_id": "ruv/ruvltra"}'
hfw up_late h8 upload_file '{"repo_id": "ruv/ruvltra", "path_or_fileobj": "'"$IN"'/changelog.txt", "path_in_repo": "late.txt"}'
up_commits
MAIN_NOW=$(ref_of main)
PR2=$(ref_of refs/pr/2)
export MAIN_NOW
manifest final "$MAIN_NOW"
manifest pr2 "${PR2:-none}"
hf meta_post h12 model_info '{"repo_id": "ruv/ruvltra"}'
hf refs_post h12 list_repo_refs '{"repo_id": "ruv/ruvltra"}'
hf files_post h12 list_repo_files '{"repo_id": "ruv/ruvltra"}'
result "right after an upload, model_info, list_repo_refs and list_repo_files show the new main (not an answer cached before it)" \
	"$(pyok meta_pre 'r["sha"] != E["MAIN_NOW"]' && pyok up_late 'commit_ok() and r["oid"] == E["MAIN_NOW"]' &&
		pyok meta_post 'r["sha"] == E["MAIN_NOW"] and sorted(s["rfilename"] for s in r["siblings"]) == sorted(M["final"])' &&
		pyok refs_post '[(b["name"], b["target_commit"]) for b in r["branches"] if b["name"] == "main"] == [("main", E["MAIN_NOW"])]' &&
		pyok files_post 'sorted(r) == sorted(M["final"])'; echo $?)" \
	"$(show meta_post)" "$(show refs_post)" "$(show files_post)"
hf snap_new h13 snapshot_download '{"repo_id": "ruv/ruvltra"}'
tpy "right after the uploads, snapshot_download of main is the new main, byte-exact" snap_new \
	'r["files"] == files_of("final") and r["path"].endswith("/snapshots/" + E["MAIN_NOW"])'
gcurl -I -D "$RESP/head_main.h" -o /dev/null "$BASE/$REPO/resolve/main/config.json"
result "ggufd's main is the fake Hub's main after the uploads (X-Repo-Commit)" \
	"$([ -n "$MAIN_NOW" ] && [ "$(header X-Repo-Commit "$RESP/head_main.h")" = "$MAIN_NOW" ]; echo $?)" \
	"fake Hub main $MAIN_NOW, ggufd $(header X-Repo-Commit "$RESP/head_main.h")"
stop_fakehub
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(json.dumps({"downloads": [{"repo_id": sys.argv[2], "filename": p} for p in sorted(m)]}))' \
	"$MAN/final.json" "$REPO" >"$WORK/final_dl.json"
hf final h10 hf_hub_download_each "$(cat "$WORK/final_dl.json")"
tpy "fake Hub stopped: every file of the new main (mirrored before, uploaded, copied) downloads byte-exact with hf_hub_download" final \
	'len(M["final"]) >= 13 and [x.get("sha256") for x in r] == [M["final"][p]["sha256"] for p in sorted(M["final"])]'
bad=
while IFS= read -r p; do
	code=$(gcurl -o "$DL/final" -w '%{http_code}' "$BASE/$REPO/resolve/main/$p")
	want=$(jpy "$MAN/final.json" "d['$p']['sha256']")
	[ "$code" = 200 ] && [ "$(sha256_of "$DL/final")" = "$want" ] || bad="$bad $p($code)"
done < <(jpy "$MAN/final.json" '"\n".join(sorted(d))')
result "fake Hub stopped: every file of the new main downloads byte-exact with curl" "$([ -z "$bad" ]; echo $?)" \
	"failed:$bad"
code=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/$REPO/resolve/main/sub/notes.txt")
code2=$(gcurl -o /dev/null -w '%{http_code}' "$BASE/$REPO/resolve/main/sub/dir/tokenizer.json")
result "fake Hub stopped: the file and the folder deleted by an upload are not served at main" \
	"$([ "$code" != 200 ] && [ "$code2" != 200 ]; echo $?)" "statuses $code $code2"
hf off_meta h14 model_info '{"repo_id": "ruv/ruvltra", "files_metadata": true}'
tpy "fake Hub stopped: model_info(files_metadata=True) of main is the new main (commit, every file)" off_meta \
	'r["sha"] == E["MAIN_NOW"] and sorted(s["rfilename"] for s in r["siblings"]) == sorted(M["final"])'
hf off_snap2 h15 snapshot_download '{"repo_id": "ruv/ruvltra"}'
tpy "fake Hub stopped: snapshot_download of the new main (fresh cache), every file byte-exact" off_snap2 \
	'r["files"] == files_of("final") and r["path"].endswith("/snapshots/" + E["MAIN_NOW"])'
hf final_pr h11 hf_hub_download_each "{\"downloads\": [
	{\"repo_id\": \"$REPO\", \"filename\": \"pr-file.json\", \"revision\": \"refs/pr/2\"},
	{\"repo_id\": \"$REPO\", \"filename\": \"config.json\", \"revision\": \"refs/pr/2\"},
	{\"repo_id\": \"$REPO\", \"filename\": \"$Q4\", \"revision\": \"refs/pr/2\"}]}"
tpy "fake Hub stopped: the new PR's files (its own and its base's) download byte-exact at refs/pr/2, a ref ggufd learnt by publishing" final_pr \
	'[x.get("sha256") for x in r] == [sha("pr2", "pr-file.json"), sha("pr2", "config.json"), sha("pr2", E["Q4"])]'

# The branch and the tag created through ggufd (C) are served too.
DEV=$(jpy "$RESP/py_refs2.json" '[b["target_commit"] for b in d["result"]["branches"] if b["name"] == "dev"][0]' 2>/dev/null)
V2=$(jpy "$RESP/py_refs2.json" '[t["target_commit"] for t in d["result"]["tags"] if t["name"] == "v2.0"][0]' 2>/dev/null)
c1=$(gcurl -D "$RESP/dev.h" -o "$DL/dev_cfg" -w '%{http_code}' "$BASE/$REPO/resolve/dev/config.json")
c2=$(gcurl -D "$RESP/v2.h" -o "$DL/v2_cfg" -w '%{http_code}' "$BASE/$REPO/resolve/v2.0/config.json")
result "fake Hub stopped: config.json at the branch dev and the tag v2.0 created through ggufd, at their commits" \
	"$([ "$c1" = 200 ] && [ "$c2" = 200 ] && [ -n "$DEV" ] &&
		[ "$(header X-Repo-Commit "$RESP/dev.h")" = "$DEV" ] && [ "$(header X-Repo-Commit "$RESP/v2.h")" = "$V2" ]; echo $?)" \
	"dev $c1 ($DEV), v2.0 $c2 ($V2)" "$(cat "$RESP/dev.h" "$RESP/v2.h")"

if grep -l 'Sanitizer' "$WORK"/ggufd.*.log >/dev/null 2>&1; then
	diag "a sanitizer report is in ggufd's log:" "$(grep -h -A8 'Sanitizer' "$WORK"/ggufd.*.log | head -40)"
fi
finish
