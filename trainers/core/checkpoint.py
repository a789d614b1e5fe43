"""Training checkpoints that resume exactly.

A checkpoint is a folder ``<dir>/step-<N>/`` holding:

- the model (``save_pretrained``, safetensors) and the tokenizer;
- ``optimizer.pt`` and ``scheduler.pt`` (their ``state_dict``s);
- ``rng.pt``: the random states of ``random``, ``numpy`` (when installed), torch's CPU generator
  and the CUDA generators (when available);
- ``trainer_state.json``: ``step``, ``epoch`` and whatever else the trainer passes in ``state``
  (for example the position in the epoch's data order, the config it was trained with).

It is written to a hidden temporary folder ``.tmp-step-<N>-<pid>`` and renamed into place, so a
job killed while saving leaves either the previous checkpoint or the new one, never half of one;
``latest_checkpoint`` only considers complete folders, and the next save deletes the temporary
folders of processes that are gone. Every ``.pt`` file holds tensors and plain data only and is
read with ``torch.load(weights_only=True)``: a crafted checkpoint cannot run code on resume.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "trainer_state.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def _rng_state() -> dict[str, Any]:
    """The random states as tensors, lists and numbers only, so that ``torch.load`` reads them
    back with ``weights_only=True`` (a checkpoint must never be able to run code)."""
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {"python": [version, list(internal), gauss], "torch": torch.random.get_rng_state()}
    try:
        import numpy as np
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        state["numpy"] = [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)]
    except ImportError:  # numpy is optional
        pass
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    torch.random.set_rng_state(state["torch"])
    if "numpy" in state:
        try:
            import numpy as np
            kind, keys, pos, has_gauss, cached = state["numpy"]
            np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
        except ImportError:
            pass
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_tensors(path: Path):
    """A ``.pt`` file of a checkpoint, tensors and plain data only (``weights_only=True``)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  pickle.UnpicklingError, or a corrupt file
        raise ValueError(f"{path}: not a checkpoint file of plain tensors and numbers (refused to load: "
                         f"{str(exc).splitlines()[0][:200]})") from None


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete the ``.tmp-step-*-<pid>`` folders of saves whose process is gone (a job killed
    while saving); a live process's folder (another job writing here) is left alone."""
    directory = Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for p in directory.glob(".tmp-step-*-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def finished_run(out: str | os.PathLike, at_end: bool) -> dict[str, Any] | None:
    """On ``--resume`` of a run that already reached its end (``at_end``): the final metrics it
    wrote (``final_metrics.json``), so that resuming it again neither retrains nor overwrites
    them with an empty last step's; else None."""
    path = Path(out) / "final_metrics.json"
    if not at_end or not path.is_file():
        return None
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    if not result.get("final_dir"):
        return None
    print(f"[resume] {out} already finished; its final metrics are kept ({path})", file=sys.stderr)
    return result


def save_checkpoint(directory: str | os.PathLike, model, tokenizer=None, optimizer=None, scheduler=None,
                    step: int = 0, epoch: int = 0, state: dict[str, Any] | None = None,
                    keep_last: int | None = None, extra=None, model_state: dict | None = None,
                    optimizer_state: dict | None = None) -> Path:
    """Write ``<directory>/step-<step>/`` atomically and return its path. With ``keep_last``,
    delete all but the newest ``keep_last`` checkpoints afterwards. ``extra(folder)`` writes
    whatever else the trainer keeps (a critic, a discriminator) into the folder before it is
    renamed into place. ``model_state`` / ``optimizer_state``: the full states gathered from a
    sharded model (``Dist.full_state``), written instead of the local ones."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(directory)
    final = directory / f"step-{step:08d}"
    tmp = directory / f".tmp-step-{step:08d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    if model_state is not None:
        model.save_pretrained(tmp, state_dict=model_state)
    else:
        model.save_pretrained(tmp)
    if tokenizer is not None:
        tokenizer.save_pretrained(tmp)
    if optimizer_state is not None or optimizer is not None:
        torch.save(optimizer_state if optimizer_state is not None else optimizer.state_dict(), tmp / "optimizer.pt")
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
                    restore_rng: bool = True, load_optimizer=None) -> dict[str, Any]:
    """Load optimizer and scheduler states (in place) and the random states from ``path``;
    return the trainer state (``step``, ``epoch``, ...). The model itself is loaded by the caller
    with ``from_pretrained(path)`` (so that it gets the right class, dtype and device).
    ``load_optimizer(state)``: how to put the optimizer's state in place (``Dist.load_optimizer``,
    which reads a sharded run's by-name state too); default ``optimizer.load_state_dict``."""
    path = Path(path)
    if optimizer is not None:
        (load_optimizer or optimizer.load_state_dict)(load_tensors(path / "optimizer.pt"))
    if scheduler is not None:
        scheduler.load_state_dict(load_tensors(path / "scheduler.pt"))
    if restore_rng and (path / "rng.pt").is_file():
        _set_rng_state(load_tensors(path / "rng.pt"))
    with open(path / STATE_FILE, encoding="utf-8") as f:
        return json.load(f)
