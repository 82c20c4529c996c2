#!/usr/bin/python3
"""holdconns.py: opens and holds idle TCP connections, for flood.sh.

    holdconns.py PORT COUNT ADDR[,ADDR...] [SEND] [HOLD_SECONDS]

Opens COUNT connections to 127.0.0.1:PORT, each bound to one of the source
addresses in turn (Linux routes all of 127/8 to the loopback interface),
optionally writes SEND (Python escapes such as \\r\\n are decoded) on each,
prints "open N failed M" and flushes, then holds them, reading nothing,
until HOLD_SECONDS (default 120) have passed or SIGTERM comes; then it
prints "closed K": how many of them the server closed meanwhile.  Every
connect is bounded (5 s); a connect that fails is counted, not retried.
"""
import select
import signal
import socket
import sys
import time


def main():
    port = int(sys.argv[1])
    count = int(sys.argv[2])
    addrs = sys.argv[3].split(",")
    send = sys.argv[4].encode().decode("unicode_escape").encode("latin-1") \
        if len(sys.argv) > 4 else b""
    hold = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    socks, failed = [], 0
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.bind((addrs[i % len(addrs)], 0))
            s.connect(("127.0.0.1", port))
            if send:
                s.sendall(send)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            failed += 1
            s.close()
    print("open %d failed %d" % (len(socks), failed), flush=True)

    # poll, not select: there may be more than FD_SETSIZE (1024) of them.
    closed = 0
    live = {s.fileno(): s for s in socks}
    poller = select.poll()
    for fd in live:
        poller.register(fd, select.POLLIN)
    end = time.monotonic() + hold
    while not stop and live and time.monotonic() < end:
        try:
            ready = poller.poll(200)
        except InterruptedError:
            continue
        for fd, _ in ready:
            s = live.get(fd)
            if s is None:
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # the server closed it (anything else: ignored)
                closed += 1
                poller.unregister(fd)
                del live[fd]
    print("closed %d" % closed, flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
