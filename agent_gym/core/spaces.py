"""Text spaces that accept what LLM agents actually read and write.

Gymnasium's ``Text`` space defaults to an alphanumeric charset, which rejects spaces,
brackets and punctuation, i.e. every real action (``search[red shirt]``). ``TextSpace``
accepts any printable Unicode string (plus newline and tab) up to ``max_length``
characters, and samples from printable ASCII so that ``sample()`` stays cheap.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium.spaces import Text

# Characters used by ``sample()``; ``contains()`` accepts far more (see ``is_printable_text``).
SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " "

MAX_ACTION_LENGTH = 4096
MAX_OBSERVATION_LENGTH = 1 << 20


def is_printable_text(value: str) -> bool:
    """True when every character is printable Unicode, a space, a newline or a tab."""
    return value.isprintable() or all(c.isprintable() or c in "\n\t\r" for c in value)


class TextSpace(Text):
    """A ``Text`` space over printable Unicode of at most ``max_length`` characters."""

    def __init__(self, max_length: int, min_length: int = 0, seed: int | None = None):
        super().__init__(max_length=max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return (
            isinstance(x, str)
            and self.min_length <= len(x) <= self.max_length
            and is_printable_text(x)
        )

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        if mask is not None or probability is not None:
            return super().sample(mask=mask, probability=probability)
        length = int(self.np_random.integers(self.min_length, min(self.max_length, 64) + 1))
        idx = self.np_random.integers(0, len(SAMPLE_CHARSET), size=length)
        return "".join(SAMPLE_CHARSET[i] for i in np.asarray(idx))

    def __repr__(self) -> str:
        return f"TextSpace(max_length={self.max_length}, printable unicode)"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, TextSpace)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )


def action_space(max_length: int = MAX_ACTION_LENGTH) -> TextSpace:
    return TextSpace(max_length=max_length)


def observation_space(max_length: int = MAX_OBSERVATION_LENGTH) -> TextSpace:
    return TextSpace(max_length=max_length)
