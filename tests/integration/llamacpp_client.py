#!/usr/bin/env python3
"""llamacpp_client.py: replays llama.cpp's two download flows (`-hf
user/repo[:tag]`) as shared/CLIENTS.md section 1 gives them, against an
endpoint on loopback.  Python standard library only.

    llamacpp_client.py era-b EP USER/REPO[:TAG] CACHE     (b9842 ... v0.4.0/v0.5.0)
      R1 GET  {EP}api/models/{repo}/refs          200 required; main (else the first
                                                  branch) with a 40-hex targetCommit
      R2 GET  {EP}api/models/{repo}/tree/{commit}?recursive=true   one page only: no
                                                  Link followed, no cursor sent; files with
                                                  an oid (lfs.oid, else oid) that is not
                                                  40/64 hex are skipped; a root preset.ini
                                                  would be the only file fetched
         find_best_model: tags [TAG] or [Q4_K_M, Q8_0]; the first entry in server order
         that is a model .gguf, matches {tag}[.-] and is not a shard other than 00001;
         no tag: then the first model .gguf; the split set's shards; the mmproj as
         find_best_sibling picks it
      R3 HEAD {EP}{repo}/resolve/{commit}/{path}  2xx required (405 is fatal)
      R4 GET  same                                200 required; to blobs/{oid}, then
                                                  snapshots/{commit}/{path}
         a file whose blobs/{oid} exists gets no request at all; files in parallel

    llamacpp_client.py era-a EP USER/REPO[:TAG] DIR      (b5640 ... b8390)
      R0 HEAD {EP}{repo}/resolve/main/preset.ini  404 tolerated (2xx: GET it)
      R1 GET  {EP}v2/{repo}/manifests/{tag}       default tag "latest"; Accept:
                                                  application/json; ggufFile.rfilename
                                                  (nlohmann JSON and b5640's regex)
      R2 HEAD {EP}{repo}/resolve/main/{file}      2xx required; ETag kept
      R3 GET  same                                200; to DIR/{user}_{repo}_{file, / -> _}
         then the other shards of a split set in parallel, and the mmproj.  llama.cpp
         reads split.count from shard 1's GGUF header; this replay takes the count
         from the shard's name (the test files carry no split keys).

Options: --ua UA (default llama-cpp/b10068-1a2b3c4 for era-b, llama-cpp/b8390-80fb11a
for era-a).  Prints one JSON object: {"ok", "error", "commit", "files": [{path,
oid, dest}], "mmproj", "skipped", "requests": [{method, path, status, etag,
content_length, link}], ...}; exit 0 when ok.
"""
import json
import os
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")
OIDRE = re.compile(r"^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
SPLIT = re.compile(r"^(.+)-(\d{5})-of-(\d{5})\.gguf$", re.I)
SKIP = ("mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-")

lock = threading.Lock()
requests = []


def call(method, url, headers):
    """One request; redirects are followed, as cpp-httplib and libcurl do."""
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        r = urllib.request.urlopen(req, timeout=60)
        status, hdrs, body = r.status, r.headers, (r.read() if method != "HEAD" else b"")
    except urllib.error.HTTPError as e:
        status, hdrs, body = e.code, e.headers, e.read()
    with lock:
        requests.append({"method": method, "path": urllib.parse.urlsplit(url).path,
                         "status": status, "etag": hdrs.get("ETag"),
                         "content_length": hdrs.get("Content-Length"),
                         "accept_ranges": hdrs.get("Accept-Ranges"),
                         "content_encoding": hdrs.get("Content-Encoding"),
                         "link": hdrs.get("Link")})
    return status, hdrs, body


def is_model(path):
    b = path.rsplit("/", 1)[-1].lower()
    return b.endswith(".gguf") and not any(s in b for s in SKIP)


def shard_info(path):
    m = SPLIT.match(path)
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else None


def find_best_model(paths, tag):
    tags = [tag] if tag else ["Q4_K_M", "Q8_0"]
    for t in tags:
        rx = re.compile(re.escape(t) + r"[.-]", re.I)
        for p in paths:
            s = shard_info(p)
            if is_model(p) and rx.search(p) and (s is None or s[1] == 1):
                return p
    if not tag:
        for p in paths:
            s = shard_info(p)
            if is_model(p) and (s is None or s[1] == 1):
                return p
    return None


def bits(path):
    found = -1
    for m in re.finditer(r"(?:^|[-._])(?:BF|IQ|Q|F)(\d+)", path.rsplit("/", 1)[-1], re.I):
        found = int(m.group(1))
    return found


def find_best_sibling(paths, model):
    mdir = model[:len(model) - len(model.rsplit("/", 1)[-1])]
    mb = bits(model)
    best, bdir, bd = None, -1, 0
    for p in paths:
        b = p.rsplit("/", 1)[-1]
        d = p[:len(p) - len(b)]
        if not b.lower().endswith(".gguf") or "mmproj" not in b.lower() or not mdir.startswith(d):
            continue
        dist = 1000 if mb < 0 or bits(p) < 0 else abs(bits(p) - mb)
        if best is None or len(d) > bdir or (len(d) == bdir and dist < bd):
            best, bdir, bd = p, len(d), dist
    return best


def split_set(paths, model):
    s = shard_info(model)
    if s is None:
        return [model]
    return [p for p in paths if shard_info(p) and shard_info(p)[0] == s[0] and shard_info(p)[2] == s[2]]


def era_b(ep, repo, tag, cache, ua, out):
    hdr = {"User-Agent": ua, "Accept": "application/json"}
    st, _, body = call("GET", ep + "api/models/" + repo + "/refs", hdr)
    if st != 200:
        raise RuntimeError("GET failed (%d): %s" % (st, body[:200]))
    refs = json.loads(body)
    if not isinstance(refs.get("branches"), list):
        raise RuntimeError("missing 'branches'")
    commit = None
    for b in refs["branches"]:
        tc = b.get("targetCommit")
        if not isinstance(tc, str) or not HEX40.match(tc) or not isinstance(b.get("name"), str):
            continue
        if commit is None or b["name"] == "main":
            commit, name = tc, b["name"]
        if b["name"] == "main":
            break
    if commit is None:
        raise RuntimeError("no valid branch")
    out["commit"] = commit
    base = os.path.join(cache, "models--" + repo.replace("/", "--"))
    os.makedirs(os.path.join(base, "refs"), exist_ok=True)
    with open(os.path.join(base, "refs", name), "w") as f:
        f.write(commit)
    st, _, body = call("GET", ep + "api/models/" + repo + "/tree/" + commit + "?recursive=true", hdr)
    if st != 200:
        raise RuntimeError("GET failed (%d): %s" % (st, body[:200]))
    tree = json.loads(body)
    if not isinstance(tree, list):
        raise RuntimeError("tree is not an array")
    files, skipped = {}, []
    order = []
    for e in tree:
        if e.get("type") != "file" or not isinstance(e.get("path"), str):
            continue
        p = e["path"]
        if p.startswith("/") or ".." in p.split("/"):
            skipped.append(p)
            continue
        oid = e["lfs"]["oid"] if isinstance(e.get("lfs"), dict) and isinstance(e["lfs"].get("oid"), str) else e.get("oid", "")
        if oid and not OIDRE.match(oid):
            skipped.append(p)
            continue
        files[p] = oid
        order.append(p)
    out["skipped"] = skipped
    out["tree_entries"] = len(tree)
    if "preset.ini" in files:
        plan = ["preset.ini"]
        out["preset"] = True
    else:
        model = find_best_model(order, tag)
        if model is None:
            raise RuntimeError("no GGUF files found in repository")
        plan = split_set(order, model)
        mm = find_best_sibling(order, model)
        out["mmproj"] = mm
        if mm:
            plan.append(mm)
    out["files"] = []
    errors = []

    def get_one(p):
        oid = files[p]
        blob = os.path.join(base, "blobs", oid)
        final = os.path.join(base, "snapshots", commit, p)
        rec = {"path": p, "oid": oid, "dest": final, "fetched": False}
        out["files"].append(rec)
        if oid and os.path.exists(blob):
            return
        url = ep + repo + "/resolve/" + commit + "/" + p
        st, h, _ = call("HEAD", url, {"User-Agent": ua, "Accept": "*/*"})
        if st // 100 != 2:
            errors.append("Download '%s' failed with status code: %d" % (url, st))
            return
        st, h, body = call("GET", url, {"User-Agent": ua, "Accept": "*/*"})
        if st != 200:
            errors.append("GET %s: %d" % (url, st))
            return
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        with open(blob + ".downloadInProgress", "wb") as f:
            f.write(body)
        os.rename(blob + ".downloadInProgress", blob)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        if not os.path.exists(final):
            os.symlink(os.path.relpath(blob, os.path.dirname(final)), final)
        rec["fetched"] = True

    ts = [threading.Thread(target=get_one, args=(p,)) for p in plan]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors))


def era_a(ep, repo, tag, d, ua, out):
    user, name = repo.split("/")
    st, _, body = call("HEAD", ep + repo + "/resolve/main/preset.ini", {"User-Agent": ua})
    out["preset_status"] = st
    if st // 100 == 2:
        raise RuntimeError("a remote preset.ini was found (the repo has none)")
    st, _, body = call("GET", ep + "v2/" + repo + "/manifests/" + (tag or "latest"),
                       {"User-Agent": ua, "Accept": "application/json"})
    out["manifest_status"] = st
    if st == 401:
        raise RuntimeError("model is private or does not exist; if you are accessing a gated model, please provide a valid HF token")
    if st not in (200, 304):
        raise RuntimeError("error from HF API, response code: %d, data: %s" % (st, body[:300].decode("utf-8", "replace")))
    m = json.loads(body)
    text = body.decode("utf-8")
    rx = re.search(r'"ggufFile"[\s\S]*?"rfilename"\s*:\s*"([^"]+)"', text)
    out["regex_gguf"] = rx.group(1) if rx else None
    rxm = re.search(r'"mmprojFile"[\s\S]*?"rfilename"\s*:\s*"([^"]+)"', text)
    out["regex_mmproj"] = rxm.group(1) if rxm else None
    gguf = m.get("ggufFile", {}).get("rfilename")
    if not isinstance(gguf, str):
        raise RuntimeError("model does not have ggufFile")
    mm = m.get("mmprojFile", {}).get("rfilename") if isinstance(m.get("mmprojFile"), dict) else None
    out["gguf"], out["mmproj"] = gguf, mm
    out["files"] = []
    errors = []

    def get_one(p):
        url = ep + repo + "/resolve/main/" + p
        dest = os.path.join(d, "%s_%s_%s" % (user, name, p.replace("/", "_")))
        rec = {"path": p, "dest": dest}
        out["files"].append(rec)
        st, h, _ = call("HEAD", url, {"User-Agent": ua})
        if st // 100 != 2:
            errors.append("HEAD %s: %d" % (url, st))
            return
        rec["etag"] = h.get("ETag")
        st, h, body = call("GET", url, {"User-Agent": ua})
        if st != 200:
            errors.append("GET %s: %d" % (url, st))
            return
        with open(dest, "wb") as f:
            f.write(body)

    os.makedirs(d, exist_ok=True)
    get_one(gguf)
    s = shard_info(gguf)
    rest = []
    if s is not None:
        rest = ["%s-%05d-of-%05d.gguf" % (s[0], i, s[2]) for i in range(2, s[2] + 1)]
    if mm:
        rest.append(mm)
    ts = [threading.Thread(target=get_one, args=(p,)) for p in rest]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors))


def main():
    args = sys.argv[1:]
    ua = None
    if "--ua" in args:
        i = args.index("--ua")
        ua = args[i + 1]
        del args[i:i + 2]
    if len(args) != 4 or args[0] not in ("era-a", "era-b"):
        sys.stderr.write(__doc__)
        return 2
    mode, ep, ref, d = args
    if not ep.endswith("/"):
        ep += "/"
    repo, _, tag = ref.partition(":")
    out = {"ok": False, "error": None, "requests": requests}
    try:
        if mode == "era-b":
            era_b(ep, repo, tag, d, ua or "llama-cpp/b10068-1a2b3c4", out)
        else:
            era_a(ep, repo, tag, d, ua or "llama-cpp/b8390-80fb11a", out)
        out["ok"] = True
    except Exception as e:  # noqa: BLE001 - the test reads the message
        out["error"] = str(e)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
