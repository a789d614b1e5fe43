"""TextWorld speed and memory: game generation (first use) and play through textworld.

    python bench/textworld_speed.py                       # 2 games of each challenge, 20 episodes
    python bench/textworld_speed.py --games 8 --workers 4 --episodes 100

Prints per challenge: generation time per game (only games not cached yet; 'cached'
otherwise), steps/s of env.step for a random and an expert policy, reset time, RSS.
"""

from __future__ import annotations

import argparse
import time

from episodes import play, rss_mb

CONFIGS = {"cooking": ("agent_gym/TextWorld-Cooking-v0", {"level": 2}),
           "coin_collector": ("agent_gym/TextWorld-CoinCollector-v0", {"level": 5})}


def bench(name: str, n_games: int, workers: int, episodes: int) -> dict:
    import gymnasium as gym

    import agent_gym  # noqa: F401
    from agent_gym.textworld import games

    env_id, kwargs = CONFIGS[name]
    row = {"challenge": name}
    env = gym.make(env_id, num_games=n_games, **kwargs).unwrapped
    missing = [i for i in range(n_games) if not (games.game_folder(env.challenge, env.settings, env.split)
                                                 / f"game-{games.seed_of(env.split, i)}.z8").is_file()]
    t0 = time.perf_counter()
    env.prepare(workers=workers)
    row["gen_s_per_game"] = (time.perf_counter() - t0) / len(missing) if missing else None
    for policy in ("random", "expert"):
        env = gym.make(env_id, num_games=n_games, expose_goal=(policy == "expert"), **kwargs).unwrapped
        run = play(env, episodes, policy)  # task i % num_tasks: num_tasks is n_games here
        env.close()
        row[f"{policy}_steps_per_s"] = run["steps"] / run["step_s"]
        row[f"{policy}_reset_ms"] = 1000 * run["reset_s"] / episodes
    row["rss_mb"] = rss_mb()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=20)
    args = parser.parse_args()
    rows = [bench(name, args.games, args.workers, args.episodes) for name in CONFIGS]
    print(f"{'challenge':15} {'gen s/game':>10} {'random st/s':>11} {'expert st/s':>11} {'reset ms':>9} {'RSS MB':>7}")
    for r in rows:
        gen = "cached" if r["gen_s_per_game"] is None else f"{r['gen_s_per_game']:.1f}"
        print(f"{r['challenge']:15} {gen:>10} {r['random_steps_per_s']:>11.0f} {r['expert_steps_per_s']:>11.0f} "
              f"{r['random_reset_ms']:>9.1f} {r['rss_mb']:>7.0f}")


if __name__ == "__main__":
    main()
