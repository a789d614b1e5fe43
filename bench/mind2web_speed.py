"""Mind2Web speed and memory: the demo set and pages the size of the real ones.

    python bench/mind2web_speed.py
    python bench/mind2web_speed.py --episodes 2000 --page-kb 150

Prints: time to generate the demo set, steps/s of expert episodes with the ``html`` and
``choices`` observations on the first visit of each page (parsed and rendered) and replayed
(a step's rendering is kept on the step: GRPO-style groups replay each task), reset time, the
same on demo tasks whose pages are padded to ``--page-kb`` kilobytes of cleaned HTML
(Mind2Web's real pages are far larger than the demo's; parsing is most of a first visit), RSS.
"""

from __future__ import annotations

import argparse
import time

from episodes import median_reset_ms, play, print_rows, rss_mb


def _episodes(env, n):
    """Steps/s of ``n`` expert episodes, resets included."""
    run = play(env, n)
    return run["steps"] / run["wall_s"]


def _padded(tasks, kb: int):
    """Copies of the tasks whose pages carry ``kb`` KB of extra (non-candidate) markup."""
    import copy

    filler_row = '<div backend_node_id="9{i}"><span backend_node_id="8{i}">Filler text of a long page {i}</span></div>'
    out = []
    for t in tasks:
        t = copy.deepcopy(t)
        for s in t.steps:
            pad, i = [], 0
            while sum(map(len, pad)) < kb * 1024:
                pad.append(filler_row.format(i=i))
                i += 1
            s.cleaned_html = s.cleaned_html.replace("<footer", "".join(pad) + "<footer", 1)
        out.append(t)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--page-kb", type=int, default=100)
    args = p.parse_args()
    rss0 = rss_mb()
    rows = []
    t0 = time.perf_counter()
    import agent_gym  # noqa: F401
    from agent_gym.mind2web.env import Mind2WebEnv, _generated

    _generated(0)
    rows.append(("generate the demo set (52 tasks)", f"{time.perf_counter() - t0:.2f} s"))
    from agent_gym.mind2web.data import parse_task
    from agent_gym.mind2web.generator import generate

    records = generate(0)["train"]
    fresh = lambda: [parse_task(r) for r in records]  # noqa: E731 - tasks whose pages were never rendered
    for mode in ("html", "choices"):
        env = Mind2WebEnv(split="train", expose_goal=True, observation_mode=mode)
        env.tasks = fresh()
        rows.append((f"steps/s: expert, {mode} observation, first visit", f"{_episodes(env, env.num_tasks):,.0f}"))
        rows.append((f"steps/s: expert, {mode} observation, replayed", f"{_episodes(env, args.episodes):,.0f}"))
    rows.append(("reset (median, replayed)", f"{median_reset_ms(env, 300):.3f} ms"))
    big = Mind2WebEnv(split="train", expose_goal=True)
    big.tasks = _padded(fresh(), args.page_kb)
    rows.append((f"steps/s: expert, pages of ~{args.page_kb} KB, first visit", f"{_episodes(big, big.num_tasks):,.0f}"))
    rows.append((f"steps/s: expert, pages of ~{args.page_kb} KB, replayed", f"{_episodes(big, args.episodes):,.0f}"))
    rows.append(("RSS before import / after all", f"{rss0:.0f} MB / {rss_mb():.0f} MB"))
    print_rows("Mind2Web-v0", rows)


if __name__ == "__main__":
    main()
