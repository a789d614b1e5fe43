"""ReAct with a local Hugging Face transformers model on any benchmark, many episodes per batch.

``HFAgent`` is a ``BatchAgent``: ``act_batch`` builds the prompt of ``agent_gym.core.prompts``
(the env's ``agent_prompt``, named by ``env_id``; ``agent-gym eval`` passes it) for every slot, applies the tokenizer's chat template (or a plain ``System:/User:/Assistant:``
format when the tokenizer has none), generates greedily for all slots in one left-padded
batch and parses the replies with the same parser as ``ReActAgent``.

torch and transformers are imported when an ``HFAgent`` is created, not when this module is
imported (``pip install -e '.[train]'`` installs them).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from agent_gym.core.prompts import fallback_action, is_available, parse_action, render_plain
from baselines.llm_common import EpisodeMemory, agent_system_prompt


class HFAgent:
    """A ``BatchAgent`` playing ``env_id``'s benchmark with ``model`` (a path, a hub id or a ``PreTrainedModel``).

    Arguments: ``tokenizer`` (default: loaded from ``model``), ``max_new_tokens``, ``device``
    (default: the model's device when a model object is given, else ``cuda`` when available,
    else ``cpu``), ``dtype`` (when loading), ``history`` (turns shown in full),
    ``batch_size`` (most prompts per ``generate`` call; default all), ``max_prompt_tokens``
    (default: the model's context minus ``max_new_tokens``; longer prompts first lose history
    turns, then their oldest tokens), ``chat_template_kwargs`` (passed to
    ``apply_chat_template``, e.g. ``{"enable_thinking": False}`` for Qwen3). Generation is greedy, so a batch gives the same replies
    as one slot at a time (up to floating-point ties). Counters: ``calls`` (``generate``
    calls), ``generated_tokens``, ``parse_failures`` (= ``fallbacks``: a reply without an action
    plays the fallback action), ``invalid_actions``; per slot ``last_replies``, ``last_thoughts``
    and ``step_info(slot)`` (raw reply, fallback, prompt and generated tokens of the last step).
    """

    name = "hf"

    def __init__(self, model: Any, tokenizer: Any = None, max_new_tokens: int = 64, device: Any = None, *,
                 dtype: Any = None, history: int = 5, batch_size: int | None = None,
                 max_prompt_tokens: int | None = None, system_prompt: str | None = None, example: bool = True,
                 max_observation_chars: int | None = 4000, trust_remote_code: bool = False,
                 chat_template_kwargs: dict | None = None, env_id: str | None = None):
        import torch
        import transformers

        self._torch = torch
        if isinstance(model, str):
            kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
            if dtype is not None:
                kwargs["dtype" if _version(transformers.__version__) >= (4, 56) else "torch_dtype"] = _dtype(torch, dtype)
            if tokenizer is None:
                tokenizer = model
            model = transformers.AutoModelForCausalLM.from_pretrained(model, **kwargs)
            if device is None:
                device = "cuda" if torch.cuda.is_available() else "cpu"
        elif tokenizer is None:
            tokenizer = getattr(model, "name_or_path", None) or getattr(getattr(model, "config", None), "_name_or_path", None)
            if not tokenizer:
                raise ValueError("pass tokenizer= with a model object that has no name_or_path")
        if isinstance(tokenizer, str):
            tokenizer = transformers.AutoTokenizer.from_pretrained(tokenizer, trust_remote_code=trust_remote_code)
        if device is not None:
            model = model.to(device)
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self.tokenizer = tokenizer
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            if tokenizer.eos_token is None:
                raise ValueError("the tokenizer has neither a pad nor an eos token")
            tokenizer.pad_token = tokenizer.eos_token
        self.max_new_tokens = int(max_new_tokens)
        self.history = history
        self.batch_size = batch_size
        context = getattr(model.config, "max_position_embeddings", None)
        self.max_prompt_tokens = max_prompt_tokens or (max(16, context - self.max_new_tokens) if context else None)
        self.env_id = env_id
        self.memory_kwargs = dict(history=history, system=agent_system_prompt(env_id, system_prompt, example),
                                  max_observation_chars=max_observation_chars)
        self.use_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.memories: dict[int, EpisodeMemory] = {}
        self.last_replies: dict[int, str] = {}
        self.last_thoughts: dict[int, str | None] = {}
        self.last_steps: dict[int, dict] = {}
        self.calls = self.generated_tokens = self.parse_failures = self.invalid_actions = 0
        self.generation_config = self._generation_config()

    # ----- the BatchAgent protocol -----------------------------------------------------
    def reset(self, slot: int, instruction: str, info: dict) -> None:
        memory = self.memories.get(slot)
        if memory is None:
            memory = self.memories[slot] = EpisodeMemory(**self.memory_kwargs)
        memory.reset(instruction)
        self.last_replies.pop(slot, None)
        self.last_thoughts.pop(slot, None)
        self.last_steps.pop(slot, None)

    def act_batch(self, slots: Sequence[int], observations: Sequence[str], infos: Sequence[dict]) -> list[str]:
        slots, observations, infos = list(slots), list(observations), list(infos)
        for slot in slots:
            if slot not in self.memories:
                raise KeyError(f"slot {slot} was never reset")
        prompts = [self._prompt_ids(s, o, i) for s, o, i in zip(slots, observations, infos)]
        step = self.batch_size or len(prompts) or 1
        replies: list[str] = []
        counts: list[int] = []
        for start in range(0, len(prompts), step):
            replies.extend(self.generate(prompts[start:start + step], counts))
        actions = []
        for slot, info, reply, prompt, n_new in zip(slots, infos, replies, prompts, counts):
            available = info.get("available_actions")
            thought, action = parse_action(reply, available)
            fallback = action is None
            if fallback:
                self.parse_failures += 1
                action = fallback_action(self.memories[slot].instruction, available)
            elif not is_available(action, available):
                self.invalid_actions += 1
            self.memories[slot].record(thought, action)
            self.last_replies[slot], self.last_thoughts[slot] = reply, thought
            self.last_steps[slot] = {"reply": reply, "parse_failure": fallback, "fallback": fallback,
                                     "prompt_tokens": len(prompt), "completion_tokens": n_new}
            actions.append(action)
        return actions

    def step_info(self, slot: int) -> dict:
        return dict(self.last_steps.get(slot, {}))

    # ----- prompts and generation --------------------------------------------------------
    def render(self, messages: list[dict]) -> str:
        """The prompt text: the chat template when the tokenizer has one, else a plain format."""
        if not self.use_chat_template:
            return render_plain(messages)
        kwargs = dict(tokenize=False, add_generation_prompt=True, **self.chat_template_kwargs)
        try:
            return self.tokenizer.apply_chat_template(messages, **kwargs)
        except Exception:  # noqa: BLE001 - e.g. templates without a system role
            merged = [dict(m) for m in messages[1:]]
            merged[0]["content"] = messages[0]["content"] + "\n\n" + merged[0]["content"]
            return self.tokenizer.apply_chat_template(merged, **kwargs)

    def _encode(self, text: str) -> list[int]:
        # a chat template writes its own special tokens; the plain format gets the tokenizer's
        return self.tokenizer(text, add_special_tokens=not self.use_chat_template)["input_ids"]

    def _prompt_ids(self, slot: int, observation: str, info: dict) -> list[int]:
        memory = self.memories[slot]
        history = memory.history
        while True:
            ids = self._encode(self.render(memory.prompt(observation, info, history=history)))
            if self.max_prompt_tokens is None or len(ids) <= self.max_prompt_tokens or history <= 0:
                break
            history -= 1
        if self.max_prompt_tokens is not None and len(ids) > self.max_prompt_tokens:
            ids = ids[-self.max_prompt_tokens:]
        return ids

    def generate(self, prompts: list[list[int]], counts: list[int] | None = None) -> list[str]:
        """Greedy replies to token-id prompts, in one left-padded batch; ``counts`` gets each
        reply's generated tokens (end-of-turn and padding not counted)."""
        if not prompts:
            return []
        torch = self._torch
        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], dtype=torch.long, device=self.device)
        attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], dtype=torch.long,
                                 device=self.device)
        with torch.no_grad():
            out = self.model.generate(input_ids=input_ids, attention_mask=attention,
                                      generation_config=self.generation_config)
        new = out[:, width:]
        self.calls += 1
        eos = set(_as_list(self.generation_config.eos_token_id)) | {pad}
        per_row = [sum(1 for t in row if t not in eos) for row in new.tolist()]
        self.generated_tokens += int(sum(per_row))
        if counts is not None:
            counts.extend(per_row)
        return self.tokenizer.batch_decode(new, skip_special_tokens=True)

    def _generation_config(self):
        config = copy.deepcopy(self.model.generation_config)
        config.do_sample = False
        config.num_beams = 1
        for name in ("temperature", "top_p", "top_k", "min_p", "typical_p"):
            if hasattr(config, name):
                setattr(config, name, None)
        config.max_new_tokens = self.max_new_tokens
        config.pad_token_id = self.tokenizer.pad_token_id
        eos = _as_list(config.eos_token_id) or _as_list(self.tokenizer.eos_token_id)
        config.eos_token_id = eos or None
        return config

    def stats(self) -> dict[str, int]:
        return {"calls": self.calls, "generated_tokens": self.generated_tokens,
                "parse_failures": self.parse_failures, "fallbacks": self.parse_failures,
                "invalid_actions": self.invalid_actions}


def _as_list(value) -> list[int]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _dtype(torch, dtype):
    if isinstance(dtype, str) and dtype != "auto":
        return getattr(torch, dtype)
    return dtype
