#!/usr/bin/python3
"""hf_client.py: runs one huggingface_hub call for tests/integration/python.sh.

    hf_client.py OP 'JSON KWARGS'

The client is the vendored huggingface_hub (PYTHONPATH), configured the way
a user would: HF_ENDPOINT (ggufd), HF_HOME / HF_HUB_CACHE, HF_TOKEN,
HF_HUB_OFFLINE, all read by the library at import.  One JSON object is
printed on stdout:

    {"result": ..., "requests": [...]}             exit 0
    {"error": {"type", "classes", "message", "status", "headers"},
     "requests": [...]}                             exit 3

"requests" lists every HTTP request the library made (method, url, status,
whether it carried Authorization, the Location / Link / X-Error-* headers,
and the body of small JSON answers), so the test can check that the client
only ever talked to ggufd and that no answer named another host.

OP is a huggingface_hub function (hf_hub_download, snapshot_download,
try_to_load_from_cache; hf_hub_download_each takes {"downloads": [kwargs...]}
and reports each download on its own, stopping at the first error) or an HfApi method (model_info, upload_file, ...);
"create_commit" takes "operations" as a list of {"op": "add"|"delete"|"copy",
...} with the CommitOperation* arguments.  Results are turned into JSON:
files get their sha256 next to their path, objects their attributes.
"""
import dataclasses
import datetime
import hashlib
import json
import os
import sys
import threading

import huggingface_hub as hh
from huggingface_hub.utils import _http

RECORDED = []
_LOCK = threading.Lock()
# Answers whose body is kept (small JSON from the API and the gateway).
_KEEP_BODY = 64 * 1024


def _record(resp, *args, **kwargs):
    req = resp.request
    entry = {
        "method": req.method,
        "url": req.url,
        "status": resp.status_code,
        "auth": "authorization" in {k.lower() for k in req.headers},
        "headers": {k: v for k, v in resp.headers.items()
                    if k.lower() in ("location", "link", "content-location", "x-error-code",
                                     "x-error-message", "x-repo-commit")},
    }
    ctype = resp.headers.get("content-type", "")
    try:
        clen = int(resp.headers.get("content-length", "0") or 0)
    except ValueError:
        clen = 0
    # Only what is certainly small and already wanted whole (never a download).
    if "json" in ctype and req.method in ("GET", "POST") and "/resolve/" not in req.url \
            and 0 < clen <= _KEEP_BODY:
        try:
            entry["body"] = resp.content.decode("utf-8", "replace")
        except Exception as e:  # pragma: no cover - diagnostics only
            entry["body_error"] = repr(e)
    with _LOCK:
        RECORDED.append(entry)


def _factory():
    s = _http._default_backend_factory()
    s.hooks["response"].append(_record)
    return s


hh.configure_http_backend(backend_factory=_factory)


def hash_file(path):
    """(sha256, git blob sha1) of a file."""
    h, g = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            g.update(chunk)
    return h.hexdigest(), g.hexdigest()


def tojson(o, depth=0):
    if depth > 8:
        return repr(o)
    if o is None or isinstance(o, (bool, int, float)):
        return o
    if isinstance(o, (datetime.datetime, datetime.date)):
        return o.isoformat()
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    if isinstance(o, dict):
        return {str(k): tojson(v, depth + 1) for k, v in o.items()}
    if isinstance(o, (list, tuple, set)):
        return [tojson(v, depth + 1) for v in o]
    attrs = None
    if dataclasses.is_dataclass(o):
        attrs = {f.name: getattr(o, f.name, None) for f in dataclasses.fields(o)}
        attrs.update({k: v for k, v in vars(o).items() if not k.startswith("__")})
    elif hasattr(o, "__dict__") and not isinstance(o, type):
        attrs = {k: v for k, v in vars(o).items() if not k.startswith("__")}
    if isinstance(o, str):
        if attrs:
            d = tojson(attrs, depth + 1)
            d["_str"] = str(o)
            d["_class"] = type(o).__name__
            return d
        return str(o)
    if attrs is not None:
        d = tojson(attrs, depth + 1)
        d["_class"] = type(o).__name__
        return d
    return repr(o)


def describe_file(path):
    if isinstance(path, str) and os.path.isfile(path):
        sha256, gitsha1 = hash_file(path)
        return {"path": path, "sha256": sha256, "gitsha1": gitsha1,
                "size": os.path.getsize(path), "realpath": os.path.realpath(path)}
    return {"path": tojson(path)}


def describe_dir(top):
    files = {}
    for root, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if d != ".cache"]
        for n in names:
            p = os.path.join(root, n)
            files[os.path.relpath(p, top)] = hash_file(p)[0]
    return {"path": top, "files": files}


def make_operations(specs):
    ops = []
    for s in specs:
        s = dict(s)
        kind = s.pop("op")
        if kind == "add":
            ops.append(hh.CommitOperationAdd(**s))
        elif kind == "delete":
            ops.append(hh.CommitOperationDelete(**s))
        elif kind == "copy":
            ops.append(hh.CommitOperationCopy(**s))
        else:
            raise SystemExit("unknown operation %r" % kind)
    return ops


def error_info(e):
    resp = getattr(e, "response", None)
    return {
        "type": type(e).__name__,
        "classes": [c.__name__ for c in type(e).__mro__],
        "message": str(e),
        "status": getattr(resp, "status_code", None),
        "headers": dict(resp.headers) if resp is not None else {},
    }


def run(op, kw):
    if op == "hf_hub_download":
        return describe_file(hh.hf_hub_download(**kw))
    if op == "hf_hub_download_each":
        # {"downloads": [kwargs, ...]}: one result per download, until the
        # first error (the client retries a failing file for ~25 s, so a
        # broken server must not cost that for every file).
        out = []
        for one in kw["downloads"]:
            try:
                out.append(describe_file(hh.hf_hub_download(**one)))
            except Exception as e:
                out.append({"error": error_info(e), "filename": one.get("filename")})
                break
        return out
    if op == "snapshot_download":
        return describe_dir(hh.snapshot_download(**kw))
    if op == "try_to_load_from_cache":
        p = hh.try_to_load_from_cache(**kw)
        if p is hh._CACHED_NO_EXIST:
            return {"cached_no_exist": True}
        return describe_file(p) if p else {"path": None}
    if op == "create_commit":
        kw["operations"] = make_operations(kw["operations"])
    if op in ("list_repo_files", "list_repo_tree", "list_repo_commits", "get_paths_info"):
        return tojson(list(getattr(hh.HfApi(), op)(**kw)))
    return tojson(getattr(hh.HfApi(), op)(**kw))


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: hf_client.py OP 'JSON KWARGS'\n")
        return 2
    op, kw = sys.argv[1], json.loads(sys.argv[2])
    out = {}
    code = 0
    try:
        out["result"] = run(op, kw)
    except Exception as e:  # every failure is reported, with its class chain
        out["error"] = error_info(e)
        code = 3
    out["requests"] = RECORDED
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
