"""Log-probabilities of the agent's tokens in padded batches.

``masked_logprobs`` scores token ``t`` with the logits at position ``t - 1`` and keeps only
positions whose ``labels_mask`` is 1. Position ids are computed from the attention mask, so
left- and right-padded batches give the same numbers as unpadded sequences.
"""

from __future__ import annotations

from typing import Sequence

import torch


def collate(batch: Sequence[dict], pad_id: int, padding_side: str = "right") -> dict[str, torch.Tensor]:
    """Pad ``tokenize_conversation`` outputs into ``input_ids``, ``attention_mask`` and ``labels_mask`` [B, T]."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'right' or 'left', not {padding_side!r}")
    width = max(len(ex["input_ids"]) for ex in batch)
    out = {k: torch.zeros(len(batch), width, dtype=torch.long) for k in ("input_ids", "attention_mask", "labels_mask")}
    out["input_ids"].fill_(pad_id)
    for row, ex in enumerate(batch):
        n = len(ex["input_ids"])
        cols = slice(0, n) if padding_side == "right" else slice(width - n, width)
        out["input_ids"][row, cols] = torch.as_tensor(ex["input_ids"], dtype=torch.long)
        out["attention_mask"][row, cols] = 1
        out["labels_mask"][row, cols] = torch.as_tensor(ex["labels_mask"], dtype=torch.long)
    return out


def masked_logprobs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    labels_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(per_token [B, T-1], per_sequence_sum [B])``: ``per_token[b, t-1] = log p(x_t | x_<t)``
    where ``labels_mask[b, t]`` (and ``attention_mask``) is 1, else 0."""
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).logits
    logits = logits[:, :-1]
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    targets = input_ids[:, 1:]
    keep = (labels_mask[:, 1:] * attention_mask[:, 1:]).bool()
    token_logp = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    per_token = torch.where(keep, token_logp, torch.zeros_like(token_logp))  # where, not *: pad rows may be nan
    return per_token, per_token.sum(-1)
