"""One process or many: the trainers on Hugging Face ``accelerate``.

``python -m trainers.X ...`` runs on one device exactly as before (no process group, no
wrapper). Under a launcher that starts several processes (``accelerate launch
[--config_file trainers/configs/ddp.yaml] -m trainers.X ...``, or ``torchrun``), ``Dist``
holds an ``accelerate.Accelerator``: the model and optimizer go through ``prepare`` (DDP),
gradients are averaged by the engine, and

- every optimizer step sees the same *global* batch as one process: each process takes every
  ``world``-th example of the step (``shard``), losses are normalised by the step's global
  token count and multiplied by ``world`` (the engine averages gradients), and every process
  runs the same number of forward/backward passes (``padded_chunks``: a process short of data
  repeats an example with weight 0) so the engine's collectives match;
- only the main process writes files (metrics, checkpoints, the final model); the others wait
  at a barrier and read nothing another process is writing;
- ``gather`` collects Python objects (scored samples, metrics) from every process.

On CPU, ``accelerate launch --multi_gpu --num_processes 2 ... --device cpu`` (or ``torchrun
--nproc_per_node 2 -m ...``) runs two processes on gloo; accelerate's own ``--cpu`` flag
starts a single process unless it is given an MPI launcher.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import torch


def launched_distributed() -> bool:
    """Whether a launcher started this process as one of several (or with FSDP/DeepSpeed)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return True
    return any(os.environ.get(k, "").lower() in ("1", "true")
               for k in ("ACCELERATE_USE_FSDP", "ACCELERATE_USE_DEEPSPEED"))


class Dist:
    """The process's place in the run. ``Dist(device)``: single process on ``device`` unless
    launched distributed (then accelerate decides the device; ``device="cpu"`` keeps it on CPU)."""

    def __init__(self, device: torch.device, single: bool = False):
        self.accelerator = None
        self.rank, self.world, self.device = 0, 1, device
        if launched_distributed() and not single:
            from accelerate import Accelerator

            sharded = [k for k in ("ACCELERATE_USE_FSDP", "ACCELERATE_USE_DEEPSPEED")
                       if os.environ.get(k, "").lower() in ("1", "true")]
            if sharded:
                # their checkpoints need every process's shard of the weights and optimizer state;
                # these trainers save the main process's (DDP) state only, so they refuse to start
                raise RuntimeError(f"{sharded[0][len('ACCELERATE_USE_'):]} is not supported by these trainers yet "
                                   f"(checkpoints hold the main process's full state, as under DDP); launch with "
                                   f"trainers/configs/ddp.yaml, and LoRA (--lora-r) and --gradient-checkpointing "
                                   f"to fit large models (docs/trainers_scale.md)")
            self.accelerator = Accelerator(cpu=device.type == "cpu" or not torch.cuda.is_available())
            self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
            self.device = self.accelerator.device
            if self.is_main:
                print(f"[dist] {self.world} processes, {self.engine} on {self.device}", file=sys.stderr, flush=True)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def engine(self) -> str:
        if self.accelerator is None:
            return "none"
        return str(self.accelerator.distributed_type).split(".")[-1].lower()

    def prepare(self, model, optimizer):
        """The model and optimizer wrapped by the engine (DDP; unchanged in a single process)."""
        if self.accelerator is None:
            return model, optimizer
        return self.accelerator.prepare(model, optimizer)

    def unwrap(self, model):
        return model if self.accelerator is None else self.accelerator.unwrap_model(model)

    def backward(self, loss: torch.Tensor) -> None:
        if self.accelerator is None:
            loss.backward()
        else:
            self.accelerator.backward(loss)

    def no_sync(self, model, skip: bool):
        """Accumulate gradients locally (``skip``: this is not the step's last backward)."""
        if self.accelerator is None or not skip:
            return contextlib.nullcontext()
        return self.accelerator.no_sync(model)

    def sync(self, model, forward) -> None:
        """After backward passes under ``no_sync(model, skip=True)``, whose number may differ
        between processes: one forward (``forward()``, a scalar from a pass through ``model``)
        and backward of weight 0 on every process, which makes the engine reduce the gradients
        accumulated so far."""
        if self.accelerator is not None:
            self.backward(forward() * 0.0)

    def clip_grad_norm(self, model, max_norm: float) -> torch.Tensor:
        if self.accelerator is None:
            return torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        return self.accelerator.clip_grad_norm_(model.parameters(), max_norm)

    def shard(self, items: list) -> list:
        """This process's share of ``items``: every ``world``-th, starting at ``rank``."""
        return list(items[self.rank::self.world])

    def padded_chunks(self, items: list, size: int) -> list[tuple[list, float]]:
        """``(chunk, weight)`` of this process's share in chunks of ``size``, as many chunks on
        every process: a process with fewer gets chunks of the step's first item with weight 0."""
        share = self.shard(items)
        n = max(1, -(-((len(items) + self.world - 1) // self.world) // size))
        chunks = [(share[i:i + size], 1.0) for i in range(0, len(share), size)]
        while len(chunks) < n:
            chunks.append(([items[0]], 0.0))
        return chunks

    def sum(self, value: float) -> float:
        """``value`` summed over the processes."""
        if self.accelerator is None:
            return value
        t = torch.tensor([float(value)], dtype=torch.float64, device=self.device)
        return float(self.accelerator.reduce(t, reduction="sum").item())

    def gather(self, obj: Any) -> list:
        """``[obj of process 0, obj of process 1, ...]`` on every process."""
        if self.accelerator is None:
            return [obj]
        out: list = [None] * self.world
        torch.distributed.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: Any) -> Any:
        """The main process's ``obj`` on every process."""
        if self.accelerator is None:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.accelerator is not None:
            self.accelerator.wait_for_everyone()

    def end(self) -> None:
        if self.accelerator is not None:
            self.accelerator.end_training()
