"""Anchor states and page patterns, the keys GiGPO groups steps on.

An anchor is a stable hex digest of a *normalised* environment state: equal states of
the same task give equal anchors in any episode, process or machine (no ``hash()``, which
is salted per process). Environments build the state key from what defines the page
(e.g. WebShop: page kind, query, result page, product, chosen options, sub page), not
from the step count or the history.

``PagePatternSimilarity`` is a coarser alternative to exact anchors: a lookup table that
says how alike two page patterns are (WebShop: 1 within a pattern, 0.3 between an item
page and its sub pages, 0 otherwise), after REMEMBERER's page-pattern matching (Zhang et al.
2023). It is not GiGPO's similarity grouping, which compares observation texts
(``trainers.core.advantages``, ``group_by="similar"``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

ANCHOR_HEX_CHARS = 16


def anchor_of(state: Any) -> str:
    """Stable hex digest of a JSON-serialisable state key (dict keys are sorted)."""
    blob = json.dumps(state, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    # surrogatepass: a state holding a lone surrogate still hashes (valid text hashes as UTF-8)
    return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=ANCHOR_HEX_CHARS // 2).hexdigest()


class PagePatternSimilarity:
    """Similarity between page patterns: 1 within a pattern, table values between, else 0."""

    def __init__(self, related: Mapping[tuple[str, str], float] | None = None):
        self._table: dict[tuple[str, str], float] = {}
        for (a, b), value in (related or {}).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"similarity of {a!r} and {b!r} must lie in [0, 1], got {value}")
            self._table[(a, b)] = self._table[(b, a)] = float(value)

    def __call__(self, a: str, b: str) -> float:
        if a == b:
            return 1.0
        return self._table.get((a, b), 0.0)

    def groups(self, pages: Iterable[str], threshold: float = 1.0) -> list[list[int]]:
        """Indices grouped by similarity >= threshold (single linkage, order preserved)."""
        pages = list(pages)
        parent = list(range(len(pages)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(pages)):
            for j in range(i):
                if self(pages[i], pages[j]) >= threshold:
                    parent[find(i)] = find(j)
        out: dict[int, list[int]] = {}
        for i in range(len(pages)):
            out.setdefault(find(i), []).append(i)
        return list(out.values())
