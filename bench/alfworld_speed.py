"""ALFWorld speed and memory: the generated games on the Python engine and, for comparison,
the same games through textworld's PDDL engine (as ALFWorld plays its official files).

    python bench/alfworld_speed.py                    # python backend, 200 episodes; pddl, 3 episodes
    python bench/alfworld_speed.py --episodes 1000 --pddl-episodes 0

Prints one row per backend and policy: steps/s (env.step only, with info), reset time
(mean), RSS after the run, RSS growth from the first to the last quarter of the episodes.
"""

from __future__ import annotations

import argparse
import time

from episodes import play, rss_mb


def run(backend: str, policy: str, episodes: int, split: str = "test") -> dict:
    import gymnasium as gym

    import agent_gym  # noqa: F401

    env = gym.make("agent_gym/ALFWorld-v0", split=split, backend=backend, expose_goal=(policy == "expert")).unwrapped
    quarter_rss = []

    def sample_rss(episode: int) -> None:
        if episode in (episodes // 4, episodes - 1):
            quarter_rss.append(rss_mb())

    run = play(env, episodes, policy, before_episode=sample_rss)
    env.close()
    growth = quarter_rss[-1] - quarter_rss[0] if len(quarter_rss) == 2 else 0.0
    return {"backend": backend, "policy": policy, "episodes": episodes, "steps": run["steps"],
            "steps_per_s": run["steps"] / run["step_s"], "reset_ms": 1000 * run["reset_s"] / episodes,
            "rss_mb": rss_mb(), "rss_growth_mb": growth}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--pddl-episodes", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    import agent_gym  # noqa: F401
    import_s = time.perf_counter() - t0
    rows = [run("python", "random", args.episodes), run("python", "expert", args.episodes)]
    if args.pddl_episodes:
        rows.append(run("pddl", "expert", args.pddl_episodes))
    print(f"import agent_gym: {import_s:.2f} s")
    print(f"{'backend':8} {'policy':7} {'episodes':>8} {'steps':>7} {'steps/s':>9} {'reset ms':>9} "
          f"{'RSS MB':>7} {'growth MB':>9}")
    for r in rows:
        print(f"{r['backend']:8} {r['policy']:7} {r['episodes']:>8} {r['steps']:>7} {r['steps_per_s']:>9.0f} "
              f"{r['reset_ms']:>9.2f} {r['rss_mb']:>7.0f} {r['rss_growth_mb']:>9.1f}")


if __name__ == "__main__":
    main()
