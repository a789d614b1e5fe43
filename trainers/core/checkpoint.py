"""Training checkpoints that resume exactly.

A checkpoint is a folder ``<dir>/step-<N>/`` holding:

- the model (``save_pretrained``, safetensors) and the tokenizer;
- ``optimizer.pt`` and ``scheduler.pt`` (their ``state_dict``s);
- ``rng.pt``: the random states of ``random``, ``numpy`` (when installed), torch's CPU generator
  and the CUDA generators (when available);
- ``trainer_state.json``: ``step``, ``epoch`` and whatever else the trainer passes in ``state``
  (for example the position in the epoch's data order, the config it was trained with).

It is written to a hidden temporary folder and renamed into place, so a job killed while saving
leaves either the previous checkpoint or the new one, never half of one; ``latest_checkpoint``
only considers complete folders.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "trainer_state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.random.get_rng_state()}
    try:
        import numpy as np
        state["numpy"] = np.random.get_state()
    except ImportError:  # numpy is optional
        pass
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    torch.random.set_rng_state(state["torch"])
    if "numpy" in state:
        try:
            import numpy as np
            np.random.set_state(state["numpy"])
        except ImportError:
            pass
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: str | os.PathLike, model, tokenizer=None, optimizer=None, scheduler=None,
                    step: int = 0, epoch: int = 0, state: dict[str, Any] | None = None,
                    keep_last: int | None = None, extra=None) -> Path:
    """Write ``<directory>/step-<step>/`` atomically and return its path. With ``keep_last``,
    delete all but the newest ``keep_last`` checkpoints afterwards. ``extra(folder)`` writes
    whatever else the trainer keeps (a critic, a discriminator) into the folder before it is
    renamed into place."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"step-{step:08d}"
    tmp = directory / f".tmp-step-{step:08d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    model.save_pretrained(tmp)
    if tokenizer is not None:
        tokenizer.save_pretrained(tmp)
    if optimizer is not None:
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    if scheduler is not None:
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    torch.save(_rng_state(), tmp / "rng.pt")
    if extra is not None:
        extra(tmp)
    with open(tmp / STATE_FILE, "w", encoding="utf-8") as f:
        json.dump({**(state or {}), "step": step, "epoch": epoch}, f, indent=2, default=str)
    if final.exists():  # re-saving the same step (e.g. the last step is also a save_every step)
        shutil.rmtree(final)
    os.replace(tmp, final)
    if keep_last:
        for old in list_checkpoints(directory)[:-keep_last]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Complete checkpoints in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and p.is_dir() and (p / STATE_FILE).is_file():
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint in ``directory``, or None."""
    found = list_checkpoints(directory)
    return found[-1] if found else None


def load_checkpoint(path: str | os.PathLike, optimizer=None, scheduler=None,
                    restore_rng: bool = True) -> dict[str, Any]:
    """Load optimizer and scheduler states (in place) and the random states from ``path``;
    return the trainer state (``step``, ``epoch``, ...). The model itself is loaded by the caller
    with ``from_pretrained(path)`` (so that it gets the right class, dtype and device)."""
    path = Path(path)
    if optimizer is not None:
        optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=False))
    if scheduler is not None:
        scheduler.load_state_dict(torch.load(path / "scheduler.pt", map_location="cpu", weights_only=False))
    if restore_rng and (path / "rng.pt").is_file():
        _set_rng_state(torch.load(path / "rng.pt", map_location="cpu", weights_only=False))
    with open(path / STATE_FILE, encoding="utf-8") as f:
        return json.load(f)
