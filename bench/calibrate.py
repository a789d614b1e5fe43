"""Calibration of the default catalog against the original benchmark's difficulty.

    python bench/calibrate.py [--seeds 0,1,2] [--n 500]

Runs random, rule and oracle on the test split of the default synthetic catalog (human
goals) and of the original 1k sample (synthetic goals: the sample's 13 human goals all lie
outside the test split), over several seeds, and prints score and success rate per agent
and catalog with the spread across seeds, next to the WebShop paper's published figures on
the original 1.18M-product catalog (rule 45.6 / 9.6%).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from agent_gym.eval.runner import EvalConfig, evaluate
from agent_gym.webshop import Catalog

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "webshop-1k"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--agents", default="random,rule,oracle")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    catalogs = [("default (synthetic 10k, human goals)", Catalog.default(), "human")]
    if SAMPLE.is_dir():
        catalogs.append(("webshop-1k sample (synthetic goals)", Catalog.from_folder(SAMPLE), "synthetic"))
    print("| catalog | agent | score (mean ± sd over seeds) | success % (mean ± sd) | per seed (score / success) |")
    print("|---|---|---:|---:|---|")
    for label, catalog, goals in catalogs:
        for agent in args.agents.split(","):
            runs = [evaluate(EvalConfig(agent=agent, n=args.n, seed=seed, workers=8, progress=False,
                                        env_kwargs={"catalog": catalog, "goals": goals})) for seed in seeds]
            sc = [r["score"] for r in runs]
            sr = [r["success_rate"] for r in runs]
            sd = (lambda v: statistics.stdev(v) if len(v) > 1 else 0.0)
            per = ", ".join(f"{a:.1f} / {b:.1f}" for a, b in zip(sc, sr))
            print(f"| {label} | {agent} | {statistics.mean(sc):.1f} ± {sd(sc):.1f} | "
                  f"{statistics.mean(sr):.1f} ± {sd(sr):.1f} | {per} |", flush=True)
    print("\nPublished (Yao et al. 2022, original 1.18M catalog, test): rule 45.6 / 9.6%, human expert 82.1 / 59.6%.")


if __name__ == "__main__":
    main()
