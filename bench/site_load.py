"""Load benchmark of the WebShop site: many concurrent visitors play whole episodes.

Starts the site in a subprocess (``serve``: waitress when installed, else Flask's threaded
server) on 127.0.0.1, then runs ``--sessions`` client threads for ``--seconds``. Each
client keeps one HTTP/1.1 connection and plays episodes the way a browser does:
``GET /fixed_<i>`` -> ``POST search`` -> first product -> (half the time) an option ->
``Buy Now``, following every redirect. Prints requests, requests/s, p50/p99 latency,
errors (any status other than 2xx/3xx, any exception, any page missing what the episode
needs) and the server's RSS at start and end.

    python bench/site_load.py --sessions 50 --seconds 60 [--port 0] [--products 3000]

Only 127.0.0.1 is ever contacted. ``run_load`` is the core, used by
tests/test_site_load_smoke.py against an in-process server.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]

INSTRUCTION = re.compile(r'<p class="label">Instruction:</p>\s*<p class="text">(.*?)</p>', re.S)
PRODUCT = re.compile(r'class="product-link[^"]*" name="target" value="([^"]+)"')
OPTION = re.compile(r'class="option[^"]*" name="target" value="([^"]*)"')
REWARD = re.compile(r'id="reward-value">([0-9.]+)<')


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    errors: int = 0
    episodes: int = 0
    rewards: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


class EpisodeError(Exception):
    pass


class Visitor:
    """One client: a keep-alive connection, redirects followed by hand, latencies recorded."""

    def __init__(self, host: str, port: int, stats: Stats, lock: threading.Lock, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.stats, self.lock = stats, lock
        self.conn: http.client.HTTPConnection | None = None
        self.latencies: list[float] = []

    def _request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        body = urlencode(form).encode() if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        for attempt in (0, 1):  # a keep-alive connection the server closed is reopened once
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue
            self.latencies.append(time.perf_counter() - start)
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            if not 200 <= resp.status < 400:
                raise EpisodeError(f"{method} {path} -> HTTP {resp.status}")
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        raise AssertionError("unreachable")

    def fetch(self, method: str, path: str, form: dict | None = None) -> tuple[str, str]:
        """The request and its redirects (as a browser: the redirect is a GET); returns (path, html)."""
        for _ in range(5):
            status, headers, text = self._request(method, path, form)
            if status not in (301, 302, 303, 307, 308):
                return path, text
            location = urlsplit(headers.get("location", ""))
            if location.netloc and location.hostname not in ("127.0.0.1", "localhost"):
                raise EpisodeError(f"redirect off loopback: {headers.get('location')!r}")
            path = location.path + (f"?{location.query}" if location.query else "")
            method, form = "GET", None
        raise EpisodeError("too many redirects")

    def episode(self, rng: random.Random, n_tasks: int) -> float:
        path, page = self.fetch("GET", f"/fixed_{rng.randrange(n_tasks)}")
        m = re.match(r"/s/([A-Za-z0-9_-]+)", path)
        instruction = INSTRUCTION.search(page)
        if not m or not instruction or 'id="search_input"' not in page:
            raise EpisodeError(f"no search page at {path}")
        base = f"/s/{m.group(1)}"
        _, page = self.fetch("POST", f"{base}/search", {"q": html.unescape(instruction.group(1))})
        products = PRODUCT.findall(page)
        if not products:
            raise EpisodeError("no products on the results page")
        _, page = self.fetch("POST", f"{base}/click", {"target": products[0]})
        if "btn-buy" not in page:
            raise EpisodeError("no Buy Now on the item page")
        options = OPTION.findall(page)
        if options and rng.random() < 0.5:
            _, page = self.fetch("POST", f"{base}/click", {"target": html.unescape(rng.choice(options))})
        _, page = self.fetch("POST", f"{base}/click", {"target": "buy now"})
        reward = REWARD.search(page)
        if not reward:
            raise EpisodeError("no reward on the done page")
        return float(reward.group(1))

    def run(self, deadline: float, seed: int, n_tasks: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            try:
                reward = self.episode(rng, n_tasks)
            except Exception as exc:  # every failure counts: HTTP status, socket, missing element
                with self.lock:
                    self.stats.errors += 1
                    if len(self.stats.error_samples) < 10:
                        self.stats.error_samples.append(f"{type(exc).__name__}: {exc}")
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
            else:
                with self.lock:
                    self.stats.episodes += 1
                    self.stats.rewards.append(reward)
        if self.conn is not None:
            self.conn.close()
        with self.lock:
            self.stats.latencies.extend(self.latencies)


def run_load(port: int, sessions: int = 50, seconds: float = 60.0, n_tasks: int = 100,
             seed: int = 0, host: str = "127.0.0.1") -> Stats:
    """``sessions`` threads play episodes against http://host:port for ``seconds``."""
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("the load benchmark only talks to 127.0.0.1")
    stats, lock = Stats(), threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds
    threads = [threading.Thread(target=Visitor(host, port, stats, lock).run, args=(deadline, seed + i, n_tasks),
                                daemon=True) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    stats.seconds = time.perf_counter() - start
    if any(t.is_alive() for t in threads):
        stats.errors += sum(t.is_alive() for t in threads)
        stats.error_samples.append("a client thread did not finish in time")
    return stats


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import sys
from agent_gym.webshop import Catalog
from agent_gym.webshop.site.app import serve
catalog = Catalog.synthetic({products}, seed=0, progress=False)
catalog.search_engine()
print("ready", flush=True)
serve(host="127.0.0.1", port={port}, threads={threads}, catalog=catalog, split="test", done_seconds={done_seconds})
"""


def start_server(port: int, products: int = 3000, threads: int = 16, timeout: float = 300.0,
                 done_seconds: float = 120.0) -> subprocess.Popen:
    """The site in a subprocess; returns once it answers on 127.0.0.1:port."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("AGENT_GYM_CACHE", str(ROOT / ".cache" / "bench"))
    # the server's output goes to a file, never to an unread pipe: a full pipe would block the
    # server on its next log line (waitress warns about its queue depth under load)
    log = tempfile.NamedTemporaryFile("w+", prefix="site_load_server_", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(products=products, port=port, threads=threads, done_seconds=done_seconds)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log_path = log.name
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {Path(log.name).read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/fixed_0")
            if conn.getresponse().status == 302:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the server did not answer on port {port} within {timeout:.0f} s")


def server_name() -> str:
    try:
        import waitress  # noqa: F401
    except ImportError:
        return "werkzeug threaded (waitress not installed)"
    return "waitress"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--products", type=int, default=3000, help="size of the synthetic catalog")
    p.add_argument("--threads", type=int, default=16, help="server worker threads (waitress)")
    p.add_argument("--tasks", type=int, default=100, help="episodes draw /fixed_<i> from the first TASKS tasks")
    p.add_argument("--warmup", type=float, default=20.0, help="seconds of load before the warm RSS reading")
    p.add_argument("--done-seconds", type=float, default=10.0,
                   help="how long the server keeps a finished visit (default 10 here, 120 in agent-gym serve): "
                        "shorter than the run, so that the steady state is reached within it")
    args = p.parse_args(argv)

    import psutil

    port = args.port or free_port()
    t0 = time.perf_counter()
    proc = start_server(port, args.products, args.threads, done_seconds=args.done_seconds)
    print(f"server ({server_name()}, {args.threads} threads, {args.products} products) up on "
          f"127.0.0.1:{port} in {time.perf_counter() - t0:.1f} s; pid {proc.pid}", flush=True)
    try:
        server = psutil.Process(proc.pid)
        rss_start = server.memory_info().rss
        # RSS sampled every second: the JVM heap and the caches grow during the first seconds
        # of load and then level off, so "flat" compares the end with the level after warm-up
        samples: list[tuple[float, int]] = []
        stop = threading.Event()

        def sample() -> None:
            t_start = time.perf_counter()
            while not stop.wait(1.0):
                try:
                    samples.append((time.perf_counter() - t_start, server.memory_info().rss))
                except psutil.Error:
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stats = run_load(port, args.sessions, args.seconds, n_tasks=args.tasks)
        stop.set()
        sampler.join()
        rss_end = server.memory_info().rss
        warm = [rss for t, rss in samples if t >= args.warmup] or [rss_end]
        rss_warm = warm[0]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    mean_reward = sum(stats.rewards) / len(stats.rewards) if stats.rewards else float("nan")
    rows = [
        ("sessions", f"{args.sessions}"),
        ("seconds", f"{stats.seconds:.1f}"),
        ("episodes", f"{stats.episodes}"),
        ("mean reward", f"{mean_reward:.3f}"),
        ("requests", f"{stats.requests}"),
        ("requests/s", f"{stats.requests / stats.seconds:.1f}"),
        ("p50 latency ms", f"{stats.percentile(50) * 1000:.1f}"),
        ("p99 latency ms", f"{stats.percentile(99) * 1000:.1f}"),
        ("errors", f"{stats.errors}"),
        ("server RSS before load MiB", f"{rss_start / 2**20:.0f}"),
        (f"server RSS after {args.warmup:.0f} s warm-up MiB", f"{rss_warm / 2**20:.0f}"),
        ("server RSS end MiB", f"{rss_end / 2**20:.0f}"),
        ("server RSS growth after warm-up MiB", f"{(rss_end - rss_warm) / 2**20:+.0f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"| {'metric':<{width}} | value |\n|{'-' * (width + 2)}|-------|")
    for k, v in rows:
        print(f"| {k:<{width}} | {v} |")
    for sample in stats.error_samples:
        print(f"  error: {sample}")
    log = Path(proc.log_path)
    warnings = [line for line in log.read_text(errors="replace").splitlines() if "WARNING" in line or "ERROR" in line]
    if warnings:
        print(f"server log {log}: {len(warnings)} warning/error lines, last: {warnings[-1]}")
    else:
        log.unlink(missing_ok=True)
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
