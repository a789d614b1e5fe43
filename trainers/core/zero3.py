"""DeepSpeed ZeRO-3 for the trainers, through accelerate: configuration, gathered generation,
full-state checkpoints. ``trainers.core.distributed.Dist`` calls these when launched with
``trainers/configs/zero3.yaml``.

How the trainers drive the engine (accelerate's DeepSpeed path): a backward under
``Dist.no_sync`` accumulates (``sync_gradients`` False: not a gradient-accumulation
boundary); the step's last backward is the boundary, and accelerate then calls
``engine.step()`` itself, which clips at the configured norm (the trainer's
``--max-grad-norm``), steps AdamW on this process's partition and zeroes the gradients (the
trainers' own ``optimizer.step()`` / ``zero_grad()`` are accelerate's no-ops). Every process
runs as many forwards and backwards (each gathers parameters): ``Dist`` keeps them in lockstep
as under FSDP2.

Checkpoints hold the full model (gathered on the main process) and AdamW's state by parameter
name, the format of FSDP2's, so a ZeRO-3 run resumes on any number of processes and engines.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch


def configure(accelerator, world: int, max_grad_norm: float | None) -> None:
    """The settings the trainers own, written into accelerate's DeepSpeed config before
    ``prepare``: the trainers cut their own micro-batches and step once per optimizer step
    (DeepSpeed's batch bookkeeping: 1 x 1 x processes), clip at ``max_grad_norm``, and save
    full weights."""
    config = accelerator.state.deepspeed_plugin.deepspeed_config
    config["train_micro_batch_size_per_gpu"] = 1
    config["gradient_accumulation_steps"] = 1
    config["train_batch_size"] = world
    config["gradient_clipping"] = float(max_grad_norm or 0.0)
    config.setdefault("zero_optimization", {})["stage3_gather_16bit_weights_on_model_save"] = True


def frozen_engine(model, accelerator):
    """A frozen model (a KL reference) partitioned like the policy: a ZeRO-3 engine without
    optimizer (the way trl prepares its reference under DeepSpeed)."""
    import copy

    import deepspeed

    config = copy.deepcopy(accelerator.state.deepspeed_plugin.deepspeed_config)
    config.pop("optimizer", None)
    config.pop("scheduler", None)
    engine, *_ = deepspeed.initialize(model=model, config=config)
    engine.eval()
    return engine


class EngineGradNorm:
    """The gradient norm of the step the engine took (it clips inside ``engine.step()``, which
    accelerate runs in the step's last backward): read it with ``float()`` after the step."""

    def __init__(self, engine):
        self.engine = engine

    def __float__(self) -> float:
        norm = self.engine.get_global_grad_norm()
        return float(norm.item() if hasattr(norm, "item") else (norm if norm is not None else float("nan")))


@contextlib.contextmanager
def gathered(engine):
    """The full weights on every process for the scope, with ZeRO-3's per-module fetch/release
    hooks taken off, so that forwards run no collective and each process can generate as many
    tokens as it needs (``generate(..., synced_gpus=False)``); the hooks are put back after.
    (The approach of trl's ``unwrap_model_for_generation``.)"""
    import deepspeed

    params = list(engine.module.parameters())
    offload = getattr(engine.optimizer, "parameter_offload", None) or engine.optimizer
    with deepspeed.zero.GatheredParameters(params):
        for p in params:  # no module holds them now: nothing may release them mid-scope
            p.ds_active_sub_modules.clear()
        for hook in list(offload.forward_hooks) + list(offload.backward_hooks):
            hook.remove()
        offload.forward_hooks, offload.backward_hooks = [], []
        try:
            yield engine.module
        finally:
            coordinator = getattr(offload, "param_coordinator", None)
            if coordinator is not None and not coordinator.is_invalid_trace():
                coordinator._invalidate_trace()  # the recorded fetch order no longer holds
            offload._register_deepspeed_module(offload.module)


def _source_groups(inner) -> dict[int, dict]:
    """The engine's parameter groups by the index of the group they came from (ZeRO-3 drops
    groups without trainable parameters and splits others by process group)."""
    out: dict[int, dict] = {}
    for i, g in enumerate(inner.param_groups):
        out.setdefault(g.get("_ds_source_param_group_id", i), g)
    return out


def _settings(inner, index: int) -> dict:
    """The hyper-parameters (lr, betas, eps, weight decay...) of the trainer's group ``index``."""
    g = _source_groups(inner).get(index) or inner.param_groups[0]
    return {k: v for k, v in g.items() if k != "params" and not k.startswith("_ds")}


def _inner(engine):
    """The torch optimizer the engine steps on this process's flat float32 partitions."""
    return engine.optimizer.optimizer


def full_state(accelerator, engine, names: list[list[str]], is_main: bool) -> tuple[dict | None, dict | None]:
    """The full model state dict and AdamW's state by parameter name (``names``: each group's
    parameter names), on the main process (a collective: every process calls it)."""
    from deepspeed.utils import safe_get_full_optimizer_state

    model_state = accelerator.get_state_dict(engine)
    params = dict(engine.module.named_parameters())
    inner = _inner(engine)
    steps = [s["step"] for s in inner.state.values() if "step" in s]
    state: dict[str, Any] = {}
    if steps:
        for name in (n for group in names for n in group):
            entry = {key: safe_get_full_optimizer_state(params[name], key) for key in ("exp_avg", "exp_avg_sq")}
            if is_main:
                step = steps[0]
                state[name] = {"step": step.detach().clone().cpu() if torch.is_tensor(step) else torch.tensor(float(step)),
                               **{k: v.detach().cpu() for k, v in entry.items()}}
    groups = [{**_settings(inner, i), "params": list(group_names)} for i, group_names in enumerate(names)]
    if not is_main:
        return None, None
    return model_state, {"state": state, "param_groups": groups}


def load_optimizer_state(engine, state: dict) -> None:
    """A by-name AdamW state into the engine's partitions (every process loads the full state
    and keeps its partition)."""
    from deepspeed.utils import safe_set_full_optimizer_state

    inner = _inner(engine)
    for i, g in enumerate(inner.param_groups):
        saved = state["param_groups"][min(g.get("_ds_source_param_group_id", i), len(state["param_groups"]) - 1)]
        g.update({k: v for k, v in saved.items() if k != "params" and not k.startswith("_ds")})
    if not state["state"]:
        return
    for flat in engine.optimizer.fp32_partitioned_groups_flat:  # AdamW's state exists after a step only
        if not inner.state[flat]:
            inner.state[flat] = {"step": torch.tensor(0.0), "exp_avg": torch.zeros_like(flat),
                                 "exp_avg_sq": torch.zeros_like(flat)}
    params = dict(engine.module.named_parameters())
    missing = [n for n in state["state"] if n not in params]
    if missing:
        raise ValueError(f"the checkpoint's optimizer has parameters this run does not train: {missing[:3]}")
    step = None
    for name, entry in state["state"].items():
        step = entry["step"]
        for key in ("exp_avg", "exp_avg_sq"):
            safe_set_full_optimizer_state(params[name], entry[key].to(torch.float32), key)
    for s in inner.state.values():
        s["step"] = step.clone() if torch.is_tensor(step) else torch.tensor(float(step))
