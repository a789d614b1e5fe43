"""The cache folder every benchmark builds into, and the lock that serialises its builders.

Built artefacts (WebShop catalogs and Lucene indexes, QA corpus indexes, TextWorld games)
live under ``$AGENT_GYM_CACHE`` (default ``~/.cache/agent_gym``), one sub-folder per
benchmark. Several processes may want the same artefact at once (test workers, a Ray
group's actors): ``build_lock`` makes one build while the others wait and then reuse it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

CACHE_ENV = "AGENT_GYM_CACHE"
LOCK_NAME = ".build.lock"


def cache_root() -> Path:
    """``$AGENT_GYM_CACHE`` or ``~/.cache/agent_gym``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "agent_gym")


@contextmanager
def build_lock(folder: str | os.PathLike, name: str = LOCK_NAME) -> Iterator[Path]:
    """Hold the inter-process lock ``folder/name`` (the folder is created); yields ``folder``.

    filelock takes an ``fcntl`` lock on POSIX and a ``msvcrt`` one on Windows, and raises
    rather than silently running unlocked where neither exists.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / name)):
        yield folder


def remove_stale(folder: str | os.PathLike, patterns: tuple[str, ...]) -> list[Path]:
    """Delete the temporaries matching ``patterns`` in ``folder``; returns what was removed.

    Call it holding the lock every writer of those temporaries holds: then none of them is
    being written, and any that exists was left by a build that was killed (a killed build
    cannot clean up after itself; left alone they would stay forever).
    """
    removed = []
    for pattern in patterns:
        for path in Path(folder).glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed
