"""WebRL: online curriculum RL with an outcome reward model, a critic, a KL-constrained actor
update to the previous policy and a perplexity-filtered replay of past successes.

    python -m trainers.webrl --model SFT_DIR --env agent_gym/WebShop-v0 --output runs/webrl
    python -m trainers.webrl --model SFT_DIR --orm runs/orm/sft/final --output runs/webrl   # ORM rewards

Qi et al., ICLR 2025, "WebRL: Training LLM Web Agents via Self-Evolving Online Curriculum
Reinforcement Learning" (arXiv 2411.02337; code: THUDM/WebRL). Each *phase* (one iteration of
``trainers.core.online``'s loop):

1. **tasks**: the curriculum's tasks from the previous phase (below), topped up with fresh
   tasks of the split (``draw_tasks``) to ``tasks_per_iteration``;
2. **rollouts**: ``group_size`` trajectories per task (WebRL: one);
3. **reward**: the env's outcome (won), or with ``--orm`` the outcome reward model's verdict
   (``trainers.orm.ORMJudge``: ``P(YES) >= 0.5``), for tasks without a checker;
4. **critic** ``V(s)`` in [0, 1] (``trainers.core.value.ValueModel``, a sigmoid on its head) is
   trained with cross-entropy to predict the episode's outcome from each step's prompt (WebRL's
   code: a classifier of ``mc_return > 0``); the advantage of step ``t`` is WebRL's code's::

       A_t = clip(r_t + V(s_{t+1}) - V(s_t) + G_t - step_penalty, -1, 1)
       G_t = gamma^(T-1-t) * R   (the Monte Carlo return of the outcome R)

   with ``V(s_T) = 0`` after the last step;
5. **actor**: the paper's KL-constrained update to the *previous* policy (this phase's start):
   ``L = mean (beta * logratio - A)^2`` where ``logratio`` is the reply's per-token mean
   ``log pi(a|s) - log pi_prev(a|s)`` (the code's per-token normalisation), over this phase's
   steps and the replayed ones; ``pi_prev``'s log-probs are computed once at the phase's start
   (no second model is kept);
6. **replay**: the steps of every won episode go to a buffer (``replay_capacity``); each phase
   replays up to ``replay_per_phase`` of them whose mean token probability under the current
   policy lies in ``[replay_prob_low, replay_prob_high]`` (the paper's perplexity filter
   ``1/0.95 <= ppl <= 1/0.5``: not already certain, not off-policy), advantages recomputed
   with the current critic;
7. **curriculum** (``trainers.curriculum``): the failed tasks of this phase whose first state
   the critic rates inside ``[value_low, value_high]`` (the paper: 0.05 to 0.75, neither
   hopeless nor solved) become next phase's tasks; on WebShop, with ``--new-tasks``, new goals
   are written from them (other products of the same query and category, goals the reward
   scores) and played as extra tasks of the env (``extra_goals``).

Which of paper and code: the loss is the paper's (squared regression of the scaled log-ratio
onto the advantage, every step; the code keeps only positive advantages, binarised to 1, with
a per-sample beta of 1 or 5 chosen by the reference probability); the advantage, the critic
target and the per-token normalisation are the code's (the paper's advantage mixes a one-step
TD term and the outcome; the code adds them). Defaults: ``gamma 0.9``, ``lr 1e-6`` (code),
``beta 1``, critic lr 1e-6 (code; tiny models need ~1e-3), value band 0.05-0.75 and
perplexity band 1/0.95-1/0.5 (paper).

Checkpoints hold the policy, its optimizer, the critic and its optimizer, the replay buffer
and the curriculum's queue: a resumed run continues to the same weights.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from trainers.core import cli
from trainers.core.checkpoint import load_tensors
from trainers.core.cli import opt
from trainers.core.online import OnlineConfig, RolloutTrainer, minibatch_descent, token_stats
from trainers.core.value import ValueModel

STATE_FILE = "webrl_state.json"
GOALS_FILE = "curriculum_goals.jsonl"


@dataclass
class WebRLConfig(OnlineConfig):
    output_dir: str = opt("runs/webrl", "checkpoints/, metrics.jsonl and final/ go here")
    group_size: int = opt(1, "trajectories per task (WebRL: 1)")
    kl_coef: float = opt(0.0, "unused: the KL constraint is the actor loss's (beta); no reference model is kept")
    beta: float = opt(1.0, "actor loss: (beta * per-token log-ratio to the previous policy - A)^2")
    gamma: float = opt(0.9, "discount of the outcome over the agent's turns (WebRL code: 0.9)")
    step_penalty: float = opt(0.05, "subtracted from every advantage (WebRL code: 0.05)")
    critic_lr: float = opt(1e-6, "critic learning rate (WebRL code: 1e-6; tiny test models ~1e-3)")
    critic_epochs: int = opt(1, "critic passes per phase (before the actor's)")
    orm: str = opt("", "an ORM folder (trainers.orm) whose verdict replaces the env's outcome")
    value_low: float = opt(0.05, "curriculum: keep failed tasks whose start value is >= this")
    value_high: float = opt(0.75, "curriculum: ... and <= this")
    curriculum_share: float = opt(0.5, "at most this share of a phase's tasks come from the curriculum")
    new_tasks: bool = opt(False, "WebShop: write new goals from failed tasks (else: replay the failed tasks)")
    replay_capacity: int = opt(10000, "past successful steps kept")
    replay_per_phase: int = opt(64, "replayed steps per phase (0: no replay)")
    replay_prob_low: float = opt(0.5, "replay steps whose mean token probability is >= this (ppl <= 2)")
    replay_prob_high: float = opt(0.95, "... and <= this (ppl >= 1/0.95)")


class WebRLTrainer(RolloutTrainer):
    name = "webrl"

    def __init__(self, config: WebRLConfig):
        if not 0.0 <= config.value_low <= config.value_high <= 1.0:
            raise ValueError(f"need 0 <= value_low <= value_high <= 1, got {config.value_low}, {config.value_high}")
        if not 0.0 <= config.replay_prob_low <= config.replay_prob_high <= 1.0:
            raise ValueError("need 0 <= replay_prob_low <= replay_prob_high <= 1")
        if config.beta <= 0:
            raise ValueError(f"beta must be > 0, not {config.beta}")
        if config.new_tasks:
            if "WebShop" not in config.env:
                raise ValueError("new_tasks writes WebShop goals: use it with agent_gym/WebShop-v0 (other envs "
                                 "replay their failed tasks)")
            # the envs read the curriculum's goals from this file at every reset
            kwargs = {**json.loads(config.env_kwargs), "extra_goals": str(Path(config.output_dir) / GOALS_FILE)}
            config = dataclasses.replace(config, env_kwargs=json.dumps(kwargs))
        super().__init__(config)

    @property
    def uses_reference(self) -> bool:
        return False  # the reference is the previous phase's policy: its log-probs are taken at the phase's start

    # ----- models and state ----------------------------------------------------------------
    def setup_extra(self, resume_from: Path | None) -> None:
        from trainers.core.optim import make_optimizer

        c = self.config
        if self._dist().world > 1:
            raise ValueError("trainers.webrl runs in one process (its replay buffer and curriculum are not shared)")
        source = (resume_from / "critic") if resume_from else Path(c.model)
        self.critic = ValueModel.from_pretrained(source).to(self.device)
        self.critic_optimizer = make_optimizer(self.critic, c.critic_lr)
        self.replay: list[dict] = []
        self.queue: list[int] = []
        self.extra_goals: list[dict] = []
        if resume_from:
            opt_file = resume_from / "critic_optimizer.pt"
            if opt_file.is_file():
                self.critic_optimizer.load_state_dict(load_tensors(opt_file))
            state = json.loads((resume_from / STATE_FILE).read_text())
            self.replay, self.queue, self.extra_goals = state["replay"], state["queue"], state.get("extra_goals", [])
        self.judge = None
        if c.orm:
            from trainers.orm import ORMJudge
            self.judge = ORMJudge(c.orm, device=self.device)

    def save_extra(self, folder: Path) -> None:
        self.critic.save(folder / "critic")
        torch.save(self.critic_optimizer.state_dict(), folder / "critic_optimizer.pt")
        (folder / STATE_FILE).write_text(json.dumps({"replay": self.replay, "queue": self.queue,
                                                     "extra_goals": self.extra_goals}))

    @property
    def goals_file(self) -> Path:
        return Path(self.config.output_dir) / GOALS_FILE

    def _write_goals(self) -> None:
        tmp = self.goals_file.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in self.extra_goals), encoding="utf-8")
        tmp.replace(self.goals_file)

    def make_group(self):
        """The envs; with ``new_tasks`` they read the curriculum's goals file at every reset."""
        if self.config.new_tasks:
            self._write_goals()  # the checkpoint's goals (none in a fresh run)
        group = super().make_group()
        self.base_tasks = group.num_tasks - len(self.extra_goals)
        return group

    # ----- the phase -----------------------------------------------------------------------
    def draw_tasks(self, iteration: int, num_tasks: int) -> list[int]:
        """The curriculum's queue first (at most ``curriculum_share`` of the phase), then fresh
        tasks of the split."""
        c = self.config
        take = min(len(self.queue), int(c.curriculum_share * c.tasks_per_iteration))
        fresh = super().draw_tasks(iteration, self.base_tasks)
        self.from_curriculum = self.queue[:take]
        return self.from_curriculum + fresh[:c.tasks_per_iteration - take]

    def values(self, prompts: list[list[int]]) -> list[float]:
        self.critic.eval()
        out: list[float] = []
        with torch.no_grad():
            for lo in range(0, len(prompts), self.config.micro_batch):
                out += torch.sigmoid(self.critic.score(prompts[lo:lo + self.config.micro_batch], self.pad_id,
                                                       self.ctx)).tolist()
        return out

    def outcomes(self, episodes) -> list[float]:
        """1.0 or 0.0 per episode: the env's ``won``, or the ORM's verdict."""
        if self.judge is None:
            return [float(e.won) for e in episodes]
        from trainers.orm import trajectory_prompt

        scores = self.judge.scores([trajectory_prompt(e) for e in episodes])
        return [float(s >= 0.5) for s in scores]

    def score(self, episodes, iteration):
        c = self.config
        outcomes = self.outcomes(episodes)
        samples = []
        for e, outcome in zip(episodes, outcomes):
            steps = [s for s in e.steps if s.response_ids]
            n = len(steps)
            for t, s in enumerate(steps):
                samples.append({"input_ids": list(s.prompt_ids) + list(s.response_ids),
                                "labels_mask": [0] * len(s.prompt_ids) + [1] * len(s.response_ids),
                                "prompt": list(s.prompt_ids),
                                "next_prompt": list(steps[t + 1].prompt_ids) if t + 1 < n else None,
                                "reward": outcome if t == n - 1 else 0.0,
                                "mc_return": outcome * c.gamma ** (n - 1 - t), "outcome": outcome,
                                "task_id": int(e.task_id)})
        critic_stats = self.update_critic(samples)
        replayed = self.replay_samples(random.Random(c.seed * 7_919 + iteration))
        all_samples = samples + replayed
        self.advantages(all_samples)
        self.remember([s for s in samples if s["outcome"] > 0])
        self.next_tasks(episodes, outcomes)
        stats = {"orm_success": sum(outcomes) / max(1, len(outcomes)), "replayed": len(replayed),
                 "curriculum_tasks": len(self.from_curriculum),
                 "new_goal_tasks": sum(t >= self.base_tasks for t in self.from_curriculum),
                 "queue": len(self.queue), "new_goals": len(self.extra_goals), **critic_stats}
        if all_samples:
            stats["advantage"] = sum(s["advantage"] for s in all_samples) / len(all_samples)
        return all_samples, stats

    def advantages(self, samples: list[dict]) -> None:
        c = self.config
        v = self.values([s["prompt"] for s in samples]) if samples else []
        nexts = [s["next_prompt"] for s in samples if s["next_prompt"] is not None]
        nv = iter(self.values(nexts) if nexts else [])
        for s, vs in zip(samples, v):
            next_v = next(nv) if s["next_prompt"] is not None else 0.0
            a = s["reward"] + next_v - vs + s["mc_return"] - c.step_penalty
            s["advantage"] = max(-1.0, min(1.0, a))

    def update_critic(self, samples: list[dict]) -> dict[str, float]:
        c = self.config
        if not samples:
            return {}
        self.critic.train()
        rng = random.Random(c.seed * 104_729 + self._iteration)
        losses, right = [], 0

        def outcome_loss(ids):
            nonlocal right
            logits = self.critic.score([samples[i]["prompt"] for i in ids], self.pad_id, self.ctx)
            target = torch.tensor([float(samples[i]["mc_return"] > 0) for i in ids], device=logits.device)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
            losses.append(loss.item())
            right += int(((logits > 0).float() == target).sum())
            return loss

        minibatch_descent(len(samples), c.critic_epochs, rng, c.mini_batch, c.micro_batch, self.critic.parameters(),
                          self.critic_optimizer, c.max_grad_norm, outcome_loss)
        return {"critic_loss": sum(losses) / max(1, len(losses)),
                "critic_acc": right / max(1, len(samples) * c.critic_epochs)}

    def _token_logps(self, samples: list[dict]) -> list[torch.Tensor]:
        out = []
        for lo in range(0, len(samples), self.config.micro_batch):
            logp, _, mask = token_stats(self.model, samples[lo:lo + self.config.micro_batch], self.pad_id, self.ctx)
            out += [(lp * m).sum() / m.sum().clamp(min=1) for lp, m in zip(logp, mask)]
        return out

    def replay_samples(self, rng: random.Random) -> list[dict]:
        """Past successes whose mean token probability under the current policy is in the band."""
        c = self.config
        if not self.replay or not c.replay_per_phase:
            return []
        self.model.eval()
        with torch.no_grad():
            probs = [float(torch.exp(x)) for x in self._token_logps(self.replay)]
        keep = [dict(s) for s, p in zip(self.replay, probs) if c.replay_prob_low <= p <= c.replay_prob_high]
        rng.shuffle(keep)
        return keep[:c.replay_per_phase]

    def remember(self, won_steps: list[dict]) -> None:
        keys = ("input_ids", "labels_mask", "prompt", "next_prompt", "reward", "mc_return", "outcome", "task_id")
        self.replay += [{k: s[k] for k in keys} for s in won_steps]
        del self.replay[:max(0, len(self.replay) - self.config.replay_capacity)]

    def next_tasks(self, episodes, outcomes) -> None:
        from trainers.curriculum import critic_band, webshop_goals_from_failures

        c = self.config
        failed = [e for e, o in zip(episodes, outcomes) if not o]
        starts = self.values([list(e.steps[0].prompt_ids) for e in failed if e.steps]) if failed else []
        kept = critic_band([e for e in failed if e.steps], starts, c.value_low, c.value_high)
        self.queue = list(dict.fromkeys(int(e.task_id) for e in kept))
        if c.new_tasks and kept:  # WebShop: new goals from the kept failures, played next phase
            import gymnasium as gym

            kwargs = {**json.loads(c.env_kwargs), "extra_goals": list(self.extra_goals)}
            env = gym.make(c.env, split=c.split, **kwargs)
            failed_goals = []
            for e in kept:
                env.reset(options={"task_id": int(e.task_id)})
                failed_goals.append(dict(env.unwrapped.session.goal))
            new = webshop_goals_from_failures(env.unwrapped.catalog, failed_goals, per_task=1,
                                              seed=c.seed * 31 + self._iteration)
            env.close()
            first = self.base_tasks + len(self.extra_goals)
            self.extra_goals += new
            self._write_goals()
            self.queue = list(range(first, first + len(new))) + self.queue

    # ----- the actor -----------------------------------------------------------------------
    def update(self, samples: list[dict], rng: random.Random) -> dict[str, float]:
        """``ppo_epochs`` passes of ``mean (beta * logratio - A)^2`` over mini-batches."""
        c = self.config
        if not samples:
            return {"loss": 0.0}
        self.model.eval()
        with torch.no_grad():  # the previous policy: the weights this phase starts from
            prev = [float(x) for x in self._token_logps(samples)]
        self.model.train()
        stats: list[tuple[float, float]] = []

        def actor_loss(ids):
            now = torch.stack(self._token_logps([samples[i] for i in ids]))
            ratio = now - torch.tensor([prev[i] for i in ids], device=now.device)
            adv = torch.tensor([samples[i]["advantage"] for i in ids], device=now.device)
            loss = ((c.beta * ratio - adv) ** 2).mean()
            stats.append((loss.item(), ratio.mean().item()))
            return loss

        minibatch_descent(len(samples), c.ppo_epochs, rng, c.mini_batch, c.micro_batch, self.model.parameters(),
                          self.optimizer, c.max_grad_norm, actor_loss)
        n = max(1, len(stats))
        return {"loss": sum(s[0] for s in stats) / n, "logratio": sum(s[1] for s in stats) / n}


def train(config: WebRLConfig) -> dict:
    return WebRLTrainer(config).train()


def main(argv: list[str] | None = None) -> int:
    return cli.run(WebRLConfig, train, argv, "trainers.webrl", __doc__)


if __name__ == "__main__":
    sys.exit(main())
