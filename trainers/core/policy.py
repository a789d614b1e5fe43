"""The policy: a Hugging Face causal LM, its tokenizer and its chat template, kept together.

``Policy.render`` turns chat messages into the prompt text (the tokenizer's chat template
with the generation prompt, or the plain ``System:/User:/Assistant:`` format of
``agent_gym.core.prompts`` when the tokenizer has none); ``Policy.encode`` gives its token ids.
Generation backends and trainers take a ``Policy`` so that every part of a run renders and
tokenizes prompts the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from agent_gym.core.prompts import render_plain


class Policy:
    def __init__(self, model: Any, tokenizer: Any, device: Any = None, chat_template_kwargs: dict | None = None):
        if device is not None:
            model = model.to(device)
        self.model = model
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:
            if tokenizer.eos_token is None:
                raise ValueError("the tokenizer has neither a pad nor an eos token")
            tokenizer.pad_token = tokenizer.eos_token
        self.use_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.chat_template_kwargs = dict(chat_template_kwargs or {})

    @property
    def device(self):
        return next(self.model.parameters()).device

    @classmethod
    def load(cls, path_or_name: str | os.PathLike, dtype: Any = None, device: Any = None, **kwargs) -> "Policy":
        """Load a model and tokenizer from a local folder or a hub id (no network when
        ``HF_HUB_OFFLINE=1`` or when the path is a local folder)."""
        import torch
        import transformers

        path = str(path_or_name)
        local = Path(path).is_dir() or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        load_kwargs: dict[str, Any] = {"local_files_only": local}
        if dtype is not None:
            load_kwargs["dtype"] = getattr(torch, dtype) if isinstance(dtype, str) and dtype != "auto" else dtype
        model = transformers.AutoModelForCausalLM.from_pretrained(path, **load_kwargs)
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=local)
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        return cls(model, tokenizer, device=device, **kwargs)

    def save(self, path: str | os.PathLike) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return out

    def render(self, messages: Sequence[dict]) -> str:
        """The prompt text for ``messages``, ending where the assistant's reply begins."""
        if not self.use_chat_template:
            return render_plain(messages)
        return self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True,
                                                  **self.chat_template_kwargs)

    def encode(self, messages: Sequence[dict]) -> list[int]:
        # a chat template writes its own special tokens; the plain format gets the tokenizer's
        return list(self.tokenizer(self.render(messages), add_special_tokens=not self.use_chat_template)["input_ids"])
