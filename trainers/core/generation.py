"""Generation backends: chat messages in, replies with their token ids and log-probs out.

A backend is anything with the ``Generator`` protocol: ``generate(list_of_messages)`` returns
one ``GenOut`` per conversation, where ``prompt_ids`` are the tokens the model was given
(``policy.encode(messages)``), ``response_ids`` the generated tokens up to and including the
end-of-turn token (no padding), and ``response_logprobs[i] = log p(response_ids[i] | prompt,
response_ids[:i])`` under the *unmodified* model distribution (temperature 1, no top-p), i.e.
what ``masked_logprobs`` gives on ``prompt_ids + response_ids``: the numbers PPO/GRPO ratios
need as "old" log-probs.

``HFGenerator`` (the default) runs ``model.generate`` on one left-padded batch. Another
backend (e.g. vLLM for GPU runs) plugs in by implementing the same method: render the
prompts with ``policy.encode`` (so that token ids agree with training), pass them as token
ids (vLLM: ``LLM.generate(prompts=[{"prompt_token_ids": ids}], SamplingParams(logprobs=0,
temperature=..., top_p=..., seed=..., max_tokens=...))``), keep the stop token in
``response_ids`` and return the log-probs of the sampled tokens under the raw distribution
(vLLM's ``logprobs_mode="raw_logprobs"``); after each optimizer step it must reload the
policy's weights. Rollouts and trainers only see the protocol.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from trainers.core.policy import Policy


@dataclass
class GenOut:
    text: str
    prompt_ids: list[int]
    response_ids: list[int]
    response_logprobs: list[float] = field(default_factory=list)
    finished: bool = True  # ended with an end-of-turn token, not at the length limit


@runtime_checkable
class Generator(Protocol):
    def generate(self, conversations: Sequence[list[dict]]) -> list[GenOut]: ...


def _as_list(value) -> list[int]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [int(value)]


class HFGenerator:
    """Batched ``transformers`` generation with left padding.

    ``do_sample=False`` decodes greedily; with sampling, ``seed`` makes each call
    reproducible (call ``k`` of this generator uses ``torch`` seed ``seed + k``, in a forked
    RNG so the caller's random state is left alone). ``batch_size`` caps the prompts per
    ``model.generate`` call (default: all at once). ``autocast_dtype="bfloat16"`` generates
    under bfloat16 autocast (the recorded log-probs are then the bfloat16 sampler's).
    """

    def __init__(self, policy: Policy, max_new_tokens: int = 64, temperature: float = 1.0, top_p: float = 1.0,
                 do_sample: bool = True, seed: int | None = 0, batch_size: int | None = None,
                 autocast_dtype: str = "float32"):
        if autocast_dtype not in ("float32", "bfloat16"):
            raise ValueError(f"autocast_dtype must be float32 or bfloat16, not {autocast_dtype!r}")
        self.policy = policy
        self.autocast_dtype = autocast_dtype
        self.max_new_tokens = int(max_new_tokens)
        self.do_sample = bool(do_sample)
        self.seed = seed
        self.batch_size = batch_size
        self.calls = 0
        config = copy.deepcopy(policy.model.generation_config)
        for name in ("temperature", "top_p", "top_k", "min_p", "typical_p"):
            if hasattr(config, name):
                setattr(config, name, None)
        config.do_sample, config.num_beams = self.do_sample, 1
        if self.do_sample:
            config.temperature, config.top_p, config.top_k = float(temperature), float(top_p), 0
        config.max_new_tokens = self.max_new_tokens
        tok = policy.tokenizer
        config.pad_token_id = tok.pad_token_id
        self.eos_ids = _as_list(config.eos_token_id) or _as_list(tok.eos_token_id)
        config.eos_token_id = self.eos_ids or None
        self.generation_config = config

    def generate(self, conversations: Sequence[list[dict]], keys: Sequence[int] | None = None) -> list[GenOut]:
        """One reply per conversation. With ``keys`` (one integer per conversation, e.g. its
        env's index in the whole run), each reply's random draws depend only on the seed, the
        call and its key, not on which other conversations share the batch: rollouts sharded
        over processes then sample what one process would (``KeyedSampling``)."""
        prompts = [self.policy.encode(m) for m in conversations]
        step = self.batch_size or len(prompts) or 1
        out: list[GenOut] = []
        for start in range(0, len(prompts), step):
            out.extend(self._generate_ids(prompts[start:start + step],
                                          None if keys is None else list(keys[start:start + step])))
        return out

    def _generate_ids(self, prompts: list[list[int]], keys: list[int] | None = None) -> list[GenOut]:
        import torch

        if not prompts:
            return []
        model, tok, device = self.policy.model, self.policy.tokenizer, self.policy.device
        width = max(len(p) for p in prompts)
        pad = tok.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], dtype=torch.long, device=device)
        attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], dtype=torch.long,
                                 device=device)
        was_training = model.training
        model.eval()
        devices = [device] if device.type == "cuda" else []
        config, extra = self.generation_config, {}
        if keys is not None and self.do_sample:
            # Gumbel-max with per-key noise, decoded greedily: exactly a sample of softmax(logits / T)
            config = copy.deepcopy(config)
            config.do_sample, config.temperature, config.top_p, config.top_k = False, None, None, None
            extra["logits_processor"] = [KeyedSampling(keys, (self.seed or 0) * 1_000_003 + self.calls,
                                                       self.generation_config.temperature)]
        try:
            precision = torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.autocast_dtype == "bfloat16")
            with torch.no_grad(), torch.random.fork_rng(devices=devices, enabled=self.seed is not None), precision:
                if self.seed is not None:
                    torch.manual_seed(self.seed + self.calls)
                # synced_gpus=False: each process generates on its own (a sharded model inside
                # ``Dist.generation``, whose forwards run no collective); transformers would
                # otherwise step every process until the slowest has finished
                res = model.generate(input_ids=input_ids, attention_mask=attention,
                                     generation_config=config, return_dict_in_generate=True,
                                     output_logits=True, synced_gpus=False, **extra)
        finally:
            model.train(was_training)
        self.calls += 1
        new = res.sequences[:, width:]
        # raw logits (before temperature / top-p): the model's own distribution
        logp = torch.stack(res.logits, dim=1).float().log_softmax(-1)  # [B, new, V]
        chosen = logp.gather(-1, new.unsqueeze(-1)).squeeze(-1)
        outs = []
        eos = set(self.eos_ids)
        for row, prompt in enumerate(prompts):
            ids = new[row].tolist()
            end = next((i + 1 for i, t in enumerate(ids) if t in eos), len(ids))
            ids = ids[:end]
            outs.append(GenOut(text=tok.decode(ids, skip_special_tokens=True), prompt_ids=list(prompt),
                               response_ids=ids, response_logprobs=chosen[row, :end].tolist(),
                               finished=bool(ids) and ids[-1] in eos))
        return outs


class KeyedSampling:
    """A logits processor that turns greedy decoding into sampling at ``temperature`` with
    Gumbel noise drawn from one generator per row, seeded by ``(seed, key)``: row ``i``'s
    tokens depend on its own prompt, the seed and ``keys[i]`` only (``top_p`` is not applied)."""

    def __init__(self, keys: Sequence[int], seed: int, temperature: float):
        import torch

        self.temperature = float(temperature or 1.0)
        self.generators = [torch.Generator().manual_seed((seed * 7_919 + int(k) * 104_729) % (2 ** 63))
                           for k in keys]

    def __call__(self, input_ids, scores):
        import torch

        noise = torch.stack([torch.rand(scores.shape[-1], generator=g, dtype=torch.float64)
                             for g in self.generators]).clamp_(1e-12, 1 - 1e-12)
        gumbel = -torch.log(-torch.log(noise))
        return scores.float() / self.temperature + gumbel.to(scores.device, torch.float32)
