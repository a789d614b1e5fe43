"""ORM: an outcome-supervised reward model, a causal LM that says whether a trajectory succeeded.

    python -m trainers.orm --model BASE --data runs/samples.jsonl --output runs/orm
    python -m trainers.orm --model BASE --data a.jsonl,b.jsonl --heldout 0.2 --epochs 3 --output runs/orm

WebRL (Qi et al. 2025, arXiv 2411.02337) judges a finished web trajectory with an LM fine-tuned
to answer YES or NO to "did the agent complete the task?" (its released ORM is Llama-3.1-8B,
trained with LLaMA-Factory's SFT on WebArena-Lite rollouts labelled by the tasks' checkers), and
reads the answer's probability as the reward. The same here:

1. **data**: trajectory records scored by our envs (``agent-gym eval``, ``trainers.collect``);
   each becomes the judge's prompt (``agent_gym.core.judged.judge_messages``: the task, the first
   observation, the last steps' actions and results) with the answer ``YES`` (won, or reward
   >= ``threshold``) or ``NO``;
2. **training**: ``trainers.sft`` on those (prompt, answer) samples, the loss on the answer
   only; a seeded ``heldout`` fraction of the trajectories (split by task, so a held-out
   trajectory's task was never seen) is kept out;
3. **scoring** (``ORMJudge``): ``P(YES) = p(YES) / (p(YES) + p(NO))`` from the model's
   log-probabilities of the two whole answers; the held-out accuracy (threshold 0.5) and the
   majority-class rate it has to beat are reported and written to ``final_metrics.json``.

``agent_gym.core.judged.JudgedReward(env, ORMJudge(path))`` then scores episodes of any env with
the ORM instead of the env's reward (for tasks without a checker). WebRL's defaults for the
ORM are LLaMA-Factory's SFT settings (lr 1e-5 for 8B models; tiny models need ~1e-2).
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from agent_gym.core.judged import judge_messages
from trainers.core import cli
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig, shared

YES, NO = "YES", "NO"


@dataclass
class ORMConfig(TrainerConfig):
    model: str = opt("", "the starting causal LM (WebRL: Llama-3.1-8B)")
    data: str = opt("", "trajectory records scored by an env; comma-separated files")
    output_dir: str = opt("runs/orm", "the SFT run (checkpoints/, final/), heldout.jsonl and final_metrics.json")
    threshold: float = opt(0.0, "a trajectory is a success when won (0), or when its reward >= threshold (> 0)")
    heldout: float = opt(0.2, "fraction of the tasks whose trajectories are held out for the accuracy")
    last_steps: int = opt(10, "steps shown to the judge (the last ones)")
    max_observation_chars: int = opt(600, "characters of each observation shown to the judge")
    epochs: int = opt(3, "SFT epochs")
    lr: float = opt(1e-5, "SFT learning rate (8B: 1e-5; tiny test models: ~1e-2)")
    batch_size: int = opt(8, "samples per micro-batch")
    grad_accum: int = opt(1, "micro-batches per optimizer step")
    max_length: int = opt(2048, "tokens per sample; longer prompts lose their start")
    save_every: int = opt(500, "checkpoint every N optimizer steps (0: only at the end)")
    stop_after_steps: int = opt(0, "stop (with a checkpoint) after this SFT step (0: run to the end)")


def trajectory_prompt(traj, last_steps: int = 10, max_observation_chars: int = 600) -> list[dict]:
    """The judge's prompt for a recorded ``Trajectory`` (or a rollout ``Episode``)."""
    return judge_messages(traj.instruction, traj.observation, [(s.action, s.observation) for s in traj.steps],
                          max_observation_chars=max_observation_chars, last_steps=last_steps)


def succeeded(traj, threshold: float = 0.0) -> bool:
    reward = getattr(traj, "reward", getattr(traj, "total_reward", 0.0))
    return reward >= threshold if threshold > 0 else bool(traj.won)


def split_by_task(trajs: Sequence, heldout: float, seed: int) -> tuple[list, list]:
    """``(train, heldout)``: a seeded ``heldout`` fraction of the task ids goes to held out."""
    tasks = sorted({int(t.task_id) for t in trajs})
    random.Random(seed).shuffle(tasks)
    held = set(tasks[:round(len(tasks) * heldout)])
    return [t for t in trajs if int(t.task_id) not in held], [t for t in trajs if int(t.task_id) in held]


class ORMJudge:
    """``judge(messages) -> P(YES)`` with a trained ORM (a folder saved by this trainer)."""

    def __init__(self, path: str, device: str = "cpu", policy=None):
        from trainers.core.policy import Policy

        self.policy = policy or Policy.load(path, device=device)
        tok = self.policy.tokenizer
        self.answers = [list(tok(a, add_special_tokens=False)["input_ids"]) + [tok.eos_token_id] for a in (YES, NO)]

    def scores(self, batch: Sequence[list[dict]]) -> list[float]:
        import torch

        from trainers.core.logprobs import collate, masked_logprobs

        model = self.policy.model
        was = model.training
        model.eval()
        rows = []
        for messages in batch:
            prompt = self.policy.encode(messages)
            rows += [{"input_ids": prompt + a, "labels_mask": [0] * len(prompt) + [1] * len(a)} for a in self.answers]
        out = []
        with torch.no_grad():
            for lo in range(0, len(rows), 16):
                b = {k: v.to(self.policy.device) for k, v in collate(rows[lo:lo + 16], self.policy.tokenizer.pad_token_id).items()}
                out += masked_logprobs(model, **b)[1].float().tolist()
        model.train(was)
        return [float(torch.sigmoid(torch.tensor(y - n))) for y, n in zip(out[0::2], out[1::2])]

    def __call__(self, messages: list[dict]) -> float:
        return self.scores([messages])[0]


def accuracy(judge: ORMJudge, trajs: Sequence, config: ORMConfig) -> dict[str, float]:
    prompts = [trajectory_prompt(t, config.last_steps, config.max_observation_chars) for t in trajs]
    labels = [succeeded(t, config.threshold) for t in trajs]
    scores = judge.scores(prompts)
    right = sum((s >= 0.5) == y for s, y in zip(scores, labels))
    positive = sum(labels) / max(1, len(labels))
    return {"accuracy": right / max(1, len(labels)), "majority": max(positive, 1 - positive), "n": len(labels),
            "mean_score_won": _mean([s for s, y in zip(scores, labels) if y]),
            "mean_score_lost": _mean([s for s, y in zip(scores, labels) if not y])}


def _mean(xs):
    return sum(xs) / len(xs) if xs else None  # none of that class held out


def train(config: ORMConfig, trajectories: Sequence | None = None) -> dict[str, Any]:
    """Train the ORM; returns the SFT result plus ``heldout`` (accuracy, majority rate, n) and
    ``final_dir``."""
    from agent_gym.core.trajectory import read_trajectories, write_trajectories
    from trainers import sft
    from trainers.core.data import StepSample, write_step_samples

    from trainers.core.distributed import launched_distributed

    if launched_distributed():  # its processes would each split and write the same data files
        raise RuntimeError("trainers.orm runs in one process: start it with python -m trainers.orm, "
                           "not under accelerate launch or torchrun")
    if not 0.0 <= config.heldout < 1.0:
        raise ValueError(f"heldout must be in [0, 1), not {config.heldout}")
    if trajectories is None:
        if not config.data:
            raise ValueError("ORMConfig.data (trajectory records) is required")
        trajectories = [t for p in config.data.split(",") if p for t in read_trajectories(p)]
    trajs = [t for t in trajectories if t.steps]
    train_set, held = split_by_task(trajs, config.heldout, config.seed)
    labels = [succeeded(t, config.threshold) for t in train_set]
    if not any(labels) or all(labels):
        raise ValueError(f"the ORM needs won and lost trajectories to learn from; got {sum(labels)} won "
                         f"of {len(labels)}")
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "orm_train.jsonl"
    write_step_samples(data, [StepSample(trajectory_prompt(t, config.last_steps, config.max_observation_chars),
                                         YES if y else NO) for t, y in zip(train_set, labels)])
    if held and hasattr(held[0], "to_json"):
        write_trajectories(out / "heldout.jsonl", held)
    result = sft.train(sft.SFTConfig(**shared(config, output_dir=str(out / "sft")),
                                     data=str(data), epochs=config.epochs, lr=config.lr, batch_size=config.batch_size,
                                     grad_accum=config.grad_accum, max_length=config.max_length,
                                     save_every=config.save_every, keep_last=1, log_every=100,
                                     stop_after_steps=config.stop_after_steps))
    summary: dict[str, Any] = {"train": len(train_set), "train_won": sum(labels), "final_dir": result.get("final_dir")}
    if result.get("final_dir"):
        from trainers.core.optim import resolve_device

        judge = ORMJudge(result["final_dir"], device=resolve_device(config.device))
        summary["heldout"] = accuracy(judge, held, config) if held else None
        summary["train_accuracy"] = accuracy(judge, train_set, config)["accuracy"]
        (out / "final_metrics.json").write_text(json.dumps(summary, indent=2))
    summary["sft"] = {k: result.get(k) for k in ("step", "loss", "runtime_s") if k in result}
    return summary


def main(argv: list[str] | None = None) -> int:
    return cli.run(ORMConfig, train, argv, "trainers.orm", __doc__)


if __name__ == "__main__":
    sys.exit(main())
