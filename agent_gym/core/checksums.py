"""Checksums of built files, recorded when they are built and checked when they are opened.

A bit flip in a cached catalog or Lucene index otherwise surfaces far from its cause: a Java
stack trace, a JSON error, different product data, silently different rankings, an
``IndexError`` after dozens of episodes. The builder records every file it wrote in
``checksums.json`` beside them (size, SHA-256, and a digest of sampled blocks), with the
command that rebuilds them; openers check:

* at open (``verify``): every file's size, and its SHA-256 when it is at most
  ``FULL_CHECK_BYTES`` (64 MiB: the default 10,000-product catalog, 37 MB, is hashed whole in
  about 80 ms on a shared 2-core machine), else the digest of ``SAMPLE_BLOCKS`` blocks spread
  over it (a bit flip there is found only by the full check);
* on demand (``verify(full=True)``, ``agent-gym build --verify``): every byte of every file.

A mismatch raises ``CorruptFileError`` whose message is one line ending in
``rebuild with <command>``. A folder without a manifest (built by an older agent_gym, or by
hand) is not checked.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

MANIFEST = "checksums.json"
FULL_CHECK_BYTES = 64 << 20
SAMPLE_BLOCKS = 64
BLOCK_BYTES = 4096


class CorruptFileError(RuntimeError):
    """A built file no longer matches its recorded checksum (or is missing)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sampled_digest(path: Path, size: int) -> str:
    """BLAKE2b of ``SAMPLE_BLOCKS`` blocks at evenly spaced offsets (first and last included)."""
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    last = max(0, size - BLOCK_BYTES)
    with open(path, "rb") as f:
        for i in range(SAMPLE_BLOCKS):
            f.seek(last * i // (SAMPLE_BLOCKS - 1))
            digest.update(f.read(BLOCK_BYTES))
    return digest.hexdigest()


def _entry(path: Path) -> dict:
    size = path.stat().st_size
    return {"size": size, "sha256": sha256_of(path), "sampled": sampled_digest(path, size)}


def read_manifest(folder: str | os.PathLike) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"files": {}}
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptFileError(f"{path} is not readable ({exc}); delete it and rebuild") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CorruptFileError(f"{path} is not a checksum manifest; delete it and rebuild")
    return manifest


def recorded(folder: str | os.PathLike, prefix: str = "") -> list[str]:
    """The recorded files (relative names) that start with ``prefix``."""
    return sorted(name for name in read_manifest(folder)["files"] if name.startswith(prefix))


def record(folder: str | os.PathLike, names: Iterable[str], rebuild: str | None = None) -> None:
    """Record the files ``names`` (relative to ``folder``) in its manifest (written atomically).

    Entries of other files stay; ``rebuild`` (the command that rebuilds the folder) replaces
    the recorded one when given. Call it while holding the folder's build lock.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    for name in names:
        manifest["files"][name] = _entry(folder / name)
    if rebuild:
        manifest["rebuild"] = rebuild
    tmp = folder / f"{MANIFEST}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def forget(folder: str | os.PathLike, prefix: str) -> None:
    """Drop the entries under ``prefix`` (before rebuilding those files)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    kept = {k: v for k, v in manifest["files"].items() if not k.startswith(prefix)}
    if len(kept) != len(manifest["files"]):
        manifest["files"] = kept
        tmp = folder / f"{MANIFEST}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, folder / MANIFEST)


def verify(folder: str | os.PathLike, prefix: str = "", full: bool = False) -> tuple[int, int]:
    """Check the recorded files under ``prefix``; returns (files, bytes) checked.

    Raises ``CorruptFileError`` (one line, ending in ``rebuild with ...``) at the first file
    that is missing, has another size or another digest.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    rebuild = manifest.get("rebuild") or f"`rm -r {folder}` (it is rebuilt on next use)"
    n_files = n_bytes = 0
    for name, entry in sorted(manifest["files"].items()):
        if not name.startswith(prefix):
            continue
        path = folder / name
        problem = None
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            problem = "missing"
        else:
            if size != entry["size"]:
                problem = f"size {size} bytes, built as {entry['size']}"
            elif full or size <= FULL_CHECK_BYTES:
                problem = None if sha256_of(path) == entry["sha256"] else "SHA-256 mismatch"
            elif sampled_digest(path, size) != entry["sampled"]:
                problem = "sampled blocks' digest mismatch"
        if problem:
            raise CorruptFileError(f"{path} is corrupt ({problem}); rebuild with {rebuild}")
        n_files += 1
        n_bytes += entry["size"]
    return n_files, n_bytes
