"""Text spaces that accept what LLM agents actually read and write.

Gymnasium's ``Text`` space defaults to an alphanumeric charset, which rejects spaces,
brackets and punctuation, i.e. every real action (``search[red shirt]``). ``TextSpace``
accepts any Unicode string without control characters (tab and newlines allowed) up to
``max_length`` characters, and samples from printable ASCII so that ``sample()`` stays
cheap. Environments pass their observations through ``clean_text`` so that data with
stray control characters still gives observations inside the space.
"""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np
from gymnasium.spaces import Text

# Characters used by ``sample()``; ``contains()`` accepts far more (see ``is_printable_text``).
SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " "

MAX_ACTION_LENGTH = 4096
MAX_OBSERVATION_LENGTH = 1 << 20


# C0/C1 control characters other than tab, newline and carriage return. Everything else
# (no-break spaces, zero-width joiners, emoji, any script) is text that real product data has.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def is_printable_text(value: str) -> bool:
    """True when the string has no control characters other than tab and newlines."""
    return _CONTROL.search(value) is None


def clean_text(value: str, max_length: int = MAX_OBSERVATION_LENGTH) -> str:
    """Control characters replaced by spaces, cut to ``max_length`` characters."""
    if _CONTROL.search(value) is not None:
        value = _CONTROL.sub(" ", value)
    return value[:max_length]


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
