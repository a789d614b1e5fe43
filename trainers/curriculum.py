"""WebRL's self-evolving curriculum on our envs: new tasks from failed ones, filtered by a critic.

    python -m trainers.curriculum --failed runs/eval/trajectories.jsonl --output runs/new_goals.jsonl
    python -m trainers.curriculum --failed ... --rewrite-model gpt-4o-mini --base-url http://localhost:8000/v1 ...

WebRL (Qi et al. 2025) asks GPT-4o to write variations of the instructions its agent failed,
then keeps those whose first state its critic values inside ``[0.05, 0.75]`` (neither hopeless
nor already solved). Here:

- ``webshop_goals_from_failures``: for a failed WebShop goal, new goals for *other catalog
  products of the same search query* (a sibling of what the agent could not find), each with
  attributes of that product, one value per option and a price bound, and an instruction
  written from them: a goal the reward scores exactly (the reward reads the goal's fields, not
  its wording), played through the env's ``extra_goals``;
- ``LLMRewriter``: an OpenAI-compatible model (``baselines.react.ChatClient``) rewrites an
  instruction in other words without changing what it asks for; on WebShop the goal's fields
  stay, so the rewritten task is still scored; for envs whose tasks are free text;
- ``critic_band``: WebRL's filter, for any items and their critic values.

Envs with a fixed task list (KeyDoor, Crossroads, ALFWorld...) cannot take new tasks: their
curriculum is the failed tasks themselves, filtered by the band (``trainers.webrl``).
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainers.core import cli
from trainers.core.cli import opt

def critic_band(items: Sequence, values: Sequence[float], low: float = 0.05, high: float = 0.75) -> list:
    """The items whose critic value lies in ``[low, high]`` (WebRL's filter of new tasks)."""
    if len(items) != len(values):
        raise ValueError(f"{len(items)} items but {len(values)} values")
    return [x for x, v in zip(items, values) if low <= v <= high]


def siblings(catalog, goal: dict, k: int = 50) -> list[str]:
    """Other products of the failed goal's search query: what the shop's search (the one the
    agent uses) returns for that query, kept when their own query is the same."""
    hits = catalog.search_engine().search(goal["query"], k=k)
    return [a for a in hits if a != goal["asin"] and catalog.get(a).query == goal["query"]]


def goal_for_product(product, rng: random.Random, n_attributes: int = 2) -> dict:
    """A goal for ``product`` that the WebShop reward scores: some of its attributes, one value
    per option, a price bound above its price, and an instruction that says all of it."""
    from agent_gym.webshop.goals import price_bound

    attributes = [a for a in product.attributes if a and a != "DUMMY_ATTR"]
    attributes = rng.sample(attributes, min(n_attributes, len(attributes)))
    options = {name: rng.choice(values) for name, values in sorted(product.options.items()) if values}
    upper, price_text = price_bound(product.price, rng)
    thing = (product.product_category.split("›")[-1].strip() or product.query).lower()
    text = f"i am looking for {thing}"
    if attributes:
        text += " that " + ("is " if len(attributes) == 1 else "are ") + " and ".join(attributes)
    if options:
        text += ", with " + ", and ".join(f"{k}: {v}" for k, v in options.items())
    return {"asin": product.asin, "category": product.category, "query": product.query, "name": product.title,
            "product_category": product.product_category, "instruction_text": text + price_text,
            "attributes": attributes, "price_upper": upper, "goal_options": list(options.values()),
            "weight": 1, "curriculum": {"kind": "sibling"}}


def webshop_goals_from_failures(catalog, failed_goals: Sequence[dict], per_task: int = 1, seed: int = 0,
                                rewriter: "LLMRewriter | None" = None) -> list[dict]:
    """``per_task`` new goals for each failed goal: other products of the same query (the failed
    product itself when it has no sibling), see ``goal_for_product``; with ``rewriter``, the
    instructions are reworded by an LLM."""
    out = []
    for g in failed_goals:
        rng = random.Random(f"curriculum:{seed}:{g['asin']}:{g.get('instruction_text', '')}")
        others = siblings(catalog, g) or [g["asin"]]
        for asin in rng.sample(others, min(per_task, len(others))):
            goal = goal_for_product(catalog.get(asin), rng)
            goal["curriculum"]["from"] = g.get("instruction_text", "")
            if rewriter is not None:
                goal["instruction_text"] = rewriter.rewrite(goal["instruction_text"])
                goal["curriculum"]["rewritten"] = True
            out.append(goal)
    return out


REWRITE_PROMPT = ("Rewrite the task below in other words, as a person would ask for it. Keep every "
                  "requirement (product, attributes, options, price) and add none. Reply with the task only.")


class LLMRewriter:
    """Rewords task instructions with any OpenAI-compatible chat model. ``client`` is a
    ``baselines.react.ChatClient`` (or anything with ``complete(messages).text``)."""

    def __init__(self, client=None, **client_kwargs: Any):
        if client is None:
            from baselines.react import ChatClient
            client = ChatClient(**{"temperature": 0.7, "max_tokens": 128, **client_kwargs})
        self.client = client

    def rewrite(self, instruction: str) -> str:
        text = self.client.complete([{"role": "system", "content": REWRITE_PROMPT},
                                     {"role": "user", "content": instruction}]).text
        text = " ".join(str(text or "").split()).strip().strip('"')
        return text or instruction  # an empty reply keeps the original wording


@dataclass
class CurriculumConfig:
    failed: str = opt("", "trajectory records of a WebShop run; the lost episodes' goals seed the new tasks")
    output: str = opt("", "the new goals, JSON lines (give them to the env as extra_goals)")
    split: str = opt("train", "the split the trajectories' task ids refer to")
    env_kwargs: str = opt("{}", "JSON of gym.make arguments (e.g. the catalog)")
    per_task: int = opt(1, "new goals per failed task")
    seed: int = opt(0, "seed of the products, attributes and options chosen")
    rewrite_model: str = opt("", "reword the instructions with this model on an OpenAI-compatible server")
    base_url: str = opt("", "that server's base URL (default: $OPENAI_BASE_URL)")


def run(config: CurriculumConfig) -> dict[str, Any]:
    import gymnasium as gym

    import agent_gym  # noqa: F401
    from agent_gym.core.trajectory import read_trajectories

    if not (config.failed and config.output):
        raise ValueError("--failed and --output are required")
    lost = [t for t in read_trajectories(config.failed) if not t.won]
    env = gym.make("agent_gym/WebShop-v0", split=config.split, **json.loads(config.env_kwargs))
    goals = []
    for t in lost:
        env.reset(options={"task_id": int(t.task_id)})
        goals.append(dict(env.unwrapped.session.goal))
    rewriter = None
    if config.rewrite_model:
        rewriter = LLMRewriter(model=config.rewrite_model, **({"base_url": config.base_url} if config.base_url else {}))
    new = webshop_goals_from_failures(env.unwrapped.catalog, goals, config.per_task, config.seed, rewriter)
    env.close()
    Path(config.output).parent.mkdir(parents=True, exist_ok=True)
    with open(config.output, "w", encoding="utf-8") as f:
        for g in new:
            f.write(json.dumps(g, ensure_ascii=False) + "\n")
    return {"failed": len(lost), "new_goals": len(new), "output": config.output}


def main(argv: list[str] | None = None) -> int:
    return cli.run(CurriculumConfig, run, argv, "trainers.curriculum", __doc__)


if __name__ == "__main__":
    sys.exit(main())
