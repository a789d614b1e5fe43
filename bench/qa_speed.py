"""Multi-hop QA speed and memory on the generated set.

    python bench/qa_speed.py                 # 2000 steps of each kind
    python bench/qa_speed.py --steps 5000

Prints: time to generate the set, to build the BM25 index (in a fresh temporary cache), to
start the JVM and answer the first BM25 search, reset time, steps/s for exact-title searches
(what the expert does), BM25 searches (titles that do not exist, uncached queries), lookups
and whole expert episodes, and RSS before and after.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from episodes import median_reset_ms, print_rows, rss_mb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=2000)
    args = p.parse_args()
    os.environ["AGENT_GYM_CACHE"] = tempfile.mkdtemp(prefix="qa-bench-")
    rows = []
    rss0 = rss_mb()
    t0 = time.perf_counter()
    import agent_gym  # noqa: F401
    from agent_gym.qa.env import MultiHopQAEnv, _generated

    ds = _generated(0)
    rows.append(("generate the set (3,000 questions, 1,708 documents)", f"{time.perf_counter() - t0:.2f} s"))
    t0 = time.perf_counter()
    from agent_gym.qa.retrieval import index_dir_for
    from agent_gym.core import lucene

    docs = ((str(i), f"{d.title}. {d.text}") for i, d in enumerate(ds.documents))
    lucene.build_index(docs, index_dir_for(ds), threads=1, progress=False)
    rows.append(("build the BM25 index (child JVM)", f"{time.perf_counter() - t0:.2f} s"))
    env = MultiHopQAEnv(split="train", expose_goal=True, max_steps=10**6)
    env.reset(options={"task_id": 0})
    t0 = time.perf_counter()
    env.step("search[an entity that is not a title]")
    rows.append(("first BM25 search (starts the JVM, opens the index)", f"{time.perf_counter() - t0:.2f} s"))

    rows.append(("reset (median)", f"{median_reset_ms(env, 200):.3f} ms"))

    titles = [d.title for d in ds.documents]
    env.reset(options={"task_id": 0})
    t0 = time.perf_counter()
    for i in range(args.steps):
        env.step(f"search[{titles[i % len(titles)]}]")
    rows.append(("steps/s: search an exact title", f"{args.steps / (time.perf_counter() - t0):,.0f}"))
    t0 = time.perf_counter()
    for i in range(args.steps):
        env.step(f"search[{titles[i % len(titles)]} and {titles[(7 * i) % len(titles)]} {i}]")
    rows.append(("steps/s: search by BM25 (uncached queries)", f"{args.steps / (time.perf_counter() - t0):,.0f}"))
    env.step(f"search[{titles[500]}]")
    t0 = time.perf_counter()
    for i in range(args.steps):
        env.step(("lookup[in]", "lookup[born]", "lookup[the]")[i % 3])
    rows.append(("steps/s: lookup", f"{args.steps / (time.perf_counter() - t0):,.0f}"))
    n_steps, t0 = 0, time.perf_counter()
    episodes = 0
    while n_steps < args.steps:
        obs, info = env.reset(options={"task_id": episodes % env.num_tasks})
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(info["expert_action"])
            n_steps += 1
            done = term or trunc
        episodes += 1
    rows.append(("steps/s: expert episodes (reset included)", f"{n_steps / (time.perf_counter() - t0):,.0f}"))
    rows.append(("RSS before import / after all", f"{rss0:.0f} MB / {rss_mb():.0f} MB"))
    print_rows("MultiHopQA-v0 (generated set)", rows)


if __name__ == "__main__":
    main()
