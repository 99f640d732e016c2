"""Load and abuse test of `convkit lab` from a second process on 127.0.0.1 (standard library only).

    python3 scripts/lab_load_test.py [--binary .build/release/convkit] [--requests 12000] [--workers 8]

Starts the lab on a free port, then sends a mix of valid and malformed requests from several
threads (keep-alive connections), while other sockets misbehave: slow clients that trickle a
request one byte at a time, bodies that stall half-way, connections dropped mid-request, raw
garbage instead of HTTP. Every answer's status must be the expected one, the server must keep
answering and stay alive, and its resident memory must stay bounded. Prints a summary and
exits non-zero on any failure.
"""
import argparse, http.client, json, os, random, socket, subprocess, sys, threading, time

GRID8 = [[(i * 8 + j) % 5 for j in range(8)] for i in range(8)]
DIGIT = [0.0] * 784
for r in range(6, 22):
    DIGIT[r * 28 + 14] = 1.0

# (name, method, path, body, headers, expected status, weight)
JSON = {"Content-Type": "application/json"}
CASES = [
    ("page", "GET", "/", None, {}, 200, 4),
    ("page playground", "GET", "/playground.html", None, {}, 200, 2),
    ("script", "GET", "/lab.js", None, {}, 200, 2),
    ("convolve", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "sobel-x"}, {"name": "gaussian", "sigma": 1}], "padding": 1}, JSON, 200, 10),
    ("steps", "POST", "/api/steps", {"input": GRID8, "kernel": {"name": "laplacian"}, "stride": 2}, JSON, 200, 6),
    ("transposed", "POST", "/api/transposed", {"input": [[1, 2], [3, 4]], "kernel": {"matrix": [[1, 0], [0, 1]]}, "stride": 2}, JSON, 200, 3),
    ("receptive field", "POST", "/api/receptive-field", {"layers": [{"kind": "conv", "kernel": 3}, {"kind": "pool", "kernel": 2, "stride": 2}]}, JSON, 200, 4),
    ("params", "GET", "/api/params?hidden=500&kernel=5", None, {}, 200, 4),
    ("conv1d params", "GET", "/api/conv1d-params?in=17&out=64&kernel=3", None, {}, 200, 2),
    ("connectivity", "GET", "/api/connectivity?size=4&kernel=3", None, {}, 200, 2),
    ("models", "GET", "/api/models", None, {}, 200, 2),
    ("predict", "POST", "/api/digit/predict", {"pixels": DIGIT, "features": True}, JSON, 200, 4),
    ("explain", "POST", "/api/digit/explain", {"pixels": DIGIT, "method": "gradcam"}, JSON, 200, 2),
    ("occlusion", "POST", "/api/digit/explain", {"pixels": DIGIT, "method": "occlusion", "target": 3}, JSON, 200, 1),
    ("status", "GET", "/api/digit/status", None, {}, 200, 2),
    ("quick checks", "GET", "/api/quick-checks?page=params", None, {}, 200, 2),
    ("quick check", "POST", "/api/quick-check", {"id": "receptive-field", "values": {"layers": 5}}, JSON, 200, 2),
    # Malformed and hostile requests, each with the answer it must get.
    ("bad json", "POST", "/api/convolve", b"{\"input\": [[1,2],", JSON, 400, 4),
    ("not json at all", "POST", "/api/steps", b"\x00\xff\xfe garbage", JSON, 400, 2),
    ("invalid utf-8 in a string", "POST", "/api/convolve", b"{\"input\": [[1]], \"kernels\": [{\"name\": \"\xff\xfe\"}]}", JSON, 400, 2),
    ("deep nesting", "POST", "/api/convolve", b"[" * 50000 + b"]" * 50000, JSON, 400, 1),
    ("wrong types", "POST", "/api/convolve", {"input": "zeros", "kernels": 3}, JSON, 400, 3),
    ("missing field", "POST", "/api/steps", {"kernel": {"name": "box"}}, JSON, 400, 2),
    ("ragged grid", "POST", "/api/convolve", {"input": [[1, 2], [3]], "kernels": [{"name": "box"}]}, JSON, 400, 2),
    ("huge grid", "POST", "/api/convolve", {"input": [[0] * 300] * 300, "kernels": [{"name": "box"}]}, JSON, 400, 1),
    ("non-finite", "POST", "/api/convolve", b"{\"input\": [[1e999]], \"kernels\": [{\"name\": \"box\"}]}", JSON, 400, 2),
    ("unknown kernel", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "nope"}]}, JSON, 400, 2),
    ("impossible geometry", "POST", "/api/convolve", {"input": [[1]], "kernels": [{"name": "box"}], "dilation": 8}, JSON, 422, 2),
    ("bad query", "GET", "/api/params?hidden=abc", None, {}, 400, 2),
    ("predict wrong size", "POST", "/api/digit/predict", {"pixels": [0.5] * 10}, JSON, 400, 2),
    ("quick check out of range", "POST", "/api/quick-check", {"id": "fc-weights", "values": {"units": -1}}, JSON, 422, 1),
    ("explain unknown method", "POST", "/api/digit/explain", {"pixels": DIGIT, "method": "<b>x</b>"}, JSON, 400, 1),
    ("explain class out of range", "POST", "/api/digit/explain", {"pixels": DIGIT, "target": 10 ** 18}, JSON, 422, 1),
    ("text/plain", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "box"}]}, {"Content-Type": "text/plain"}, 415, 2),
    ("form post", "POST", "/api/receptive-field", b"layers=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415, 2),
    ("oversized body", "POST", "/api/convolve", b"[" + b"0," * (700 * 1024) + b"0]", JSON, 413, 1),
    ("foreign host", "GET", "/api/models", None, {"Host": "evil.example"}, 403, 2),
    ("foreign origin", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "box"}]}, {**JSON, "Origin": "http://evil.example"}, 403, 2),
    ("missing page", "GET", "/nothing-here.html", None, {}, 404, 2),
    # Issue 16: numbers that used to kill the server or grow it to gigabytes, and Origin: null.
    ("gaussian sigma 1e9", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "gaussian", "sigma": 1e9}]}, JSON, 422, 2),
    ("gaussian sigma -1", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "gaussian", "sigma": -1}]}, JSON, 422, 2),
    ("blob sigma 10000", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "blob", "sigma": 10000}]}, JSON, 422, 2),
    ("huge padding", "POST", "/api/convolve", {"input": GRID8, "kernels": [{"name": "box"}], "padding": 99999999999}, JSON, 422, 1),
    ("origin null", "POST", "/api/digit/weights", b"x", {**JSON, "Origin": "null"}, 403, 2),
    ("missing endpoint", "GET", "/api/nothing", None, {}, 404, 1),
    ("path traversal", "GET", "/../../etc/passwd", None, {}, 400, 1),
    ("wrong method", "DELETE", "/api/convolve", None, {}, 404, 1),
]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.by_case = {}
        self.failures = []
        self.latencies = []

    def record(self, name, ok, detail, seconds):
        with self.lock:
            self.count += 1
            done, bad = self.by_case.get(name, (0, 0))
            self.by_case[name] = (done + 1, bad + (0 if ok else 1))
            self.latencies.append(seconds)
            if not ok and len(self.failures) < 20:
                self.failures.append(f"{name}: {detail}")


def worker(port, quota, seed, stats, weights):
    rng = random.Random(seed)
    connection = None
    for _ in range(quota):
        name, method, path, body, headers, expected, _w = rng.choices(CASES, weights=weights)[0]
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.perf_counter()
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            ok = response.status == expected
            if ok and expected >= 400 and response.getheader("Content-Type", "").startswith("application/json"):
                ok = "error" in json.loads(payload)  # API errors say what was wrong
            stats.record(name, ok, f"status {response.status}, expected {expected}: {payload[:160]!r}", time.perf_counter() - start)
            if response.getheader("Connection", "").lower() == "close" or response.will_close:
                connection.close()
                connection = None
        except (ConnectionError, http.client.HTTPException, OSError) as e:
            # Refusing an oversized body may close the connection before the whole body is sent.
            ok = name == "oversized body"
            stats.record(name, ok, f"connection error {e!r}", time.perf_counter() - start)
            connection.close()
            connection = None
    if connection:
        connection.close()


def slow_client(port, stop, stats, byte_interval):
    """Trickles a valid request one byte at a time; the server must not wait for it with others."""
    request = (b"POST /api/receptive-field HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Content-Length: 40\r\n\r\n{\"layers\": [{\"kind\":\"conv\",\"kernel\":3}]}")
    while not stop.is_set():
        s = socket.create_connection(("127.0.0.1", port), timeout=90)
        try:
            for b in request:
                if stop.is_set():
                    break
                s.sendall(bytes([b]))
                time.sleep(byte_interval)
            else:
                reply = s.recv(4096)
                stats.record("slow client", reply.startswith(b"HTTP/1.1 200"), repr(reply[:60]), 0)
        except OSError:
            pass  # closed by the server's idle timeout: fine
        finally:
            s.close()


def misbehaving_connections(port, rounds, stats):
    """Raw-socket abuse: garbage, stalled bodies, dropped connections, header floods."""
    cases = [
        ("garbage request line", b"GARBAGE\r\n\r\n", b"HTTP/1.1 400"),
        ("binary noise", bytes(random.Random(1).randrange(256) for _ in range(2048)), None),
        ("header flood", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Junk: " + b"a" * 200_000 + b"\r\n\r\n", None),
        ("stalled body", b"POST /api/convolve HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"in", None),
        ("dropped mid-headers", b"GET /api/models HTTP/1.1\r\nHo", None),
    ]
    for i in range(rounds):
        name, data, expect = cases[i % len(cases)]
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(data)
            if expect:
                reply = s.recv(4096)
                stats.record(name, reply.startswith(expect), repr(reply[:60]), 0)
            else:
                stats.record(name, True, "", 0)  # the check is that the server survives and keeps answering
        except OSError:
            stats.record(name, True, "", 0)
        finally:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST, not FIN
            s.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/convkit")
    parser.add_argument("--requests", type=int, default=12000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--slow-clients", type=int, default=32)
    parser.add_argument("--rss-limit-mb", type=int, default=200, help="allowed growth of the server's RSS after warm-up")
    args = parser.parse_args()

    server = subprocess.Popen([args.binary, "lab", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = server.stdout.readline().decode()
    if "http://" not in line:
        print("the lab did not start:", line, server.stderr.read().decode()[:500])
        return 1
    port = int(line.strip().rstrip("/").rsplit(":", 1)[1])
    print(f"lab on port {port}, pid {server.pid}")
    stats = Stats()
    weights = [c[6] for c in CASES]

    # Warm up (first requests build the digit model, load pages), then measure memory.
    worker(port, 200, 0, stats, weights)
    baseline = rss_kb(server.pid)

    stop = threading.Event()
    slow = [threading.Thread(target=slow_client, args=(port, stop, stats, 0.25), daemon=True) for _ in range(args.slow_clients)]
    for t in slow:
        t.start()
    abuse = threading.Thread(target=misbehaving_connections, args=(port, 500, stats))
    abuse.start()
    start = time.time()
    per_worker = args.requests // args.workers
    threads = [threading.Thread(target=worker, args=(port, per_worker, 100 + i, stats, weights)) for i in range(args.workers)]
    samples = []
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        samples.append(rss_kb(server.pid))
        time.sleep(0.5)
    for t in threads:
        t.join()
    abuse.join()
    elapsed = time.time() - start

    # With the slow clients still trickling, the server must answer a fresh request at once.
    probe = Stats()
    worker(port, 20, 7, probe, [1 if c[0] == "convolve" else 0 for c in CASES])
    stop.set()
    peak = max(samples + [rss_kb(server.pid)])
    alive = server.poll() is None
    server.terminate()
    server.wait(timeout=10)

    print(f"{stats.count} requests in {elapsed:.1f} s ({stats.count / elapsed:.0f}/s) from {args.workers} workers, "
          f"{args.slow_clients} slow clients, 500 misbehaving connections")
    latencies = sorted(stats.latencies)
    print(f"latency p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")
    print(f"server RSS: {baseline // 1024} MB after warm-up, peak {peak // 1024} MB")
    for name, (done, bad) in sorted(stats.by_case.items()):
        print(f"  {name:28} {done:6}  {'ok' if bad == 0 else f'{bad} WRONG'}")
    problems = list(stats.failures)
    if probe.failures or probe.count != 20:
        problems.append(f"probe during slow clients failed: {probe.failures}")
    if not alive:
        problems.append("the server died")
    if stats.count < 10000:
        problems.append(f"only {stats.count} requests")
    if (peak - baseline) // 1024 > args.rss_limit_mb:
        problems.append(f"RSS grew by {(peak - baseline) // 1024} MB (limit {args.rss_limit_mb})")
    for p in problems:
        print("FAIL:", p)
    print("lab load test:", "passed" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
