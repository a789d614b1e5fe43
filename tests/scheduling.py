"""The order of the test suite for pytest-xdist's ``--dist worksteal`` (``conftest.py`` applies it).

worksteal first hands worker i the i-th of N contiguous shares of the collected list, then
moves tests from the tail of a busy worker's queue to an idle one. So the long checks (marked
``@pytest.mark.long(seconds=...)``) open the shares, those starting from the same session-wide
trained model together (each worker builds a different model instead of waiting, under its
lock, for the other's build), and the short tests close them in whole modules (a module's JVM
or search index is set up by one worker), so what is moved at the end is short.
"""

from __future__ import annotations

from typing import Callable, Hashable, Sequence, TypeVar

T = TypeVar("T")


def order_for_workers(items: Sequence[T], workers: int, seconds: Callable[[T], float],
                      group: Callable[[T], Hashable], module: Callable[[T], Hashable]) -> list[T]:
    """``items`` reordered for ``workers`` worksteal workers. ``seconds(item)`` is > 0 for a long
    test (about how long it takes), ``group(item)`` the shared model it starts from (or None),
    ``module(item)`` its file. Without workers: the long tests first, longest first."""
    long = sorted((i for i in items if seconds(i)), key=seconds, reverse=True)  # stable
    short = [i for i in items if not seconds(i)]
    if workers < 2 or not long:
        return long + short
    groups: dict[Hashable, list[T]] = {}
    for item in long:
        groups.setdefault(group(item), []).append(item)
    lanes: list[list[T]] = [[] for _ in range(workers)]
    for g in sorted(groups.values(), key=lambda g: sum(map(seconds, g)), reverse=True):
        min(lanes, key=lambda lane: sum(map(seconds, lane))).extend(g)
    modules: list[list[T]] = []  # the short tests by module, in file order
    for item in short:
        if not modules or module(modules[-1][0]) != module(item):
            modules.append([])
        modules[-1].append(item)
    ordered: list[T] = []
    left = len(items)
    for i, lane in enumerate(lanes):
        share = left // (workers - i)  # the size of worker i's first share in xdist's worksteal
        ordered += lane + whole_modules(modules, share - len(lane))
        left -= share
    return ordered + [item for m in modules for item in m]


def whole_modules(modules: list[list[T]], size: int) -> list[T]:
    """``size`` tests taken from ``modules`` (and removed there): whole modules where they fit,
    in order; if they do not add up to ``size``, the rest from the first module left."""
    taken: list[T] = []
    kept: list[list[T]] = []
    for m in modules:
        if len(taken) + len(m) <= size:
            taken += m
        else:
            kept.append(m)
    if len(taken) < size and kept:
        cut = size - len(taken)
        taken += kept[0][:cut]
        kept[0] = kept[0][cut:]
    modules[:] = [m for m in kept if m]
    return taken
