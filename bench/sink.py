#!/usr/bin/env python3
"""bench/sink.py: a GET that costs the machine as little as a client can.

    sink.py URL    prints "TTFB_SECONDS BYTES_PER_SECOND"

The benchmarks run the client on the two cores ggufd uses; in use it runs on
another machine.  curl copies every byte out of the kernel into its buffer
(an eighth of this machine's CPU at 900 MiB/s); this client lets the kernel
drop the bytes instead (recv with MSG_TRUNC: TCP counts them and copies
nothing), so what is measured is ggufd's work, not the client's.

HTTP/1.1 over plain TCP, one request per connection; follows up to 5
redirects (the fake Hub sends downloads to its CDN host); fails after
TIMEOUT seconds without a byte.  The timings are
curl's: from before the connection is opened to the first byte of the
response (time_starttransfer), and body bytes over the whole time
(speed_download).  Fails (exit 1) unless the status is 200 and exactly
Content-Length body bytes arrive before the server closes.
"""
import socket
import sys
import time
from urllib.parse import urljoin, urlsplit

DROP = bytearray(16 << 20)  # never written: MSG_TRUNC copies nothing into it
TIMEOUT = 120  # seconds without a byte before the GET fails


def get(url, t0):
    u = urlsplit(url)
    if u.scheme != "http":
        sys.exit(f"sink: {url}: plain http:// only")
    s = socket.create_connection((u.hostname, u.port or 80), timeout=TIMEOUT)
    path = u.path + ("?" + u.query if u.query else "")
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\n"
              "User-Agent: ggufd-bench-sink\r\nConnection: close\r\n\r\n".encode())
    head = b""
    ttfb = None
    while b"\r\n\r\n" not in head:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"sink: {url}: connection closed in the response head")
        if ttfb is None:
            ttfb = time.monotonic() - t0
        head += chunk
        if len(head) > 1 << 20:
            sys.exit(f"sink: {url}: response head over 1 MiB")
    head, body = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdr[k.strip().lower()] = v.strip()
    if status in (301, 302, 303, 307, 308) and "location" in hdr:
        s.close()
        return None, urljoin(url, hdr["location"])
    if status != 200 or "content-length" not in hdr:
        sys.exit(f"sink: {url}: status {status}, Content-Length "
                 f"{hdr.get('content-length')}")
    want = int(hdr["content-length"])
    got = len(body)
    while got < want:
        n = s.recv_into(DROP, len(DROP), socket.MSG_TRUNC)
        if n == 0:
            break
        got += n
    s.close()
    if got != want:
        sys.exit(f"sink: {url}: {got} of {want} body bytes")
    return (ttfb, got), None


def main():
    url = sys.argv[1]
    t0 = time.monotonic()
    for _ in range(6):
        done, url = get(url, t0)
        if done is not None:
            ttfb, n = done
            print(f"{ttfb:.6f} {n / (time.monotonic() - t0):.0f}")
            return
    sys.exit("sink: more than 5 redirects")


main()
