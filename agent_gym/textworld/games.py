"""TextWorld games made offline with textworld's own challenge generators, cached on disk.

A game is fixed by (challenge, settings, split, seed): ``textworld.challenges``' cooking or
coin-collector ``make`` with ``GameOptions.seeds = seed`` (and, for cooking, the recipe
seed and textworld's food split), compiled by the Inform 7 compiler textworld bundles into
a ``.z8`` story file. Splits draw their seeds from disjoint ranges (and cooking games also
from textworld's disjoint train / valid / test food sets), so no game is in two splits.

Games are built on first use and kept in ``$AGENT_GYM_CACHE/textworld`` (default
``~/.cache/agent_gym/textworld``): one builder per game at a time (a lock file), built in a
temporary folder and renamed into place, so an interrupted build leaves nothing half
written. ``prepare`` builds many at once in worker processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable

from agent_gym.core.cache import build_lock, cache_root

BUILD_VERSION = 1
CHALLENGES = ("cooking", "coin_collector")
SPLIT_SIZES = {"train": 1000, "eval": 100, "test": 100}
SPLIT_SEED_BASE = {"train": 0, "eval": 1_000_000, "test": 2_000_000}
COOKING_FOOD_SPLIT = {"train": "train", "eval": "valid", "test": "test"}   # textworld's food sets

# our difficulty presets of the cooking challenge (tw-make tw-cooking options)
COOKING_LEVELS: dict[int, dict[str, Any]] = {
    1: dict(recipe=1, take=1, go=1, open=True, cook=False, cut=False, drop=False),
    2: dict(recipe=1, take=1, go=1, open=True, cook=True, cut=True, drop=False),
    3: dict(recipe=2, take=2, go=6, open=True, cook=True, cut=True, drop=False),
    4: dict(recipe=3, take=3, go=9, open=True, cook=True, cut=True, drop=True),
}


def cooking_settings(level: int = 2, **overrides: Any) -> dict[str, Any]:
    if level not in COOKING_LEVELS:
        raise ValueError(f"cooking level must be one of {sorted(COOKING_LEVELS)}, got {level!r}")
    settings = dict(COOKING_LEVELS[level])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown cooking settings {sorted(unknown)}; known: {sorted(settings)}")
    settings.update(overrides)
    return settings


def coin_settings(level: int = 5) -> dict[str, Any]:
    if not isinstance(level, int) or not 1 <= level <= 100:
        # levels above 100 add distractor rooms; textworld 1.7 caps games at 100 rooms
        raise ValueError(f"coin-collector level must be an int in [1, 100], got {level!r}")
    return {"level": level}


def seed_of(split: str, task_id: int) -> int:
    return SPLIT_SEED_BASE[split] + task_id


def game_folder(challenge: str, settings: dict[str, Any], split: str, cache_dir: str | os.PathLike | None = None) -> Path:
    blob = json.dumps({"challenge": challenge, "settings": settings}, sort_keys=True)
    key = hashlib.blake2b(blob.encode(), digest_size=6).hexdigest()
    import textworld

    root = Path(cache_dir) if cache_dir else cache_root() / "textworld"
    return root / f"{challenge}-{key}-b{BUILD_VERSION}-tw{textworld.__version__}" / split


@contextmanager
def _knowledge_base_memo():
    """textworld's challenges re-parse their logic files at every ``make`` (~2.5 s of a
    game's ~5 s); memoise ``KnowledgeBase.load`` while we build. The knowledge base is read
    only during generation: the games are identical with and without (tested)."""
    from textworld.generator import KnowledgeBase

    original = KnowledgeBase.load
    memo: dict[Any, Any] = {}

    def load(*args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = original(*args, **kwargs)
        return memo[key]

    KnowledgeBase.load = load
    try:
        yield
    finally:
        KnowledgeBase.load = original


def _make_game(challenge: str, settings: dict[str, Any], split: str, seed: int, path: Path) -> None:
    import textworld
    from textworld import GameOptions
    from textworld.challenges import coin_collector, cooking

    options = GameOptions()
    options.seeds = seed
    options.path = str(path)
    options.force_recompile = True
    if challenge == "cooking":
        game = cooking.make(dict(settings, recipe_seed=seed, split=COOKING_FOOD_SPLIT[split]), options)
    elif challenge == "coin_collector":
        game = coin_collector.make(dict(settings), options)
    else:
        raise ValueError(f"challenge must be one of {CHALLENGES}, got {challenge!r}")
    textworld.generator.compile_game(game, options)


def ensure_game(challenge: str, settings: dict[str, Any], split: str, task_id: int,
                cache_dir: str | os.PathLike | None = None) -> Path:
    """The path of the game's ``.z8`` file, built first if it is not in the cache."""
    folder = game_folder(challenge, settings, split, cache_dir)
    seed = seed_of(split, task_id)
    target = folder / f"game-{seed}.z8"
    if target.is_file():
        return target
    with build_lock(folder, f".game-{seed}.lock"):
        if target.is_file():        # another process built it while we waited
            return target
        tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".build-{seed}-"))
        try:
            with _knowledge_base_memo():
                _make_game(challenge, settings, split, seed, tmp / "game.z8")
            os.replace(tmp / "game.json", folder / f"game-{seed}.json")
            os.replace(tmp / "game.z8", target)     # last: its presence means the game is complete
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _ensure_star(args) -> str:
    return str(ensure_game(*args))


def prepare(challenge: str, settings: dict[str, Any], split: str, task_ids: Iterable[int],
            workers: int | None = None, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Build (or find) many games, in ``workers`` processes (default: the CPU count)."""
    jobs = [(challenge, settings, split, int(i), cache_dir) for i in task_ids]
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(jobs) <= 1:
        return [ensure_game(*job) for job in jobs]
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return [Path(p) for p in pool.map(_ensure_star, jobs)]
