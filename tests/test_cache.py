"""The shared cache folder, its build lock, checksums of what is built there, and the
clean-up of what killed builds leave (agent_gym.core.cache, agent_gym.core.checksums)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from filelock import FileLock, Timeout

from agent_gym.core import checksums
from agent_gym.core.cache import build_lock, cache_root
from agent_gym.core.checksums import CorruptFileError
from agent_gym.webshop import Catalog


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


# ----- corrupt and half-built caches -------------------------------------------------------------
REBUILD_3000 = "rebuild with `agent-gym build --products 3000 --catalog-seed 0 --rebuild`"


def _flip(path, offset=None):
    data = bytearray(path.read_bytes())
    offset = len(data) // 2 if offset is None else offset
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.fixture()
def catalog_copy(small_catalog, tmp_path):
    small_catalog.search_engine()  # the index exists and is recorded
    copy = tmp_path / "catalog"
    shutil.copytree(small_catalog.folder, copy, ignore=shutil.ignore_patterns(".build.lock"))
    return copy


def test_a_bit_flip_in_the_catalog_is_found_at_open(catalog_copy):
    Catalog(catalog_copy).get  # opens cleanly before
    _flip(catalog_copy / "catalog.sqlite")
    with pytest.raises(CorruptFileError) as err:
        Catalog(catalog_copy)
    message = str(err.value)
    assert "\n" not in message and "catalog.sqlite" in message and message.endswith(REBUILD_3000)


def test_a_bit_flip_in_the_index_is_found_before_searching(catalog_copy):
    index_files = sorted((catalog_copy / "index").iterdir(), key=lambda p: p.stat().st_size)
    _flip(index_files[-1])
    catalog = Catalog(catalog_copy)
    with pytest.raises(CorruptFileError) as err:
        catalog.search_engine()
    assert "\n" not in str(err.value) and str(err.value).endswith(REBUILD_3000)


def test_build_verify_reads_every_byte_and_says_how_to_rebuild(catalog_copy, tmp_path, capsys, monkeypatch):
    from agent_gym.eval import cli

    assert cli.main(["build", "--catalog", str(catalog_copy), "--verify"]) == 0
    assert "verified" in capsys.readouterr().out
    # a flip that the cheap check at open does not read (files over its size bound are sampled)
    monkeypatch.setattr(checksums, "FULL_CHECK_BYTES", 1024)
    sqlite = catalog_copy / "catalog.sqlite"
    _flip(sqlite, offset=sqlite.stat().st_size // 2 + 1000)
    Catalog(catalog_copy)  # sampled blocks unchanged: opens
    assert cli.main(["build", "--catalog", str(catalog_copy), "--verify"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(REBUILD_3000)


def test_sampled_and_full_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(checksums, "FULL_CHECK_BYTES", 1 << 12)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1 << 20))
    checksums.record(tmp_path, ["big.bin"], rebuild="make it again")
    checksums.verify(tmp_path)
    _flip(big, offset=0)  # the first block is always sampled
    with pytest.raises(CorruptFileError, match="big.bin.*; rebuild with make it again$"):
        checksums.verify(tmp_path)
    _flip(big, offset=0)
    _flip(big, offset=(1 << 19) + 7)  # between sampled blocks
    checksums.verify(tmp_path)
    with pytest.raises(CorruptFileError):
        checksums.verify(tmp_path, full=True)
    big.write_bytes(b"short")
    with pytest.raises(CorruptFileError, match="size"):
        checksums.verify(tmp_path)
    big.unlink()
    with pytest.raises(CorruptFileError, match="missing"):
        checksums.verify(tmp_path)


def test_the_next_build_removes_what_killed_builds_left(tmp_path):
    catalog = Catalog.synthetic(30, seed=0, cache_dir=tmp_path, progress=False)
    folder = catalog.folder
    junk = [folder / "catalog.sqlite.tmp-4242", folder / "scratch.sqlite.tmp-4242", folder / ".index.building-x1y2",
            folder / "checksums.json.tmp-4242"]
    junk[0].write_bytes(b"x" * 1000)
    junk[1].write_bytes(b"x")
    junk[3].write_text("{")
    (junk[2] / "collection").mkdir(parents=True)
    (junk[2] / "collection" / "part000.jsonl").write_text("{}\n")
    Catalog.synthetic(30, seed=0, cache_dir=tmp_path, progress=False)
    assert not any(p.exists() for p in junk)
    assert (folder / "catalog.sqlite").is_file()


@pytest.mark.slow  # a JVM start and a kill: ~4 s
def test_the_indexer_dies_with_its_parent(tmp_path):
    psutil = pytest.importorskip("psutil")
    script = (
        "import sys, itertools\n"
        "from agent_gym.core import lucene\n"
        "words = [f'word{j}' for j in range(3000)]\n"
        "docs = ((str(i), ' '.join(words[i % 2900:i % 2900 + 60])) for i in range(60_000))\n"
        "lucene.build_index(docs, sys.argv[1], threads=1, progress=False)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "index")],
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    java = None
    try:
        proc = psutil.Process(parent.pid)
        for _ in range(3000):
            java = next((c for c in proc.children() if "java" in c.name()), None)
            if java is not None or parent.poll() is not None:
                break
            time.sleep(0.01)
        assert java is not None, "the indexer never started"
        parent.kill()
        parent.wait()
        gone, alive = psutil.wait_procs([java], timeout=10)
        assert not alive, "the Java indexer outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        if java is not None and java.is_running():  # on failure: leave no Java behind
            java.kill()


@pytest.mark.slow  # builds a small catalog and its index (a Java child): ~5 s
def test_build_rebuild_repairs_a_corrupt_catalog(tmp_path, monkeypatch, capsys):
    from agent_gym.eval import cli

    monkeypatch.setenv("AGENT_GYM_CACHE", str(tmp_path))
    args = ["build", "--products", "40"]
    assert cli.main(args) == 0
    folder = Catalog.synthetic(40, progress=False).folder
    _flip(folder / "catalog.sqlite")
    capsys.readouterr()
    assert cli.main(args) == 1
    assert capsys.readouterr().err.strip().endswith(
        "rebuild with `agent-gym build --products 40 --catalog-seed 0 --rebuild`")
    assert cli.main(args + ["--rebuild"]) == 0
    assert cli.main(args + ["--verify"]) == 0 and "verified" in capsys.readouterr().out
