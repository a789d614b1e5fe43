"""The trainers' shared parts: one config base, one model loader (dtype, LoRA, gradient
checkpointing), checkpoints that load with ``weights_only=True`` and clean up after a killed
save, ``--resume`` of a finished run, and data errors that name the file and line."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from trainers import depo, dpo, eto, gigpo, nat, orm, ppo, rft, sft, spin, stepagent, webrl  # noqa: E402
from trainers.core import cli  # noqa: E402
from trainers.core.checkpoint import (latest_checkpoint, load_checkpoint, remove_stale_temporaries,  # noqa: E402
                                      save_checkpoint)
from trainers.core.config import TrainerConfig  # noqa: E402
from trainers.core.online import OnlineConfig  # noqa: E402
from trainers.core.tiny import DEFAULT_CHAT, build_tiny_model_and_tokenizer  # noqa: E402

CONFIGS = [sft.SFTConfig, dpo.DPOConfig, rft.RFTConfig, nat.NATConfig, eto.ETOConfig, spin.SPINConfig,
           ppo.PPOConfig, gigpo.GiGPOConfig, stepagent.StepAgentConfig, OnlineConfig, depo.DEPOConfig,
           orm.ORMConfig, webrl.WebRLConfig]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_every_config_has_the_shared_fields_and_options(cls):
    assert issubclass(cls, TrainerConfig)
    names = {f.name for f in dataclasses.fields(cls)}
    assert {"model", "output_dir", "fmt", "history", "seed", "device", "dtype", "resume", "tensorboard", "wandb",
            "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "merge_lora",
            "gradient_checkpointing"} <= names
    c = cli.config_from_args(cls, ["--model", "m", "--tensorboard", "--wandb", "--lora-r", "8", "--lora-alpha", "16",
                                   "--lora-target-modules", "q_proj,v_proj", "--gradient-checkpointing",
                                   "--dtype", "bfloat16", "--merge-lora", "--seed", "3"])
    assert (c.tensorboard, c.wandb, c.lora_r, c.lora_alpha, c.lora_target_modules, c.gradient_checkpointing,
            c.dtype, c.merge_lora, c.seed) == (True, True, 8, 16, "q_proj,v_proj", True, "bfloat16", True, 3)
    assert cls().output_dir.startswith("runs/")


def test_bad_shared_settings_are_refused_at_once():
    with pytest.raises(ValueError, match="dtype"):
        sft.SFTConfig(dtype="float16x")
    with pytest.raises(ValueError, match="lora_r"):
        gigpo.GiGPOConfig(lora_r=-1)
    with pytest.raises(ValueError, match="merge_lora"):
        dpo.DPOConfig(merge_lora=True)


# ---- checkpoints ---------------------------------------------------------------------------
class _Runs:
    """Pickles to a call of ``Path.touch``: what a crafted checkpoint would run on load."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_checkpoints_restore_random_states_and_refuse_code(tmp_path):
    import numpy as np

    model = torch.nn.Linear(2, 2)
    model.save_pretrained = lambda folder: torch.save(model.state_dict(), Path(folder) / "w.pt")
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    ckpt = save_checkpoint(tmp_path / "c", model, optimizer=opt, step=1)
    expected = (random.random(), float(np.random.rand()), torch.rand(1).item())
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    opt2 = torch.optim.AdamW(model.parameters(), lr=0.1)
    assert load_checkpoint(ckpt, opt2)["step"] == 1
    assert (random.random(), float(np.random.rand()), torch.rand(1).item()) == expected
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    # a crafted rng.pt (a pickle that runs code on load) is refused and runs nothing
    marker = tmp_path / "ran"
    torch.save({"python": _Runs(marker)}, ckpt / "rng.pt")
    with pytest.raises(ValueError, match="rng.pt"):
        load_checkpoint(ckpt)
    assert not marker.exists()


def test_a_killed_save_leaves_no_temporary_folder_behind(tmp_path):
    directory = tmp_path / "checkpoints"
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)  # a process that has exited: its save can never finish
    stale = directory / f".tmp-step-00000004-{dead}"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    live = directory / f".tmp-step-00000004-{os.getppid()}"  # another live job saving here: kept
    live.mkdir()
    model = torch.nn.Linear(2, 2)
    model.save_pretrained = lambda folder: torch.save(model.state_dict(), Path(folder) / "w.pt")
    save_checkpoint(directory, model, step=5)
    assert not stale.exists() and live.exists()
    assert latest_checkpoint(directory).name == "step-00000005"
    assert remove_stale_temporaries(directory) == []


# ---- data errors name the file and line --------------------------------------------------------
@pytest.mark.parametrize("lines,where", [
    ([{"prompt": [{"role": "user", "content": "hi"}], "response": "ok"}, {"prompt": "hi", "response": "ok"}], 2),
    ([{"prompt": [{"role": "user", "content": "hi"}], "response": "ok"},
      {"prompt": [{"role": "user", "content": "hi"}], "response": 3}], 2),
    ([{"prompt": [{"role": "user", "content": "hi"}], "response": "ok", "response_ids": ["a"]}], 1),
    ([{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}, {"messages": 5}], 2),
    ([{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}, [1, 2]], 2),
    ([{"env_id": "agent_gym/KeyDoor-v0", "steps": [{"bad": 1}], "task_id": 0}], 1),
    ([{"something": "else"}], 1),
], ids=["prompt-not-messages", "response-not-text", "ids-not-ints", "messages-not-list", "not-an-object",
        "bad-trajectory", "unknown-kind"])
def test_malformed_sft_data_names_file_and_line(tiny, tmp_path, lines, where):
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with pytest.raises(ValueError) as err:
        sft.train(sft.SFTConfig(model=str(tiny), data=str(data), output_dir=str(tmp_path / "o"), device="cpu",
                                progress=False, only_won=False))
    assert f"{data}:{where}:" in str(err.value)


def test_resuming_a_finished_run_keeps_its_final_metrics(tiny, tmp_path):
    kw = dict(model=str(tiny), data=str(DEFAULT_CHAT), output_dir=str(tmp_path / "run"), max_examples=4,
              max_length=256, epochs=1, batch_size=4, grad_accum=1, lr=1e-3, device="cpu", progress=False)
    first = sft.train(sft.SFTConfig(**kw))
    again = sft.train(sft.SFTConfig(**kw, resume=True))
    assert again == first and first["loss"] == first["loss"]  # not NaN
    assert json.loads((tmp_path / "run" / "final_metrics.json").read_text()) == first


# ---- one loader: dtype, LoRA, the reference as the adapter disabled ------------------------------
@pytest.mark.parametrize("lora_r", [0, 4])
def test_a_meta_policy_reads_no_weight_and_has_the_real_structure(tiny, lora_r):
    # what an FSDP2 process other than the main one builds under cpu_ram_efficient_loading
    from trainers.core import policy as policy_mod
    from trainers.core.policy import load_policy, load_reference

    config = gigpo.GiGPOConfig(model=str(tiny), lora_r=lora_r, lora_alpha=8, dtype="bfloat16", device="cpu",
                               kl_coef=0.1)
    before = policy_mod.LOADS["count"]
    meta = load_policy(config, meta=True)
    ref = load_reference(config, meta, meta=True)
    assert policy_mod.LOADS["count"] == before  # nothing read from disk
    real = load_policy(config)
    assert all(p.is_meta for p in meta.model.parameters())
    shapes = {k: (v.shape, v.dtype, v.requires_grad) for k, v in meta.model.named_parameters()}
    assert shapes == {k: (v.shape, v.dtype, v.requires_grad) for k, v in real.model.named_parameters()}
    assert (ref is None) == bool(lora_r) and (ref is None or all(p.is_meta for p in ref.parameters()))


def test_lora_policy_reference_is_the_base_with_the_adapter_off(tiny, tmp_path):
    from trainers.core import policy as policy_mod
    from trainers.core.online import token_stats
    from trainers.core.policy import load_model, load_policy, load_reference, reference_scope

    config = gigpo.GiGPOConfig(model=str(tiny), lora_r=4, lora_alpha=8, dtype="bfloat16", device="cpu",
                               gradient_checkpointing=True)
    before = policy_mod.LOADS["count"]
    pol = load_policy(config)
    assert load_reference(config, pol) is None  # no second copy of the model
    assert policy_mod.LOADS["count"] == before + 1
    model = pol.model
    trainable = [p for p in model.parameters() if p.requires_grad]
    frozen = [p for p in model.parameters() if not p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)  # the adapter: float32
    assert frozen and all(p.dtype == torch.bfloat16 for p in frozen)  # the base: stored in bfloat16
    assert model.base_model.model.is_gradient_checkpointing
    with torch.no_grad():  # move the adapter away from its zero start
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.add_(0.5)
    sample = {"input_ids": list(range(5, 25)), "labels_mask": [0] * 12 + [1] * 8}
    base = load_model(tiny, torch.bfloat16).eval()
    with torch.no_grad():
        with reference_scope(model) as ref:
            off, _, _ = token_stats(ref, [sample], 0, torch.autocast("cpu", dtype=torch.bfloat16))
        on, _, _ = token_stats(model, [sample], 0, torch.autocast("cpu", dtype=torch.bfloat16))
        plain, _, _ = token_stats(base, [sample], 0, torch.autocast("cpu", dtype=torch.bfloat16))
    assert torch.equal(off, plain) and not torch.allclose(on, plain)


def test_lora_sft_writes_the_adapter_and_the_merged_model(tiny, tmp_path):
    import transformers

    from trainers.core.policy import is_adapter, load_model

    result = sft.train(sft.SFTConfig(model=str(tiny), data=str(DEFAULT_CHAT), output_dir=str(tmp_path / "run"),
                                     max_examples=8, max_length=256, epochs=2, batch_size=4, grad_accum=1, lr=1e-2,
                                     device="cpu", progress=False, lora_r=4, merge_lora=True, log_every=1))
    final = Path(result["final_dir"])
    assert is_adapter(final) and not (final / "model.safetensors").exists()
    merged = transformers.AutoModelForCausalLM.from_pretrained(final / "merged").eval()
    via_adapter = load_model(final).eval()  # an adapter folder loads as base + adapter, merged
    start = transformers.AutoModelForCausalLM.from_pretrained(tiny).eval()
    ids = torch.tensor([list(range(3, 30))])
    with torch.no_grad():
        a, b, c = merged(ids).logits, via_adapter(ids).logits, start(ids).logits
    assert torch.allclose(a, b, atol=1e-5) and not torch.allclose(a, c, atol=1e-3)  # trained, and the same


@pytest.mark.parametrize("env, match", [({"ACCELERATE_USE_FSDP": "true", "FSDP_VERSION": "1"}, "fsdp_version: 2")])
def test_unsupported_engines_are_refused_with_a_clear_error(monkeypatch, env, match):
    from trainers.core.distributed import Dist

    assert Dist(torch.device("cpu")).world == 1  # a plain process: no accelerate, no process group
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(RuntimeError, match=match):
        Dist(torch.device("cpu"))


@pytest.mark.parametrize("module", ["depo", "orm"])
def test_one_process_trainers_refuse_a_multi_process_launch(monkeypatch, tmp_path, module):
    import importlib

    mod = importlib.import_module(f"trainers.{module}")
    config_cls = next(v for k, v in vars(mod).items() if k.endswith("Config") and k[:-6].lower() == module)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="runs in one process"):
        mod.train(config_cls(model="unused", output_dir=str(tmp_path)), trajectories=[])
    assert not any(tmp_path.iterdir())  # refused before writing anything


def test_padded_chunks_give_every_process_as_many_passes():
    from trainers.core.distributed import Dist

    d = Dist(torch.device("cpu"))
    d.world = 2
    items = list(range(5))  # 3 items on process 0, 2 on process 1: 2 chunks of 2 each, the short one padded
    d.rank = 0
    assert d.padded_chunks(items, 2) == [([0, 2], 1.0), ([4], 1.0)]
    d.rank = 1
    assert d.padded_chunks(items, 2) == [([1, 3], 1.0), ([0], 0.0)]
    assert d.padded_chunks([7], 2) == [([7], 0.0)]  # nothing here: one pass of weight 0


@pytest.mark.parametrize("record", [
    {"task_id": 1, "chosen": [{"prompt": "hi", "response": "x"}], "rejected": []},
    {"task_id": 1, "chosen": [{"prompt": [{"role": "user", "content": "a"}], "response": 4}], "rejected": []},
    {"task_id": 1, "chosen": 5, "rejected": []},
], ids=["prompt-not-messages", "response-not-text", "steps-not-list"])
def test_malformed_pairs_name_file_and_line(tmp_path, record):
    good = {"task_id": 0, "chosen": [{"prompt": [{"role": "user", "content": "a"}], "response": "b"}],
            "rejected": [{"prompt": [{"role": "user", "content": "a"}], "response": "c"}]}
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(ValueError, match=f"{path}:2:"):
        dpo.read_pairs(path)
