"""Batched multi-turn rollouts: a group of envs played by one generator until all are done.

``rollout`` resets an ``EnvGroup`` to ``task_ids`` x ``group_size`` copies, then at each step
builds the prompts of the unfinished envs (``trainers.core.prompts``), generates their replies
in one batch, parses the actions and steps the group. A reply with no action in the format is
sent to the env as it is, so the env refuses it as an invalid action (the agent pays for it
with a wasted step, as in AgentGym-RL/GiGPO) and the step is marked ``parse_error``. Every
step keeps what a trainer needs: the prompt messages and token ids, the response ids and
their log-probs at generation time, the reward and the env's anchor (GiGPO groups steps by
it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_gym.core.prompts import Turn, format_observation
from trainers.core.generation import Generator
from trainers.core.prompts import build_step_messages, env_prompt, parse_response, system_prompt

INFO_KEYS = ("anchor", "page", "invalid_action", "error", "available_actions")  # after the step


@dataclass
class RolloutStep:
    messages: list[dict]
    response: str
    prompt_ids: list[int]
    response_ids: list[int]
    response_logprobs: list[float]
    action: str
    thought: str | None
    parse_error: bool
    observation: str  # what the env showed after the action
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(default_factory=dict)
    available_actions: list[str] = field(default_factory=list)  # offered when the action was chosen
    response_finished: bool = True  # the reply ended with end-of-turn, not at max_new_tokens

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


@dataclass
class Episode:
    task_id: int
    instruction: str
    observation: str  # the first observation
    steps: list[RolloutStep] = field(default_factory=list)
    total_reward: float = 0.0
    won: bool = False
    reward_info: dict[str, Any] = field(default_factory=dict)
    initial_info: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return bool(self.steps) and self.steps[-1].done


def rollout(group, generator: Generator, task_ids: Sequence[int], group_size: int = 1, fmt: str = "react",
            history: int = 3, max_steps: int | None = None, seed: int | None = None,
            max_observation_chars: int | None = 4000, system: str | None = None,
            mark: str | None = None, key_offset: int | None = None) -> list[Episode]:
    """Play ``task_ids`` x ``group_size`` episodes on ``group`` (env ``i`` plays task
    ``task_ids[i // group_size]``); returns one ``Episode`` per env, in env order.

    ``max_steps`` stops the loop after that many steps even when envs are still running
    (their episodes are left unfinished: ``Episode.done`` is false); by default the loop
    runs until every env is done, so the env's own step limit must be set. ``system`` is the
    system prompt (default: ``system_prompt(fmt, env's agent_prompt)``). With ``key_offset``,
    env ``i``'s replies are sampled with key ``key_offset + i`` (``HFGenerator.generate``'s
    ``keys``): a shard of a larger rollout then samples what the whole rollout would.
    """
    if system is None:
        task_prompt = group.agent_prompt if hasattr(group, "agent_prompt") else env_prompt(group.envs[0])
        system = system_prompt(fmt, task_prompt)
    observations, infos = group.reset(task_ids, group_size=group_size, seed=seed)
    n = len(observations)
    episodes = [Episode(task_id=int(group.task_ids[i]), instruction=infos[i].get("instruction", ""),
                        observation=observations[i], initial_info=_compact(infos[i])) for i in range(n)]
    turns: list[list[Turn]] = [[] for _ in range(n)]
    t = 0
    while not group.all_done and (max_steps is None or t < max_steps):
        active = [i for i in range(n) if not group.done[i]]
        prompts, shown = [], {}
        for i in active:
            obs, note = format_observation(observations[i], infos[i], max_observation_chars)
            shown[i] = (obs, note)
            prompts.append(build_step_messages(episodes[i].instruction, turns[i], obs,
                                               infos[i].get("available_actions"), fmt=fmt, history=history,
                                               note=note, max_observation_chars=max_observation_chars,
                                               system=system, mark=mark))
        if key_offset is None:
            outs = generator.generate(prompts)
        else:
            outs = generator.generate(prompts, keys=[key_offset + i for i in active])
        actions: list[Any] = [None] * n
        parsed = {}
        for i, out in zip(active, outs):
            thought, action = parse_response(out.text, infos[i].get("available_actions"), fmt)
            parsed[i] = (thought, action is None)
            actions[i] = out.text if action is None else action
        new_obs, rewards, terms, truncs, new_infos = group.step(actions)
        for i, messages, out in zip(active, prompts, outs):
            thought, parse_error = parsed[i]
            step = RolloutStep(messages=messages, response=out.text, prompt_ids=list(out.prompt_ids),
                               response_ids=list(out.response_ids), response_logprobs=list(out.response_logprobs),
                               action=str(actions[i]), thought=thought, parse_error=parse_error,
                               observation=new_obs[i], reward=float(rewards[i]), terminated=bool(terms[i]),
                               truncated=bool(truncs[i]), info=_compact(new_infos[i]),
                               available_actions=list(infos[i].get("available_actions") or []),
                               response_finished=bool(getattr(out, "finished", True)))
            ep = episodes[i]
            ep.steps.append(step)
            ep.total_reward += step.reward
            if step.done:
                ep.won = bool(new_infos[i].get("won", False))
                ep.reward_info = dict(new_infos[i].get("reward_info") or {})
            obs, note = shown[i]
            turns[i].append(Turn(observation=obs, action=str(actions[i]), thought=thought, note=note))
        observations, infos = new_obs, new_infos
        t += 1
    return episodes


def _compact(info: dict) -> dict:
    return {k: info[k] for k in INFO_KEYS if k in info}


def episode_to_trajectory(episode: Episode, env_id: str = "agent_gym/WebShop-v0", agent: str | None = None,
                          **kwargs):
    """The episode as an ``agent_gym.core.trajectory.Trajectory`` (token ids and log-probs go
    to ``meta['steps']``, one dict per step)."""
    from agent_gym.core.trajectory import Trajectory

    traj = Trajectory(env_id=env_id, task_id=episode.task_id, instruction=episode.instruction,
                      observation=episode.observation, agent=agent, initial_info=dict(episode.initial_info), **kwargs)
    for s in episode.steps:
        traj.add_step(s.action, s.observation, s.reward, s.terminated, s.truncated, s.info, thought=s.thought)
    traj.won = episode.won
    traj.reward_info = dict(episode.reward_info)
    traj.meta.setdefault("steps", [{"response": s.response, "parse_error": s.parse_error,
                                    "prompt_ids": s.prompt_ids, "response_ids": s.response_ids,
                                    "response_logprobs": s.response_logprobs} for s in episode.steps])
    return traj


def evaluate_policy(generator: Generator, env_id: str, split: str = "eval", task_ids: Sequence[int] | None = None,
                    fmt: str = "react", history: int = 3, batch: int = 64, system: str | None = None,
                    mark: str | None = None,
                    env_kwargs: dict | None = None, seed: int = 0) -> dict[str, Any]:
    """Play each task of ``split`` (or ``task_ids``) once with ``generator``; returns
    ``success`` (fraction won), ``score`` (mean total reward), ``steps`` (mean), ``parse_errors``
    (fraction of steps whose reply held no action) and ``episodes``."""
    kwargs = dict(env_kwargs or {})
    kwargs["split"] = split
    if task_ids is None:
        import gymnasium as gym

        probe = gym.make(env_id, **kwargs)
        task_ids = list(range(probe.unwrapped.num_tasks))
        probe.close()
    episodes = play_in_chunks(generator, env_id, task_ids, kwargs, batch, fmt=fmt, history=history,
                              seed=lambda lo: seed, system=system, mark=mark)
    n_steps = sum(len(e.steps) for e in episodes)
    return {"success": sum(e.won for e in episodes) / len(episodes),
            "score": sum(e.total_reward for e in episodes) / len(episodes),
            "steps": n_steps / len(episodes),
            "parse_errors": sum(s.parse_error for e in episodes for s in e.steps) / max(1, n_steps),
            "episodes": episodes}


def collect(policy, env_id: str, task_ids: Sequence[int], k: int = 1, split: str = "train",
            temperature: float = 1.0, max_new_tokens: int = 128, fmt: str = "react", history: int = 3,
            seed: int = 0, batch: int = 64, system: str | None = None, env_kwargs: dict | None = None,
            progress: bool = False) -> list[Episode]:
    """``k`` sampled episodes of each task of ``task_ids`` (temperature ``temperature``; 0 is
    greedy), played in batches of about ``batch`` envs, each task's ``k`` copies side by side."""
    from trainers.core.generation import HFGenerator

    generator = HFGenerator(policy, max_new_tokens=max_new_tokens, temperature=max(temperature, 1e-5),
                            do_sample=temperature > 0, seed=seed)
    kwargs = dict(env_kwargs or {})
    kwargs["split"] = split
    return play_in_chunks(generator, env_id, task_ids, kwargs, max(1, batch // k), k=k, fmt=fmt, history=history,
                          seed=lambda lo: seed + lo, system=system, progress=progress)


def play_in_chunks(generator: Generator, env_id: str, task_ids: Sequence[int], env_kwargs: dict, tasks_per_chunk: int,
                   k: int = 1, seed=lambda lo: 0, progress: bool = False, **rollout_kwargs) -> list[Episode]:
    """``rollout`` over ``task_ids`` ``tasks_per_chunk`` tasks (x ``k`` copies) at a time, on one
    ``EnvGroup`` re-made only when a chunk's size changes; ``seed(lo)`` seeds the chunk starting
    at task index ``lo``."""
    from tqdm.auto import tqdm

    from agent_gym.core.groups import EnvGroup

    task_ids = list(task_ids)
    episodes: list[Episode] = []
    group = None
    bar = tqdm(total=len(task_ids) * k, desc=f"playing {env_id}", unit="ep", disable=None if progress else True)
    try:
        for lo in range(0, len(task_ids), tasks_per_chunk):
            chunk = task_ids[lo:lo + tasks_per_chunk]
            if group is None or len(group) != len(chunk) * k:
                if group is not None:
                    group.close()
                group = EnvGroup.make(env_id, len(chunk) * k, **env_kwargs)
            episodes += rollout(group, generator, chunk, group_size=k, seed=seed(lo), **rollout_kwargs)
            bar.update(len(chunk) * k)
    finally:
        bar.close()
        if group is not None:
            group.close()
    return episodes
