"""What the per-benchmark speed scripts share: resident memory, timed episodes, a table.

The scripts run as ``python bench/<name>.py``, which puts this folder on ``sys.path``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of this process (or of ``pid``) in MiB."""
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def play(env, episodes: int, policy: str = "expert", seed: int = 0,
         before_episode: Callable[[int], None] | None = None) -> dict:
    """Play ``episodes`` episodes (task ``i % num_tasks``) with the env's expert
    (``info["expert_action"]``: make the env with ``expose_goal=True``) or uniformly random
    available actions; returns the episodes, steps and seconds spent in ``step`` and ``reset``
    (``wall_s``: all of it, the policy included)."""
    rng = random.Random(seed)
    steps, step_s, reset_s, start = 0, 0.0, 0.0, time.perf_counter()
    for episode in range(episodes):
        if before_episode is not None:
            before_episode(episode)
        t0 = time.perf_counter()
        obs, info = env.reset(options={"task_id": episode % env.num_tasks})
        reset_s += time.perf_counter() - t0
        done = False
        while not done:
            action = info["expert_action"] if policy == "expert" else rng.choice(info["available_actions"])
            t0 = time.perf_counter()
            obs, reward, terminated, truncated, info = env.step(action)
            step_s += time.perf_counter() - t0
            steps += 1
            done = terminated or truncated
    return {"episodes": episodes, "steps": steps, "step_s": step_s, "reset_s": reset_s,
            "wall_s": time.perf_counter() - start}


def median_reset_ms(env, n: int) -> float:
    """Median time of ``n`` resets (tasks ``i % num_tasks``), in milliseconds."""
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        env.reset(options={"task_id": i % env.num_tasks})
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def print_rows(title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column table: what was measured, and its value."""
    width = max(len(k) for k, _ in rows)
    print(f"{title:<{width}}  value")
    print("-" * (width + 14))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
