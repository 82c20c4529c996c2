#!/usr/bin/env python3
"""ollama_client.py: replays Ollama's pull (ollama/ollama v0.33.0-rc2,
server/images.go PullModel and server/download.go, as shared/CLIENTS.md
section 2 gives them) against a registry on loopback.  Python standard
library only.

    ollama_client.py BASE NS/MODEL TAG OUTDIR [--stall S] [--min-part N]
                     [--max-part N] [--deadline S] [--ua UA]

  R1  GET  /v2/NS/MODEL/manifests/TAG  Accept: application/vnd.docker.distribution.manifest.v2+json
  R2  for each layer, then the config (if its digest is set), one blob at a time,
      unless OUTDIR/blobs/sha256-<hex> exists (then no request at all):
      a   HEAD /v2/NS/MODEL/blobs/sha256:<hex>   Content-Length is the total
      b   GET  (no Range) the "direct URL" probe: 307 + Location, or 200 +
          Location; only the headers are read; >= 400 retried until --deadline
      c   parts of total/16 bytes clamped to [--min-part, --max-part], up to 16 at
          once: GET <Location> Range: bytes=a-b, UA Go-http-client/1.1, no auth;
          the status is NOT checked: exactly the part's remaining bytes are copied
          to its offset; an early EOF resumes; --stall seconds without a byte
          restart the part (not counted as a retry); other errors retry up to 6
          times with 1, 2, 4 ... s backoff
      d   sha256 of the file must equal the digest (else the file is deleted)
  R3  the manifest bytes go to OUTDIR/manifests/HOST/NS/MODEL/TAG

Ollama's own numbers are a 30 s stall window and parts of 100-1000 MB;
a test scales them down (--stall, --min-part, --max-part) to stay short.
Prints one JSON object: {"ok", "error", "manifest_status", "requests":
[{method, path, status, range, content_length, content_encoding, location}],
"stalls", "blobs": {digest: {"size", "parts", "verified"}}}; exit 0 when ok.
"""
import argparse
import gzip
import hashlib
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

UA = "ollama/0.33.0 (amd64 linux) Go/go1.24.4"
GO_UA = "Go-http-client/1.1"
MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json"

lock = threading.Lock()
log = []
stalls = [0]


def note(entry):
    with lock:
        log.append(entry)


def conn_for(url, timeout):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout), u


def target_of(u):
    return u.path + ("?" + u.query if u.query else "")


def request(method, url, headers, timeout=30, read_body=True, follow_same_host=True, hops=10):
    """One request as Go's client makes it: redirects to the same host are
    followed (the probe's CheckRedirect), any other redirect is returned."""
    for _ in range(hops):
        c, u = conn_for(url, timeout)
        c.request(method, target_of(u), headers=headers)
        r = c.getresponse()
        ent = {"method": method, "path": u.path, "status": r.status, "range": headers.get("Range"),
               "content_length": r.getheader("Content-Length"),
               "content_encoding": r.getheader("Content-Encoding"),
               "transfer_encoding": r.getheader("Transfer-Encoding"),
               "location": r.getheader("Location")}
        note(ent)
        loc = r.getheader("Location")
        if follow_same_host and r.status in (301, 302, 303, 307, 308) and loc:
            nxt = urllib.parse.urljoin(url, loc)
            if urllib.parse.urlsplit(nxt).netloc == u.netloc:
                r.read()
                c.close()
                url = nxt
                continue
        body = r.read() if read_body else b""
        c.close()
        return r, body, url
    raise RuntimeError("too many redirects")


def fetch_part(direct, path, start, size, state, stall):
    """Ollama's downloadChunk loop for one part: exactly size bytes at start."""
    tries = 0
    restarts = 0
    while state["done"] < size:
        if restarts > 200:
            raise RuntimeError("part at %d: too many stalls" % start)
        have = state["done"]
        hdrs = {"Range": "bytes=%d-%d" % (start + have, start + size - 1), "User-Agent": GO_UA}
        c = None
        try:
            c, u = conn_for(direct, stall)
            c.request("GET", target_of(u), headers=hdrs)
            r = c.getresponse()
            note({"method": "GET", "path": u.path, "status": r.status, "range": hdrs["Range"],
                  "content_length": r.getheader("Content-Length"),
                  "content_encoding": r.getheader("Content-Encoding"),
                  "content_range": r.getheader("Content-Range"), "location": None})
            # The status is not checked: Ollama copies what comes.
            with open(path, "r+b") as f:
                f.seek(start + have)
                while state["done"] < size:
                    try:
                        chunk = r.read(min(65536, size - state["done"]))
                    except socket.timeout:
                        raise TimeoutError("stall")
                    if not chunk:
                        break  # early EOF: resume from here
                    f.write(chunk)
                    state["done"] += len(chunk)
            c.close()
        except (TimeoutError, socket.timeout):
            if c is not None:
                c.close()
            with lock:
                stalls[0] += 1
            restarts += 1
            continue
        except (OSError, http.client.HTTPException) as e:
            if c is not None:
                c.close()
            tries += 1
            if tries >= 6:
                raise RuntimeError("part at %d: %s" % (start, e))
            time.sleep(min(2 ** (tries - 1), 4))


def download_blob(base, name, digest, outdir, a):
    hexd = digest.split(":", 1)[1]
    dest = os.path.join(outdir, "blobs", "sha256-" + hexd)
    info = {"size": None, "parts": 0, "verified": False, "skipped": False}
    if os.path.exists(dest):
        info["skipped"] = True
        return info
    url = "%s/v2/%s/blobs/%s" % (base, name, digest)
    r, _, _ = request("HEAD", url, {"User-Agent": UA}, read_body=False)
    if r.status == 404:
        raise RuntimeError("file does not exist")
    if r.status >= 300 or r.getheader("Content-Length") is None:
        raise RuntimeError("HEAD %s: status %d, Content-Length %s" % (digest, r.status, r.getheader("Content-Length")))
    total = int(r.getheader("Content-Length"))
    info["size"] = total
    # The probe: headers only, retried while >= 400 until the deadline.
    end = time.monotonic() + a.deadline
    n = 0
    while True:
        r, _, final = request("GET", url, {"User-Agent": UA, "Accept-Encoding": "gzip"}, read_body=False)
        if r.status < 400:
            break
        n += 1
        if time.monotonic() > end:
            raise RuntimeError("probe: status %d until the deadline" % r.status)
        time.sleep(min(0.01 * n * n, 10))
    loc = r.getheader("Location")
    if r.status not in (200, 307) or not loc:
        raise RuntimeError("http: no Location header in response" if not loc else
                           "unexpected status code %d" % r.status)
    direct = urllib.parse.urljoin(final, loc)
    part = max(a.min_part, min(a.max_part, total // 16))
    parts = [(s, min(part, total - s)) for s in range(0, total, part)] if total else []
    info["parts"] = len(parts)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = dest + "-partial"
    with open(tmp, "wb") as f:
        f.truncate(total)
    errors = []
    states = [{"done": 0} for _ in parts]
    sem = threading.Semaphore(16)

    def run(i):
        with sem:
            try:
                fetch_part(direct, tmp, parts[i][0], parts[i][1], states[i], a.stall)
            except Exception as e:  # noqa: BLE001 - reported, not hidden
                errors.append(str(e))

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(parts))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors[:3]))
    h = hashlib.sha256()
    with open(tmp, "rb") as f:
        for blk in iter(lambda: f.read(1 << 20), b""):
            h.update(blk)
    if "sha256:" + h.hexdigest() != digest:
        os.unlink(tmp)
        raise RuntimeError("digest mismatch, file must be downloaded again: want %s, got sha256:%s" % (digest, h.hexdigest()))
    os.rename(tmp, dest)
    info["verified"] = True
    return info


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("name")
    p.add_argument("tag")
    p.add_argument("outdir")
    p.add_argument("--stall", type=float, default=30.0)
    p.add_argument("--min-part", type=int, default=100 * 1000 * 1000)
    p.add_argument("--max-part", type=int, default=1000 * 1000 * 1000)
    p.add_argument("--deadline", type=float, default=30.0)
    a = p.parse_args()
    out = {"ok": False, "error": None, "manifest_status": None, "requests": log, "stalls": 0, "blobs": {}}
    try:
        url = "%s/v2/%s/manifests/%s" % (a.base, a.name, a.tag)
        r, body, _ = request("GET", url, {"Accept": MANIFEST_ACCEPT, "User-Agent": UA, "Accept-Encoding": "gzip"})
        out["manifest_status"] = r.status
        if r.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if r.status == 404:
            raise RuntimeError("pull model manifest: file does not exist")
        if r.status == 401:
            raise RuntimeError("unauthorized: access denied")
        if r.status >= 400:
            raise RuntimeError("pull model manifest: %d: %s" % (r.status, body.decode("utf-8", "replace")))
        m = json.loads(body)
        out["manifest"] = m
        todo = [l["digest"] for l in m.get("layers", [])]
        if m.get("config", {}).get("digest"):
            todo.append(m["config"]["digest"])
        for d in todo:
            if not d or not d.startswith("sha256:"):
                raise RuntimeError("digest is empty" if not d else "bad digest " + d)
            out["blobs"][d] = download_blob(a.base, a.name, d, a.outdir, a)
        host = urllib.parse.urlsplit(a.base).netloc
        mdir = os.path.join(a.outdir, "manifests", host, a.name)
        os.makedirs(mdir, exist_ok=True)
        with open(os.path.join(mdir, a.tag), "wb") as f:
            f.write(body)
        out["ok"] = True
    except Exception as e:  # noqa: BLE001 - the test reads the message
        out["error"] = str(e)
    out["stalls"] = stalls[0]
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
