"""The policy: a Hugging Face causal LM, its tokenizer and its chat template, kept together.

``Policy.render`` turns chat messages into the prompt text (the tokenizer's chat template
with the generation prompt, or the plain ``System:/User:/Assistant:`` format of
``agent_gym.core.prompts`` when the tokenizer has none); ``Policy.encode`` gives its token ids.
Generation backends and trainers take a ``Policy`` so that every part of a run renders and
tokenizes prompts the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

from agent_gym.core.prompts import render_plain


class Policy:
    def __init__(self, model: Any, tokenizer: Any, device: Any = None, chat_template_kwargs: dict | None = None):
        if device is not None:
            model = model.to(device)
        self.model = model
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:
            if tokenizer.eos_token is None:
                raise ValueError("the tokenizer has neither a pad nor an eos token")
            tokenizer.pad_token = tokenizer.eos_token
        self.use_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.chat_template_kwargs = dict(chat_template_kwargs or {})

    @property
    def device(self):
        return next(self.model.parameters()).device

    @classmethod
    def load(cls, path_or_name: str | os.PathLike, dtype: Any = None, device: Any = None, **kwargs) -> "Policy":
        """Load a model and tokenizer from a local folder or a hub id (no network when
        ``HF_HUB_OFFLINE=1`` or when the path is a local folder); a LoRA adapter folder loads
        as its base with the adapter merged (``load_model``)."""
        import torch

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        return cls(load_model(path_or_name, dtype), load_tokenizer(path_or_name), device=device, **kwargs)

    def save(self, path: str | os.PathLike) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return out

    def render(self, messages: Sequence[dict]) -> str:
        """The prompt text for ``messages``, ending where the assistant's reply begins."""
        if not self.use_chat_template:
            return render_plain(messages)
        return self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True,
                                                  **self.chat_template_kwargs)

    def encode(self, messages: Sequence[dict]) -> list[int]:
        # a chat template writes its own special tokens; the plain format gets the tokenizer's
        return list(self.tokenizer(self.render(messages), add_special_tokens=not self.use_chat_template)["input_ids"])


# -------------------------------------------------------------------------------------------
# Loading: every trainer, the rollouts and the evaluation load models through ``load_model``.
# -------------------------------------------------------------------------------------------
ADAPTER_FILE = "adapter_config.json"

# how many models ``load_model`` has read from disk in this process (tests assert that a LoRA
# run never loads its reference as a second copy)
LOADS = {"count": 0}


@contextlib.contextmanager
def whole_on_load():
    """Load models whole, never partitioned by DeepSpeed as they load. Under ZeRO-3 accelerate
    registers its config with transformers for the whole process, and transformers would then
    partition every model at load (``deepspeed.zero.Init``); only the models the engine takes
    may be partitioned, and it partitions them itself. A critic, a discriminator, a sampler or a
    merged model stay plain modules (``zero3_init_flag: false`` in ``trainers/configs/zero3.yaml``:
    each process loads the policy whole, then the engine partitions it)."""
    try:
        from transformers.integrations import deepspeed as hf_deepspeed
    except ImportError:  # transformers without its DeepSpeed integration: nothing to undo
        yield
        return
    saved = getattr(hf_deepspeed, "_hf_deepspeed_config_weak_ref", None)
    hf_deepspeed._hf_deepspeed_config_weak_ref = None
    try:
        yield
    finally:
        hf_deepspeed._hf_deepspeed_config_weak_ref = saved


def _local(path: str) -> bool:
    return Path(path).is_dir() or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")


def is_adapter(path: str | os.PathLike) -> bool:
    return (Path(path) / ADAPTER_FILE).is_file()


def load_tokenizer(path: str | os.PathLike):
    """The tokenizer of a model folder (of an adapter folder without one: its base's)."""
    import json

    import transformers

    path = str(path)
    if is_adapter(path) and not (Path(path) / "tokenizer_config.json").is_file():
        path = json.loads((Path(path) / ADAPTER_FILE).read_text())["base_model_name_or_path"]
    return transformers.AutoTokenizer.from_pretrained(path, local_files_only=_local(path))


def load_model(path: str | os.PathLike, dtype: Any = None, partitioned: bool = False):
    """A causal LM from a folder or hub id, in ``dtype`` (a torch dtype or its name; None: as
    stored). A LoRA adapter folder (``adapter_config.json``, what a LoRA run writes to
    ``final/``) loads as its base model with the adapter merged into it."""
    import torch
    import transformers

    path = str(path)
    if isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    if is_adapter(path):
        import json

        import peft

        base = json.loads((Path(path) / ADAPTER_FILE).read_text())["base_model_name_or_path"]
        with whole_on_load():
            model = peft.PeftModel.from_pretrained(load_model(base, dtype), path)
        return model.merge_and_unload()
    kwargs: dict[str, Any] = {"local_files_only": _local(path)}
    if dtype is not None:
        kwargs["dtype"] = dtype
    LOADS["count"] += 1
    # ``partitioned``: a model a ZeRO-3 engine will take, partitioned as it loads when the
    # config asks (``zero3_init_flag``): each process keeps its partition of the weights only
    with contextlib.nullcontext() if partitioned else whole_on_load():
        return transformers.AutoModelForCausalLM.from_pretrained(path, **kwargs)


def lora_config(config):
    import peft

    targets = config.lora_target_modules.strip()
    return peft.LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                           target_modules=targets if targets == "all-linear" else
                           [t.strip() for t in targets.split(",") if t.strip()],
                           task_type="CAUSAL_LM")


def load_policy(config, path: str | os.PathLike | None = None, device: Any = None, meta: bool = False,
                partitioned: bool = False) -> Policy:
    """The trainable policy of a run, as its config (``trainers.core.config.TrainerConfig``)
    says: ``config.model`` (or ``path``, a checkpoint of this run to resume from), on
    ``device`` (default: ``config.device``), with LoRA (``lora_r`` > 0: the base frozen, in
    bfloat16 when ``dtype`` is bfloat16; the adapter float32), gradient checkpointing, and in
    training mode. A checkpoint of a LoRA run holds the adapter only: the base is
    ``config.model`` again. ``meta``: the same model built on the meta device, no weight read
    (an FSDP2 process that gets its shard from the main process: ``trainers.core.fsdp``).
    ``partitioned``: partitioned by ZeRO-3 as it loads (``Dist.partition_on_load``)."""
    import torch

    from trainers.core.optim import resolve_device

    device = resolve_device(config.device) if device is None else device
    source = str(path or config.model)
    if not source:
        raise ValueError(f"{type(config).__name__}.model is required")
    if config.lora_r:
        import peft

        # the frozen base may be stored in bfloat16; the adapter (peft casts it) stays float32
        start = config.model or (json.loads((Path(path) / ADAPTER_FILE).read_text())["base_model_name_or_path"]
                                 if path is not None and is_adapter(path) else "")
        if not start:
            raise ValueError(f"{type(config).__name__}.model is required")
        base = _meta_model(start, config.dtype) if meta else load_model(start, config.dtype, partitioned)
        if meta and path is not None and is_adapter(path):
            model = peft.get_peft_model(base, peft.LoraConfig.from_pretrained(str(path)))
        elif path is not None and is_adapter(path):
            model = peft.PeftModel.from_pretrained(base, str(path), is_trainable=True)
        else:
            model = peft.get_peft_model(base, lora_config(config))
            # the adapter's base is the model this run started from (itself maybe an adapter,
            # merged above): what ``load_model`` of the saved adapter must rebuild
            model.peft_config["default"].base_model_name_or_path = start
    elif meta:
        model = _meta_model(source, torch.float32)
    else:
        model = load_model(source, torch.float32, partitioned)  # trained weights: float32 master copy
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    model.train()
    return Policy(model, load_tokenizer(source), device=None if meta else device)


def _meta_model(path: str, dtype: Any = None):
    """``load_model(path, dtype)``'s architecture on the meta device: no weight is read."""
    import torch
    import transformers

    if isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    hf_config = transformers.AutoConfig.from_pretrained(str(path), local_files_only=_local(str(path)))
    with torch.device("meta"), whole_on_load():
        return transformers.AutoModelForCausalLM.from_config(hf_config, dtype=dtype or hf_config.dtype)


def has_adapter(model) -> bool:
    return hasattr(model, "disable_adapter") and hasattr(model, "peft_config")


def load_reference(config, policy: Policy, device: Any = None, meta: bool = False, partitioned: bool = False):
    """The frozen reference model (the starting policy) of DPO's, PPO's or GiGPO's KL term:
    with LoRA, ``None`` (the reference is the policy with its adapter disabled: see
    ``reference_scope``; never a second copy); else a second copy of ``config.model``,
    stored in ``config.dtype``, in eval mode, without gradients, on ``device`` (default: the
    policy's); ``meta`` and ``partitioned`` as in ``load_policy``."""
    if has_adapter(policy.model):
        return None
    if meta:
        ref = _meta_model(config.model, config.dtype).eval()
    else:
        ref = load_model(config.model, config.dtype, partitioned).to(device or policy.device).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


@contextlib.contextmanager
def reference_scope(policy_model, reference=None):
    """``with reference_scope(model, ref) as m:`` ``m`` computes the reference's log-probs:
    ``ref`` when there is one, else the LoRA model with its adapter disabled."""
    if reference is not None:
        yield reference
        return
    if not has_adapter(policy_model):
        raise ValueError("no reference model and no LoRA adapter to disable")
    with policy_model.disable_adapter():
        yield policy_model


def save_final(model, tokenizer, folder: str | os.PathLike, merge: bool = False,
               state_dict: dict | None = None) -> Path:
    """The final model: the full model, or with LoRA the adapter (and with ``merge`` the base
    with the adapter merged in ``folder/merged``). ``state_dict``: the full state of a sharded
    model (``Dist.full_state``), saved instead of the local one."""
    folder = Path(folder)
    if state_dict is not None:
        model.save_pretrained(folder, state_dict=state_dict)
    else:
        model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if merge and has_adapter(model):
        if state_dict is not None:  # a sharded model: the saved adapter on its base, merged
            merged = load_model(folder)
        else:
            import copy

            merged = copy.deepcopy(model).merge_and_unload()
        merged.save_pretrained(folder / "merged")
        tokenizer.save_pretrained(folder / "merged")
    return folder
