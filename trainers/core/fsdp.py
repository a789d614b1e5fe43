"""FSDP2 (torch's ``fully_shard``) for the trainers: sharding, gathered generation, full-state
checkpoints. ``trainers.core.distributed.Dist`` calls these when launched with an FSDP2 config
(``trainers/configs/fsdp2.yaml``).

Sharding follows accelerate's FSDP2 recipe (``TRANSFORMER_BASED_WRAP``): one unit per decoder
layer (the classes the model lists in ``_no_split_modules``), then the root (embeddings, final
norm and head, tied weights included; with LoRA the base model inside peft's wrapper). A unit's parameters are all-gathered in one call, which
needs one dtype per unit: with LoRA on a bfloat16 base the float32 adapter modules get units of
their own. The optimizer is re-pointed at the sharded parameters (same class, groups and
hyper-parameters); AdamW is elementwise, so a sharded step is the unsharded step.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch


def decoder_layer_classes(model) -> set[str]:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    names = set(getattr(base, "_no_split_modules", None) or ())
    if not names:
        raise ValueError(f"{type(base).__name__} does not name its decoder layers (_no_split_modules): "
                         f"FSDP2 needs them to shard layer by layer")
    return names


def root_unit(model):
    """The module sharded as the root: the transformer itself (a LoRA model's base, whose
    ``generate`` and ``forward`` every pass goes through; peft's wrapper holds no weights)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _own_dtypes(module) -> set:
    return {p.dtype for p in module.parameters(recurse=False)}


def _outside_units(unit):
    """``unit`` and its descendants that no inner FSDP unit holds."""
    from torch.distributed.fsdp import FSDPModule

    yield unit
    for child in unit.children():
        if not isinstance(child, FSDPModule):
            yield from _outside_units(child)


def shard_model(model, device: torch.device, reshard_after_forward: bool = True, offload_params: bool = False,
                cpu_ram_efficient_loading: bool = False, **_: Any) -> None:
    """Shard ``model`` in place over every process (one unit per decoder layer, then the root).
    ``cpu_ram_efficient_loading``: only the main process read the weights (the others built the
    model on the meta device: ``load_policy(meta=True)``); each process gets its shard from it."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import CPUOffloadPolicy, fully_shard

    mesh = init_device_mesh(device.type, (torch.distributed.get_world_size(),))
    kwargs: dict[str, Any] = {"mesh": mesh, "reshard_after_forward": reshard_after_forward}
    if offload_params:
        kwargs["offload_policy"] = CPUOffloadPolicy()
    is_main = torch.distributed.get_rank() == 0
    if cpu_ram_efficient_loading:
        full = model.state_dict() if is_main else {}
        buffers = {n: b.detach().clone() for n, b in model.named_buffers()} if is_main else {}
    else:
        # every process starts from the main process's weights (a LoRA adapter is initialised
        # at random in each), as DDP does when it wraps a model
        for t in list(model.parameters()) + list(model.buffers()):
            torch.distributed.broadcast(t.data, src=0)
    layers = decoder_layer_classes(model)
    units = [m for m in model.modules() if type(m).__name__ in layers]
    if not units:
        raise ValueError(f"no module of class {sorted(layers)} in {type(model).__name__}")
    for unit in units + [root_unit(model)]:
        # parameters of another dtype than most of the unit's (a float32 LoRA adapter on a
        # bfloat16 layer) go in units of their own, innermost first
        own = list(_outside_units(unit))
        counts: dict = {}
        for sub in own:
            for p in sub.parameters(recurse=False):
                counts[p.dtype] = counts.get(p.dtype, 0) + p.numel()
        if len(counts) > 1:
            most = max(counts, key=counts.get)
            for sub in own:
                if sub is not unit and _own_dtypes(sub) and most not in _own_dtypes(sub):
                    fully_shard(sub, **kwargs)
        fully_shard(unit, **kwargs)
    if cpu_ram_efficient_loading:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

        model.to_empty(device=device)  # this process's shards (and the buffers), uninitialised
        set_model_state_dict(model, full, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
        for name, buf in model.named_buffers():  # rotary tables and other buffers outside the state dict
            if is_main:
                buf.copy_(buffers[name])
            torch.distributed.broadcast(buf, src=0)


def rebuild_optimizer(model, optimizer, groups: list[list[str]]):
    """``optimizer`` over the sharded parameters of ``model`` (``groups``: each group's
    parameter names, as before sharding): each group's parameters are swapped in place, its
    settings kept. Call it before any step (there is no state to carry over yet)."""
    if any(optimizer.state.values()):
        raise ValueError("shard the model before the optimizer's first step (its state would be lost)")
    params = dict(model.named_parameters())
    for group, names in zip(optimizer.param_groups, groups):
        group["params"] = [params[n] for n in names]
    optimizer._param_names = groups  # the names of each group's parameters, for checkpoints
    return optimizer


@contextlib.contextmanager
def no_gradient_sync(model):
    """Backward passes accumulate unreduced gradients (the step's last backward reduces them)."""
    root = root_unit(model)
    root.set_requires_gradient_sync(False)
    try:
        yield
    finally:
        root.set_requires_gradient_sync(True)


@contextlib.contextmanager
def gathered(model, reshard_after_forward: bool = True):
    """The full weights on every process for the scope, so that forwards run no collective
    and each process can generate a different number of tokens (``generate`` must then be
    called with ``synced_gpus=False``)."""
    from torch.distributed.fsdp import FSDPModule

    units = [m for m in model.modules() if isinstance(m, FSDPModule)]
    for unit in units:
        unit.unshard()
        unit.set_reshard_after_forward(False, recurse=False)
    try:
        yield model
    finally:
        for unit in units:
            unit.set_reshard_after_forward(reshard_after_forward, recurse=False)
            unit.reshard()


def full_state(model, optimizer, is_main: bool) -> tuple[dict | None, dict | None]:
    """The full model state dict and the optimizer's state keyed by parameter name, gathered on
    the main process (a collective: every process calls it)."""
    from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                         get_optimizer_state_dict)

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    model_state = get_model_state_dict(model, options=options)
    optim_state = get_optimizer_state_dict(model, optimizer, options=options) if optimizer is not None else None
    return (model_state, optim_state) if is_main else (None, None)


def by_name(state: dict) -> bool:
    """Whether an optimizer state dict keys its parameters by name (a sharded run's) rather
    than by position (``optimizer.state_dict()``)."""
    groups = state.get("param_groups") or [{}]
    params = groups[0].get("params") or []
    return bool(params) and isinstance(params[0], str)


def to_names(state: dict, groups: list[list[str]]) -> dict:
    """A positional optimizer state dict keyed by the parameter names of ``groups``."""
    flat = [n for g in groups for n in g]
    index = {i: n for g, names in zip(state["param_groups"], groups) for i, n in zip(g["params"], names)}
    if len(index) != len(flat):
        raise ValueError(f"the checkpoint's optimizer has {len(index)} parameters, this run's {len(flat)}")
    return {"state": {index[i]: v for i, v in state["state"].items()},
            "param_groups": [{**g, "params": [index[i] for i in g["params"]]} for g in state["param_groups"]]}


def to_positions(state: dict, groups: list[list[str]]) -> dict:
    """A by-name optimizer state dict in ``optimizer.state_dict()``'s positional form, for an
    optimizer whose groups hold the parameters named in ``groups``."""
    position = {n: i for i, n in enumerate(n for g in groups for n in g)}
    missing = [n for g in state["param_groups"] for n in g["params"] if n not in position]
    if missing:
        raise ValueError(f"the checkpoint's optimizer has parameters this run does not train: {missing[:3]}")
    return {"state": {position[n]: v for n, v in state["state"].items()},
            "param_groups": [{**g, "params": [position[n] for n in g["params"]]} for g in state["param_groups"]]}


def load_optimizer_state(model, optimizer, state: dict, sharded: bool) -> None:
    """Load a checkpoint's optimizer state (positional or by name) into ``optimizer``, whose
    parameters are ``model``'s (sharded or not)."""
    groups = getattr(optimizer, "_param_names", None)
    if groups is None:
        names = {id(p): n for n, p in model.named_parameters()}
        groups = [[names[id(p)] for p in g["params"]] for g in optimizer.param_groups]
    if not sharded:
        optimizer.load_state_dict(to_positions(state, groups) if by_name(state) else state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    named = state if by_name(state) else to_names(state, groups)
    set_optimizer_state_dict(model, optimizer, named, options=StateDictOptions(full_state_dict=True))
