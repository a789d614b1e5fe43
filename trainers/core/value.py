"""A scalar head on a causal LM's backbone: PPO's critic and StepAgent's discriminator.

``ValueModel.from_pretrained(path)`` loads the transformer body of a causal-LM checkpoint
(``AutoModel``: no LM head) and puts a linear head on its last hidden state; ``score`` reads
the head at the last token of each (left-padded) sequence: ``V(prompt)`` for a critic,
``D(prompt + reply)`` for a discriminator. ``save`` writes the body with ``save_pretrained``
and the head as ``value_head.pt``, so a folder saved here loads back exactly.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

HEAD_FILE = "value_head.pt"


class ValueModel(torch.nn.Module):
    def __init__(self, body, hidden_size: int):
        super().__init__()
        self.body = body
        self.head = torch.nn.Linear(hidden_size, 1)
        torch.nn.init.zeros_(self.head.weight)  # V = 0 (D = 1/2) before any training
        torch.nn.init.zeros_(self.head.bias)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> "ValueModel":
        import transformers

        from trainers.core.policy import whole_on_load

        with whole_on_load():  # a plain module on every process, whatever the policy's engine
            body = transformers.AutoModel.from_pretrained(str(path), dtype=torch.float32)
        model = cls(body, body.config.hidden_size)
        head = Path(path) / HEAD_FILE
        if head.is_file():
            model.head.load_state_dict(torch.load(head, map_location="cpu", weights_only=True))
        return model

    def save(self, path: str | os.PathLike) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.body.save_pretrained(out)
        torch.save(self.head.state_dict(), out / HEAD_FILE)
        return out

    def score(self, sequences: list[list[int]], pad_id: int, ctx=None) -> torch.Tensor:
        """The head's output at the last token of each sequence, ``[B]``."""
        import contextlib

        device = self.head.weight.device
        width = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for i, s in enumerate(sequences):
            ids[i, width - len(s):] = torch.as_tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
        ids, mask = ids.to(device), mask.to(device)
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        with ctx or contextlib.nullcontext():
            hidden = self.body(input_ids=ids, attention_mask=mask, position_ids=position_ids).last_hidden_state
        return self.head(hidden[:, -1].float()).squeeze(-1)
