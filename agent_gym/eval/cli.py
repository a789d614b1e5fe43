"""The ``agent-gym`` command line."""

from __future__ import annotations

import argparse
import sys
import time

from tqdm.auto import tqdm


def _catalog(args):
    from agent_gym.webshop import Catalog

    if args.catalog:
        return Catalog.from_folder(args.catalog, seed=args.seed)
    return Catalog.synthetic(args.products, seed=args.seed)


def cmd_build(args) -> int:
    t0 = time.perf_counter()
    catalog = _catalog(args)
    t1 = time.perf_counter()
    catalog.search_engine()
    t2 = time.perf_counter()
    print(f"catalog: {catalog.folder} ({len(catalog)} products; built/opened in {t1 - t0:.1f} s)")
    print(f"index:   {catalog.index_dir} (ready in {t2 - t1:.1f} s)")
    for kind in ("human", "synthetic"):
        sizes = ", ".join(f"{s} {catalog.num_goals(kind, s)}" for s in ("test", "eval", "train"))
        print(f"{kind} goals: {sizes}")
    return 0


def run_episodes(env, agent, task_ids, progress: bool = True, desc: str = "episodes"):
    """Run ``agent`` on each task; returns one dict per episode."""
    out = []
    for task_id in tqdm(task_ids, desc=desc, unit=" ep", disable=not progress):
        obs, info = env.reset(options={"task_id": task_id})
        agent.reset(info["instruction"], info)
        reward, steps, invalid, done = 0.0, 0, 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            steps += 1
            invalid += bool(info["invalid_action"])
            done = terminated or truncated
        out.append({"task_id": task_id, "reward": reward, "won": bool(info.get("won")), "steps": steps,
                    "invalid": invalid, "reward_info": info.get("reward_info", {})})
    return out


def cmd_demo(args) -> int:
    import gymnasium as gym

    import agent_gym  # noqa: F401
    from baselines.rule import RuleAgent

    catalog = _catalog(args)
    print(f"catalog: {catalog} ; building/opening the search index ...", flush=True)
    catalog.search_engine()
    env = gym.make("agent_gym/WebShop-v0", catalog=catalog, split=args.split, goals=args.goals)
    n = min(args.n, env.unwrapped.num_tasks)
    t0 = time.perf_counter()
    episodes = run_episodes(env, RuleAgent(), range(n), desc=f"rule on {args.split}")
    elapsed = time.perf_counter() - t0
    steps = sum(e["steps"] for e in episodes)
    score = 100 * sum(e["reward"] for e in episodes) / n
    success = 100 * sum(e["won"] for e in episodes) / n
    print()
    print("| agent | env | catalog | split | episodes | score | success rate | mean steps | steps/s |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    source = catalog.meta.get("source")
    print(f"| rule | WebShop-v0 | {source} ({len(catalog)} products) | {args.split} | {n} | {score:.1f} | "
          f"{success:.1f}% | {steps / n:.2f} | {steps / elapsed:.0f} |")
    print("\nPublished on the original 1.18M-product catalog (Yao et al., 2022): rule 45.6 / 9.6%.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agent-gym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def catalog_args(p):
        p.add_argument("--catalog", help="folder with the original WebShop files (default: the synthetic catalog)")
        p.add_argument("--products", type=int, default=10_000, help="size of the synthetic catalog (default 10000)")
        p.add_argument("--seed", type=int, default=0, help="catalog seed (default 0)")

    p = sub.add_parser("build", help="build (or open) a catalog and its search index")
    catalog_args(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("demo", help="build the default catalog and index, run the rule baseline, print scores")
    catalog_args(p)
    p.add_argument("--split", default="test", choices=("train", "eval", "test"))
    p.add_argument("--goals", default="human", choices=("human", "synthetic"))
    p.add_argument("-n", "--n", type=int, default=500, help="number of tasks (default: the 500 test tasks)")
    p.set_defaults(func=cmd_demo)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
