"""trainers.sft on the tiny model: runs from Python and the command line, learns, resumes exactly;
trainers.core.checkpoint and trainers.core.metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from trainers.core.checkpoint import latest_checkpoint, list_checkpoints  # noqa: E402
from trainers.core.metrics import MetricsLogger, read_metrics  # noqa: E402
from trainers.core.tiny import DEFAULT_CHAT, build_tiny_model_and_tokenizer  # noqa: E402
from trainers.sft import SFTConfig, config_from_args, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    return build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))


def small_config(model, out, **kw) -> SFTConfig:
    base = dict(model=str(model), data=str(DEFAULT_CHAT), output_dir=str(out), max_examples=16, max_length=512,
                epochs=3, lr=3e-3, batch_size=4, grad_accum=2, warmup_ratio=0.1, log_every=1, save_every=0,
                device="cpu", progress=False)
    return SFTConfig(**{**base, **kw})


def weights(path):
    model = transformers.AutoModelForCausalLM.from_pretrained(path)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_loss_decreases_and_metrics_are_logged(tiny_path, tmp_path):
    result = train(small_config(tiny_path, tmp_path / "run", epochs=6, save_every=5))
    records = read_metrics(tmp_path / "run")
    assert [r["step"] for r in records] == list(range(1, 13)) and result["step"] == result["total_steps"] == 12
    assert all({"loss", "lr", "grad_norm", "epoch", "tokens"} <= set(r) for r in records)
    first_epoch = sum(r["loss"] for r in records[:2]) / 2
    assert result["epoch_loss"] < 0.8 * first_epoch, (first_epoch, result)
    assert Path(result["final_dir"], "model.safetensors").is_file()
    assert transformers.AutoTokenizer.from_pretrained(result["final_dir"]).chat_template
    # checkpoints at steps 5, 10 and 12, of which keep_last=2 remain
    assert [p.name for p in list_checkpoints(tmp_path / "run" / "checkpoints")] == ["step-00000010", "step-00000012"]
    assert json.loads((tmp_path / "run" / "final_metrics.json").read_text())["step"] == 12


def test_interrupted_then_resumed_equals_uninterrupted(tiny_path, tmp_path):
    full = train(small_config(tiny_path, tmp_path / "full"))
    part = train(small_config(tiny_path, tmp_path / "part", stop_after_steps=2))
    assert part["step"] == 2 and part["final_dir"] is None
    assert latest_checkpoint(tmp_path / "part" / "checkpoints").name == "step-00000002"
    # the resumed job does not need the original model path: everything comes from the checkpoint
    resumed = train(small_config("", tmp_path / "part", resume=True))
    assert resumed["step"] == full["step"] == 6
    losses = lambda d: [(r["step"], r["loss"]) for r in read_metrics(d)]  # noqa: E731
    a, b = losses(tmp_path / "full"), losses(tmp_path / "part")
    assert [s for s, _ in a] == [s for s, _ in b] == list(range(1, 7))
    assert all(abs(x - y) <= 1e-6 for (_, x), (_, y) in zip(a, b))
    wa, wb = weights(full["final_dir"]), weights(resumed["final_dir"])
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6, rtol=0) for k in wa)


def test_command_line_with_config_file(tiny_path, tmp_path):
    cfg = tmp_path / "sft.json"
    cfg.write_text(json.dumps({"max_examples": 8, "max_length": 256, "epochs": 1, "batch_size": 4, "grad_accum": 1,
                               "lr": 1e-3, "log_every": 1, "device": "cpu"}))
    out = tmp_path / "cli"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "trainers.sft", "--config", str(cfg), "--model", str(tiny_path),
                           "--data", str(DEFAULT_CHAT), "--output", str(out), "--epochs", "2", "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["step"] == 4 and Path(result["final_dir"]).is_dir()  # 8 examples / 4 per step * 2 epochs
    assert [r["step"] for r in read_metrics(out)] == [1, 2, 3, 4]
    assert "loss=" in proc.stderr


def test_config_from_args_overrides_file_and_parses_types(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"lr": 0.5, "epochs": 7, "resume": True}))
    c = config_from_args(["--config", str(cfg), "--epochs", "2", "--grad-accum", "3", "--no-resume",
                          "--output", "x", "--warmup_ratio", "0.2"])
    assert (c.lr, c.epochs, c.grad_accum, c.resume, c.output_dir, c.warmup_ratio) == (0.5, 2, 3, False, "x", 0.2)
    assert config_from_args([]) == SFTConfig()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"learning_rate": 1}))
    with pytest.raises(SystemExit, match="learning_rate"):
        config_from_args(["--config", str(bad)])


def test_metrics_logger_jsonl_console_and_missing_backends(tmp_path, capsys):
    import importlib.util
    logger = MetricsLogger(tmp_path, tensorboard=True, wandb=True)
    logger.log(1, {"loss": 1.5, "lr": torch.tensor(2e-5)})
    logger.log(2, {"loss": 1.25})
    logger.log(3, {"loss": 1.0})
    logger.truncate_after(2)
    logger.close()
    assert [(r["step"], r["loss"]) for r in read_metrics(tmp_path)] == [(1, 1.5), (2, 1.25)]
    assert read_metrics(tmp_path)[0]["lr"] == pytest.approx(2e-5)
    captured = capsys.readouterr()
    assert "step=1 loss=1.5000 lr=2.000e-05" in captured.out
    if importlib.util.find_spec("tensorboard") is None:
        assert "tensorboard" in captured.err and "not installed" in captured.err
    if importlib.util.find_spec("wandb") is None:
        assert "wandb" in captured.err
