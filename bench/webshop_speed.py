"""WebShop speed and memory, on the 1k sample and on synthetic catalogs.

    python bench/webshop_speed.py                       # 1k sample, 100k, 1,181,436
    python bench/webshop_speed.py --sizes 1k,100k --episodes 2000

For each catalog it prints: build time (catalog + Lucene index, first run only; a cached
catalog reports 'cached'), open time, RSS after opening, search latency p50/p99, env
steps/s on a scripted episode (search, click the first result, choose an option, buy),
reset time, time from ``import agent_gym`` to the first observation (a fresh process with
a built index), and RSS growth over many episodes. Each measurement runs in a fresh
process so that RSS figures are not polluted by the previous catalog.

Targets (2-core machine): >= 500 steps/s on the 1k sample (the original: 20-37), first
observation <= 3 s after import (the original: 8-14 s), the 1.18M catalog opened in
<= 10 s within 2 GB RSS (the original: 30-90 s, about 15 GB), no memory growth.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "webshop-1k"
FULL_SIZE = 1_181_436


def _catalog(spec: str):
    from agent_gym.webshop import Catalog

    if spec == "1k":
        return Catalog.from_folder(SAMPLE, progress=False)
    return Catalog.synthetic(int(spec), progress=True)


def _goal_kind(catalog) -> str:
    return "human" if catalog.num_goals("human", "test") else "synthetic"


def measure_build(spec: str) -> dict:
    from agent_gym.core.cache import cache_root

    existed = spec != "1k" and any((cache_root() / "catalogs").glob(f"synthetic-*-n{spec}-s0/catalog.sqlite"))
    t0 = time.perf_counter()
    catalog = _catalog(spec)
    t1 = time.perf_counter()
    fresh_index = not (catalog.index_dir.exists())
    catalog.search_engine()
    t2 = time.perf_counter()
    if spec == "1k":
        existed = t1 - t0 < 1.0  # the sample's cache key is a digest: a cached one opens at once
    return {"catalog_build_s": None if existed else t1 - t0, "index_build_s": (t2 - t1) if fresh_index else None,
            "n_products": len(catalog), "folder": str(catalog.folder)}


def measure_run(spec: str, episodes: int) -> dict:
    import gymnasium as gym
    import psutil

    import agent_gym  # noqa: F401
    from agent_gym.webshop import Catalog

    proc = psutil.Process()
    folder = json.loads(os.environ["BENCH_FOLDER"])
    t0 = time.perf_counter()
    catalog = Catalog.open(folder)
    engine = catalog.search_engine()
    open_s = time.perf_counter() - t0
    rss_open = proc.memory_info().rss
    kind = _goal_kind(catalog)
    env = gym.make("agent_gym/WebShop-v0", catalog=catalog, goals=kind, split="test").unwrapped
    n_tasks = env.num_tasks

    # search latency on the goals' instructions (cold: first time each query is seen)
    lat = []
    for i in range(min(200, n_tasks)):
        q = catalog.goal(kind, "test", i)["instruction_text"]
        s = time.perf_counter()
        engine.search(q + f" {i}", k=50)
        lat.append(time.perf_counter() - s)
    lat.sort()

    def episode(task_id: int) -> int:
        obs, info = env.reset(options={"task_id": task_id})
        obs, r, te, tr, info = env.step(f"search[{info['instruction']}]")
        first = next(a for a in info["available_actions"] if a.startswith("click[b0"))
        obs, r, te, tr, info = env.step(first)
        opts = [a for a in info["available_actions"] if a not in
                ("click[back to search]", "click[< prev]", "click[description]", "click[features]",
                 "click[reviews]", "click[buy now]")]
        steps = 2
        if opts:
            env.step(opts[0])
            steps += 1
        env.step("click[buy now]")
        return steps + 1

    for i in range(20):  # warm up
        episode(i % n_tasks)
    resets = []
    for i in range(200):
        s = time.perf_counter()
        env.reset(options={"task_id": i % n_tasks})
        resets.append(time.perf_counter() - s)
    # steps/s with searches the engine has not cached: each episode's task is new until wrap-around
    t = time.perf_counter()
    steps = sum(episode(i % n_tasks) for i in range(min(episodes, 500)))
    steps_per_s = steps / (time.perf_counter() - t)
    rss_before = proc.memory_info().rss
    t = time.perf_counter()
    total = 0
    for i in range(episodes):
        total += episode(i % n_tasks)
    loop_s = time.perf_counter() - t
    rss_after = proc.memory_info().rss
    return {
        "open_s": open_s, "rss_open_mb": rss_open / 2**20,
        "search_p50_ms": 1000 * lat[len(lat) // 2], "search_p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "steps_per_s": steps_per_s, "steps_per_s_long": total / loop_s,
        "reset_ms": 1000 * statistics.median(resets),
        "rss_growth_mb": (rss_after - rss_before) / 2**20, "episodes": episodes,
        "rss_end_mb": rss_after / 2**20,
    }


def measure_first_obs(folder: str) -> float:
    code = (
        "import time; t=time.perf_counter(); import gymnasium as gym, agent_gym; "
        "from agent_gym.webshop import Catalog; "
        f"c=Catalog.open({folder!r}); "
        "k='human' if c.num_goals('human','test') else 'synthetic'; "
        "env=gym.make('agent_gym/WebShop-v0', catalog=c, goals=k); obs,_=env.reset(options={'task_id':0}); "
        "env.step('search[shirt]'); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _child(what: str, spec: str, episodes: int, folder: str | None = None) -> dict:
    env = dict(os.environ)
    if folder:
        env["BENCH_FOLDER"] = json.dumps(folder)
    code = f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.webshop_speed import *; print('RESULT', json.dumps(measure_{what}({spec!r}{', ' + str(episodes) if what == 'run' else ''})))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{what} {spec} failed:\n{out.stderr[-3000:]}")
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=f"1k,100000,{FULL_SIZE}", help="comma list: 1k (the shared sample) and/or product counts")
    ap.add_argument("--episodes", type=int, default=10_000, help="episodes for the memory-growth loop")
    args = ap.parse_args()
    rows = []
    for spec in args.sizes.split(","):
        spec = spec.strip()
        if spec == "1k" and not SAMPLE.is_dir():
            print(f"skipping 1k: {SAMPLE} not found", file=sys.stderr)
            continue
        print(f"[{spec}] building / opening ...", file=sys.stderr, flush=True)
        build = _child("build", spec, 0)
        print(f"[{spec}] running {args.episodes} episodes ...", file=sys.stderr, flush=True)
        run = _child("run", spec, args.episodes, build["folder"])
        first = measure_first_obs(build["folder"])
        rows.append((spec, build, run, first))

    def fmt(x, spec="{:.1f}"):
        return "cached" if x is None else spec.format(x)

    print("| catalog | products | catalog build s | index build s | open s | RSS open MB | search p50 ms | "
          "search p99 ms | steps/s | reset ms | import->first obs s | RSS growth MB (episodes) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spec, b, r, first in rows:
        name = "webshop-1k sample" if spec == "1k" else f"synthetic {int(spec):,}"
        print(f"| {name} | {b['n_products']:,} | {fmt(b['catalog_build_s'])} | {fmt(b['index_build_s'])} | "
              f"{r['open_s']:.2f} | {r['rss_open_mb']:.0f} | {r['search_p50_ms']:.1f} | {r['search_p99_ms']:.1f} | "
              f"{r['steps_per_s']:.0f} | {r['reset_ms']:.2f} | {first:.2f} | "
              f"{r['rss_growth_mb']:+.1f} ({r['episodes']:,}) |")
    one_k = next((r for s, b, r, f in rows if s == "1k"), None)
    if one_k:
        print(f"\nsteps/s on the 1k sample vs the original's 20-37: x{one_k['steps_per_s'] / 37:.0f} to x{one_k['steps_per_s'] / 20:.0f}")


if __name__ == "__main__":
    main()
