"""The random baseline: a uniformly random available action at every step.

``RandomAgent`` draws uniformly from ``info["available_actions"]``. The one exception is
the template ``search[<query>]`` (offered on the search page, where it is the only
action): it is replaced by a search for 2 to 5 words drawn at random from the
instruction (kept in instruction order, common function words left out), so that the
agent actually reaches a results page. Every action it takes is therefore one the page
offers: it never takes an invalid action.

It is deterministic given ``seed`` and the episode: ``reset`` reseeds its generator from
``seed`` and a stable hash (``zlib.crc32``, never Python's salted ``hash()``) of the
instruction, so the same seed replays the same episode in any process.
"""

from __future__ import annotations

import random
import re
import zlib

SEARCH_TEMPLATE = "search[<query>]"

_WORD = re.compile(r"[a-z0-9][a-z0-9'&.-]*")
_STOP = frozenset(
    "a an the and or of for to in on with without i im i'm me my we our you your it its is are be "
    "am need want looking look find buy get shopping searching search please some that this "
    "which than lower less price dollars under would like can could will".split())


def instruction_words(instruction: str) -> list[str]:
    """Content words of an instruction, lower-cased, in order (falls back to all words)."""
    words = _WORD.findall(instruction.lower())
    content = [w.strip(".'-") for w in words if w not in _STOP]
    content = [w for w in content if w]
    return content or [w for w in words if w] or ["product"]


class RandomAgent:
    """Uniform over ``info["available_actions"]``; ``search[<query>]`` becomes a search for a
    few (2 to 5) words drawn from the instruction. Deterministic given ``seed`` and the
    instruction (reseeded on ``reset`` with ``zlib.crc32``)."""

    name = "random"

    def __init__(self, seed: int = 0):
        self.seed = int(seed)
        self.instruction = ""
        self.rng = random.Random(self.seed)

    def reset(self, instruction: str, info: dict) -> None:
        self.instruction = instruction
        crc = zlib.crc32(instruction.encode("utf-8"))
        self.rng = random.Random((self.seed & 0xFFFFFFFF) << 32 | crc)

    def random_query(self) -> str:
        words = instruction_words(self.instruction)
        k = min(len(words), self.rng.randint(2, 5))
        picked = sorted(self.rng.sample(range(len(words)), k))
        return " ".join(words[i] for i in picked)

    def act(self, observation: str, info: dict) -> str:
        actions = list(info.get("available_actions") or [])
        if not actions:  # nothing offered (should not happen before the episode ends)
            return "click[back to search]"
        action = self.rng.choice(actions)
        if action == SEARCH_TEMPLATE:
            return f"search[{self.random_query()}]"
        return action
