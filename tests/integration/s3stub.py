#!/usr/bin/env python3
"""s3stub.py: a tiny S3-like server for fault injection (tests/integration/s3faults.sh).

It checks no signature.  Objects are files in --dir named by their key's last
segment; the bucket listing answers 200.  Faults, set with --fault:
  cut:N         a GET without Range sends N bytes of the object, then closes
  wrong_range:D a GET with Range bytes=A- answers 206 starting at A+D, with a
                Content-Range saying so (an honest header for the wrong range)
Prints "s3stub url=http://HOST:PORT" once listening; logs requests to stderr.
"""
import argparse
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fault", action="append", default=[])
    a = p.parse_args()
    faults = dict(f.split(":", 1) for f in a.fault)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("s3stub: %s %s\n" % (self.command, self.path))
            sys.stderr.flush()

        def obj(self):
            name = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            path = os.path.join(a.dir, name)
            return path if re.fullmatch(r"[0-9a-f]{64}", name) and os.path.isfile(path) else None

        def small(self, code, body=b""):
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            path = self.obj()
            if path is None:
                return self.small(404 if "/" in self.path.strip("/") else 200)
            self.send_response(200)
            self.send_header("Content-Length", str(os.path.getsize(path)))
            self.end_headers()

        def do_GET(self):
            if self.path.split("?")[0].strip("/").count("/") == 0:
                return self.small(200, b"<ListBucketResult></ListBucketResult>")
            path = self.obj()
            if path is None:
                return self.small(404, b"<Error><Code>NoSuchKey</Code></Error>")
            data = open(path, "rb").read()
            m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if m is None:
                cut = int(faults.get("cut", len(data)))
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:cut])
                if cut < len(data):
                    self.close_connection = True
                return
            first = int(m.group(1)) + int(faults.get("wrong_range", 0))
            body = data[first:]
            self.send_response(206)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, len(data) - 1, len(data)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            self.small(503, b"<Error><Code>SlowDown</Code></Error>")

    srv = ThreadingHTTPServer((a.host, a.port), H)
    print("s3stub url=http://%s:%d" % (a.host, srv.server_address[1]), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
