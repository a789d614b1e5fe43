"""A 3-second, 5-visitor run of bench/site_load.py's core against an in-process server: no errors."""

import importlib.util
import sys
import threading
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "site_load.py"


def _bench():
    spec = importlib.util.spec_from_file_location("site_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_site_load_smoke(small_catalog):
    from werkzeug.serving import make_server

    from agent_gym.webshop.site import create_app

    bench = _bench()
    server = make_server("127.0.0.1", 0, create_app(catalog=small_catalog, split="test"), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stats = bench.run_load(server.server_port, sessions=5, seconds=3.0, n_tasks=20)
    finally:
        server.shutdown()
        thread.join(timeout=20)
    assert stats.errors == 0, stats.error_samples
    assert stats.episodes >= 5 and stats.requests >= 8 * stats.episodes
    assert all(0.0 <= r <= 1.0 for r in stats.rewards)
    assert stats.percentile(50) <= stats.percentile(99)
