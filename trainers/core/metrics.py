"""Training metrics: a JSONL file always, the console, and optionally TensorBoard or W&B.

``MetricsLogger(out_dir).log(step, {"loss": 1.2, "lr": 1e-5})`` appends
``{"step": 12, "time": ..., "loss": 1.2, "lr": 1e-5}`` to ``out_dir/metrics.jsonl``, prints a
compact line, and forwards to TensorBoard (``tensorboard=True``, needs the ``tensorboard``
package) and W&B (``wandb=True``, needs ``wandb``; offline unless ``WANDB_MODE`` says otherwise).
A missing optional backend is reported once and skipped, never fatal.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Mapping

METRICS_FILE = "metrics.jsonl"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


class MetricsLogger:
    def __init__(self, out_dir: str | os.PathLike, console: bool = True, tensorboard: bool = False,
                 wandb: bool = False, project: str = "agent_gym", run_name: str | None = None,
                 config: Mapping[str, Any] | None = None, stream=None):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / METRICS_FILE
        self.console = console
        self.stream = stream
        self._tb = None
        self._wandb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
                self._tb = SummaryWriter(log_dir=str(self.out_dir / "tensorboard"))
            except ImportError:
                self._warn("tensorboard=True but the 'tensorboard' package is not installed "
                           "(pip install tensorboard); logging to metrics.jsonl only")
        if wandb:
            try:
                import wandb as wandb_module
                os.environ.setdefault("WANDB_MODE", "offline")
                self._wandb = wandb_module.init(project=project, name=run_name, dir=str(self.out_dir),
                                                config=dict(config or {}), resume="allow")
            except ImportError:
                self._warn("wandb=True but the 'wandb' package is not installed (pip install wandb); "
                           "logging to metrics.jsonl only")

    def _warn(self, message: str) -> None:
        print(f"[metrics] {message}", file=sys.stderr)

    def truncate_after(self, step: int) -> None:
        """Drop JSONL records with ``step > step`` (after resuming from a checkpoint at ``step``,
        so that steps redone after an interruption are not logged twice)."""
        if not self.path.is_file():
            return
        keep = [line for line in self.path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]
        self.path.write_text("".join(line + "\n" for line in keep), encoding="utf-8")

    def log(self, step: int, metrics: Mapping[str, Any]) -> None:
        record = {"step": int(step), "time": round(time.time(), 3)}
        for k, v in metrics.items():
            if hasattr(v, "item"):
                v = v.item()
            record[k] = v
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if self.console:
            text = " ".join(f"{k}={_fmt(v)}" for k, v in record.items() if k != "time")
            print(text, file=self.stream or sys.stdout, flush=True)
        numeric = {k: v for k, v in record.items()
                   if k not in ("step", "time") and isinstance(v, (int, float)) and math.isfinite(v)}
        if self._tb is not None:
            for k, v in numeric.items():
                self._tb.add_scalar(k, v, step)
        if self._wandb is not None:
            self._wandb.log(numeric, step=step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class NullLogger:
    """What a process other than the main one logs to: nothing (only the main process writes)."""

    def log(self, step: int, metrics: Mapping[str, Any]) -> None:
        """Nothing: only the main process writes metrics."""

    def truncate_after(self, step: int) -> None:
        """Nothing to truncate."""

    def close(self) -> None:
        """Nothing to close."""


def open_logger(config, out_dir: str | os.PathLike, main: bool = True):
    """The run's logger as its config says (``tensorboard``, ``wandb``): a ``MetricsLogger`` on
    the main process, a ``NullLogger`` on the others."""
    import dataclasses

    if not main:
        return NullLogger()
    return MetricsLogger(out_dir, console=True, tensorboard=config.tensorboard, wandb=config.wandb,
                         config=dataclasses.asdict(config), stream=sys.stderr)


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a metrics JSONL file (or of ``<dir>/metrics.jsonl``)."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
