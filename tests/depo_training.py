"""What the DEPO and ORM checks share: KeyDoor trajectories of uneven efficiency and quality.

DEPO's data came from tree search over a strong model: successes of different lengths and
failures. The stand-in here is a scripted KeyDoor player that, per episode (seeded by the run
and the task), may think aloud at length (a filler sentence after each thought: more tokens
per step), may look in the wrong room first (a detour: 7 steps instead of 5) and may open the
wrong door at the end (a loss). Played ``RUNS`` times over the training tasks by the
evaluation harness and scored by the env; a tiny model and tokenizer are built on the texts.
Built once per test session (``keydoor_training.once``).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from keydoor_training import once

ENV = "agent_gym/KeyDoor-v0"
HISTORY = 0
RUNS = 4
FILLER = "Let me think it over once more, slowly and carefully, before I act."


class UnevenKeyDoorPlayer:
    """The KeyDoor expert with, per episode, verbose thoughts, a detour or a wrong door."""

    name = "uneven_keydoor"

    def __init__(self, run: int, p_verbose: float = 0.5, p_detour: float = 0.5, p_wrong: float = 0.3):
        from agent_gym.toy.keys import KeyDoorExpert

        self.run, self.expert = run, KeyDoorExpert()
        self.p = (p_verbose, p_detour, p_wrong)

    def reset(self, instruction: str, info: dict) -> None:
        rng = random.Random(f"{self.run}/{instruction}")
        self.verbose, self.detour, self.wrong = (rng.random() < p for p in self.p)
        self.detoured = False
        self.expert.reset(instruction, info)
        self.last_thought = ""

    def act(self, observation: str, info: dict) -> str:
        action = self.expert.act(observation, info)
        thought = self.expert.last_thought
        available = info.get("available_actions") or []
        if self.detour and not self.detoured and action.startswith("go[") and info.get("page") == "hall" \
                and "You hold: nothing" in observation:
            other = "right" if action == "go[left]" else "left"
            action, thought, self.detoured = f"go[{other}]", f"Maybe the key is in the {other} room; I go {other}.", True
        elif self.wrong and action.startswith("open["):
            action = next(a for a in available if a.startswith("open[") and a != action)
            thought = f"I open the door: {action[5:-1]}."
        self.last_thought = f"{thought} {FILLER}" if self.verbose else thought
        return action


def _build(folder: Path) -> dict:
    from agent_gym.core.trajectory import read_trajectories, write_trajectories
    from agent_gym.eval.runner import EvalConfig, evaluate
    from trainers.core.data import flatten, trajectory_to_samples
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    records = []
    for run in range(RUNS):
        evaluate(EvalConfig(env_id=ENV, agent="uneven", split="train", seed=run, output=str(folder / f"run-{run}"),
                            progress=False), agent=UnevenKeyDoorPlayer(run))
        records += list(read_trajectories(folder / f"run-{run}" / "trajectories.jsonl"))
    write_trajectories(folder / "uneven.jsonl", records)
    texts = ["system", "user", "assistant"]
    for s in flatten(trajectory_to_samples(r, history=HISTORY) for r in records):
        texts += [m["content"] for m in s.messages] + [s.response]
    tiny = build_tiny_model_and_tokenizer(folder / "tiny", texts=texts, vocab_size=1000, hidden=64, layers=2)
    won = [r for r in records if r.won]
    return {"data": str(folder / "uneven.jsonl"), "tiny": str(tiny), "trajectories": len(records),
            "won": len(won), "steps_won": sum(len(r.steps) for r in won) / len(won)}


@pytest.fixture(scope="session")
def uneven_keydoor(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return once(tmp_path_factory, "keydoor-uneven", _build)
