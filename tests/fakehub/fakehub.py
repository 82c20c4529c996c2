#!/usr/bin/env python3
"""fakehub: a fake Hugging Face Hub (hub host + separate CDN host) for ggufd tests.

Standard library only (Python 3.11). See README.md beside this file.
Read side: resolve/raw/api (HF-PROTOCOL.md 1-3). Upload side (section 4): preupload, LFS batch, S3-like
signed PUT/multipart on the CDN host, lfs-verify, NDJSON/JSON commit, repos/create, whoami-v2, validate-yaml.

  python3 fakehub.py --repos DIR --host 127.0.0.1 --cdn-host 127.0.0.2 \
      --port 0 --cdn-port 0 --state-file FILE [--token hf_x] [--page-size N]
  python3 fakehub.py mkrepo --repos DIR --repo ns/name [--type models] \
      --commit <40hex|auto> [--ref main]... [--inherit] [--private|--public] [--gated auto|manual|no] FILE[=PATH]...
"""

import argparse
import base64
import fnmatch
import gzip
import hashlib
import hmac
import json
import mimetypes
import os
import re
import shutil
import signal
import socket
import socketserver
import struct
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEX40 = re.compile(r"^[0-9a-f]{40}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
SHORTHEX = re.compile(r"^[0-9a-f]{4,39}$")
TYPES = ("models", "datasets", "spaces")
LFS_MIN_SIZE = 10 * 1024 * 1024
# Hugging Face's default .gitattributes LFS patterns, plus .gguf.
LFS_EXTS = {
    ".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gguf", ".gz", ".h5", ".joblib",
    ".mlmodel", ".model", ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb",
    ".pickle", ".pkl", ".pt", ".pth", ".rar", ".safetensors", ".tar", ".tflite", ".tgz",
    ".wasm", ".xz", ".zip", ".zst", ".mar", ".llamafile",
}
MAX_BODY = 1 << 20          # request bodies larger than this get 413
COMMIT_MAX_BODY = 256 << 20  # ... except on /commit/ (NDJSON with base64 regular files)
MAX_PUT = 1 << 30           # default --max-put: CDN PUT bodies (streamed to disk) larger than this get 413
LFS_CT = "application/vnd.git-lfs+json"
WHOAMI_NAME = "upstream-user"
WHOAMI_ORGS = ["ruv"]
TYPE_WORD = {"models": "model", "datasets": "dataset", "spaces": "space"}
REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")
# The Hub's default .gitattributes for a new repo (--create-gitattributes).
DEFAULT_GITATTRIBUTES = "".join("*%s filter=lfs diff=lfs merge=lfs -text\n" % e for e in sorted(
    [".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gz", ".h5", ".joblib", ".mlmodel", ".model",
     ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle", ".pkl", ".pt", ".pth",
     ".rar", ".safetensors", ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip", ".zst"])) + \
    "*tfevents* filter=lfs diff=lfs merge=lfs -text\n"
CHUNK = 64 * 1024
API_MARKERS = ("revision", "tree", "paths-info", "refs", "xet-read-token",
               "xet-write-token", "preupload", "commit", "commits", "branch", "tag")
FILE_MARKERS = ("resolve", "raw")
TEXT_EXTS = {".json", ".txt", ".md", ".py", ".yaml", ".yml", ".csv", ".jinja", ".html", ".js"}


def log(msg):
    try:
        sys.stderr.write("fakehub: %s\n" % msg)
        sys.stderr.flush()
    except Exception:
        pass


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".000Z"


def truthy(v):
    return str(v).strip().lower() in ("1", "true", "yes", "on")


def lfs_pointer(sha256, size):
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
            % (sha256, size)).encode()


def git_blob_sha1(data):
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def valid_segment(s):
    return bool(s) and s not in (".", "..") and "/" not in s and "\0" not in s and "\\" not in s


def split_path(path):
    """'a/b/c' -> ['a','b','c'] or None if any segment is unsafe. '' -> []."""
    path = path.strip("/")
    if path == "":
        return []
    parts = path.split("/")
    if not all(valid_segment(p) for p in parts):
        return None
    return parts


def link_or_copy(src, dst):
    """Hard link (commits are immutable, and writers unlink before writing), else copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def prune_empty_dirs(top):
    for d, dirs, files in os.walk(top, topdown=False):
        if d != top and not os.listdir(d):
            os.rmdir(d)


def set_refs(rdir, updates, remove=()):
    path = os.path.join(rdir, "refs.json")
    try:
        with open(path) as f:
            refs = json.load(f)
        if not isinstance(refs, dict):
            refs = {}
    except (OSError, ValueError):
        refs = {}
    refs.update(updates)
    for k in remove:
        refs.pop(k, None)
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def finish_commit(rdir, tmp, cid, meta):
    """Publish a commit built in tmp: the sidecar meta first, then the directory (atomic rename)."""
    mp = os.path.join(rdir, cid + ".meta.json")
    with open(mp + ".tmp", "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    os.replace(mp + ".tmp", mp)
    os.rename(tmp, os.path.join(rdir, cid))


# --------------------------------------------------------------------------- repos

class Repos:
    """Repos on disk: ROOT/<type>/<ns>/<name>/<commit>/<files>, refs.json beside the commits."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.lock = threading.Lock()
        self.cache = {}      # abspath -> (size, mtime_ns, info)
        self.by_sha = {}     # sha256 -> abspath
        self.meta_cache = {}  # commit dir -> meta dict (or {}); commits are immutable once visible

    def commit_meta(self, cdir):
        """Sidecar <commit-dir>.meta.json written by the commit API: {"lfs": {path: bool}, "summary", ...}."""
        with self.lock:
            m = self.meta_cache.get(cdir)
        if m is not None:
            return m
        try:
            with open(cdir + ".meta.json", "rb") as f:
                m = json.load(f)
            if not isinstance(m, dict):
                m = {}
        except (OSError, ValueError):
            m = {}
        with self.lock:
            self.meta_cache[cdir] = m
        return m

    def split_commit_path(self, path):
        """abspath of a file inside a commit dir -> (commit dir, relpath) or (None, None)."""
        rel = os.path.relpath(path, self.root).split(os.sep)
        for i, c in enumerate(rel):
            if HEX40.match(c) and 0 < i < len(rel) - 1 and rel[0] in TYPES:
                return os.path.join(self.root, *rel[:i + 1]), "/".join(rel[i + 1:])
        return None, None

    def lfs_override(self, path):
        cdir, rel = self.split_commit_path(path)
        if not cdir:
            return None
        v = self.commit_meta(cdir).get("lfs", {}).get(rel)
        return v if isinstance(v, bool) else None

    def repo_dir(self, typ, repo_parts):
        if typ not in TYPES or not (1 <= len(repo_parts) <= 2):
            return None
        if not all(valid_segment(p) for p in repo_parts):
            return None
        d = os.path.join(self.root, typ, *repo_parts)
        if not os.path.isdir(d):
            return None
        if not (os.path.isfile(os.path.join(d, "refs.json")) or self.commits(d)):
            return None
        return d

    @staticmethod
    def settings(rdir):
        """repo.json written by /api/repos/create or mkrepo ({"private": bool, "gated": false|"auto"|"manual"});
        {} if absent."""
        try:
            with open(os.path.join(rdir, "repo.json"), "rb") as f:
                r = json.load(f)
            return r if isinstance(r, dict) else {}
        except (OSError, ValueError):
            return {}

    @staticmethod
    def refs(rdir):
        try:
            with open(os.path.join(rdir, "refs.json"), "rb") as f:
                r = json.load(f)
            return {str(k): str(v) for k, v in r.items()} if isinstance(r, dict) else {}
        except Exception:
            return {}

    @staticmethod
    def commits(rdir):
        try:
            return [n for n in os.listdir(rdir)
                    if HEX40.match(n) and os.path.isdir(os.path.join(rdir, n))]
        except OSError:
            return []

    def resolve_rev(self, rdir, rev):
        refs = self.refs(rdir)
        if rev == "HEAD":
            rev = "main"
        for cand in (rev, "refs/heads/" + rev, "refs/tags/" + rev,
                     rev[len("refs/heads/"):] if rev.startswith("refs/heads/") else None,
                     rev[len("refs/tags/"):] if rev.startswith("refs/tags/") else None):
            if cand and cand in refs:
                c = refs[cand].lower()
                if HEX40.match(c) and os.path.isdir(os.path.join(rdir, c)):
                    return c
                return None
        commits = self.commits(rdir)
        if HEX40.match(rev):
            return rev if rev in commits else None
        if SHORTHEX.match(rev):
            m = [c for c in commits if c.startswith(rev)]
            if len(m) == 1:
                return m[0]
        return None

    def known_refs(self, rdir):
        return set(self.refs(rdir).keys())

    def file_info(self, path):
        st = os.stat(path)
        key = (st.st_size, st.st_mtime_ns)
        with self.lock:
            c = self.cache.get(path)
            if c and c[0:2] == key:
                return c[2]
        sha256 = hashlib.sha256()
        sha1 = hashlib.sha1(b"blob %d\0" % st.st_size)
        n = 0
        with open(path, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                sha256.update(b)
                sha1.update(b)
                n += len(b)
        size = n
        hexd = sha256.hexdigest()
        ext = os.path.splitext(path)[1].lower()
        lfs = size >= LFS_MIN_SIZE or ext in LFS_EXTS
        ov = self.lfs_override(path)
        if ov is not None:
            lfs = ov
        ptr = lfs_pointer(hexd, size)
        info = {
            "size": size,
            "sha256": hexd,
            "git_sha1": sha1.hexdigest(),
            "lfs": lfs,
            "pointer": ptr,
            "pointer_oid": git_blob_sha1(ptr),
            "xet_hash": hashlib.sha256(b"xet:" + hexd.encode()).hexdigest(),
        }
        info["oid"] = info["pointer_oid"] if lfs else info["git_sha1"]
        with self.lock:
            self.cache[path] = (key[0], key[1], info)
            self.by_sha[hexd] = path
        return info

    def find_sha(self, sha):
        with self.lock:
            p = self.by_sha.get(sha)
        if p and os.path.isfile(p):
            try:
                if self.file_info(p)["sha256"] == sha:
                    return p
            except OSError:
                pass
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.root).split(os.sep)
            if not any(HEX40.match(x) for x in rel):
                continue  # only files inside a commit directory
            for fn in sorted(filenames):
                fp = os.path.join(dirpath, fn)
                try:
                    if self.file_info(fp)["sha256"] == sha:
                        return fp
                except OSError:
                    pass
        return None

    @staticmethod
    def lookup(cdir, rel):
        """-> ('file'|'dir', abspath) or None."""
        parts = split_path(rel)
        if parts is None:
            return None
        p = os.path.join(cdir, *parts) if parts else cdir
        real = os.path.realpath(p)
        if not (real == os.path.realpath(cdir) or real.startswith(os.path.realpath(cdir) + os.sep)):
            return None
        if os.path.isfile(p):
            return ("file", p)
        if os.path.isdir(p):
            return ("dir", p)
        return None

    def walk(self, cdir, rel, recursive):
        """Entries (kind, relpath, abspath) under directory rel, sorted; dirs before files per level."""
        out = []
        base = os.path.join(cdir, *split_path(rel)) if rel else cdir

        def rec(d, prefix):
            try:
                names = sorted(os.listdir(d))
            except OSError:
                return
            dirs = [n for n in names if os.path.isdir(os.path.join(d, n))]
            files = [n for n in names if os.path.isfile(os.path.join(d, n))]
            for n in dirs:
                out.append(("dir", prefix + n, os.path.join(d, n)))
                if recursive:
                    rec(os.path.join(d, n), prefix + n + "/")
            for n in files:
                out.append(("file", prefix + n, os.path.join(d, n)))

        rec(base, (rel.strip("/") + "/") if rel.strip("/") else "")
        return out

    def dir_oid(self, d):
        h = hashlib.sha1(b"tree\0")
        try:
            names = sorted(os.listdir(d))
        except OSError:
            names = []
        for n in names:
            p = os.path.join(d, n)
            if os.path.isdir(p):
                h.update(b"d " + n.encode() + b"\0" + self.dir_oid(p).encode())
            elif os.path.isfile(p):
                h.update(b"f " + n.encode() + b"\0" + self.file_info(p)["oid"].encode())
        return h.hexdigest()


# --------------------------------------------------------------------------- state

class State:
    def __init__(self, args, repos):
        self.lock = threading.RLock()
        self.args = args
        self.repos = repos
        self.state_file = args.state_file
        self.token = args.token
        self.page_size = max(1, args.page_size)
        self.url_expiry = args.url_expiry
        self.key = os.urandom(32)
        self.hub_url = None
        self.cdn_url = None
        self.runner = None
        self.seq = 0
        self.fault_seq = 0
        self.commit_lock = threading.Lock()   # serializes repo writes (commit, create)
        self.mp_threshold = args.multipart_threshold
        self.mp_chunk = max(1, args.multipart_chunk)
        self.max_put = args.max_put
        self.store = os.path.abspath(args.lfs_store) if args.lfs_store else None
        self._clear()

    def _clear(self):
        self.requests = []
        self.transfers = {}
        self.bytes = {}
        self.faults = []
        self.down = None
        self.uploads = {}
        self.commits = []
        self.expired = set()   # CDN signatures an expire_after fault has expired

    # ---- LFS content store: uploaded objects in STORE/objects/<sha256>, plus every LFS file of every repo
    def store_path(self, *p):
        return os.path.join(self.store, *p)

    def lfs_object(self, oid):
        """-> abspath of the bytes of LFS object oid, or None."""
        if not HEX64.match(oid or ""):
            return None
        p = self.store_path("objects", oid)
        if os.path.isfile(p):
            return p
        p = self.repos.find_sha(oid)
        if p:
            try:
                if self.repos.file_info(p)["lfs"]:
                    return p
            except OSError:
                pass
        return None

    def count_upload(self, oid):
        with self.lock:
            self.uploads[oid] = self.uploads.get(oid, 0) + 1
            self.save()

    def add_commit(self, rec):
        with self.lock:
            self.commits.append(rec)
            self.save()

    # ---- stats
    def snapshot(self):
        with self.lock:
            return {
                "hub": self.hub_url,
                "cdn": self.cdn_url,
                "pid": os.getpid(),
                "requests": list(self.requests),
                "content_transfers": dict(self.transfers),
                "bytes_sent": dict(self.bytes),
                "faults": [dict(f) for f in self.faults],
                "down": dict(self.down) if self.down else None,
                "uploads": dict(self.uploads),
                "commits": [dict(c) for c in self.commits],
            }

    def save(self):
        if not self.state_file:
            return
        with self.lock:
            data = json.dumps(self.snapshot(), indent=1).encode()
            tmp = "%s.tmp.%d" % (self.state_file, os.getpid())
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.state_file)
            except OSError as e:
                log("cannot write state file: %s" % e)

    def record(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.requests.append(rec)
            self.save()

    def transfer_start(self, sha):
        with self.lock:
            self.transfers[sha] = self.transfers.get(sha, 0) + 1
            self.bytes.setdefault(sha, 0)
            self.save()

    def add_bytes(self, sha, n):
        with self.lock:
            self.bytes[sha] = self.bytes.get(sha, 0) + n

    def reset(self):
        with self.lock:
            self._clear()
            self.save()

    # ---- faults
    BODY_KINDS = ("drop_after", "corrupt_at", "corrupt_at_file", "throttle_bps", "stall_after")
    # Faults that change what a content response is (status, headers, length), taken where the
    # response is built (_serve_file) rather than in _send.  wrong_content_range and ignore_range
    # are taken only by a request that carries Range.
    CONTENT_KINDS = ("redirect_loop", "wrong_content_range", "ignore_range", "short_body", "long_body",
                     "expire_after")

    def add_faults(self, spec):
        """spec: dict (or list of dicts). Returns the rules created."""
        specs = spec if isinstance(spec, list) else [spec]
        created = []
        with self.lock:
            for s in specs:
                if not isinstance(s, dict):
                    raise ValueError("fault spec must be an object")
                count = int(s.get("count", 1))
                match = s.get("match")
                if match is not None and not isinstance(match, str):
                    raise ValueError("match must be a string")
                host = s.get("host")
                if host not in (None, "hub", "cdn", "any"):
                    raise ValueError("host must be hub, cdn or any")
                method = s.get("method")
                common = {"count": count, "match": match, "host": host,
                          "method": method.upper() if isinstance(method, str) else None}
                if "down" in s:
                    if s["down"]:
                        mode = s.get("mode", "close")
                        if mode not in ("close", "reset", "hang", "refuse"):
                            raise ValueError("mode must be close, reset, hang or refuse")
                        dur = s.get("duration")
                        if mode == "refuse" and not dur:
                            raise ValueError("mode refuse needs duration (control API is unreachable meanwhile)")
                        self.down = {"mode": mode, "host": host or "any",
                                     "until": (time.time() + float(dur)) if dur else None}
                        created.append({"kind": "down", **self.down})
                    else:
                        self.down = None
                        created.append({"kind": "down", "cleared": True})
                for kind in ("status",) + self.BODY_KINDS + self.CONTENT_KINDS + ("slow_first_byte",):
                    if kind not in s or s[kind] is None:
                        continue
                    v = s[kind]
                    if kind == "status":
                        v = int(v)
                        if not 100 <= v <= 599:
                            raise ValueError("bad status")
                    elif kind in ("slow_first_byte",):
                        v = float(v)
                    else:
                        v = int(v)
                    self.fault_seq += 1
                    r = {"id": self.fault_seq, "kind": kind, "value": v, **common, "applied": 0}
                    if kind == "status":
                        r["retry_after"] = s.get("retry_after")
                        r["message"] = s.get("message")
                        r["error_code"] = s.get("error_code")
                    if kind == "stall_after":
                        r["seconds"] = float(s.get("seconds", s.get("stall_seconds", 30)))
                    if count != 0:
                        self.faults.append(r)
                    created.append(dict(r))
            self.save()
        return created

    def is_down(self, host):
        with self.lock:
            d = self.down
            if not d:
                return None
            if d["until"] is not None and time.time() >= d["until"]:
                self.down = None
                self.save()
                return None
            if d["host"] not in ("any", host):
                return None
            return d

    @staticmethod
    def _matches(r, host, method, path, content):
        if r["method"] and r["method"] != method:
            return False
        if r["match"] is not None:
            if r["host"] not in (None, "any", host):
                return False
            dec = urllib.parse.unquote(path)
            return r["match"] in path or r["match"] in dec
        if r["kind"] == "status":
            return (r["host"] or "hub") in ("any", host)
        # body faults without match: content routes (CDN + resolve-cache GETs)
        if r["host"] not in (None, "any", host):
            return False
        return content and method == "GET"

    def _take(self, r):
        r["applied"] += 1
        if r["count"] > 0:
            r["count"] -= 1
            if r["count"] == 0:
                self.faults.remove(r)

    def take_status(self, host, method, path):
        with self.lock:
            for r in self.faults:
                if r["kind"] == "status" and self._matches(r, host, method, path, False):
                    out = dict(r)
                    self._take(r)
                    self.save()
                    return out
        return None

    def take_body(self, host, method, path, content, has_body):
        got = {}
        with self.lock:
            for r in list(self.faults):
                k = r["kind"]
                if k == "status" or k in self.CONTENT_KINDS or k in got:
                    continue
                if k != "slow_first_byte" and not has_body:
                    continue
                if self._matches(r, host, method, path, content):
                    got[k] = dict(r)
                    self._take(r)
            if got:
                self.save()
        return got

    def take_content(self, host, method, path, ranged):
        """The content faults (CONTENT_KINDS) for a response being built: {kind: rule}."""
        got = {}
        with self.lock:
            for r in list(self.faults):
                k = r["kind"]
                if k not in self.CONTENT_KINDS or k in got:
                    continue
                if k in ("wrong_content_range", "ignore_range") and not ranged:
                    continue
                if self._matches(r, host, method, path, True):
                    got[k] = dict(r)
                    self._take(r)
            if got:
                self.save()
        return got

    # ---- signing
    def sign(self, sha, exp):
        return hmac.new(self.key, ("%s|%d" % (sha, exp)).encode(), hashlib.sha256).hexdigest()

    def cdn_link(self, sha, exp=None):
        if exp is None:
            exp = int(time.time() + self.url_expiry)
            with self.lock:
                while self.sign(sha, exp) in self.expired:  # a new URL, not one expire_after expired
                    exp += 1
        return "%s/cdn/%s?exp=%d&sig=%s" % (self.cdn_url, sha, exp, self.sign(sha, exp))

    def sign_up(self, path, params):
        """Signature of an upload URL: HMAC over the path and the sorted (name, value) params except sig."""
        msg = path + "|" + "&".join("%s=%s" % (k, params[k]) for k in sorted(params) if k != "sig")
        return hmac.new(self.key, ("up|" + msg).encode(), hashlib.sha256).hexdigest()

    def up_link(self, path, **params):
        params = {k: str(v) for k, v in params.items()}
        params["exp"] = str(int(time.time() + self.url_expiry))
        params["sig"] = self.sign_up(path, params)
        return "%s%s?%s" % (self.cdn_url, path, "&".join("%s=%s" % (k, params[k]) for k in params))


# --------------------------------------------------------------------------- HTTP

def parse_range(hdr, size):
    """-> None (serve whole), (start, end) inclusive, or 'unsatisfiable'."""
    if not hdr:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", hdr)
    if not m:
        return None  # multi-range or garbage: ignore, serve 200
    a, b = m.group(1), m.group(2)
    if a == "" and b == "":
        return None
    if a == "":
        n = int(b)
        if n == 0 or size == 0:
            return "unsatisfiable"
        return (max(0, size - n), size - 1)
    first = int(a)
    last = int(b) if b != "" else size - 1
    if b != "" and last < first:
        return None
    if first >= size:
        return "unsatisfiable"
    return (first, min(last, size - 1))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1.0"
    sys_version = ""
    timeout = 300

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def log_error(self, fmt, *args):
        log("%s: %s" % (self.server.role, fmt % args))

    def do_GET(self):
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # ---- plumbing
    @property
    def st(self):
        return self.server.st

    def _dispatch(self):
        st = self.st
        role = self.server.role
        target = self.path
        if target.startswith("http://") or target.startswith("https://"):
            target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
        raw, _, query = target.partition("?")
        self.raw, self.query = raw, query
        self.q = urllib.parse.parse_qs(query, keep_blank_values=True)
        self.headers_sent = False
        auth = self.headers.get("Authorization")
        self.rec = {
            "host": role, "method": self.command, "path": raw, "query": query,
            "range": self.headers.get("Range"), "auth": auth, "status": None, "bytes_sent": 0,
            "accept_encoding": self.headers.get("Accept-Encoding"),
            "user_agent": self.headers.get("User-Agent"),
            "t": round(time.time(), 3),
        }
        control = role == "hub" and (raw == "/_fake" or raw.startswith("/_fake/"))
        t0 = time.time()
        try:
            if control:
                body = self._read_body()
                if body is not None:
                    self._control(body)
                return
            # CDN PUT bodies are streamed to disk by the handler; anything answered before that drains them first.
            self._pending = role == "cdn" and self.command == "PUT"
            d = st.is_down(role)
            if d:
                self._go_down(d)
                return
            if self._pending:
                body = b""
            else:
                body = self._read_body(COMMIT_MAX_BODY if role == "hub" and "/commit/" in raw else MAX_BODY)
                if body is None:
                    return
            f = st.take_status(role, self.command, raw)
            if f:
                self.rec["fault"] = "status"
                return self._status_fault(f)
            if role == "hub" and st.token and auth is not None and not self._auth_ok(auth):
                return self._error(401, None, "Invalid credentials in Authorization header")
            self._body = body
            if role == "cdn":
                self._cdn()
            else:
                self._hub(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout, TimeoutError):
            self.close_connection = True
            self.rec["aborted"] = True
        except Exception as e:
            log("internal error on %s %s: %r\n%s" % (self.command, raw, e, traceback.format_exc()))
            if not self.headers_sent:
                try:
                    self._json(500, {"error": "fakehub internal error: %r" % e})
                except Exception:
                    self.close_connection = True
            else:
                self.close_connection = True
        finally:
            if not control:
                st.record(self.rec)
                log("%s %s %s%s -> %s %dB%s%s" % (
                    role, self.command, raw, ("?" + query) if query else "", self.rec["status"],
                    self.rec["bytes_sent"], (" range=" + self.rec["range"]) if self.rec["range"] else "",
                    (" fault=" + self.rec["fault"]) if self.rec.get("fault") else ""))

    def _auth_ok(self, auth):
        """Authorization matches --token: 'Bearer TOKEN', or (git-lfs CLI style, on .git/info/lfs/ only)
        'Basic base64(user:TOKEN)'. Without --token any non-empty Bearer is accepted."""
        tok = self.st.token
        if auth.startswith("Bearer "):
            return auth[7:] == tok if tok else bool(auth[7:].strip())
        if auth.startswith("Basic ") and ".git/info/lfs/" in self.raw:
            try:
                pw = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                return False
            return pw == tok if tok else bool(pw)
        return False

    def _need_auth(self):
        """Write routes: a valid credential is mandatory. Answers 401 and returns False if not."""
        auth = self.headers.get("Authorization")
        if auth is None:
            self._error(401, None, "You must be authenticated to access this resource (no Authorization header)")
            return False
        if not self._auth_ok(auth):
            self._error(401, None, "Invalid credentials in Authorization header")
            return False
        return True

    def _drain(self):
        """Discard an unread request body (bounded) so the connection stays usable; else mark it to close."""
        self._pending = False
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            self.close_connection = True
            return
        try:
            left = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return
        if left > self.st.max_put or left < 0:
            self.close_connection = True
            return
        while left > 0:
            b = self.rfile.read(min(CHUNK, left))
            if not b:
                self.close_connection = True
                return
            left -= len(b)
            self.rec["bytes_received"] = self.rec.get("bytes_received", 0) + len(b)

    def _read_body(self, limit=MAX_BODY):
        """Bounded read of the request body. Returns bytes, or None after answering an error."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        cl = self.headers.get("Content-Length")
        if "chunked" in te:
            data = b""
            try:
                while True:
                    line = self.rfile.readline(1024)
                    if not line:
                        self.close_connection = True
                        return None
                    n = int(line.split(b";")[0].strip() or b"0", 16)
                    if n == 0:
                        while True:  # trailers
                            t = self.rfile.readline(8192)
                            if t in (b"\r\n", b"\n", b""):
                                break
                        if data:
                            self.rec["bytes_received"] = len(data)
                        return data
                    if len(data) + n > limit:
                        self.close_connection = True
                        self._json(413, {"error": "request body too large"})
                        return None
                    data += self.rfile.read(n)
                    self.rfile.readline(16)
            except ValueError:
                self.close_connection = True
                self._json(400, {"error": "bad chunked body"})
                return None
        if cl is None:
            return b""
        try:
            n = int(cl)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._json(400, {"error": "bad Content-Length"})
            return None
        if n > limit:
            self.close_connection = True
            self._json(413, {"error": "request body too large"})
            return None
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            self.close_connection = True
            return None
        if n:
            self.rec["bytes_received"] = n
        return data

    def _go_down(self, d):
        self.rec["fault"] = "down:" + d["mode"]
        mode = d["mode"]
        if mode == "close" and getattr(self, "_pending", False):
            self._drain()
        self.close_connection = True
        if mode == "hang":
            while self.st.is_down(self.server.role):
                time.sleep(0.1)
            return
        if mode in ("reset", "refuse"):
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass

    def _accepts_gzip(self):
        ae = (self.headers.get("Accept-Encoding") or "").lower()
        for tok in ae.split(","):
            parts = tok.strip().split(";")
            if parts[0].strip() == "gzip":
                if len(parts) > 1 and parts[1].strip().replace(" ", "") in ("q=0", "q=0.0", "q=0.00"):
                    return False
                return True
        return False

    def _send(self, status, headers, body=b"", file=None, sha=None, content=False, length=None, pre=None):
        """Send a complete response. body: bytes; or file=(path, offset, length).  pre: body faults
        already decided by the caller ({kind: {"value": v}}), applied with those taken here."""
        if getattr(self, "_pending", False):
            self._drain()
        is_head = self.command == "HEAD"
        if file is not None:
            length = file[2]
        elif length is None:
            length = len(body)
        has_body = (not is_head) and 200 <= status < 300 and length > 0
        faults = self.st.take_body(self.server.role, self.command, self.raw, content, has_body)
        if faults:
            self.rec["fault"] = ",".join(([self.rec["fault"]] if self.rec.get("fault") else []) + sorted(faults))
        if pre:
            faults = {**pre, **faults}
        if "slow_first_byte" in faults:
            time.sleep(max(0.0, faults["slow_first_byte"]["value"]))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.headers_sent = True
        self.rec["status"] = status
        if is_head or length == 0:
            return
        if content and sha and 200 <= status < 300:
            self.rec["sha256"] = sha
            self.st.transfer_start(sha)
        self._send_body(body, file, length, faults, sha if content else None)

    def _send_body(self, body, file, length, faults, sha):
        drop = faults.get("drop_after", {}).get("value")
        corrupt = faults.get("corrupt_at", {}).get("value")
        if "corrupt_at_file" in faults:
            off = file[1] if file else 0
            c2 = faults["corrupt_at_file"]["value"] - off
            if 0 <= c2 < length:
                corrupt = c2
        bps = faults.get("throttle_bps", {}).get("value")
        stall = faults.get("stall_after", {}).get("value")
        stall_s = faults.get("stall_after", {}).get("seconds", 0)
        limit = length if drop is None else max(0, min(length, drop))
        t0 = time.time()
        sent = 0
        piece = CHUNK
        if bps and bps > 0:
            piece = max(1, min(CHUNK, bps // 20))
        f = open(file[0], "rb") if file else None
        plain = f is not None and drop is None and corrupt is None and stall is None and not (
            bps and bps > 0)
        try:
            if f:
                f.seek(file[1])
            if plain:
                # No fault on the body: the kernel copies it (sendfile), as
                # a CDN's server would, so the Hub's CPU on this machine
                # does not stand in for what a remote one costs nobody here.
                self.wfile.flush()
                while sent < limit:
                    n = self.connection.sendfile(f, file[1] + sent, min(4 << 20, limit - sent))
                    if n == 0:
                        raise IOError("file shrank while serving")
                    sent += n
                    self.rec["bytes_sent"] = sent
                    if sha:
                        self.st.add_bytes(sha, n)
            while sent < limit:
                want = min(piece, limit - sent)
                if stall is not None and sent < stall < sent + want:
                    want = stall - sent
                if stall is not None and sent == stall:
                    time.sleep(stall_s)
                    stall = None
                if f:
                    chunk = f.read(want)
                    if not chunk:
                        raise IOError("file shrank while serving")
                else:
                    chunk = body[sent:sent + want]
                if corrupt is not None and sent <= corrupt < sent + len(chunk):
                    ba = bytearray(chunk)
                    ba[corrupt - sent] ^= 0xFF
                    chunk = bytes(ba)
                self.wfile.write(chunk)
                sent += len(chunk)
                self.rec["bytes_sent"] = sent
                if sha:
                    self.st.add_bytes(sha, len(chunk))
                if bps and bps > 0:
                    delay = t0 + sent / bps - time.time()
                    if delay > 0:
                        time.sleep(delay)
        finally:
            if f:
                f.close()
        if sent < length:  # drop_after: cut the connection mid-body
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _json(self, status, obj, headers=(), ctype="application/json; charset=utf-8"):
        data = json.dumps(obj).encode()
        hdrs = [("Content-Type", ctype)] + list(headers)
        if self.server.role == "hub" and self.st.args.gzip and self._accepts_gzip() and status < 300:
            data = gzip.compress(data)
            hdrs += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self._send(status, hdrs, data)

    def _error(self, status, code, msg, commit=None, extra=()):
        h = []
        if code:
            h.append(("X-Error-Code", code))
        h.append(("X-Error-Message", msg))
        if commit:
            h.append(("X-Repo-Commit", commit))
        h += list(extra)
        self._json(status, {"error": msg}, h)

    def _status_fault(self, f):
        status = f["value"]
        extra = []
        if f.get("retry_after") is not None:
            extra.append(("Retry-After", str(f["retry_after"])))
        if status == 429:
            t = int(f.get("retry_after") or 60)
            extra += [("RateLimit", '"resolvers";r=0;t=%d' % t),
                      ("RateLimit-Policy", '"fixed window";"resolvers";q=3000;w=300')]
        msg = f.get("message") or {429: "Too Many Requests (fakehub fault)", 503: "Service Unavailable (fakehub fault)",
                                   500: "Internal Error (fakehub fault)"}.get(status, "fakehub fault %d" % status)
        self._error(status, f.get("error_code"), msg, extra=extra)

    # ---- CDN host
    def _s3_error(self, status, code, msg, close=False):
        if close:
            self.close_connection = True
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>\n"
                % (code, msg)).encode()
        self._send(status, [("Content-Type", "application/xml")], body)

    def _stream_body(self, dst):
        """Stream the request body into file dst, hashing. -> (n, sha256hex, md5hex) or None (connection broke;
        dst removed). Content-Length or (with --cdn-accept-chunked) chunked; the caller checked the size bound."""
        self._pending = False
        sha, md5, n = hashlib.sha256(), hashlib.md5(), 0
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        ok = False
        try:
            with open(dst, "wb") as f:
                def put(b):
                    nonlocal n
                    sha.update(b)
                    md5.update(b)
                    f.write(b)
                    n += len(b)
                    self.rec["bytes_received"] = n
                if chunked:
                    while True:
                        line = self.rfile.readline(1024)
                        if not line:
                            return None
                        k = int(line.split(b";")[0].strip() or b"0", 16)
                        if k == 0:
                            while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        if n + k > self.st.max_put:
                            return None
                        while k > 0:
                            b = self.rfile.read(min(CHUNK, k))
                            if not b:
                                return None
                            put(b)
                            k -= len(b)
                        self.rfile.readline(16)
                else:
                    left = int(self.headers.get("Content-Length"))
                    while left > 0:
                        b = self.rfile.read(min(1 << 20, left))
                        if not b:
                            return None
                        put(b)
                        left -= len(b)
            ok = True
            return n, sha.hexdigest(), md5.hexdigest()
        except ValueError:
            return None
        finally:
            if not ok:
                self.close_connection = True
                self.rec["aborted"] = True
                try:
                    os.unlink(dst)
                except OSError:
                    pass

    def _tmpname(self):
        return self.st.store_path("tmp", "%d.%s" % (os.getpid(), os.urandom(8).hex()))

    def _s3(self):
        st = self.st
        m = re.fullmatch(r"/s3/([0-9a-f]{64})(?:/part/([0-9]{1,6})|/(complete))?", self.raw)
        if not m:
            return self._s3_error(404, "NoSuchKey", "The specified key does not exist.")
        oid, part, complete = m.group(1), m.group(2), m.group(3)
        want = "POST" if complete else "PUT"
        if self.command != want:
            return self._send(405, [("Content-Type", "application/xml"), ("Allow", want)],
                              b"<Error><Code>MethodNotAllowed</Code></Error>\n")
        params = {k: v[0] for k, v in self.q.items() if v}
        exp, sig = params.get("exp", ""), params.get("sig", "")
        ok = exp.isdigit() and hmac.compare_digest(st.sign_up(self.raw, params), sig)
        if not ok or int(exp) < time.time():
            return self._s3_error(403, "AccessDenied", "Request has expired" if ok else "Signature does not match")
        if st.args.cdn_reject_auth and self.headers.get("Authorization") is not None:
            return self._s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
        size = int(params.get("size", "0"))
        if complete:
            return self._s3_complete(oid, size, params)
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te and not st.args.cdn_accept_chunked:
            return self._s3_error(501, "NotImplemented",
                                  "A header you provided implies functionality that is not implemented", close=True)
        cl = self.headers.get("Content-Length")
        if "chunked" not in te:
            if cl is None or not cl.strip().isdigit():
                return self._s3_error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.",
                                      close=True)
            if int(cl) > st.max_put:
                return self._s3_error(413, "EntityTooLarge",
                                      "Your proposed upload exceeds the maximum allowed size", close=True)
        tmp = self._tmpname()
        got = self._stream_body(tmp)
        if got is None:
            return  # the client went away mid-body (or a chunked body was too large): no response
        n, sha, md5 = got
        etag = '"%s"' % md5
        if part:
            pn, nparts = int(part), int(params.get("parts", "0"))
            if not 1 <= pn <= nparts:
                os.unlink(tmp)
                return self._s3_error(400, "InvalidArgument", "Part number must be between 1 and %d" % nparts)
            d = st.store_path("parts", "%s.%s" % (oid, params.get("upload", "x")))
            os.makedirs(d, exist_ok=True)
            os.replace(tmp, os.path.join(d, str(pn)))
            with open(os.path.join(d, "%d.etag" % pn), "w") as f:
                f.write(md5)
            return self._send(200, [("ETag", etag)])
        if n != size:
            os.unlink(tmp)
            return self._s3_error(400, "IncompleteBody",
                                  "Received %d bytes but the signed URL is for %d bytes" % (n, size))
        if sha != oid:
            os.unlink(tmp)
            return self._s3_error(400, "BadDigest", "The sha256 of the body (%s) does not match the oid %s" % (sha, oid))
        os.replace(tmp, st.store_path("objects", oid))
        st.count_upload(oid)
        return self._send(200, [("ETag", etag)])

    def _s3_complete(self, oid, size, params):
        st = self.st
        nparts = int(params.get("parts", "0"))
        d = st.store_path("parts", "%s.%s" % (oid, params.get("upload", "x")))

        def bad(msg):
            return self._json(400, {"error": msg, "message": msg})
        try:
            obj = json.loads(self._body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return bad("completion body is not JSON")
        if not isinstance(obj, dict) or not isinstance(obj.get("parts"), list):
            return bad("completion body must be {\"oid\", \"parts\": [...]}")
        if obj.get("oid") != oid:
            return bad("oid %r does not match the upload %s" % (obj.get("oid"), oid))
        seen = {}
        for p in obj["parts"]:
            if not isinstance(p, dict) or type(p.get("partNumber")) is not int or not isinstance(p.get("etag"), str):
                return bad("each part must be {\"partNumber\": int, \"etag\": str}")
            if p["partNumber"] in seen:
                return bad("duplicate partNumber %d" % p["partNumber"])
            seen[p["partNumber"]] = p["etag"]
        if sorted(seen) != list(range(1, nparts + 1)):
            return bad("expected parts 1..%d, got %s" % (nparts, sorted(seen)))
        for pn, etag in seen.items():
            try:
                with open(os.path.join(d, "%d.etag" % pn)) as f:
                    want = f.read().strip()
            except OSError:
                return bad("part %d was not uploaded" % pn)
            if etag.strip().removeprefix("W/").strip('"').lower() != want:
                return bad("etag of part %d does not match (got %s, want \"%s\")" % (pn, etag, want))
        tmp = self._tmpname()
        h, n = hashlib.sha256(), 0
        with open(tmp, "wb") as out:
            for pn in range(1, nparts + 1):
                with open(os.path.join(d, str(pn)), "rb") as f:
                    while True:
                        b = f.read(1 << 20)
                        if not b:
                            break
                        h.update(b)
                        out.write(b)
                        n += len(b)
        if n != size or h.hexdigest() != oid:
            os.unlink(tmp)
            return bad("assembled object has %d bytes, sha256 %s; expected %d bytes, sha256 %s"
                       % (n, h.hexdigest(), size, oid))
        os.replace(tmp, st.store_path("objects", oid))
        shutil.rmtree(d, ignore_errors=True)
        st.count_upload(oid)
        return self._json(200, {"success": True, "oid": oid, "size": size})

    def _cdn(self):
        if self.raw.startswith("/s3/"):
            return self._s3()
        if self.command not in ("GET", "HEAD"):
            return self._send(405, [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")], b"method not allowed\n")
        m = re.fullmatch(r"/cdn/([0-9a-f]{64})", self.raw)
        if not m:
            return self._send(404, [("Content-Type", "text/plain")], b"not found\n")
        sha = m.group(1)
        exp = (self.q.get("exp") or [""])[0]
        sig = (self.q.get("sig") or [""])[0]
        ok = exp.isdigit() and hmac.compare_digest(self.st.sign(sha, int(exp)), sig)
        with self.st.lock:
            gone = sig in self.st.expired
        if not ok or int(exp) < time.time() or gone:
            why = "Request has expired" if ok else "Signature does not match"
            body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                    "<Message>%s</Message></Error>\n" % why).encode()
            return self._send(403, [("Content-Type", "application/xml")], body)
        if self.st.args.cdn_reject_auth and self.headers.get("Authorization") is not None:
            body = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>"
                    b"<Message>Only one auth mechanism allowed</Message></Error>\n")
            return self._send(400, [("Content-Type", "application/xml")], body)
        path = self.st.repos.find_sha(sha)
        if not path and os.path.isfile(self.st.store_path("objects", sha)):
            path = self.st.store_path("objects", sha)  # uploaded, not committed yet
            info = {"size": os.path.getsize(path)}
        elif not path:
            return self._send(404, [("Content-Type", "text/plain")], b"no such object\n")
        else:
            info = self.st.repos.file_info(path)
        cdn_etag = '"%s"' % hashlib.sha256(b"cdn-etag:" + sha.encode()).hexdigest()
        hdrs = [("Content-Type", "application/octet-stream"), ("ETag", cdn_etag),
                ("Last-Modified", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(os.path.getmtime(path)))),
                ("Cache-Control", "public, max-age=604800, immutable")]
        self._serve_file(path, info["size"], hdrs, sha)

    def _serve_file(self, path, size, hdrs, sha, data=None):
        """200/206/416 for a file (or an in-memory data blob), with Accept-Ranges; the content
        faults (State.CONTENT_KINDS) are applied here."""
        hdrs = list(hdrs) + [("Accept-Ranges", "bytes")]
        if "_loop" in self.q:
            return self._redirect_self()  # a redirect loop, once entered, never ends
        cf = self.st.take_content(self.server.role, self.command, self.raw, self.headers.get("Range") is not None)
        pre = None
        if cf:
            self.rec["fault"] = ",".join(sorted(cf))
        if "redirect_loop" in cf:
            return self._redirect_self()
        if "short_body" in cf or "long_body" in cf:
            # The object served is shorter or longer than the file (and X-Linked-Size): a
            # well-formed response whose Content-Length and Content-Range agree with it.
            if data is None:
                with open(path, "rb") as f:
                    data = f.read()
            if "short_body" in cf:
                data = data[:max(0, len(data) - max(0, cf["short_body"]["value"]))]
            if "long_body" in cf:
                data = data + b"\0" * max(0, cf["long_body"]["value"])
            size = len(data)
        if "expire_after" in cf and self.server.role == "cdn":
            # Cut after N bytes, and the URL this transfer used is expired from now on.
            with self.st.lock:
                self.st.expired.add((self.q.get("sig") or [""])[0])
            pre = {"drop_after": {"value": cf["expire_after"]["value"]}}
        rng = parse_range(self.headers.get("Range"), size)
        if "ignore_range" in cf:
            rng = None  # a 200 with the whole file, as a server that knows no Range
        if rng == "unsatisfiable":
            return self._send(416, hdrs + [("Content-Range", "bytes */%d" % size)], b"")
        start, end = (0, size - 1) if rng is None else rng
        if rng is not None and "wrong_content_range" in cf:
            # Another range than the one asked for: its Content-Range and body agree.
            start = min(max(0, start + cf["wrong_content_range"]["value"]), end)
        n = max(0, end - start + 1)
        status = 200
        if rng is not None:
            status = 206
            hdrs.append(("Content-Range", "bytes %d-%d/%d" % (start, end, size)))
        if data is not None:
            return self._send(status, hdrs, data[start:start + n], sha=sha, content=True, pre=pre)
        self._send(status, hdrs, file=(path, start, n), sha=sha, content=True, pre=pre)

    def _redirect_self(self):
        """302 to this same URL (marked _loop=1, which redirects to itself again, forever)."""
        base = self.st.cdn_url if self.server.role == "cdn" else self.st.hub_url
        q = self.query if "_loop" in self.q else (self.query + "&" if self.query else "") + "_loop=1"
        self.rec["fault"] = "redirect_loop"
        self._send(302, [("Location", "%s%s?%s" % (base, self.raw, q))], b"")

    # ---- hub host
    def _hub(self, body):
        segs = self.raw.split("/")[1:]
        if self.raw == "/":
            return self._send(200, [("Content-Type", "text/plain")], b"fakehub\n")
        if segs[0] == "api":
            if len(segs) >= 2 and segs[1] == "resolve-cache":
                return self._resolve_cache(segs[2:])
            if len(segs) == 2 and segs[1] == "whoami-v2":
                return self._whoami()
            if len(segs) == 2 and segs[1] == "validate-yaml":
                return self._validate_yaml()
            if len(segs) == 3 and segs[1] == "repos" and segs[2] == "create":
                return self._create_repo(body)
            if len(segs) >= 3 and segs[1] == "lfs-verify":
                return self._lfs_verify_api(segs[2:], body)
            if len(segs) >= 3 and segs[1] in TYPES:
                return self._api(segs[1], segs[2:], body)
            return self._error(404, None, "Sorry, we can't find the page you are looking for.")
        m = re.fullmatch(r"/(?:(datasets|spaces)/)?([^/]+(?:/[^/]+)?)\.git/info/lfs/objects/(batch|verify)", self.raw)
        if m:
            return self._lfs_route(m.group(1) or "models", m.group(2), m.group(3), body)
        typ = "models"
        if segs[0] in ("datasets", "spaces") and len(segs) > 3:
            typ, segs = segs[0], segs[1:]
        pick = self._pick_repo(typ, segs, FILE_MARKERS)
        if not pick:
            return self._error(404, None, "Sorry, we can't find the page you are looking for.")
        repo_parts, marker, tail, rdir = pick
        return self._file_route(typ, repo_parts, rdir, marker, tail)

    def _pick_repo(self, typ, segs, markers):
        """Find repo id (1 or 2 segments) followed by a marker. -> (parts, marker, tail, rdir|None)."""
        cands = []
        for i in (2, 1):
            if len(segs) > i and urllib.parse.unquote(segs[i]) in markers:
                parts = [urllib.parse.unquote(s) for s in segs[:i]]
                cands.append((parts, urllib.parse.unquote(segs[i]), segs[i + 1:]))
        for parts, marker, tail in cands:
            rdir = self.st.repos.repo_dir(typ, parts)
            if rdir:
                return parts, marker, tail, rdir
        if cands:
            parts, marker, tail = cands[0]
            return parts, marker, tail, None
        return None

    def _split_rev(self, rdir, tail):
        """Raw tail segments -> (rev, path). Handles refs%2Fpr%2F1, refs/pr/1, branch names with '/'."""
        dec = [urllib.parse.unquote(s) for s in tail]
        if not dec:
            return "", ""
        if "/" in dec[0]:
            return dec[0], "/".join(dec[1:])
        if dec[0] == "refs" and len(dec) >= 3:
            return "/".join(dec[:3]), "/".join(dec[3:])
        known = self.st.repos.known_refs(rdir) if rdir else set()
        for k in range(len(dec), 1, -1):
            cand = "/".join(dec[:k])
            if cand in known:
                return cand, "/".join(dec[k:])
        return dec[0], "/".join(dec[1:])

    def _hidden(self, rdir, files):
        """A private repo (repo.json "private": true) answers every read without a valid Authorization as an
        unknown repo: 401 RepoNotFound. A gated one ("gated": "auto"|"manual") does so for its files only
        (files=True): 401 GatedRepo; its API stays open, as on the Hub. Answers and returns True if refused."""
        if not rdir or self.headers.get("Authorization") is not None:
            return False  # a wrong token was refused already (_dispatch)
        st = self.st.repos.settings(rdir)
        if st.get("private") is True:
            self._error(401, "RepoNotFound", "Repository not found")
            return True
        if files and st.get("gated") not in (None, False):
            self._error(401, "GatedRepo", "Access to this repository is restricted. You must be "
                        "authenticated to access it.")
            return True
        return False

    def _file_route(self, typ, parts, rdir, marker, tail):
        if self.command not in ("GET", "HEAD"):
            return self._error(405, None, "Method not allowed")
        repo_id = "/".join(parts)
        if not rdir:
            return self._error(401, "RepoNotFound", "Repository not found")
        if self._hidden(rdir, True):
            return
        rev, path = self._split_rev(rdir, tail)
        commit = self.st.repos.resolve_rev(rdir, rev)
        if not commit:
            return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        hit = self.st.repos.lookup(os.path.join(rdir, commit), path)
        if not hit or hit[0] != "file":
            return self._error(404, "EntryNotFound", "Entry not found", commit=commit)
        fpath = hit[1]
        info = self.st.repos.file_info(fpath)
        ratelimit = [("RateLimit", '"resolvers";r=2999;t=172'),
                     ("RateLimit-Policy", '"fixed window";"resolvers";q=3000;w=300')]
        if marker == "raw":
            hdrs = [("Content-Type", "text/plain; charset=utf-8"), ("ETag", '"%s"' % info["oid"]),
                    ("X-Repo-Commit", commit)]
            if info["lfs"]:
                return self._serve_file(None, len(info["pointer"]), hdrs, None, data=info["pointer"])
            return self._serve_file(fpath, info["size"], hdrs, None)
        api_t = typ
        if info["lfs"]:
            url = self.st.cdn_link(info["sha256"])
            body = ("Found. Redirecting to %s" % url).encode()
            link = ('<%s/api/%s/%s/xet-read-token/%s>; rel="xet-auth", '
                    '<http://127.0.0.1:1/v1/reconstructions/%s>; rel="xet-reconstruction-info"'
                    % (self.st.hub_url, api_t, repo_id, commit, info["xet_hash"]))
            hdrs = [("Content-Type", "text/plain; charset=utf-8"), ("Location", url),
                    ("X-Repo-Commit", commit), ("X-Linked-Etag", '"%s"' % info["sha256"]),
                    ("X-Linked-Size", str(info["size"])), ("ETag", '"%s"' % info["pointer_oid"]),
                    ("X-Xet-Hash", info["xet_hash"]), ("Link", link),
                    ("Vary", "Origin, Accept")] + ratelimit
            return self._send(302, hdrs, body)
        orig = "/" + ("" if typ == "models" else typ + "/") + repo_id + "/resolve/" + rev + "/" + path
        loc = "/api/resolve-cache/%s/%s/%s/%s?%s=&etag=%s" % (
            typ, urllib.parse.quote(repo_id), commit, urllib.parse.quote(path),
            urllib.parse.quote(orig, safe=""), urllib.parse.quote('"%s"' % info["git_sha1"], safe=""))
        body = ("Temporary Redirect. Redirecting to %s" % loc).encode()
        hdrs = [("Content-Type", "text/plain; charset=utf-8"), ("Location", loc),
                ("Vary", "Origin, Accept")] + ratelimit
        if self.st.args.redirect_commit_header:
            hdrs.append(("X-Repo-Commit", commit))
        return self._send(307, hdrs, body)

    def _resolve_cache(self, segs):
        if self.command not in ("GET", "HEAD"):
            return self._error(405, None, "Method not allowed")
        if not segs or segs[0] not in TYPES:
            return self._error(404, None, "Sorry, we can't find the page you are looking for.")
        typ, rest = segs[0], segs[1:]
        pick = None
        for i in (2, 1):
            if len(rest) > i + 1 and HEX40.match(rest[i]):
                parts = [urllib.parse.unquote(s) for s in rest[:i]]
                rdir = self.st.repos.repo_dir(typ, parts)
                if rdir:
                    pick = (parts, rdir, rest[i], rest[i + 1:])
                    break
        if not pick:
            return self._error(401, "RepoNotFound", "Repository not found")
        parts, rdir, commit, ptail = pick
        if self._hidden(rdir, True):
            return
        if commit not in self.st.repos.commits(rdir):
            return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % commit)
        path = "/".join(urllib.parse.unquote(s) for s in ptail)
        hit = self.st.repos.lookup(os.path.join(rdir, commit), path)
        if not hit or hit[0] != "file":
            return self._error(404, "EntryNotFound", "Entry not found", commit=commit)
        info = self.st.repos.file_info(hit[1])
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype == "application/json":
            ctype += "; charset=utf-8"
        hdrs = [("Content-Type", ctype), ("ETag", '"%s"' % info["git_sha1"]), ("X-Repo-Commit", commit)]
        if (self.st.args.gzip_files and not self.headers.get("Range") and self._accepts_gzip()
                and os.path.splitext(path)[1].lower() in TEXT_EXTS):
            with open(hit[1], "rb") as f:
                data = gzip.compress(f.read())
            return self._send(200, hdrs + [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                              data, sha=info["sha256"], content=True)
        self._serve_file(hit[1], info["size"], hdrs, info["sha256"])

    # ---- API
    def _qlist(self, name):
        return self.q.get(name, []) + self.q.get(name + "[]", [])

    def _entry(self, cdir, kind, rel, apath, commit, expand):
        if kind == "dir":
            e = {"type": "directory", "oid": self.st.repos.dir_oid(apath), "size": 0, "path": rel}
        else:
            info = self.st.repos.file_info(apath)
            e = {"type": "file", "oid": info["oid"], "size": info["size"], "path": rel}
            if info["lfs"]:
                e["lfs"] = {"oid": info["sha256"], "size": info["size"], "pointerSize": len(info["pointer"])}
                e["xetHash"] = info["xet_hash"]
        if expand:
            e["lastCommit"] = {"id": commit, "title": "Upload %s" % rel,
                               "date": iso(os.path.getmtime(cdir))}
            if kind != "dir":
                e["securityFileStatus"] = {"status": "safe", "avScan": {"status": "safe"},
                                           "pickleImportScan": {"status": "unscanned"}}
        return e

    def _api(self, typ, rest, body):
        pick = self._pick_repo(typ, rest, API_MARKERS)
        if pick:
            parts, marker, tail, rdir = pick
        else:
            if len(rest) > 2:
                return self._error(404, None, "Sorry, we can't find the page you are looking for.")
            parts = [urllib.parse.unquote(s) for s in rest]
            marker, tail = None, []
            rdir = self.st.repos.repo_dir(typ, parts)
        repo_id = "/".join(parts)
        if marker in ("preupload", "commit", "branch", "tag"):
            return self._write_api(typ, parts, marker, tail, rdir, body)
        if not rdir:
            return self._error(401, "RepoNotFound", "Repository not found")
        if self._hidden(rdir, marker == "xet-read-token"):
            return
        if marker == "xet-write-token":
            return self._error(501, None, "fakehub does not implement Xet uploads (xet-write-token): "
                                          "use the LFS batch API (HF_HUB_DISABLE_XET=1)")
        want = "POST" if marker == "paths-info" else "GET"
        if self.command != want and not (want == "GET" and self.command == "HEAD"):
            return self._error(405, None, "Method not allowed")
        if marker == "refs":
            return self._refs(rdir)
        if marker == "commits":
            rev = "/".join(urllib.parse.unquote(s) for s in tail) or "main"
            return self._commits(rdir, rev)
        if marker in (None, "revision"):
            rev = "/".join(urllib.parse.unquote(s) for s in tail) if marker else "main"
            return self._repo_info(typ, rdir, repo_id, rev)
        if marker == "tree":
            rev, path = self._split_rev(rdir, tail)
        else:
            rev, path = "/".join(urllib.parse.unquote(s) for s in tail), ""
        commit = self.st.repos.resolve_rev(rdir, rev)
        if not commit:
            return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        cdir = os.path.join(rdir, commit)
        if marker == "xet-read-token":
            return self._json(200, {"accessToken": "xet_fake_token", "exp": int(time.time()) + 3600,
                                    "casUrl": "http://127.0.0.1:1"},
                              [("X-Xet-Access-Token", "xet_fake_token"), ("X-Xet-Cas-Url", "http://127.0.0.1:1")])
        if marker == "tree":
            return self._tree(cdir, commit, path)
        return self._paths_info(cdir, commit, body)

    def _commits(self, rdir, rev):
        """GET /api/{t}s/{repo}/commits/{rev}: the history from rev back, newest first."""
        commit = self.st.repos.resolve_rev(rdir, rev)
        if not commit:
            return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        out, seen = [], set()
        while commit and commit not in seen and len(out) < 1000:
            seen.add(commit)
            cdir = os.path.join(rdir, commit)
            meta = self.st.repos.commit_meta(cdir)
            try:
                when = os.path.getmtime(cdir)
            except OSError:
                when = time.time()
            title = meta.get("summary") or "initial commit"
            out.append({"id": commit, "title": title, "message": meta.get("description", ""),
                        "authors": [{"user": "fakehub", "avatar": None}],
                        "date": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))})
            parent = meta.get("parent")
            commit = parent.lower() if isinstance(parent, str) and HEX40.match(parent.lower()) else None
        return self._json(200, out)

    def _create_ref(self, rdir, marker, arg, body):
        """POST .../branch/{name} {"startingPoint"?}, POST .../tag/{rev} {"tag","message"?}."""
        obj = self._load_json(body) if body.strip() else {}
        if obj is None:
            return
        with self.st.commit_lock:
            return self._create_ref_locked(rdir, marker, arg, obj)

    def _create_ref_locked(self, rdir, marker, arg, obj):
        refs = self.st.repos.refs(rdir)
        if marker == "branch":
            name, start = arg, obj.get("startingPoint") or "main"
            key = name
            if not name or name.startswith("refs/") or name in refs or ("refs/heads/" + name) in refs:
                return self._error(409, None, "Reference already exists: %s" % name)
        else:
            name, start = obj.get("tag"), arg
            if not isinstance(name, str) or not name:
                return self._error(400, None, "Bad request: \"tag\" must be a string")
            key = "refs/tags/" + name
            if key in refs:
                return self._error(409, None, "Tag already exists: %s" % name)
        commit = self.st.repos.resolve_rev(rdir, start)
        if not commit:
            return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % start)
        set_refs(rdir, {key: commit})
        return self._json(200, {})

    def _delete_ref(self, rdir, marker, name):
        """DELETE .../branch/{name}, DELETE .../tag/{name}: 200 {}, 404 if there is no such ref."""
        with self.st.commit_lock:
            refs = self.st.repos.refs(rdir)
            keys = ["refs/tags/" + name] if marker == "tag" else [name, "refs/heads/" + name]
            found = [k for k in keys if k in refs]
            if not name or not found:
                return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % name)
            set_refs(rdir, {}, found)
        return self._json(200, {})

    def _refs(self, rdir):
        out = {"branches": [], "converts": [], "tags": []}
        prs = []
        for name, commit in sorted(self.st.repos.refs(rdir).items()):
            if name.startswith("refs/pr/"):
                prs.append({"name": name, "ref": name, "targetCommit": commit})
            elif name.startswith("refs/convert/"):
                out["converts"].append({"name": name[len("refs/convert/"):], "ref": name, "targetCommit": commit})
            elif name.startswith("refs/tags/"):
                out["tags"].append({"name": name[len("refs/tags/"):], "ref": name, "targetCommit": commit})
            else:
                b = name[len("refs/heads/"):] if name.startswith("refs/heads/") else name
                out["branches"].append({"name": b, "ref": "refs/heads/" + b, "targetCommit": commit})
        if truthy((self.q.get("include_prs") or ["0"])[0]):
            out["pullRequests"] = prs
        return self._json(200, out)

    def _repo_info(self, typ, rdir, repo_id, rev):
        commit = self.st.repos.resolve_rev(rdir, rev)
        if not commit:
            return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        cdir = os.path.join(rdir, commit)
        blobs = truthy((self.q.get("blobs") or ["false"])[0])
        sibs, used, has_gguf = [], 0, False
        for kind, rel, apath in self.st.repos.walk(cdir, "", True):
            if kind != "file":
                continue
            s = {"rfilename": rel}
            if rel.lower().endswith(".gguf"):
                has_gguf = True
            if blobs:
                info = self.st.repos.file_info(apath)
                s["size"] = info["size"]
                s["blobId"] = info["oid"]
                if info["lfs"]:
                    s["lfs"] = {"sha256": info["sha256"], "size": info["size"],
                                "pointerSize": len(info["pointer"])}
                used += info["size"]
            sibs.append(s)
        info = {
            "_id": hashlib.sha1(("%s/%s" % (typ, repo_id)).encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": commit,
            "lastModified": iso(os.path.getmtime(cdir)),
            "createdAt": iso(os.path.getctime(rdir)),
            "private": self.st.repos.settings(rdir).get("private") is True,
            "gated": self.st.repos.settings(rdir).get("gated") or False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": (["gguf"] if has_gguf else []) + ["region:us"],
            "siblings": sibs,
            "xetEnabled": True,
        }
        if typ == "models":
            info["modelId"] = repo_id
            if has_gguf:
                info["library_name"] = "gguf"
        if typ == "spaces":
            info["sdk"] = "static"
        if blobs:
            info["usedStorage"] = used
        expand = self._qlist("expand")
        if expand:
            info = {k: v for k, v in info.items() if k in ("_id", "id") or k in expand}
        return self._json(200, info)

    def _tree(self, cdir, commit, path):
        recursive = truthy((self.q.get("recursive") or ["false"])[0])
        expand = truthy((self.q.get("expand") or ["false"])[0])
        path = path.strip("/")
        if path:
            hit = self.st.repos.lookup(cdir, path)
            if not hit or hit[0] != "dir":
                return self._error(404, "EntryNotFound", "%s does not exist on \"%s\"" % (path, commit),
                                   commit=commit)
        elif split_path(path) is None:
            return self._error(400, None, "bad path")
        entries = self.st.repos.walk(cdir, path, recursive)
        size = self.st.page_size
        lim = (self.q.get("limit") or [None])[0]
        if lim and lim.isdigit() and int(lim) > 0:
            size = min(int(lim), 10000)
        off = 0
        cur = (self.q.get("cursor") or [None])[0]
        if cur:
            try:
                off = int(json.loads(base64.urlsafe_b64decode(cur + "=" * (-len(cur) % 4)))["o"])
                if off < 0:
                    raise ValueError
            except Exception:
                return self._error(400, None, "Invalid cursor")
        page = entries[off:off + size]
        out = [self._entry(cdir, k, rel, ap, commit, expand) for k, rel, ap in page]
        hdrs = []
        if off + size < len(entries):
            nxt = base64.urlsafe_b64encode(json.dumps({"o": off + size, "c": commit[:8]}).encode()).decode().rstrip("=")
            keep = [kv for kv in self.query.split("&") if kv and not kv.startswith("cursor=")]
            keep.append("cursor=" + nxt)
            hdrs.append(("Link", '<%s%s?%s>; rel="next"' % (self.st.hub_url, self.raw, "&".join(keep))))
        return self._json(200, out, hdrs)

    def _paths_info(self, cdir, commit, body):
        ctype = (self.headers.get("Content-Type") or "").lower()
        try:
            if "json" in ctype:
                obj = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(obj, dict):
                    raise ValueError("body must be an object")
                paths = obj.get("paths", [])
                if isinstance(paths, str):
                    paths = [paths]
                expand = obj.get("expand", False)
                expand = expand if isinstance(expand, bool) else truthy(expand)
            else:
                form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
                paths = form.get("paths", []) + form.get("paths[]", [])
                expand = truthy((form.get("expand") or ["false"])[0])
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise ValueError("paths must be a list of strings")
        except (ValueError, UnicodeDecodeError) as e:
            return self._error(400, None, "Bad request: %s" % e)
        out, seen = [], set()
        for p in paths:
            p = p.strip("/")
            if p in seen or not p:
                continue
            seen.add(p)
            hit = self.st.repos.lookup(cdir, p)
            if hit:
                out.append(self._entry(cdir, hit[0], p, hit[1], commit, expand))
        return self._json(200, out)

    # ---- uploads (hub host)
    def _repo_url(self, typ, repo_id):
        return "%s/%s%s" % (self.st.hub_url, "" if typ == "models" else typ + "/", repo_id)

    def _load_json(self, body):
        """-> dict, or None after answering 400."""
        try:
            obj = json.loads(body.decode("utf-8")) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            obj = None
        if not isinstance(obj, dict):
            self._error(400, None, "Bad request: the body must be a JSON object")
            return None
        return obj

    @staticmethod
    def _lfs_patterns(text):
        """.gitattributes text -> [(pattern, is_lfs)]."""
        out = []
        for line in (text or "").splitlines():
            toks = line.split()
            if not toks or toks[0].startswith("#"):
                continue
            for t in toks[1:]:
                if t == "filter=lfs":
                    out.append((toks[0], True))
                elif t in ("-filter", "!filter") or (t.startswith("filter=") and t != "filter=lfs"):
                    out.append((toks[0], False))
        return out

    @staticmethod
    def _attr_lfs(path, patterns):
        res = None
        for pat, val in patterns:
            p = pat.lstrip("/")
            if fnmatch.fnmatchcase(path if "/" in pat else path.rsplit("/", 1)[-1], p):
                res = val
        return res

    def _upload_mode(self, path, size, sample, patterns):
        if size == 0:
            return "regular"
        attr = self._attr_lfs(path, patterns)
        if attr is not None:
            return "lfs" if attr else "regular"
        if size >= LFS_MIN_SIZE or os.path.splitext(path)[1].lower() in LFS_EXTS:
            return "lfs"
        if b"\0" in sample:
            return "lfs"
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as e:
            # the sample is a 512-byte prefix: a multibyte character cut at the end is still text
            if not (e.reason == "unexpected end of data" and e.start >= len(sample) - 3):
                return "lfs"
        return "regular"

    def _write_api(self, typ, parts, marker, tail, rdir, body):
        if self.command == "DELETE" and marker in ("branch", "tag"):
            if not self._need_auth():
                return
            if not rdir:
                return self._error(404, "RepoNotFound", "Repository not found")
            return self._delete_ref(rdir, marker, "/".join(urllib.parse.unquote(s) for s in tail))
        if self.command != "POST":
            return self._error(405, None, "Method not allowed")
        if not self._need_auth():
            return
        if not rdir:
            return self._error(404, "RepoNotFound", "Repository not found")
        rev = "/".join(urllib.parse.unquote(s) for s in tail) or "main"
        if marker in ("branch", "tag"):
            return self._create_ref(rdir, marker, rev, body)
        if marker == "preupload":
            return self._preupload(rdir, rev, body)
        return self._commit(typ, "/".join(parts), rdir, rev, body)

    def _preupload(self, rdir, rev, body):
        obj = self._load_json(body)
        if obj is None:
            return
        files = obj.get("files")
        if not isinstance(files, list) or not files:
            return self._error(400, None, "Bad request: \"files\" must be a non-empty array")
        commit = self.st.repos.resolve_rev(rdir, rev)
        if not commit:
            return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        cdir = os.path.join(rdir, commit)
        attrs = ""
        ga = self.st.repos.lookup(cdir, ".gitattributes")
        if ga and ga[0] == "file":
            with open(ga[1], "rb") as f:
                attrs = f.read(1 << 20).decode("utf-8", "replace")
        if isinstance(obj.get("gitAttributes"), str):
            attrs += "\n" + obj["gitAttributes"]
        patterns = self._lfs_patterns(attrs)
        out = []
        for f in files:
            if not (isinstance(f, dict) and isinstance(f.get("path"), str) and type(f.get("size")) is int
                    and f["size"] >= 0 and isinstance(f.get("sample", ""), str)):
                return self._error(400, None, "Bad request: each file needs path (string), size (int), sample (base64)")
            path = f["path"].strip("/")
            if not split_path(path):
                return self._error(400, None, "Bad request: invalid path %r" % f["path"])
            try:
                sample = base64.b64decode(f.get("sample", ""), validate=True)
            except ValueError:
                return self._error(400, None, "Bad request: sample of %s is not valid base64" % path)
            e = {"path": f["path"], "uploadMode": self._upload_mode(path, f["size"], sample[:512], patterns),
                 "shouldIgnore": False}
            hit = self.st.repos.lookup(cdir, path)
            if hit and hit[0] == "file":
                info = self.st.repos.file_info(hit[1])
                e["oid"] = info["sha256"] if info["lfs"] else info["git_sha1"]
            out.append(e)
        return self._json(200, {"files": out, "commitOid": commit})

    # -- LFS batch API: /{prefix}{repo}.git/info/lfs/objects/{batch,verify}
    def _lfs_error(self, status, msg, code=None):
        h = [("X-Error-Message", msg)] + ([("X-Error-Code", code)] if code else [])
        return self._json(status, {"message": msg, "error": msg}, h, ctype=LFS_CT)

    def _lfs_route(self, typ, repo_raw, which, body):
        if self.command != "POST":
            return self._error(405, None, "Method not allowed")
        if not self._need_auth():
            return
        parts = [urllib.parse.unquote(x) for x in repo_raw.split("/")]
        rdir = self.st.repos.repo_dir(typ, parts)
        if not rdir:
            return self._lfs_error(404, "Repository not found", "RepoNotFound")
        if which == "verify":
            return self._lfs_verify(body)
        try:
            obj = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            obj = None
        if not isinstance(obj, dict):
            return self._lfs_error(422, "Invalid batch request: body must be a JSON object")
        op = obj.get("operation")
        if op not in ("upload", "download"):
            return self._lfs_error(422, "Invalid batch request: operation must be upload or download")
        if obj.get("hash_algo") not in (None, "sha256", "sha_256"):
            return self._lfs_error(409, "Unsupported hash algorithm: %r" % obj.get("hash_algo"))
        objects = obj.get("objects")
        if not isinstance(objects, list):
            return self._lfs_error(422, "Invalid batch request: objects must be an array")
        transfers = obj.get("transfers") or ["basic"]
        if not isinstance(transfers, list):
            return self._lfs_error(422, "Invalid batch request: transfers must be an array")
        st = self.st
        mp_ok = "multipart" in transfers
        used_mp = False
        exp_at = iso(time.time() + st.url_expiry)
        verify = {"href": "%s/api/lfs-verify/%s%s" % (st.hub_url, "" if typ == "models" else typ + "/", "/".join(parts)),
                  "header": {"X-Verify": "1"}}
        out = []
        for o in objects:
            oid = o.get("oid") if isinstance(o, dict) else None
            size = o.get("size") if isinstance(o, dict) else None
            e = {"oid": oid, "size": size}
            if not isinstance(oid, str) or not HEX64.match(oid):
                e["error"] = {"code": 422, "message": "Invalid object id (expected 64 lowercase hex sha256): %r" % (oid,)}
                out.append(e)
                continue
            if type(size) is not int or size < 0:
                e["error"] = {"code": 422, "message": "Invalid size: %r" % (size,)}
                out.append(e)
                continue
            e["authenticated"] = True
            have = st.lfs_object(oid)
            have_size = os.path.getsize(have) if have else None
            if op == "download":
                if have is None:
                    e["error"] = {"code": 404, "message": "Object does not exist"}
                else:
                    e["actions"] = {"download": {"href": st.cdn_link(oid), "expires_at": exp_at}}
            elif have is not None and have_size == size:
                pass  # already stored: no actions
            elif have is not None:
                e["error"] = {"code": 422, "message": "Object %s exists with size %d, not %d" % (oid, have_size, size)}
            elif mp_ok and size > st.mp_threshold:
                used_mp = True
                chunk = st.mp_chunk
                k = (size + chunk - 1) // chunk
                uid = os.urandom(8).hex()
                width = max(5, len(str(k)))
                header = {"chunk_size": str(chunk)}
                for i in range(1, k + 1):
                    header[str(i).zfill(width)] = st.up_link("/s3/%s/part/%d" % (oid, i), size=size, parts=k, upload=uid)
                e["actions"] = {"upload": {"href": st.up_link("/s3/%s/complete" % oid, size=size, parts=k, upload=uid,
                                                              chunk=chunk),
                                           "header": header, "expires_at": exp_at},
                                "verify": dict(verify)}
            else:
                e["actions"] = {"upload": {"href": st.up_link("/s3/%s" % oid, size=size), "expires_at": exp_at},
                                "verify": dict(verify)}
            out.append(e)
        return self._json(200, {"transfer": "multipart" if used_mp else "basic", "objects": out,
                                "hash_algo": "sha256"}, ctype=LFS_CT)

    def _lfs_verify(self, body):
        try:
            obj = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("oid"), str) or type(obj.get("size")) is not int:
            return self._lfs_error(422, "verify body must be {\"oid\": str, \"size\": int}")
        have = self.st.lfs_object(obj["oid"])
        if have is None or os.path.getsize(have) != obj["size"]:
            return self._lfs_error(404, "Object %s with size %d does not exist" % (obj["oid"], obj["size"]))
        return self._json(200, {"success": True, "oid": obj["oid"], "size": obj["size"]}, ctype=LFS_CT)

    def _lfs_verify_api(self, segs, body):
        if self.command != "POST":
            return self._error(405, None, "Method not allowed")
        if not self._need_auth():
            return
        typ = "models"
        if segs and segs[0] in ("datasets", "spaces") and len(segs) > 1:
            typ, segs = segs[0], segs[1:]
        if not self.st.repos.repo_dir(typ, [urllib.parse.unquote(s) for s in segs]):
            return self._lfs_error(404, "Repository not found", "RepoNotFound")
        return self._lfs_verify(body)

    # -- commit
    def _parse_commit(self, body):
        """-> (header dict, [op...]); raises ValueError. op: ('file', path, bytes) | ('lfs', path, oid, size)
        | ('del', path) | ('deldir', path)."""
        ctype = (self.headers.get("Content-Type") or "").lower()
        text = body.decode("utf-8")
        ndjson = "ndjson" in ctype or ("json" not in ctype and text.lstrip().startswith('{"key"'))
        items = []
        header = None
        if ndjson:
            for ln in text.split("\n"):
                if not ln.strip():
                    continue
                o = json.loads(ln)
                if not isinstance(o, dict) or not isinstance(o.get("value"), dict):
                    raise ValueError("each NDJSON line must be {\"key\", \"value\": {...}}")
                if o.get("key") == "header":
                    header = o["value"]
                else:
                    items.append((o.get("key"), o["value"]))
        else:
            o = json.loads(text)
            if not isinstance(o, dict):
                raise ValueError("body must be a JSON object")
            header = {k: o[k] for k in ("summary", "description", "parentCommit") if k in o}
            for key, field in (("file", "files"), ("lfsFile", "lfsFiles"), ("deletedFile", "deletedFiles"),
                               ("deletedFolder", "deletedFolders")):
                lst = o.get(field) or []
                if not isinstance(lst, list) or not all(isinstance(x, dict) for x in lst):
                    raise ValueError("%s must be an array of objects" % field)
                items += [(key, x) for x in lst]
        if header is None or "summary" not in header:
            raise ValueError("missing header (summary)")
        if not isinstance(header.get("summary"), str) or not isinstance(header.get("description", ""), str):
            raise ValueError("summary and description must be strings")
        if header.get("parentCommit") is not None and not isinstance(header["parentCommit"], str):
            raise ValueError("parentCommit must be a string")
        ops = []
        for key, v in items:
            path = v.get("path")
            if not isinstance(path, str):
                raise ValueError("%s without a path" % key)
            p = path.strip("/")
            parts = split_path(p)
            if not parts or parts[0] == ".git":
                raise ValueError("invalid path %r" % path)
            if key == "file":
                c = v.get("content")
                if not isinstance(c, str):
                    raise ValueError("file %s without content" % p)
                enc = v.get("encoding", "utf-8")
                if enc == "base64":
                    try:
                        data = base64.b64decode(c, validate=True)
                    except ValueError:
                        raise ValueError("content of %s is not valid base64" % p)
                elif enc in ("utf-8", "utf8", None):
                    data = c.encode("utf-8")
                else:
                    raise ValueError("unknown encoding %r for %s" % (enc, p))
                ops.append(("file", p, data))
            elif key == "lfsFile":
                oid, size = v.get("oid"), v.get("size")
                if v.get("algo", "sha256") != "sha256" or not isinstance(oid, str) or not HEX64.match(oid):
                    raise ValueError("lfsFile %s needs algo sha256 and a 64-hex oid" % p)
                if size is not None and (type(size) is not int or size < 0):
                    raise ValueError("lfsFile %s has an invalid size" % p)
                ops.append(("lfs", p, oid, size))
            elif key == "deletedFile":
                ops.append(("del", p))
            elif key == "deletedFolder":
                ops.append(("deldir", p))
            else:
                raise ValueError("unknown key %r" % (key,))
        return header, ops

    def _branch_key(self, rdir, rev):
        refs = self.st.repos.refs(rdir)
        if rev == "HEAD":
            rev = "main"
        for cand in (rev, "refs/heads/" + rev, rev[len("refs/heads/"):] if rev.startswith("refs/heads/") else None):
            if cand and cand in refs and not cand.startswith(("refs/tags/", "refs/convert/")):
                return cand
        return None

    def _commit(self, typ, repo_id, rdir, rev, body):
        st = self.st
        try:
            header, ops = self._parse_commit(body)
        except (ValueError, UnicodeDecodeError) as e:
            return self._error(400, None, "Bad request: %s" % e)
        for op in ops:
            if op[0] == "file" and len(op[2]) >= LFS_MIN_SIZE:
                return self._error(400, None, "Your push was rejected because it contains files larger than 10 MiB "
                                              "(%s). Please use https://git-lfs.github.com/ to store large files." % op[1])
        create_pr = truthy((self.q.get("create_pr") or ["0"])[0])
        with st.commit_lock:
            key = self._branch_key(rdir, rev)
            if key is None:
                if st.repos.resolve_rev(rdir, rev):
                    return self._error(400, None, "Invalid rev id: %s is not a branch" % rev)
                return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            parent = st.repos.refs(rdir)[key].lower()
            pdir = os.path.join(rdir, parent)
            if not os.path.isdir(pdir):
                return self._error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            pc = (header.get("parentCommit") or "").lower()
            if pc and not (len(pc) >= 4 and parent.startswith(pc)):
                return self._error(412, None, "A commit has happened since. Please refresh and try again. "
                                              "(parentCommit %s, %s is at %s)" % (pc, key, parent))
            srcs = {}
            for op in ops:
                if op[0] != "lfs":
                    continue
                src = st.lfs_object(op[2])
                if src is None:
                    return self._json(422, {"error": "Your push was rejected because an LFS pointer pointed to a file "
                                                     "that does not exist. (%s: %s)" % (op[1], op[2])},
                                      [("X-Error-Message", "LFS object %s does not exist" % op[2])])
                if op[3] is not None and os.path.getsize(src) != op[3]:
                    return self._json(422, {"error": "LFS object %s has size %d, not %d (%s)"
                                                     % (op[2], os.path.getsize(src), op[3], op[1])})
                srcs[op[2]] = src
            cid = hashlib.sha1(parent.encode() + os.urandom(16) + body[:4096]).hexdigest()
            tmp = os.path.join(rdir, ".tmp-commit-" + cid)
            ok = False
            try:
                shutil.copytree(pdir, tmp, copy_function=link_or_copy)
                kinds = dict(st.repos.commit_meta(pdir).get("lfs", {}))
                for op in ops:
                    err = self._apply_op(tmp, op, srcs, kinds)
                    if err:
                        return self._error(*err)
                prune_empty_dirs(tmp)
                present = {rel for k, rel, _ in st.repos.walk(tmp, "", True) if k == "file"}
                kinds = {p: v for p, v in kinds.items() if p in present}
                pr = None
                if create_pr:
                    nums = [int(k[8:]) for k in st.repos.refs(rdir) if re.fullmatch(r"refs/pr/\d+", k)]
                    pr = max(nums + [0]) + 1
                    out_ref = "refs/pr/%d" % pr
                else:
                    out_ref = key
                meta = {"parent": parent, "ref": out_ref, "summary": header.get("summary", ""),
                        "description": header.get("description", ""), "author": WHOAMI_NAME,
                        "date": iso(time.time()), "lfs": kinds}
                finish_commit(rdir, tmp, cid, meta)
                set_refs(rdir, {out_ref: cid})
                ok = True
            finally:
                if not ok:
                    shutil.rmtree(tmp, ignore_errors=True)
        url = self._repo_url(typ, repo_id)
        st.add_commit({"repo": repo_id, "type": typ, "rev": rev, "ref": out_ref, "commitOid": cid,
                       "parentCommit": parent, "summary": header.get("summary", ""), "pr": pr,
                       "files": [op[1] for op in ops if op[0] == "file"],
                       "lfsFiles": [op[2] for op in ops if op[0] == "lfs"],
                       "lfsPaths": [op[1] for op in ops if op[0] == "lfs"],
                       "deletedFiles": [op[1] for op in ops if op[0] == "del"],
                       "deletedFolders": [op[1] for op in ops if op[0] == "deldir"]})
        res = {"success": True, "commitOid": cid, "commitUrl": "%s/commit/%s" % (url, cid), "hookOutput": ""}
        if pr is not None:
            res["pullRequestUrl"] = "%s/discussions/%d" % (url, pr)
        return self._json(200, res)

    def _apply_op(self, tmp, op, srcs, kinds):
        """Apply one op to the commit being built. -> None, or (status, code, message) on error."""
        kind, path = op[0], op[1]
        dst = os.path.join(tmp, *path.split("/"))
        if kind == "del":
            if not os.path.isfile(dst):
                return 404, "EntryNotFound", "Cannot delete %s: file not found" % path
            os.unlink(dst)
            kinds.pop(path, None)
            return None
        if kind == "deldir":
            if not os.path.isdir(dst):
                return 404, "EntryNotFound", "Cannot delete folder %s: not found" % path
            shutil.rmtree(dst)
            for p in [p for p in kinds if p.startswith(path + "/")]:
                del kinds[p]
            return None
        if os.path.isdir(dst):
            return 400, None, "Cannot write %s: a directory with that name exists" % path
        try:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
        except OSError:
            return 400, None, "Cannot write %s: a parent path is a file" % path
        if os.path.lexists(dst):
            os.unlink(dst)  # never write through a hard link shared with the parent commit
        if kind == "file":
            with open(dst, "wb") as f:
                f.write(op[2])
            kinds[path] = False
        else:
            link_or_copy(srcs[op[2]], dst)
            kinds[path] = True
        return None

    # -- repo creation, identity, misc
    def _create_repo(self, body):
        st = self.st
        if self.command != "POST":
            return self._error(405, None, "Method not allowed")
        if not self._need_auth():
            return
        obj = self._load_json(body)
        if obj is None:
            return
        word = obj.get("type") or "model"
        typ = {"model": "models", "dataset": "datasets", "space": "spaces"}.get(word, word)
        if typ not in TYPES:
            return self._error(400, None, "Invalid repo type %r" % (word,))
        name, org = obj.get("name"), obj.get("organization")
        if not isinstance(name, str) or (org is not None and not isinstance(org, str)):
            return self._error(400, None, "\"name\" (string) is required")
        if "/" in name and not org:
            org, name = name.split("/", 1)
        ns = org or WHOAMI_NAME
        for x in (ns, name):
            if not REPO_NAME.match(x) or "--" in x or ".." in x or x.endswith(".git"):
                return self._error(400, None, "Invalid repo name %s/%s: letters, digits, '-', '_', '.' only, "
                                              "at most 96 characters, no '--' or '..'" % (ns, name))
        files = obj.get("files") or []
        if not isinstance(files, list):
            return self._error(400, None, "\"files\" must be an array")
        repo_id = "%s/%s" % (ns, name)
        url = self._repo_url(typ, repo_id)
        private = obj.get("private") is True or obj.get("visibility") == "private"
        with st.commit_lock:
            if st.repos.repo_dir(typ, [ns, name]):
                msg = "You already created this %s repo" % TYPE_WORD[typ]
                return self._json(409, {"error": msg, "url": url}, [("X-Error-Message", msg)])
            rdir = os.path.join(st.repos.root, typ, ns, name)
            cid = hashlib.sha1(repo_id.encode() + os.urandom(16)).hexdigest()
            tmp = os.path.join(rdir, ".tmp-commit-" + cid)
            os.makedirs(tmp, exist_ok=True)
            ok = False
            try:
                init = []
                if st.args.create_gitattributes:
                    init.append((".gitattributes", DEFAULT_GITATTRIBUTES.encode()))
                for f in files:
                    p = f.get("path") if isinstance(f, dict) else None
                    c = f.get("content") if isinstance(f, dict) else None
                    if not isinstance(p, str) or not split_path(p.strip("/")) or not isinstance(c, str):
                        return self._error(400, None, "each file needs path and content")
                    try:
                        data = base64.b64decode(c, validate=True) if f.get("encoding") == "base64" else c.encode()
                    except ValueError:
                        return self._error(400, None, "content of %s is not valid base64" % p)
                    init.append((p.strip("/"), data))
                for p, data in init:
                    dst = os.path.join(tmp, *p.split("/"))
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    with open(dst, "wb") as fh:
                        fh.write(data)
                with open(os.path.join(rdir, "repo.json"), "w") as fh:
                    json.dump({"private": private, "created_by": WHOAMI_NAME}, fh)
                finish_commit(rdir, tmp, cid, {"parent": None, "ref": "main", "summary": "initial commit",
                                               "description": "", "author": WHOAMI_NAME, "date": iso(time.time()),
                                               "lfs": {}})
                set_refs(rdir, {"main": cid})
                ok = True
            finally:
                if not ok:
                    shutil.rmtree(tmp, ignore_errors=True)
        return self._json(200, {"url": url, "id": repo_id, "name": repo_id})

    def _whoami(self):
        if not self._need_auth():
            return
        return self._json(200, {"type": "user", "id": hashlib.sha1(WHOAMI_NAME.encode()).hexdigest()[:24],
                                "name": WHOAMI_NAME, "fullname": "Upstream User", "email": None,
                                "emailVerified": False, "isPro": False, "canPay": False,
                                "orgs": [{"type": "org", "name": o, "fullname": o, "roleInOrg": "write"}
                                         for o in WHOAMI_ORGS],
                                "auth": {"type": "access_token",
                                         "accessToken": {"displayName": "fake", "role": "write"}}})

    def _validate_yaml(self):
        if self.command != "POST":
            return self._error(405, None, "Method not allowed")
        return self._json(200, {"errors": [], "warnings": []})

    # ---- control API
    def _control(self, body):
        st = self.st
        raw, cmd = self.raw.rstrip("/"), self.command
        try:
            obj = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return self._send(400, [("Content-Type", "application/json")], b'{"error":"bad JSON"}')
        if raw in ("/_fake/stats", "/_fake/state") and cmd in ("GET", "HEAD"):
            return self._ctl(st.snapshot())
        if raw == "/_fake/health":
            return self._ctl({"ok": True, "hub": st.hub_url, "cdn": st.cdn_url})
        if raw == "/_fake/reset" and cmd == "POST":
            st.reset()
            return self._ctl({"ok": True})
        if raw == "/_fake/faults":
            if cmd in ("GET", "HEAD"):
                with st.lock:
                    return self._ctl({"faults": [dict(f) for f in st.faults], "down": st.down})
            if cmd == "DELETE":
                with st.lock:
                    st.faults = []
                    st.down = None
                    st.save()
                return self._ctl({"ok": True})
            if cmd == "POST":
                try:
                    created = st.add_faults(obj)
                except (ValueError, TypeError) as e:
                    return self._send(400, [("Content-Type", "application/json")],
                                      json.dumps({"error": str(e)}).encode())
                d = st.down
                if d and d["mode"] == "refuse" and st.runner:
                    st.runner.refuse(d)
                return self._ctl({"ok": True, "created": created})
        if raw == "/_fake/config" and cmd == "POST":
            if not isinstance(obj, dict):
                return self._send(400, [("Content-Type", "application/json")], b'{"error":"object expected"}')
            with st.lock:
                if "url_expiry" in obj:
                    st.url_expiry = float(obj["url_expiry"])
                if "page_size" in obj:
                    st.page_size = max(1, int(obj["page_size"]))
                if "token" in obj:
                    st.token = obj["token"] or None
                if obj.get("rotate_key"):
                    st.key = os.urandom(32)
                if "multipart_threshold" in obj:
                    st.mp_threshold = int(obj["multipart_threshold"])
                if "multipart_chunk" in obj:
                    st.mp_chunk = max(1, int(obj["multipart_chunk"]))
                if "max_put" in obj:
                    st.max_put = int(obj["max_put"])
            return self._ctl({"ok": True, "url_expiry": st.url_expiry, "page_size": st.page_size,
                              "token": st.token, "multipart_threshold": st.mp_threshold,
                              "multipart_chunk": st.mp_chunk, "max_put": st.max_put})
        if raw == "/_fake/lfs" and cmd in ("GET", "HEAD"):
            objs = {}
            for n in sorted(os.listdir(st.store_path("objects"))):
                if HEX64.match(n):
                    objs[n] = os.path.getsize(st.store_path("objects", n))
            return self._ctl({"store": st.store, "objects": objs})
        m = re.fullmatch(r"/_fake/lfs/([0-9a-f]{64})", raw)
        if m and cmd in ("GET", "HEAD"):
            p = st.lfs_object(m.group(1))
            return self._ctl({"oid": m.group(1), "exists": p is not None,
                              "size": os.path.getsize(p) if p else None, "path": p})
        if m and cmd == "DELETE":
            try:
                os.unlink(st.store_path("objects", m.group(1)))
                return self._ctl({"ok": True, "deleted": True})
            except OSError:
                return self._ctl({"ok": True, "deleted": False})
        m = re.fullmatch(r"/_fake/sign/([0-9a-f]{64})", raw)
        if m and cmd == "GET":
            exp = (self.q.get("exp") or [None])[0]
            return self._ctl({"url": st.cdn_link(m.group(1), int(exp) if exp and exp.lstrip("-").isdigit() else None)})
        return self._send(404, [("Content-Type", "application/json")], b'{"error":"unknown control route"}')

    def _ctl(self, obj):
        self._send(200, [("Content-Type", "application/json")], json.dumps(obj, indent=1).encode())


# --------------------------------------------------------------------------- servers

class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        # skip HTTPServer's getfqdn() reverse lookup (slow without DNS)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError, socket.timeout)):
            return
        log("%s: connection error from %s: %r" % (self.role, client_address, exc))


class Box:
    def __init__(self, role, host, port, st):
        self.role, self.host, self.port, self.st = role, host, port, st
        self.srv = None
        self.lock = threading.Lock()

    def start(self):
        srv = Server((self.host, self.port), Handler)
        srv.role, srv.st = self.role, self.st
        self.port = srv.server_address[1]
        self.srv = srv
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def stop(self):
        srv, self.srv = self.srv, None
        if srv:
            srv.shutdown()
            srv.server_close()


class Runner:
    def __init__(self, st, boxes):
        self.st, self.boxes = st, boxes
        self.lock = threading.Lock()

    def refuse(self, d):
        def run():
            with self.lock:
                targets = [b for b in self.boxes if d["host"] in ("any", b.role)]
                time.sleep(0.2)  # let the control response go out
                for b in targets:
                    b.stop()
                log("down (refuse) for %s" % [b.role for b in targets])
                while self.st.down is d and d["until"] and time.time() < d["until"]:
                    time.sleep(0.05)
                with self.st.lock:
                    if self.st.down is d:
                        self.st.down = None
                        self.st.save()
                for b in targets:
                    for _ in range(100):
                        try:
                            b.start()
                            break
                        except OSError:
                            time.sleep(0.1)
                log("up again")
        threading.Thread(target=run, daemon=True).start()


def serve(argv):
    p = argparse.ArgumentParser(prog="fakehub.py", description="fake Hugging Face Hub for ggufd tests")
    p.add_argument("--repos", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--cdn-host", default="127.0.0.2")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cdn-port", type=int, default=0)
    p.add_argument("--state-file")
    p.add_argument("--token", help="if set, a request WITH Authorization must carry 'Bearer TOKEN'")
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument("--url-expiry", type=float, default=300, help="CDN URL lifetime, seconds")
    p.add_argument("--no-gzip", dest="gzip", action="store_false",
                   help="never gzip API JSON (default: gzip when the client accepts it)")
    p.add_argument("--gzip-files", action="store_true",
                   help="gzip text files on /api/resolve-cache when accepted and no Range")
    p.add_argument("--cdn-reject-auth", action="store_true",
                   help="CDN answers 400 when a request carries Authorization (as S3 does)")
    p.add_argument("--redirect-commit-header", action="store_true",
                   help="add X-Repo-Commit to the 307 of regular files (the real Hub does not seem to)")
    p.add_argument("--multipart-threshold", type=int, default=8 << 20,
                   help="LFS batch answers multipart for objects larger than this (if the client offers it)")
    p.add_argument("--multipart-chunk", type=int, default=4 << 20, help="multipart part size (chunk_size)")
    p.add_argument("--max-put", type=int, default=MAX_PUT, help="largest CDN PUT body accepted (else 413)")
    p.add_argument("--cdn-accept-chunked", action="store_true",
                   help="accept chunked CDN PUTs (default: 501 NotImplemented, as S3 does)")
    p.add_argument("--lfs-store", help="directory for uploaded LFS objects (default: a temp dir removed at exit)")
    p.add_argument("--create-gitattributes", action="store_true",
                   help="/api/repos/create puts the Hub's default .gitattributes in the initial commit")
    args = p.parse_args(argv)
    os.makedirs(args.repos, exist_ok=True)
    tmp_store = None
    if not args.lfs_store:
        tmp_store = args.lfs_store = tempfile.mkdtemp(prefix="fakehub-lfs-")
    for d in ("objects", "tmp", "parts"):
        os.makedirs(os.path.join(args.lfs_store, d), exist_ok=True)
    st = State(args, Repos(args.repos))
    hub = Box("hub", args.host, args.port, st)
    cdn = Box("cdn", args.cdn_host, args.cdn_port, st)
    hub.start()
    cdn.start()
    st.hub_url = "http://%s:%d" % (args.host, hub.port)
    st.cdn_url = "http://%s:%d" % (args.cdn_host, cdn.port)
    st.runner = Runner(st, [hub, cdn])
    st.save()
    # Plain flag: Event.set() from a signal handler can deadlock against Event.wait() in the main thread.
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    signal.signal(signal.SIGUSR1, lambda *a: setattr(st, "down", None))
    sys.stdout.write("fakehub hub=%s cdn=%s\n" % (st.hub_url, st.cdn_url))
    sys.stdout.flush()
    log("serving %s (hub %s, cdn %s)" % (os.path.abspath(args.repos), st.hub_url, st.cdn_url))
    while not stop:
        time.sleep(0.1)
    for b in (hub, cdn):
        try:
            b.stop()
        except Exception:
            pass
    if tmp_store:
        shutil.rmtree(tmp_store, ignore_errors=True)
    return 0


# --------------------------------------------------------------------------- mkrepo

def mkrepo(argv):
    p = argparse.ArgumentParser(prog="fakehub.py mkrepo", description="create/extend a fake repo commit")
    p.add_argument("--repos", required=True)
    p.add_argument("--repo", required=True, help="namespace/name (or a single legacy name)")
    p.add_argument("--type", default="models")
    p.add_argument("--commit", default="auto", help="40 lowercase hex, or auto")
    p.add_argument("--ref", action="append", help="ref(s) to point at the commit (default main; 'none' for none)")
    p.add_argument("--inherit", action="store_true",
                   help="start from the files of the commit the first --ref points at, else main (git-like)")
    vis = p.add_mutually_exclusive_group()
    vis.add_argument("--private", dest="private", action="store_const", const=True,
                     help="reads without a valid Authorization get 401 RepoNotFound (repo.json)")
    vis.add_argument("--public", dest="private", action="store_const", const=False,
                     help="undo --private")
    p.add_argument("--gated", choices=("auto", "manual", "no"),
                   help="files (not the API) need a valid Authorization: 401 GatedRepo (repo.json)")
    p.add_argument("files", nargs="*", help="FILE or FILE=PATH-in-repo (FILE may be a directory)")
    a = p.parse_args(argv)
    typ = a.type if a.type in TYPES else a.type + "s"
    if typ not in TYPES:
        p.error("--type must be models, datasets or spaces")
    parts = a.repo.strip("/").split("/")
    if not (1 <= len(parts) <= 2) or not all(valid_segment(x) for x in parts):
        p.error("bad --repo")
    rdir = os.path.join(a.repos, typ, *parts)
    os.makedirs(rdir, exist_ok=True)
    commit = a.commit.lower()
    if commit == "auto":
        commit = hashlib.sha1(os.urandom(16) + repr((a.repo, time.time(), a.files)).encode()).hexdigest()
    if not HEX40.match(commit):
        p.error("--commit must be 40 hex digits or auto")
    refs_names = a.ref or ["main"]
    if refs_names == ["none"]:
        refs_names = []
    refs_path = os.path.join(rdir, "refs.json")
    try:
        with open(refs_path) as f:
            refs = json.load(f)
    except (OSError, ValueError):
        refs = {}
    cdir = os.path.join(rdir, commit)
    os.makedirs(cdir, exist_ok=True)
    if a.inherit and refs_names:
        parent = refs.get(refs_names[0]) or refs.get("main")
        if parent and parent != commit and os.path.isdir(os.path.join(rdir, parent)):
            shutil.copytree(os.path.join(rdir, parent), cdir, dirs_exist_ok=True)
    for spec in a.files:
        if os.path.exists(spec) or "=" not in spec:
            src, dst = spec, os.path.basename(spec.rstrip("/"))
        else:
            src, _, dst = spec.partition("=")
        dparts = split_path(dst)
        if not dparts:
            p.error("bad destination path in %r" % spec)
        out = os.path.join(cdir, *dparts)
        if os.path.isdir(src):
            shutil.copytree(src, out, dirs_exist_ok=True)
        else:
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copyfile(src, out)
    if a.private is not None or a.gated is not None:
        settings = Repos.settings(rdir)
        if a.private is not None:
            settings["private"] = a.private
        if a.gated is not None:
            settings["gated"] = False if a.gated == "no" else a.gated
        with open(os.path.join(rdir, "repo.json.tmp"), "w") as f:
            json.dump(settings, f)
        os.replace(os.path.join(rdir, "repo.json.tmp"), os.path.join(rdir, "repo.json"))
    for r in refs_names:
        refs[r] = commit
    tmp = refs_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
    os.replace(tmp, refs_path)
    print(commit)
    return 0


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "mkrepo":
        return mkrepo(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
