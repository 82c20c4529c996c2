#!/usr/bin/python3
"""hostile_clients.py: hostile HTTP clients on raw sockets, for hostile_clients.sh.

    hostile_clients.py KIND PORT SRC IN_DIR SECONDS [TOKEN]

KIND is one of heads, ranges, traversal, bodies, slowloris, resets.  Each
attacker connects to 127.0.0.1:PORT from the source address SRC (Linux
routes all of 127/8 to lo), repeats its attacks until SECONDS have passed
or its round limit is reached, and prints one line per attempt:

    GOOD|BAD KIND CASE OUTCOME

OUTCOME is "status N" (the server answered N), "closed" (the server closed
or reset the connection without an answer) or what went wrong.  A BAD line
is an answer the attacker should never get: a 2xx with bytes that are not
the file's, a success where an error is due, a 5xx, or no answer and no
close within the socket timeout (a hang).  The last line is
"done KIND good G bad B".  IN_DIR holds the repo's files (their bytes are
what an answer must hold).  TOKEN is a gateway upload token (bodies).
Every socket operation has a timeout; every loop a count and a deadline.
"""
import hashlib
import os
import random
import socket
import struct
import sys
import time

REPO = "ruv/ruvltra"
TIMEOUT = 30.0  # no byte and no close for this long: a hang
MAX_BODY = 80 << 20  # the most an attacker reads of one answer
U64 = 18446744073709551615


class Answer:
    def __init__(self):
        self.status = None  # int, or None: no status line came
        self.headers = {}   # lower-case names
        self.body = b""
        self.closed = False  # the server closed or reset the connection
        self.hang = False    # TIMEOUT passed with no byte and no close
        self.sent_all = True


def connect(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.bind((src, 0))
    s.connect(("127.0.0.1", PORT))
    return s


def reset_close(s):
    """Closes with SO_LINGER 0: the kernel sends a RST, not a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def read_answer(s, a, limit=MAX_BODY, head_only=False):
    """Reads one response into a: head, then a Content-Length body (at
    most limit bytes of it).  Stops at a close, a reset or a hang."""
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            c = s.recv(65536)
            if not c:
                a.closed = True
                break
            buf += c
            if len(buf) > (1 << 20):
                break
    except socket.timeout:
        a.hang = True
    except OSError:
        a.closed = True
    head, sep, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if sep and lines[0].startswith("HTTP/"):
        try:
            a.status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            a.status = -1
        for line in lines[1:]:
            k, _, v = line.partition(":")
            a.headers[k.strip().lower()] = v.strip()
    elif buf:
        a.status = -1  # bytes that are not an HTTP answer
        return
    if a.status is None or head_only:
        a.body = body
        return
    want = a.headers.get("content-length")
    want = int(want) if want and want.isdigit() else None
    goal = min(want, limit) if want is not None else limit
    parts = [body]
    got = len(body)
    try:
        while got < goal:
            c = s.recv(min(1 << 20, goal - got))
            if not c:
                a.closed = True
                break
            parts.append(c)
            got += len(c)
    except socket.timeout:
        a.hang = True
    except OSError:
        a.closed = True
    a.body = b"".join(parts)[:goal]


def exchange(src, data, limit=MAX_BODY):
    """Sends data on a new connection and reads the answer."""
    a = Answer()
    try:
        s = connect(src)
    except OSError as e:
        a.closed = True
        a.error = repr(e)
        return a
    try:
        s.sendall(data)
    except socket.timeout:
        a.sent_all = False
        a.hang = True
    except OSError:
        # The server answered early and closed (a request too large):
        # the answer may still be readable.
        a.sent_all = False
    if not a.hang:
        read_answer(s, a, limit)
    reset_close(s)
    return a


def outcome(a):
    if a.status is not None:
        return "status %d" % a.status
    if a.hang:
        return "hang (no answer, no close in %ds)" % TIMEOUT
    return "closed"


def report(kind, case, good, a, extra=""):
    COUNT[0 if good else 1] += 1
    print("%s %s %s %s%s" % ("GOOD" if good else "BAD", kind, case, outcome(a),
                             (" " + extra) if extra else ""), flush=True)


def request(method, target, headers=(), body=b""):
    h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, target)
    for k, v in headers:
        h += "%s: %s\r\n" % (k, v)
    if body or method in ("POST", "PUT"):
        h += "Content-Length: %d\r\n" % len(body)
    h += "Connection: close\r\n\r\n"
    return h.encode("latin-1") + body


def error_or_closed(a, allowed):
    """An error status in allowed, or a close with no answer; never a hang."""
    if a.hang:
        return False
    return a.status in allowed if a.status is not None else a.closed


def filedata(name):
    if name not in FILES:
        with open(os.path.join(IN, name), "rb") as f:
            FILES[name] = f.read()
    return FILES[name]


# --- the attacks ----------------------------------------------------------------------

def heads(src):
    """Request lines, header values and header counts far over the limits."""
    mib = 1 << 20
    cases = [
        ("line_1MiB", request("GET", "/" + "a" * mib), {400, 413, 414, 431}),
        ("query_1MiB", request("GET", "/%s/resolve/main/config.json?x=%s" % (REPO, "b" * mib)),
         {400, 413, 414, 431}),
        ("header_1MiB", request("GET", "/healthz", [("X-Big", "c" * mib)]), {400, 413, 431}),
        ("headers_20000", request("GET", "/healthz", [("X-H%d" % i, "v") for i in range(20000)]),
         {400, 413, 431}),
        ("header_name_1MiB", request("GET", "/healthz", [("X" * mib, "v")]), {400, 413, 431}),
        ("no_crlf_1MiB", b"GET /healthz HTTP/1.1\r\nX: " + b"d" * mib, {400, 413, 431}),
    ]
    for rnd in range(ROUNDS):
        for name, data, allowed in cases:
            if time.monotonic() > END:
                return
            a = exchange(src, data)
            report("heads", name, error_or_closed(a, allowed), a)


def range_cases(size):
    """(name, Range value, what ggufd promises: ("full",), ("416",) or
    ("206", [(first, last), ...])); server/range.h is the contract."""
    many = ",".join("%d-%d" % (2 * i, 2 * i) for i in range(10000))
    many_short = ",".join(["-1"] * 10000)
    sixteen = [(1000 * i, 1000 * i + 9) for i in range(16)]
    return [
        # Over GG_MAX_RANGE_HDR_LEN, or over the connection memory (431).
        ("ranges_10000", "bytes=" + many, ("full",)),
        ("ranges_10000_suffix", "bytes=" + many_short, ("full",)),
        # More than GG_MAX_RANGES: the whole entity.
        ("ranges_17", "bytes=" + ",".join("%d-%d" % (i * 10, i * 10) for i in range(17)), ("full",)),
        ("ranges_16", "bytes=" + ",".join("%d-%d" % r for r in sixteen), ("206", sixteen)),
        # Numbers past 64 bits make the header invalid: the whole entity.
        ("first_2^64", "bytes=18446744073709551616-", ("full",)),
        ("last_2^64", "bytes=0-18446744073709551616", ("full",)),
        ("suffix_huge", "bytes=-999999999999999999999999999999", ("full",)),
        ("both_huge", "bytes=99999999999999999999-99999999999999999999", ("full",)),
        ("digits_900", "bytes=0-" + "9" * 900, ("full",)),
        # 2^64-1 fits: past the end, unsatisfiable.
        ("first_2^64-1", "bytes=%d-" % U64, ("416",)),
        ("first_2^64-1_both", "bytes=%d-%d" % (U64, U64), ("416",)),
        ("sat_and_unsat", "bytes=0-0,%d-" % U64, ("206", [(0, 0)])),
        ("last_2^64-1", "bytes=5-%d" % U64, ("206", [(5, size - 1)])),
        ("suffix_2^64-1", "bytes=-%d" % U64, ("206", [(0, size - 1)])),
        # Overlaps adding up to more than the entity: the whole entity.
        ("overlap", "bytes=0-,0-,0-", ("full",)),
        ("negative", "bytes=-5-10", ("full",)),
        ("reversed", "bytes=10-5", ("full",)),
        # MHD hands the value over as a C string: cut at the NUL, "bytes=0-".
        ("nul_in_range", "bytes=0-\x001", ("full", "206_all")),
    ]


def multipart_parts(a):
    """The (first, last, bytes) of each part of a multipart/byteranges body."""
    ct = a.headers.get("content-type", "")
    if "boundary=" not in ct:
        return None
    b = ("--" + ct.split("boundary=", 1)[1].strip()).encode()
    parts = []
    for chunk in a.body.split(b"\r\n" + b)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            return None
        cr = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-range:")]
        if not cr:
            return None
        spec = cr[0].split(b":", 1)[1].strip().split(b" ", 1)[1].split(b"/")[0]
        first, last = (int(x) for x in spec.split(b"-"))
        parts.append((first, last, data))
    return parts


def check_range(a, promise, data):
    """What ggufd answered is what server/range.h promises for this header,
    or a refusal of the header itself (431/400, or closed)."""
    size = len(data)
    if a.hang:
        return False, ""
    if a.status is None:
        return a.closed, ""
    if a.status in (400, 431):
        return True, ""
    if "206_all" in promise and a.status == 206:
        promise = ("206", [(0, size - 1)])
    if promise[0] == "full":
        if a.status != 200:
            return False, "expected 200 with the whole file"
        return a.body == data, "" if a.body == data else "200 with %d other bytes" % len(a.body)
    if promise[0] == "416":
        ok = a.status == 416 and a.headers.get("content-range") == "bytes */%d" % size
        return ok, "" if ok else "expected 416 bytes */%d" % size
    want = promise[1]
    if a.status != 206:
        return False, "expected 206"
    if len(want) == 1:
        f, l = want[0]
        ok = (a.headers.get("content-range") == "bytes %d-%d/%d" % (f, l, size)
              and a.body == data[f:l + 1])
        return ok, "" if ok else "206 with other bytes or Content-Range %s" % \
            a.headers.get("content-range")
    parts = multipart_parts(a)
    ok = parts is not None and [(p[0], p[1]) for p in parts] == want and \
        all(p[2] == data[p[0]:p[1] + 1] for p in parts)
    return ok, "" if ok else "multipart parts differ"


def ranges(src):
    """Range headers on a stored file: 10 000 ranges, overflows, abuse."""
    name = "mid.bin"
    data = filedata(name)
    target = "/%s/resolve/main/%s" % (REPO, name)
    for rnd in range(ROUNDS):
        for case, value, promise in range_cases(len(data)):
            if time.monotonic() > END:
                return
            a = exchange(src, request("GET", target, [("Range", value)]))
            good, why = check_range(a, promise, data)
            report("ranges", case, good, a, why)


TRAVERSALS = [
    ("dotdot_pct", "/%s/resolve/main/%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/etc/passwd" % REPO),
    ("dotdot_slash_pct", "/%s/resolve/main/..%%2f..%%2f..%%2f..%%2fetc%%2fpasswd" % REPO),
    ("dotdot_all_pct", "/%s/resolve/main/%%2e%%2e%%2f%%2e%%2e%%2f%%2e%%2e%%2fetc%%2fpasswd" % REPO),
    ("double_encoded", "/%s/resolve/main/%%252e%%252e%%252f%%252e%%252e%%252fetc%%252fpasswd" % REPO),
    ("double_encoded_rev", "/%s/resolve/%%252e%%252e/config.json" % REPO),
    ("backslash_raw", "/%s/resolve/main/..\\..\\..\\..\\etc\\passwd" % REPO),
    ("backslash_pct", "/%s/resolve/main/..%%5c..%%5c..%%5c..%%5cetc%%5cpasswd" % REPO),
    ("dotdot_raw", "/%s/resolve/main/../../../../etc/passwd" % REPO),
    ("dotdot_root", "/../../../../../etc/passwd"),
    ("dotdot_root_pct", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
    ("rev_dotdot", "/%s/resolve/%%2e%%2e/config.json" % REPO),
    ("repo_dotdot", "/ruv/%2e%2e/resolve/main/config.json"),
    ("ns_dotdot", "/%2e%2e/ruvltra/resolve/main/config.json"),
    ("tree_dotdot", "/api/models/%s/tree/main/%%2e%%2e%%2f%%2e%%2e" % REPO),
    ("api_repo_dotdot", "/api/models/ruv/%2e%2e"),
    ("nul_pct", "/%s/resolve/main/config.json%%00/../../etc/passwd" % REPO),
    ("nul_raw", "/%s/resolve/main/config.json\x00/../../etc/passwd" % REPO),
    ("nul_raw_rev", "/%s/resolve/ma\x00in/config.json" % REPO),
    ("nul_pct_query", "/%s/resolve/main/config.json?download=%%00" % REPO),
    ("utf8_overlong", "/%s/resolve/main/%%c0%%ae%%c0%%ae%%c0%%afetc%%c0%%afpasswd" % REPO),
    ("utf8_raw", "/%s/resolve/main/conf\xffig.json" % REPO),
    ("v2_dotdot", "/v2/%2e%2e/%2e%2e/manifests/latest"),
    ("store_blobs", "/blobs/sha256/../../index/data.mdb"),
    ("ui_dotdot", "/ui/%2e%2e/%2e%2e/etc/passwd"),
]


def traversal(src):
    """Encoded traversal, backslashes and NUL bytes: an error, never a file."""
    for rnd in range(ROUNDS):
        for case, target in TRAVERSALS:
            if time.monotonic() > END:
                return
            a = exchange(src, request("GET", target))
            leak = b"root:" in a.body or b"\x00\x00\x00\x00" in a.body[:64]
            good = error_or_closed(a, set(range(400, 500))) and not leak
            report("traversal", case, good, a, "the body leaks a file" if leak else "")


def bodies(src):
    """Invalid UTF-8 and malformed JSON/NDJSON bodies on the API and gateway."""
    pi = "/api/models/%s/paths-info/main" % REPO
    commit = "/api/models/%s/commit/main" % REPO
    pre = "/api/models/%s/preupload/main" % REPO
    batch = "/%s.git/info/lfs/objects/batch" % REPO
    auth = [("Authorization", "Bearer " + TOKEN)]
    js = [("Content-Type", "application/json")]
    nd = [("Content-Type", "application/x-ndjson")]
    lfs = [("Content-Type", "application/vnd.git-lfs+json"), ("Accept", "application/vnd.git-lfs+json")]
    deep = b"[" * 100000 + b"]" * 100000
    cases = [
        ("pi_bad_json", pi, js, b"{not json"),
        ("pi_truncated", pi, js, b'{"paths": ["config.json", '),
        ("pi_not_utf8", pi, js, b'{"paths": ["conf\xff\xfeig.json"]}'),
        ("pi_overlong_utf8", pi, js, b'{"paths": ["\xc0\xaf\xc0\xafetc"]}'),
        ("pi_surrogate", pi, js, b'{"paths": ["\xed\xa0\x80"]}'),
        ("pi_nul_escape", pi, js, b'{"paths": ["config.json\\u0000x"]}'),
        ("pi_raw_nul", pi, js, b'{"paths": ["config.json\x00x"]}'),
        ("pi_deep", pi, js, deep),
        ("pi_form_bad", pi, [("Content-Type", "application/x-www-form-urlencoded")], b"paths=%FF%zz"),
        ("pi_too_big", pi, js, b'{"paths": ["' + b"a" * (2 << 20) + b'"]}'),
        ("commit_bad_json", commit, auth + nd, b'{"key": "header", "value": {\n{bad\n'),
        ("commit_not_utf8", commit, auth + nd,
         b'{"key":"header","value":{"summary":"x\xff"}}\n'
         b'{"key":"file","value":{"path":"a\xfe.txt","content":"aGk=","encoding":"base64"}}\n'),
        ("commit_deep", commit, auth + nd, deep),
        ("commit_nul", commit, auth + nd,
         b'{"key":"header","value":{"summary":"x"}}\n'
         b'{"key":"file","value":{"path":"a\\u0000.txt","content":"aGk=","encoding":"base64"}}\n'),
        ("preupload_bad_json", pre, auth + js, b'{"files": [{"path": '),
        ("preupload_not_utf8", pre, auth + js,
         b'{"files": [{"path": "\xff.gguf", "size": 1, "sample": "AA=="}]}'),
        ("lfs_batch_bad_json", batch, auth + lfs, b'{"operation": "upload", "objects": [{'),
        ("lfs_batch_not_utf8", batch, auth + lfs, b'{"operation": "upl\xffoad", "objects": []}'),
        ("lfs_batch_deep", batch, auth + lfs, deep),
    ]
    for rnd in range(ROUNDS):
        for case, target, headers, body in cases:
            if time.monotonic() > END:
                return
            a = exchange(src, request("POST", target, headers, body))
            report("bodies", case, error_or_closed(a, set(range(400, 500))), a)


def slowloris(src):
    """CONNS connections that each send a request head a byte a second and
    never end it: the server must close each one (its header deadline)."""
    conns = []
    for i in range(CONNS):
        try:
            s = connect(src)
            s.setblocking(False)
            conns.append([s, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", 0])
        except OSError as e:
            COUNT[1] += 1
            print("BAD slowloris connect %s" % e, flush=True)
    while conns and time.monotonic() < END:
        for c in list(conns):
            s, data, sent = c
            if sent >= len(data):
                data = c[1] = data + b"X-Slow-%d: y\r\n" % sent
            r = None
            try:
                s.send(data[sent:sent + 1])
                c[2] += 1
                r = s.recv(4096)
            except BlockingIOError:
                pass
            except OSError:
                r = b""
            if r is None:
                continue
            a = Answer()
            a.closed = True
            if r.startswith(b"HTTP/"):
                try:
                    a.status = int(r.split()[1])
                except (IndexError, ValueError):
                    a.status = -1
            # A 200 would be an answer to a request that never ended.
            report("slowloris", "byte_a_second", a.status in (None, 400, 408, 431), a,
                   "after %d bytes" % c[2])
            s.close()
            conns.remove(c)
        time.sleep(1.0)
    for s, data, sent in conns:
        a = Answer()
        a.hang = True
        report("slowloris", "byte_a_second", False, a,
               "still open after %d bytes: no header deadline" % sent)
        s.close()


def resets(src):
    """Downloads cut with a RST (SO_LINGER 0, then close) at a random point:
    whole stored files, ranges, multi-ranges, cold files being fetched.
    What came before the cut must be the file's bytes."""
    rng = random.Random(os.getpid())
    big, cold, cold_reset, mid = "big.bin", "cold.bin", "cold-reset.bin", "mid.bin"
    n = 0
    while n < ROUNDS and time.monotonic() < END:
        n += 1
        name = rng.choice([big, big, mid, cold, cold, cold_reset, cold_reset])
        data = filedata(name)
        size = len(data)
        hdrs = []
        first = 0
        kind = rng.choice(["whole", "range", "tail", "multi"]) if name != cold_reset else \
            rng.choice(["whole", "range"])
        if kind == "range":
            first = rng.randrange(size)
            last = min(size - 1, first + rng.randrange(1 << 22))
            hdrs = [("Range", "bytes=%d-%d" % (first, last))]
        elif kind == "tail":
            first = size - 1 - rng.randrange(1 << 20)
            hdrs = [("Range", "bytes=%d-" % first)]
        elif kind == "multi":
            hdrs = [("Range", "bytes=0-99,%d-%d" % (size // 2, size // 2 + 99999))]
        case = "%s_%s" % (name, kind)
        a = Answer()
        try:
            s = connect(src)
        except OSError as e:
            print("BAD resets %s connect %s" % (case, e), flush=True)
            COUNT[1] += 1
            continue
        try:
            s.sendall(request("GET", "/%s/resolve/main/%s" % (REPO, name), hdrs))
            cut = rng.choice([0, 1, rng.randrange(1 << 16), rng.randrange(1 << 21)])
            if cut == 0:
                reset_close(s)  # before any answer
                a.closed = True
                report("resets", case + "_before_answer", True, a)
                continue
            read_answer(s, a, limit=cut)
        except OSError:
            a.closed = True
        reset_close(s)
        good, why = not a.hang, ""
        if a.status in (200, 206) and kind != "multi":
            cr = a.headers.get("content-range", "")
            off = 0
            if a.status == 206:
                try:
                    off = int(cr.split(" ", 1)[1].split("-")[0])
                except (IndexError, ValueError):
                    good, why = False, "206 without a Content-Range"
                if off != first:
                    good, why = False, "206 at %s, %d asked" % (cr, first)
            if a.body != data[off:off + len(a.body)]:
                good, why = False, "the %d bytes before the cut are not the file's" % len(a.body)
        elif a.status is not None and a.status not in (200, 206, 416) and a.status < 500:
            pass  # an error answer
        elif a.status is not None and a.status >= 500:
            good, why = False, "a server error"
        report("resets", case, good, a, why)


def main():
    global PORT, IN, END, TOKEN, ROUNDS, CONNS
    kind, PORT, src, IN, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
        float(sys.argv[5])
    TOKEN = sys.argv[6] if len(sys.argv) > 6 else ""
    ROUNDS = int(os.environ.get("HOSTILE_ROUNDS", "1000"))
    CONNS = int(os.environ.get("HOSTILE_CONNS", "16"))
    END = time.monotonic() + seconds
    {"heads": heads, "ranges": ranges, "traversal": traversal, "bodies": bodies,
     "slowloris": slowloris, "resets": resets}[kind](src)
    print("done %s good %d bad %d" % (kind, COUNT[0], COUNT[1]), flush=True)


COUNT = [0, 0]
FILES = {}
PORT = IN = END = TOKEN = ROUNDS = CONNS = None

if __name__ == "__main__":
    main()
