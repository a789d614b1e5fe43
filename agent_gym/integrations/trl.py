"""Our envs in TRL's ``GRPOTrainer`` (trl 1.16): ``pip install agent-gym[trl]``.

Two ways in, both read from ``trl/trainer/grpo_trainer.py``:

* ``environment_factory``: TRL makes one instance per rollout with no arguments, calls
  ``reset(**row)`` with the dataset row and appends the string it returns to the last user
  message, exposes every public method (other than ``reset``/``get_reward``) as a tool whose
  JSON schema it builds from the type hints and the Google-style docstring (listed in
  alphabetical order, ``inspect.getmembers``), parses the model's tool calls with the
  tokenizer's response template, runs them and feeds the results back as ``tool`` messages,
  and scores the rollout with ``get_reward()``. ``KeyDoorEnvironment`` and
  ``WebShopEnvironment`` have one tool per action verb (``go``/``open``/``take``;
  ``click``/``search``); ``environment_class(env_id)`` gives a class for any registered env
  (the generic ``act(action)`` tool for free-form grammars).

      trainer = GRPOTrainer(model=..., processing_class=tokenizer, args=GRPOConfig(...),
                            train_dataset=task_dataset("agent_gym/KeyDoor-v0", "train"),
                            environment_factory=KeyDoorEnvironment)

* ``rollout_func``: ``make_rollout_func(env_id)`` plays ReAct-style multi-turn episodes
  (``Thought: ...`` / ``Action: ...`` replies, the prompts of ``agent_gym.core.prompts``) on
  an ``EnvGroup`` and returns what ``GRPOTrainer`` expects: ``prompt_ids``,
  ``completion_ids`` (the model's replies and the env's observations, concatenated as
  tokens), ``logprobs`` and ``env_mask`` (1 on the model's tokens, 0 on the env's, so only the
  model's tokens are scored), plus ``env_reward`` for the reward function ``env_reward``. The
  function sees only the prompts, so the task travels inside them: the user message of
  ``task_dataset`` rows carries ``task_id``.

``sft_conversations`` turns demonstrations into the conversations TRL will produce
(same system prompt, first observation, tool schemas in TRL's order, tool results from the
same class) and ``sft_texts`` renders them with TRL's training chat template, to warm a
model up on tool calls before GRPO.

Known traps: ``GRPOConfig`` defaults to bf16 and gradient checkpointing (on CPU pass
``use_cpu=True, bf16=False``; gradient checkpointing is only worth it on large models); the
chat template must support tools, and TRL must recognise it to parse tool calls: it ships
Qwen, Llama and Gemma templates (``use_tool_chat_template``); a plain ChatML template is
refused ("The provided chat template does not support tool calling").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gymnasium as gym

import agent_gym  # noqa: F401  (registers the envs)
from agent_gym.core.prompts import (agent_prompt_of, format_available, format_observation, parse_response,
                                    system_prompt)

TOOL_RULE = ("Act by calling one of the tools, one call per reply; each call returns what you observe next. "
             "When the episode is over, reply without a tool call.")
REACT = "react"


def tool_system_prompt(env_id: str) -> str:
    """The system prompt of the tool-calling rollouts: the env's rules, then how to act."""
    return (agent_prompt_of(env_id) or "").rstrip() + "\n\n" + TOOL_RULE


def first_message(instruction: str, observation: str, info: dict) -> str:
    """What the agent sees at the start: instruction, observation, available actions."""
    obs, _ = format_observation(observation, info)
    return f"Instruction: {instruction}\nObservation: {obs}\n\n{format_available(info.get('available_actions'))}"


def step_message(observation: str, reward: float, done: bool, info: dict) -> str:
    """What the agent sees after an action (a tool result, or the next user turn of a rollout)."""
    obs, note = format_observation(observation, info)
    text = (f"{note}\n" if note else "") + f"Observation: {obs}"
    if done:
        return text + f"\n\nThe episode is over (reward {reward:g})."
    return text + "\n\n" + format_available(info.get("available_actions"))


# ----- environment classes for environment_factory ----------------------------------------


class GymEnvironment:
    """Base of the ``environment_factory`` classes: one ``gym.make(env_id, **kwargs)`` per instance.

    Subclasses set ``env_id`` (and ``env_kwargs``) and define the tools. ``reset(task_id=..,
    seed=.., **row)`` ignores the row's other columns (``prompt``, ...); ``get_reward()`` is
    the episode's total reward. After the episode ends a tool call changes nothing and says so.
    """

    env_id: str = ""
    env_kwargs: dict[str, Any] = {}

    def __init__(self, **env_kwargs: Any):
        if not self.env_id:
            raise TypeError("GymEnvironment is a base class: use environment_class(env_id) or a ready subclass")
        self._env = gym.make(self.env_id, **{"split": "train", **self.env_kwargs, **env_kwargs})
        self._reward, self._done, self.actions, self.info = 0.0, True, [], {}

    def reset(self, task_id: int | None = None, seed: int | None = None, **row: Any) -> str:
        options = None if task_id is None else {"task_id": int(task_id)}
        observation, info = self._env.reset(seed=seed, options=options)
        self._reward, self._done, self.actions, self.info = 0.0, False, [], info
        return first_message(info.get("instruction", ""), observation, info)

    def get_reward(self) -> float:
        return self._reward

    @property
    def done(self) -> bool:
        return self._done

    def _act(self, action: str) -> str:
        if self._done:
            return f"The episode is over (reward {self._reward:g}): nothing happens. Reply without a tool call."
        self.actions.append(action)
        observation, reward, terminated, truncated, info = self._env.step(action)
        self._reward += float(reward)
        self._done, self.info = bool(terminated or truncated), info
        return step_message(observation, self._reward, self._done, info)

    @classmethod
    def tool_call(cls, action: str) -> dict:
        """The tool call that plays ``action`` (for demonstrations): ``{"name", "arguments"}``."""
        return {"name": "act", "arguments": {"action": action}}

    def _close(self) -> None:  # private: TRL would expose a public method as a tool
        self._env.close()


class TextEnvironment(GymEnvironment):
    """Any env with the one generic tool ``act`` (free-form action strings)."""

    def act(self, action: str) -> str:
        """Take one action in the environment.

        Args:
            action: The action, spelled as one of the available actions listed in the last observation.
        """
        return self._act(action)


def _verb_call(action: str, verbs: dict[str, str]) -> dict:
    verb, sep, rest = action.partition("[")
    if not sep or not rest.endswith("]") or verb not in verbs:
        raise ValueError(f"{action!r} is not of the form verb[argument] with a verb in {sorted(verbs)}")
    return {"name": verb, "arguments": {verbs[verb]: rest[:-1]}}


class KeyDoorEnvironment(GymEnvironment):
    """``agent_gym/KeyDoor-v0`` with one tool per verb: ``go``, ``open``, ``take``."""

    env_id = "agent_gym/KeyDoor-v0"
    VERBS = {"go": "direction", "take": "item", "open": "door"}

    def go(self, direction: str) -> str:
        """Walk somewhere.

        Args:
            direction: Where to go: left, right, ahead (from the hall) or back.
        """
        return self._act(f"go[{direction}]")

    def take(self, item: str) -> str:
        """Take a key from its hook (you hold one key at a time).

        Args:
            item: The key to take, e.g. "red key".
        """
        return self._act(f"take[{item}]")

    def open(self, door: str) -> str:
        """Open a door with the key you hold.

        Args:
            door: The door to open, e.g. "red door".
        """
        return self._act(f"open[{door}]")

    @classmethod
    def tool_call(cls, action: str) -> dict:
        return _verb_call(action, cls.VERBS)


class WebShopEnvironment(GymEnvironment):
    """``agent_gym/WebShop-v0`` with AgentGym's two tools, ``search(keywords)`` and ``click(item)``.

    All instances share one catalog and searcher (pass ``catalog=`` through ``env_kwargs`` or
    ``functools.partial``; by default the process's default catalog, shared by itself).
    """

    env_id = "agent_gym/WebShop-v0"
    VERBS = {"search": "keywords", "click": "item"}

    def search(self, keywords: str) -> str:
        """Search the shop (only on the search page).

        Args:
            keywords: The search query.
        """
        return self._act(f"search[{keywords}]")

    def click(self, item: str) -> str:
        """Click a button, product or option of the page.

        Args:
            item: One of the clickable values listed in the observation, e.g. "buy now" or a product id.
        """
        return self._act(f"click[{item}]")

    @classmethod
    def tool_call(cls, action: str) -> dict:
        return _verb_call(action, cls.VERBS)


READY = {KeyDoorEnvironment.env_id: KeyDoorEnvironment, WebShopEnvironment.env_id: WebShopEnvironment}


def environment_class(env_id: str, **env_kwargs: Any) -> type[GymEnvironment]:
    """A no-argument class for ``environment_factory``: the ready class of ``env_id`` (verb
    tools) or ``TextEnvironment`` (``act``), with ``env_kwargs`` bound (e.g. ``split``,
    ``catalog``, ``max_steps``)."""
    if env_id not in gym.registry:
        raise ValueError(f"unknown env id {env_id!r}")
    base = READY.get(env_id, TextEnvironment)
    name = env_id.split("/")[-1].replace("-", "_") + "Environment"
    return type(name, (base,), {"env_id": env_id, "env_kwargs": {**base.env_kwargs, **env_kwargs},
                                "__module__": __name__})


def tools_of(environment: GymEnvironment) -> list[Callable]:
    """The tools TRL exposes for an instance, in TRL's order (``inspect.getmembers`` of the class)."""
    return [getattr(environment, name) for name, _ in inspect.getmembers(type(environment), predicate=inspect.isfunction)
            if name not in ("reset", "get_reward") and not name.startswith("_")]


# ----- the task rows ------------------------------------------------------------------------


def task_rows(env_id: str, split: str = "train", task_ids: Sequence[int] | None = None, style: str = "tools",
              system: str | None = None, **env_kwargs: Any) -> list[dict]:
    """One row per task: ``{"prompt": [system, user], "task_id"}``. The user message is empty
    (TRL appends ``reset``'s first observation to it; the rollout function does the same) and
    carries ``task_id`` too, so the task travels inside the prompt. ``style`` picks the system
    prompt: ``"tools"`` (``environment_factory``: act by tool calls) or ``"react"``
    (``make_rollout_func``: Thought/Action replies); ``system`` replaces it."""
    if style not in ("tools", REACT):
        raise ValueError(f"style must be 'tools' or 'react', got {style!r}")
    if task_ids is None:
        probe = gym.make(env_id, split=split, **env_kwargs)
        task_ids = range(probe.unwrapped.num_tasks)
        probe.close()
    if system is None:
        system = tool_system_prompt(env_id) if style == "tools" else system_prompt(REACT, agent_prompt_of(env_id))
    return [{"prompt": [{"role": "system", "content": system, "task_id": None},
                        {"role": "user", "content": "", "task_id": int(t)}],
             "task_id": int(t)} for t in task_ids]


def task_dataset(env_id: str, split: str = "train", task_ids: Sequence[int] | None = None, style: str = "tools",
                 system: str | None = None, **env_kwargs: Any):
    """``task_rows`` as a ``datasets.Dataset`` (the ``train_dataset`` of ``GRPOTrainer``)."""
    from datasets import Dataset

    return Dataset.from_list(task_rows(env_id, split, task_ids, style, system, **env_kwargs))


# ----- chat templates -----------------------------------------------------------------------


def use_tool_chat_template(tokenizer, name: str = "qwen2_5"):
    """Give ``tokenizer`` one of the tool-capable chat templates TRL ships and recognises
    (``trl/chat_templates/<name>.jinja``: ``qwen2_5``, ``qwen3``, ``llama3_1``, ...), e.g.
    for a tiny test model whose template is plain ChatML. Returns the tokenizer."""
    from trl import chat_template_utils

    template = getattr(chat_template_utils, f"{name}_chat_template", None)
    if template is None:
        raise ValueError(f"trl ships no chat template named {name!r}")
    tokenizer.chat_template = template
    return tokenizer


def training_chat_template(tokenizer) -> str:
    """The template TRL trains with: its prefix-preserving training version when it has one."""
    from trl.chat_template_utils import get_training_chat_template

    return get_training_chat_template(tokenizer) or tokenizer.chat_template


# ----- SFT warm-up data ---------------------------------------------------------------------


def sft_conversations(environment_factory: Callable[[], GymEnvironment],
                      demonstrations: Iterable[tuple[int, Sequence[str]]], system: str | None = None) -> list[dict]:
    """Demonstrations (``(task_id, actions)`` pairs, e.g. from trajectory records) replayed
    through the environment class, as the conversations a ``GRPOTrainer`` rollout produces:
    ``{"messages": [system, user, (assistant tool call, tool result)..., assistant ""], "tools"}``
    where ``tools`` are the bound tool methods in TRL's order. Only won episodes should be
    used for a warm-up; a demonstration whose action the class cannot call raises."""
    environment = environment_factory()
    out = []
    for task_id, actions in demonstrations:
        first = environment.reset(task_id=task_id)
        messages = [{"role": "system", "content": tool_system_prompt(environment.env_id) if system is None else system},
                    {"role": "user", "content": first}]
        for action in actions:
            call = environment.tool_call(action)
            result = getattr(environment, call["name"])(**call["arguments"])
            messages.append({"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": call}]})
            messages.append({"role": "tool", "name": call["name"], "content": result})
        messages.append({"role": "assistant", "content": ""})  # the rollout ends on a reply without a call
        out.append({"messages": messages, "tools": tools_of(environment), "task_id": task_id,
                    "reward": environment.get_reward()})
    return out


def sft_texts(tokenizer, conversations: Iterable[dict]) -> list[str]:
    """The conversations rendered with TRL's training chat template and their tool schemas."""
    template = training_chat_template(tokenizer)
    return [tokenizer.apply_chat_template(c["messages"], tools=c["tools"], chat_template=template, tokenize=False)
            for c in conversations]


def sft_dataset(tokenizer, conversations: Iterable[dict]):
    """``sft_texts`` as a prompt/completion ``datasets.Dataset`` for TRL's ``SFTTrainer``: the
    prompt is everything before the first assistant turn (system prompt with the tool schemas,
    first observation), so the loss falls on the tool calls and what follows them."""
    from datasets import Dataset

    texts = sft_texts(tokenizer, conversations)
    head = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], add_generation_prompt=True, tokenize=False)
    header = head[head.rindex("x") + 1:]  # the template's end of user turn + assistant header
    header = header[header.index(tokenizer.eos_token) + len(tokenizer.eos_token):] if tokenizer.eos_token in header else header
    prompts, completions = [], []
    for text in texts:
        cut = text.index(header) if header in text else 0
        prompts.append(text[:cut])
        completions.append(text[cut:])
    return Dataset.from_dict({"prompt": prompts, "completion": completions})


# ----- rollout_func: ReAct multi-turn rollouts over an EnvGroup -------------------------------


def env_reward(completions, env_reward: Sequence[float] | None = None, **kwargs) -> list[float]:
    """Reward function for ``make_rollout_func``: the episode's total env reward."""
    if env_reward is None:
        raise ValueError("env_reward needs the rollout function's env_reward field (use make_rollout_func)")
    return [float(r) for r in env_reward]


def make_rollout_func(env_id: str, split: str = "train", max_turns: int | None = None, fmt: str = REACT,
                      **env_kwargs: Any) -> Callable:
    """A ``rollout_func(prompts, trainer)`` playing ReAct multi-turn episodes of ``env_id``.

    Each prompt (a ``task_rows(..., style="react")`` prompt) is one episode: its last
    message's ``task_id`` names the task, its messages (plus the first observation, as TRL
    does with ``reset``) open the chat; then the model replies (sampled at
    ``trainer.temperature``), the action parsed from the reply (``fmt``: ``Thought:`` /
    ``Action:`` lines) steps the env (a reply without one is sent as it is and refused, as in
    our own rollouts), and the env's next observation becomes a user turn, until the episode
    ends, ``max_turns`` replies were made, or the completion reaches
    ``trainer.max_completion_length`` tokens.
    """
    from agent_gym.core.groups import EnvGroup

    state: dict[str, Any] = {"group": None}

    def rollout_func(prompts: list, trainer) -> dict[str, list]:
        tokenizer = trainer.processing_class
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        task_ids = []
        for prompt in prompts:
            task_id = prompt[-1].get("task_id") if isinstance(prompt, list) and prompt else None
            if task_id is None:
                raise ValueError("each prompt's last message must carry task_id: build the dataset with task_dataset()")
            task_ids.append(int(task_id))
        group = state["group"]
        if group is None or len(group) != len(prompts):
            if group is not None:
                group.close()
            group = state["group"] = EnvGroup.make(env_id, len(prompts), split=split, **env_kwargs)
        observations, infos = group.reset(task_ids, group_size=1)
        chats = []
        for prompt, obs, info in zip(prompts, observations, infos):
            messages = [{"role": m["role"], "content": m["content"]} for m in prompt]
            messages[-1]["content"] += first_message(info.get("instruction", ""), obs, info)
            chats.append(messages)
        prompt_ids = [_chat_ids(tokenizer, m, generation_prompt=True) for m in chats]
        n = len(prompts)
        completion_ids: list[list[int]] = [[] for _ in range(n)]
        logprobs: list[list[float]] = [[] for _ in range(n)]
        env_mask: list[list[int]] = [[] for _ in range(n)]
        rewards = [0.0] * n
        budget = trainer.max_completion_length
        active = list(range(n))
        turn = 0
        while active and (max_turns is None or turn < max_turns):
            # one token of each budget is kept for the end-of-turn token a cut reply gets
            ids, lps = _generate(trainer, tokenizer, [prompt_ids[i] + completion_ids[i] for i in active],
                                 [budget - len(completion_ids[i]) - 1 for i in active])
            actions: list[Any] = [None] * n
            for i, reply_ids, reply_lps in zip(active, ids, lps):
                completion_ids[i] += reply_ids
                logprobs[i] += reply_lps
                env_mask[i] += [1] * len(reply_ids)
                if not reply_ids or reply_ids[-1] != tokenizer.eos_token_id:  # cut at the budget: close the turn
                    completion_ids[i].append(tokenizer.eos_token_id)
                    logprobs[i].append(0.0)
                    env_mask[i].append(0)
                text = tokenizer.decode(reply_ids, skip_special_tokens=True)
                _, action = parse_response(text, infos[i].get("available_actions"), fmt)
                actions[i] = text if action is None else action  # no action: the env refuses the reply
            new_obs, step_rewards, terms, truncs, new_infos = group.step(actions)
            still = []
            for i in active:
                rewards[i] += float(step_rewards[i])
                done = bool(terms[i] or truncs[i])
                infos[i] = new_infos[i]
                if done:
                    continue
                suffix = _user_turn_ids(tokenizer, step_message(new_obs[i], rewards[i], False, new_infos[i]))
                if len(completion_ids[i]) + len(suffix) + 1 >= budget:
                    continue  # no room for another reply
                completion_ids[i] += suffix
                logprobs[i] += [0.0] * len(suffix)
                env_mask[i] += [0] * len(suffix)
                still.append(i)
            active = still
            turn += 1
        return {"prompt_ids": prompt_ids, "completion_ids": completion_ids, "logprobs": logprobs,
                "env_mask": env_mask, "env_reward": rewards}

    return rollout_func


def _chat_ids(tokenizer, messages: list[dict], generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=True,
                                        return_dict=False)
    return list(out)


def _user_turn_ids(tokenizer, content: str) -> list[int]:
    """The tokens that follow an assistant turn's end-of-turn token up to the next reply: the
    template's turn separator, the user turn, the assistant header (TRL's suffix trick: the
    difference of two renderings of a dummy chat)."""
    head = [{"role": "user", "content": "dummy"}, {"role": "assistant", "content": "dummy"}]
    prefix = _chat_ids(tokenizer, head, generation_prompt=False)
    full = _chat_ids(tokenizer, head + [{"role": "user", "content": content}], generation_prompt=True)
    eos = [k for k, t in enumerate(prefix) if t == tokenizer.eos_token_id]
    if eos:
        prefix = prefix[:eos[-1] + 1]
    if full[:len(prefix)] != prefix:
        raise ValueError("the chat template is not prefix-preserving: use one TRL ships (use_tool_chat_template)")
    return full[len(prefix):]


def _generate(trainer, tokenizer, sequences: list[list[int]], budgets: list[int]):
    """One sampled reply per sequence (up to its budget and the end-of-turn token) and the
    log-probs of its tokens under the model's raw distribution (what TRL's own generation
    reports), on the trainer's model."""
    import torch

    model = trainer.accelerator.unwrap_model(trainer.model)
    device = next(model.parameters()).device
    width = max(len(s) for s in sequences)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.tensor([[pad] * (width - len(s)) + s for s in sequences], device=device)
    attention = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in sequences], device=device)
    max_new = max(1, max(budgets))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model.generate(input_ids=input_ids, attention_mask=attention, max_new_tokens=max_new, do_sample=True,
                                 temperature=trainer.temperature, top_p=trainer.top_p, top_k=trainer.top_k or 0,
                                 eos_token_id=tokenizer.eos_token_id, pad_token_id=pad,
                                 return_dict_in_generate=True, output_logits=True)
    finally:
        model.train(was_training)
    new = out.sequences[:, width:]
    logps = torch.stack(out.logits, dim=1).float().log_softmax(-1).gather(-1, new.unsqueeze(-1)).squeeze(-1)
    ids, lps = [], []
    for row, lp, budget in zip(new.tolist(), logps.tolist(), budgets):
        keep = min(len(row), max(1, budget))
        if tokenizer.eos_token_id in row[:keep]:
            keep = row.index(tokenizer.eos_token_id) + 1
        ids.append(row[:keep])
        lps.append(lp[:keep])
    return ids, lps
