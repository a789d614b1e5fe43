"""The sharded engines give what one process gives: ``accelerate launch --config_file
trainers/configs/{fsdp2,zero3}.yaml --num_processes 2 -m trainers.X ... --device cpu`` (on
gloo) against ``python -m trainers.X`` with the same global batch, for SFT, DPO, GiGPO, PPO and StepAgent (loss
curves, gradient norms and final weights within float tolerance); a run stopped under a
sharded engine resumes under it, and on one process, to the weights of an uninterrupted run,
and a one-process checkpoint resumes under it; LoRA shards and trains as on one process (under
FSDP2 on a bfloat16 base: a float32 adapter inside bfloat16 layers).

FSDP2 runs the shipped config. ZeRO-3 runs the shipped config's settings with DeepSpeed's
persistence thresholds at 0, so that even the tiny model's smallest tensors are partitioned
(by default DeepSpeed keeps tensors under 100k elements whole on every process).

Under both every forward and backward is a collective: these runs hang (and the launch times
out) if any process runs fewer passes than another, e.g. in the reference pass, the old
log-probs, or while generating episodes of different lengths.

Slow (each launch starts two Python processes): ``make test-slow``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from crossroads_training import crossroads_start  # noqa: E402,F401
from test_trainers_distributed import assert_same_curve, assert_same_weights, curve, write_toy_pairs  # noqa: E402
from trainers.core.tiny import DEFAULT_CHAT, build_tiny_model_and_tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "trainers" / "configs"
pytestmark = pytest.mark.slow
ENGINES = ["fsdp2", "zero3"]


@pytest.fixture(scope="module")
def zero3_config(tmp_path_factory) -> Path:
    """The shipped ZeRO-3 config with DeepSpeed's persistence thresholds at 0."""
    pytest.importorskip("deepspeed")  # `make test-slow` installs it (the deepspeed extra)
    folder = tmp_path_factory.mktemp("zero3")
    shipped = (CONFIGS / "zero3.yaml").read_text()
    block = shipped[shipped.index("deepspeed_config:"):shipped.index("num_machines:")]
    settings = dict(line.split("#")[0].strip().split(": ") for line in block.splitlines()[1:]
                    if line.split("#")[0].strip())
    assert settings["zero_stage"] == "3" and settings["offload_param_device"] == "none"
    (folder / "ds.json").write_text(json.dumps({
        "train_micro_batch_size_per_gpu": "auto", "gradient_accumulation_steps": 1,
        "zero_optimization": {"stage": 3, "stage3_param_persistence_threshold": 0,
                              "stage3_model_persistence_threshold": 0,
                              "stage3_gather_16bit_weights_on_model_save": True}}))
    config = folder / "zero3.yaml"
    # accelerate refuses its own precision settings beside a DeepSpeed config file
    text = shipped.replace(block, f"deepspeed_config:\n  deepspeed_config_file: {folder / 'ds.json'}\n"
                                  f"  zero3_init_flag: {settings['zero3_init_flag']}\n")
    config.write_text("\n".join(line for line in text.splitlines()
                                if not line.startswith(("mixed_precision:", "downcast_bf16:"))) + "\n")
    return config


@pytest.fixture
def engine_config(request) -> tuple[str, Path]:
    engine = request.param
    return engine, CONFIGS / "fsdp2.yaml" if engine == "fsdp2" else request.getfixturevalue("zero3_config")


def launch(module: str, args: list[str], sharded: tuple[str, Path] | None, timeout: int = 300) -> dict:
    """``module`` in one process, or on two under ``(engine, accelerate config)``; the main
    process's result line."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", module]
    if sharded:
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(sharded[1]),
               "--num_processes", "2", "--main_process_port", str(29500 + (os.getpid() + 7) % 2000), "-m", module]
    proc = subprocess.run(cmd + args + ["--device", "cpu", "--no-progress"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if sharded:
        assert f"[dist] 2 processes, {sharded[0]}" in proc.stderr
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))


@pytest.mark.long(seconds=65)
@pytest.mark.parametrize("engine_config", ENGINES, indirect=True)
def test_sft_equals_one_process_and_resumes_anywhere(engine_config, tiny, tmp_path):
    args = ["--model", str(tiny), "--data", str(DEFAULT_CHAT), "--max-examples", "10", "--max-length", "256",
            "--epochs", "2", "--batch-size", "2", "--grad-accum", "3", "--lr", "3e-3", "--log-every", "1",
            "--save-every", "0"]
    one = launch("trainers.sft", args + ["--output", str(tmp_path / "one")], sharded=None)
    two = launch("trainers.sft", args + ["--output", str(tmp_path / "two")], sharded=engine_config)
    assert one["step"] == two["step"] == 4
    assert_same_curve(tmp_path / "one", tmp_path / "two")
    assert_same_curve(tmp_path / "one", tmp_path / "two", key="grad_norm")
    assert_same_weights(one["final_dir"], two["final_dir"])
    # stopped after 2 steps: the checkpoint holds the full model and the optimizer's state by
    # parameter name; resumed under the same engine, and on one process, it ends where one did
    launch("trainers.sft", args + ["--output", str(tmp_path / "part"), "--stop-after-steps", "2"], sharded=engine_config)
    ckpt = tmp_path / "part" / "checkpoints" / "step-00000002"
    assert json.loads((ckpt / "trainer_state.json").read_text())["engine"] == engine_config[0]
    saved = torch.load(ckpt / "optimizer.pt", weights_only=True)
    assert all(isinstance(k, str) for k in saved["state"]) and saved["state"]
    for target in ("part", "part-on-one"):
        if target == "part-on-one":
            import shutil
            shutil.rmtree(tmp_path / "part-on-one", ignore_errors=True)
            (tmp_path / "part-on-one" / "checkpoints").mkdir(parents=True)
            shutil.copytree(ckpt, tmp_path / "part-on-one" / "checkpoints" / ckpt.name)
            shutil.copy(tmp_path / "part" / "metrics.jsonl", tmp_path / "part-on-one" / "metrics.jsonl")
        resumed = launch("trainers.sft", args + ["--output", str(tmp_path / target), "--resume"],
                         sharded=engine_config if target == "part" else None)
        assert resumed["step"] == 4
        assert_same_curve(tmp_path / "one", tmp_path / target)
        assert_same_weights(one["final_dir"], resumed["final_dir"])
    assert [s for s, _ in curve(tmp_path / "part")] == [1, 2, 3, 4]  # the main process alone logged
    # and a one-process checkpoint (positional optimizer state) resumes under the sharded engine
    launch("trainers.sft", args + ["--output", str(tmp_path / "from-one"), "--stop-after-steps", "1"], sharded=None)
    resumed = launch("trainers.sft", args + ["--output", str(tmp_path / "from-one"), "--resume"], sharded=engine_config)
    assert_same_weights(one["final_dir"], resumed["final_dir"])


@pytest.mark.long(seconds=20)
@pytest.mark.parametrize("engine_config", ENGINES, indirect=True)
def test_dpo_equals_one_process(engine_config, tiny, tmp_path):
    # multi-turn pairs would do too; single-turn keeps the launch short. The reference pass, the
    # no-grad trajectory sums and the backward passes all run in lockstep across processes.
    pairs = write_toy_pairs(tmp_path / "pairs.jsonl")
    args = ["--model", str(tiny), "--pairs", str(pairs), "--max-length", "384", "--epochs", "2", "--batch-size", "2",
            "--grad-accum", "3", "--lr", "3e-3", "--log-every", "1", "--save-every", "0"]
    one = launch("trainers.dpo", args + ["--output", str(tmp_path / "one")], sharded=None)
    two = launch("trainers.dpo", args + ["--output", str(tmp_path / "two")], sharded=engine_config)
    assert one["step"] == two["step"] == 4
    assert_same_curve(tmp_path / "one", tmp_path / "two")
    assert_same_curve(tmp_path / "one", tmp_path / "two", key="margin")
    assert abs(one["end_margin"] - two["end_margin"]) < 1e-4 and one["end_margin"] > 0
    assert_same_weights(one["final_dir"], two["final_dir"], atol=2e-4)  # Adam near zero: see the DDP test


def gigpo_args(start: str, extra: list[str]) -> list[str]:
    from crossroads_training import ENV, HISTORY

    return ["--model", start, "--env", ENV, "--history", str(HISTORY), "--max-new-tokens", "12",
            "--iterations", "2", "--tasks-per-iteration", "4", "--group-size", "4", "--lr", "3e-3",
            "--micro-batch", "8", "--mini-batch", "16", "--save-every", "0", "--keyed-sampling", *extra]


@pytest.mark.long(seconds=18)
@pytest.mark.parametrize("engine_config", ENGINES, indirect=True)
def test_gigpo_equals_one_process(engine_config, crossroads_start, tmp_path):
    # each process generates its own 2 task groups (episodes of different lengths: the weights
    # are gathered while generating), the KL reference is a second model sharded like the policy
    args = gigpo_args(crossroads_start["start"], ["--kl-coef", "0.01"])
    one = launch("trainers.gigpo", args + ["--output", str(tmp_path / "one")], sharded=None)
    two = launch("trainers.gigpo", args + ["--output", str(tmp_path / "two")], sharded=engine_config)
    assert one["iterations"] == two["iterations"] == 2
    # the score statistics too: anchor groups counted over both processes, means weighted
    for key in ("success", "reward", "samples", "steps", "loss", "kl", "entropy", "anchor_groups",
                "anchor_group_size", "advantage_abs"):
        assert_same_curve(tmp_path / "one", tmp_path / "two", key=key, tol=1e-4)
    assert_same_weights(one["final_dir"], two["final_dir"], atol=2e-4)


@pytest.mark.long(seconds=20)
@pytest.mark.parametrize("engine_config", ENGINES, indirect=True)
def test_lora_equals_one_process(engine_config, crossroads_start, tmp_path):
    # the reference is the base with the adapter off, on the same sharded model; the output is
    # the adapter. Under FSDP2 on a bfloat16 base: a float32 adapter in bfloat16 layers (units
    # of one dtype each); ZeRO-3 keeps one precision for the whole model (float32 here)
    dtype = ["--dtype", "bfloat16"] if engine_config[0] == "fsdp2" else []
    args = gigpo_args(crossroads_start["start"], ["--kl-coef", "0.01", "--lora-r", "8", "--lora-alpha", "16", *dtype])
    one = launch("trainers.gigpo", args + ["--output", str(tmp_path / "one")], sharded=None)
    two = launch("trainers.gigpo", args + ["--output", str(tmp_path / "two")], sharded=engine_config)
    for key in ("success", "samples", "loss", "kl"):
        assert_same_curve(tmp_path / "one", tmp_path / "two", key=key, tol=1e-3)
    assert (Path(two["final_dir"]) / "adapter_config.json").is_file()
    from safetensors.torch import load_file

    a = load_file(Path(one["final_dir"]) / "adapter_model.safetensors")
    b = load_file(Path(two["final_dir"]) / "adapter_model.safetensors")
    assert a.keys() == b.keys() and a
    diff = torch.cat([(a[k].float() - b[k].float()).abs().flatten() for k in a])
    # bfloat16 matmuls and a different reduction order: Adam turns a float-order difference in a
    # near-zero gradient into up to a step of lr (3e-3) per optimizer step, on a few weights
    assert diff.mean().item() <= 1e-4 and (diff > 1e-3).float().mean().item() <= 0.01
    assert diff.max().item() <= 2 * 3e-3 * 4


@pytest.mark.long(seconds=20)
@pytest.mark.parametrize("engine_config", ENGINES, indirect=True)
def test_ppo_with_its_critic_equals_one_process(engine_config, tiny, tmp_path):
    # the critic is a plain module on every process (under ZeRO-3 it must not be partitioned as
    # it loads), trained on the gathered samples; the policy is sharded; the advantages are
    # whitened over every process's samples, and the statistics weighted by samples
    from crossroads_training import ENV

    args = ["--model", str(tiny), "--env", ENV, "--history", "0", "--max-new-tokens", "12", "--iterations", "2",
            "--tasks-per-iteration", "4", "--group-size", "4", "--lr", "3e-3", "--micro-batch", "8",
            "--mini-batch", "16", "--save-every", "0", "--keyed-sampling", "--whiten"]
    one = launch("trainers.ppo", args + ["--output", str(tmp_path / "one")], sharded=None)
    two = launch("trainers.ppo", args + ["--output", str(tmp_path / "two")], sharded=engine_config)
    assert one["iterations"] == two["iterations"] == 2
    for key in ("samples", "loss", "kl", "value_loss", "value", "advantage_abs"):
        assert_same_curve(tmp_path / "one", tmp_path / "two", key=key, tol=1e-3)
    assert_same_weights(one["final_dir"], two["final_dir"], atol=2e-4)


@pytest.mark.long(seconds=20)
@pytest.mark.parametrize("engine_config", ENGINES, indirect=True)
def test_stepagent_equals_one_process(engine_config, crossroads_start, tmp_path):
    # every process inspects the same expert states (same replies) and takes the same DPO step
    # through the engine; generation runs with the weights gathered
    from crossroads_training import ENV, HISTORY

    args = ["--model", crossroads_start["start"], "--demos", crossroads_start["demos"], "--variant", "implicit",
            "--no-thoughts", "--env", ENV, "--history", str(HISTORY), "--max-new-tokens", "12", "--iterations", "2",
            "--steps-per-iteration", "16", "--lr", "3e-3", "--micro-batch", "8", "--save-every", "0"]
    one = launch("trainers.stepagent", args + ["--output", str(tmp_path / "one")], sharded=None)
    two = launch("trainers.stepagent", args + ["--output", str(tmp_path / "two")], sharded=engine_config)
    assert one["iterations"] == two["iterations"] == 2
    assert [p for _, p in curve(tmp_path / "one", "pairs")] == [p for _, p in curve(tmp_path / "two", "pairs")]
    for key in ("agreement", "dpo_loss", "margin"):
        assert_same_curve(tmp_path / "one", tmp_path / "two", key=key, tol=1e-4)
    assert_same_weights(one["final_dir"], two["final_dir"], atol=2e-4)
