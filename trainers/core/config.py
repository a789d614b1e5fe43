"""The fields every trainer has, in one base dataclass.

Every trainer's config (``SFTConfig``, ``DPOConfig``, ``OnlineConfig``...) derives from
``TrainerConfig``, so the command line of each (``trainers.core.cli``) has the same options
for the model, the output folder, the prompt format, seeds, the device and precision, resume,
logging (``--tensorboard``, ``--wandb``) and the memory options (LoRA, gradient checkpointing).
A subclass overrides a default by declaring the field again (``output_dir = "runs/sft"``).

Precision (``dtype``) says how weights are *stored*, not only how they are computed:

- ``float32``: everything in float32 (the default; what the learning checks use).
- ``bfloat16``: the forward and backward passes run under bfloat16 autocast; every frozen
  weight is stored in bfloat16 (the LoRA base model, a separate reference model); trainable
  weights and AdamW's two moments stay float32, because an update smaller than bfloat16's
  resolution (about 0.4% of the weight) would be rounded away and the moments' squares
  underflow. With LoRA this stores almost the whole model in bfloat16; without it only the
  reference copy, and the mixed-precision recipe (float32 master weights, bfloat16 compute) is
  what DeepSpeed and FSDP's mixed precision do.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainers.core.cli import opt

DTYPES = ("float32", "bfloat16")


@dataclass
class TrainerConfig:
    model: str = opt("", "the starting model: a folder (a full model or a LoRA adapter) or a hub id")
    output_dir: str = opt("runs/train", "checkpoints/, metrics.jsonl and final/ go here")
    fmt: str = opt("react", "reply format: react (Thought/Action) or tags (<think>/<action>)")
    history: int = opt(3, "past turns shown in full in each step's prompt (as the rollouts)")
    seed: int = opt(0, "seed of data order, sampling and torch/python RNGs")
    resume: bool = opt(False, "continue from the latest checkpoint in output_dir")
    device: str = opt("auto", "auto (cuda if available), cpu, cuda, cuda:1... (under accelerate: its device)")
    dtype: str = opt("float32", "float32, or bfloat16: bfloat16 compute, frozen weights stored in bfloat16, "
                                "trainable weights and optimizer state float32 (docs/trainers_scale.md)")
    gradient_checkpointing: bool = opt(False, "recompute activations in the backward pass (less memory, ~30%% "
                                              "more compute)")
    lora_r: int = opt(0, "LoRA rank (peft); 0: full fine-tuning")
    lora_alpha: int = opt(32, "LoRA alpha (the update is scaled by alpha / r)")
    lora_dropout: float = opt(0.0, "dropout on the LoRA branch")
    lora_target_modules: str = opt("all-linear", "comma-separated module names LoRA wraps (e.g. q_proj,v_proj), "
                                                 "or all-linear")
    merge_lora: bool = opt(False, "with LoRA: also write the base with the adapter merged to final/merged")
    progress: bool = opt(True, "tqdm progress bar (hidden when stderr is not a terminal)")
    tensorboard: bool = opt(False, "also log metrics to TensorBoard (needs tensorboard)")
    wandb: bool = opt(False, "also log metrics to W&B, offline unless WANDB_MODE is set (needs wandb)")

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, not {self.dtype!r}")
        if self.lora_r < 0:
            raise ValueError(f"lora_r must be >= 0 (0: no LoRA), not {self.lora_r}")
        if self.merge_lora and not self.lora_r:
            raise ValueError("merge_lora needs LoRA (--lora-r > 0)")


BASE_FIELDS = tuple(TrainerConfig.__dataclass_fields__)


def shared(config, **overrides) -> dict:
    """The base fields of ``config`` as keyword arguments (for a trainer that runs another one,
    e.g. RFT's SFT runs), with ``overrides``."""
    out = {name: getattr(config, name) for name in BASE_FIELDS if hasattr(config, name)}
    out.update(overrides)
    return out
