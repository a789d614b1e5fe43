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

**FSDP2** (``--config_file trainers/configs/fsdp2.yaml``): the weights, gradients and AdamW
state are sharded over the processes with torch's ``fully_shard`` (one unit per decoder layer,
then the root), applied here from the config's ``fsdp_*`` settings (the calls accelerate's own
FSDP2 preparation makes; doing it here is one code path on GPU/NCCL and on CPU/gloo, where
accelerate 1.16 refuses FSDP). **ZeRO-3** (``trainers/configs/zero3.yaml``): accelerate's
DeepSpeed engine, configured and driven as ``trainers/core/zero3.py`` says. Under a sharded
engine every forward and backward is a collective, so every process must run as many of them, in the same order: ``match_passes``
pads a phase with passes of weight 0; generation runs with the weights gathered
(``generation``) so processes can generate different numbers of tokens. Checkpoints hold the
*full* model and optimizer state gathered on the main process (``full_state``), keyed by
parameter name, so a run resumes on any number of processes and under any engine.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import torch


def _flag(name: str, default: str = "false") -> bool:
    return os.environ.get(name, default).lower() in ("1", "true", "yes")


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
        self.kind = "none"  # none | ddp | fsdp2
        self.fsdp: dict[str, bool] = {}
        self.rank, self.world, self.device = 0, 1, device
        if launched_distributed() and not single:
            from accelerate import Accelerator

            self.kind = "ddp"
            handlers = []
            if _flag("ACCELERATE_USE_DEEPSPEED"):
                self.kind = "zero3"
                if not torch.cuda.is_available():
                    # accelerate 1.16 finds no backend for DeepSpeed without an accelerator; with
                    # gloo named, DeepSpeed runs on CPU (tests); on GPUs accelerate picks NCCL
                    from accelerate.utils import InitProcessGroupKwargs

                    handlers.append(InitProcessGroupKwargs(backend="gloo"))
            if _flag("ACCELERATE_USE_FSDP"):
                if os.environ.get("FSDP_VERSION", "1") != "2":
                    raise RuntimeError("FSDP1 is not supported: set fsdp_version: 2 in the accelerate config "
                                       "(trainers/configs/fsdp2.yaml)")
                self.kind = "fsdp2"
                self.fsdp = {"reshard_after_forward": _flag("FSDP_RESHARD_AFTER_FORWARD", "true"),
                             "offload_params": _flag("FSDP_OFFLOAD_PARAMS"),
                             "cpu_ram_efficient_loading": _flag("FSDP_CPU_RAM_EFFICIENT_LOADING")}
            # the process group and device only: the model is wrapped here (``prepare``), so
            # accelerate must not treat the run as its own FSDP run
            hidden = {k: os.environ.pop(k) for k in ("ACCELERATE_USE_FSDP",) if k in os.environ}
            try:
                # accelerate ignores DeepSpeed under cpu=True: on CPU it gets gloo (above) instead
                cpu = self.kind != "zero3" and (device.type == "cpu" or not torch.cuda.is_available())
                self.accelerator = Accelerator(cpu=cpu, kwargs_handlers=handlers)
            finally:
                os.environ.update(hidden)
            self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
            self.device = self.accelerator.device
            if self.kind == "zero3":
                stage = self.accelerator.state.deepspeed_plugin.zero_stage
                if stage != 3:
                    raise RuntimeError(f"DeepSpeed ZeRO stage {stage} is not supported: set zero_stage: 3 "
                                       f"(trainers/configs/zero3.yaml), or use trainers/configs/ddp.yaml")
            if self.is_main:
                print(f"[dist] {self.world} processes, {self.engine} on {self.device}", file=sys.stderr, flush=True)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def engine(self) -> str:
        if self.accelerator is None:
            return "none"
        if self.kind in ("fsdp2", "zero3"):
            return self.kind
        return str(self.accelerator.distributed_type).split(".")[-1].lower()

    @property
    def reads_weights(self) -> bool:
        """Whether this process reads the model's weights from disk: under FSDP2 with
        ``fsdp_cpu_ram_efficient_loading`` only the main process does (the others build the
        model on the meta device and get their shards from it in ``prepare``)."""
        return self.is_main or not self.fsdp.get("cpu_ram_efficient_loading")

    @property
    def partition_on_load(self) -> bool:
        """Whether the policy (and a KL reference) are partitioned by ZeRO-3 as they load
        (``zero3_init_flag: true``): each process keeps its partition only."""
        return self.kind == "zero3" and bool(self.accelerator.state.deepspeed_plugin.zero3_init_flag)

    @property
    def sharded(self) -> bool:
        """Whether the weights are sharded (every forward and backward is then a collective)."""
        return self.kind in ("fsdp2", "zero3")

    def prepare(self, model, optimizer, max_grad_norm: float | None = None):
        """The model and optimizer wrapped by the engine: DDP's wrapper; under FSDP2 the model
        itself, sharded in place, and an optimizer of the same class and groups over its
        sharded parameters; under ZeRO-3 accelerate's engine and optimizer wrapper
        (``max_grad_norm``: where the engine clips); unchanged in a single process."""
        if self.accelerator is None:
            return model, optimizer
        if self.kind == "fsdp2":
            from trainers.core.fsdp import rebuild_optimizer, shard_model

            names = {id(p): n for n, p in model.named_parameters()}
            groups = [[names[id(p)] for p in g["params"]] for g in optimizer.param_groups]
            shard_model(model, self.device, **self.fsdp)
            return model, rebuild_optimizer(model, optimizer, groups)
        if self.kind == "zero3":
            from trainers.core.zero3 import configure

            names = {id(p): n for n, p in model.named_parameters()}
            self._names = [[names[id(p)] for p in g["params"]] for g in optimizer.param_groups]
            configure(self.accelerator, self.world, max_grad_norm)
            self._engine, wrapped = self.accelerator.prepare(model, optimizer)
            return self._engine, wrapped
        return self.accelerator.prepare(model, optimizer)

    def shard_frozen(self, model):
        """A frozen model (a reference) sharded like the policy under FSDP2 and ZeRO-3; else as is."""
        if self.kind == "zero3" and model is not None:
            from trainers.core.zero3 import frozen_engine

            return frozen_engine(model, self.accelerator)
        if self.kind == "fsdp2" and model is not None:
            from trainers.core.fsdp import shard_model

            shard_model(model, self.device, **self.fsdp)
        return model

    def unwrap(self, model):
        if self.accelerator is None or self.kind == "fsdp2":
            return model
        return self.accelerator.unwrap_model(model)

    def backward(self, loss: torch.Tensor) -> None:
        if self.accelerator is None or self.kind == "fsdp2":
            loss.backward()
        else:
            self.accelerator.backward(loss)

    def no_sync(self, model, skip: bool):
        """Accumulate gradients locally (``skip``: this is not the step's last backward)."""
        if self.accelerator is None or not skip:
            return contextlib.nullcontext()
        if self.kind == "fsdp2":
            from trainers.core.fsdp import no_gradient_sync

            return no_gradient_sync(model)
        if self.kind == "zero3":  # not a gradient-accumulation boundary: the engine does not step
            return self._no_boundary()
        return self.accelerator.no_sync(model)

    @contextlib.contextmanager
    def _no_boundary(self):
        self.accelerator.sync_gradients = False
        try:
            yield
        finally:
            self.accelerator.sync_gradients = True

    def generation(self, model):
        """``with dist.generation(model):`` each process may generate as many tokens as it
        needs: under FSDP2 the weights stay gathered for the scope (no collective in forward)."""
        if self.kind == "zero3":
            from trainers.core.zero3 import gathered as gathered_zero3

            return gathered_zero3(self._engine)
        if self.kind != "fsdp2":
            return contextlib.nullcontext()
        from trainers.core.fsdp import gathered

        return gathered(model, self.fsdp.get("reshard_after_forward", True))

    def lockstep(self, count: int) -> int:
        """The number of passes every process must run in a phase where this one needs
        ``count``: the most any process needs under a sharded engine; else ``count``."""
        return int(max(self.gather(int(count)))) if self.sharded else int(count)

    def count_passes(self, model):
        """``with dist.count_passes(model) as n:`` ``n[0]`` counts the forwards through
        ``model`` in the scope (under a sharded engine; else stays 0)."""
        return _PassCounter(model if self.sharded else None)

    def match_passes(self, done: int, forward, backward: bool = False) -> None:
        """Under a sharded engine, after a phase in which this process ran ``done`` passes
        through the model (forwards, or forward+backward with ``backward``): as many passes of
        weight 0 (``forward()``: a scalar from one pass through the model) as it is short of
        the process that ran the most, so every process joins the same collectives."""
        if not self.sharded:
            return
        most = int(max(self.gather(int(done))))
        for _ in range(most - int(done)):
            if backward:
                self.backward(forward() * 0.0)
            else:
                with torch.no_grad():
                    forward()

    def full_state(self, model, optimizer=None) -> tuple[dict | None, dict | None]:
        """Under FSDP2 and ZeRO-3 (a collective: every process calls it): the full model state dict and,
        with ``optimizer``, its full state keyed by parameter name, on the main process (None
        on the others and under the other engines, whose model and optimizer hold it)."""
        if self.kind == "zero3":
            from trainers.core.zero3 import full_state as full_state_zero3

            return full_state_zero3(self.accelerator, self._engine, self._names if optimizer is not None else [],
                                    self.is_main)
        if self.kind != "fsdp2":
            return None, None
        from trainers.core.fsdp import full_state

        return full_state(model, optimizer, self.is_main)

    def load_optimizer(self, model, optimizer, state: dict) -> None:
        """A checkpoint's optimizer state into ``optimizer`` (whichever engine saved it)."""
        from trainers.core.fsdp import by_name, load_optimizer_state, to_names

        if self.kind == "zero3":
            from trainers.core.zero3 import load_optimizer_state as load_zero3

            load_zero3(self._engine, state if by_name(state) else to_names(state, self._names))
            return
        load_optimizer_state(self.unwrap(model), optimizer, state, self.sharded)

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
        if self.kind == "zero3":  # the engine clips in its step; the norm is known after it
            from trainers.core.zero3 import EngineGradNorm

            return EngineGradNorm(self._engine)
        if self.kind == "fsdp2":  # the norm over every shard (a DTensor reduced across processes)
            norm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], max_norm)
            return norm.full_tensor() if hasattr(norm, "full_tensor") else norm
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


class _PassCounter:
    def __init__(self, model):
        self.model, self.n, self.hook = model, [0], None

    def __enter__(self) -> list:
        if self.model is not None:
            self.hook = self.model.register_forward_pre_hook(lambda *_: self.n.__setitem__(0, self.n[0] + 1))
        return self.n

    def __exit__(self, *exc) -> None:
        if self.hook is not None:
            self.hook.remove()
