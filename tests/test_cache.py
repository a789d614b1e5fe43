"""The shared cache folder and its build lock (agent_gym.core.cache)."""

from __future__ import annotations

import pytest
from filelock import FileLock, Timeout

from agent_gym.core.cache import build_lock, cache_root


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENT_GYM_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("AGENT_GYM_CACHE")
    assert cache_root().parts[-2:] == (".cache", "agent_gym")


def test_build_lock_excludes_another_holder_until_released(tmp_path):
    folder = tmp_path / "new" / "folder"
    with build_lock(folder) as held:
        assert held == folder and folder.is_dir()
        with pytest.raises(Timeout):  # a second lock object on the same file: as another process
            FileLock(str(folder / ".build.lock")).acquire(timeout=0.05)
    other = FileLock(str(folder / ".build.lock"))
    other.acquire(timeout=0.05)
    other.release()
