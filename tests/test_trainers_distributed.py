"""Two processes on gloo give what one process gives: ``accelerate launch --multi_gpu
--num_processes 2 -m trainers.X ... --device cpu`` against ``python -m trainers.X`` with the same
global batch, for SFT, DPO and GiGPO (loss curve and final weights within float tolerance), and
a 2-process SFT run stopped and resumed on 2 processes (or on 1), or killed (SIGKILL to the
launcher's process group) after its second checkpoint and resumed, ends with the same weights.

Slow (each launch starts two Python processes that import torch and transformers): ``make
test-slow``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from crossroads_training import crossroads_start  # noqa: E402,F401
from trainers.core.metrics import read_metrics  # noqa: E402
from trainers.core.tiny import DEFAULT_CHAT, build_tiny_model_and_tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def launch(module: str, args: list[str], processes: int, timeout: int = 300) -> dict:
    """Run ``module`` in one process or under ``accelerate launch`` with ``processes``; returns
    the result JSON line of the main process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    if processes == 1:
        cmd = [sys.executable, "-m", module]
    else:
        port = str(29500 + (os.getpid() % 2000))
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
               str(processes), "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "--main_process_port", port, "-m", module]
    proc = subprocess.run(cmd + args + ["--device", "cpu", "--no-progress"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


def state(folder) -> dict:
    import transformers

    return transformers.AutoModelForCausalLM.from_pretrained(folder).state_dict()


def assert_same_weights(a, b, atol=2e-5):
    sa, sb = state(a), state(b)
    assert sa.keys() == sb.keys()
    worst = max((sa[k] - sb[k]).abs().max().item() for k in sa)
    assert worst <= atol, worst


def curve(folder, key="loss"):
    return [(r["step"], r[key]) for r in read_metrics(folder)]


def assert_same_curve(a, b, key="loss", tol=1e-5):
    ca, cb = curve(a, key), curve(b, key)
    assert [s for s, _ in ca] == [s for s, _ in cb] and ca
    assert all(abs(x - y) <= tol * max(1.0, abs(x)) for (_, x), (_, y) in zip(ca, cb)), (ca, cb)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))


@pytest.mark.long(seconds=75)
def test_sft_on_two_processes_equals_one_and_resumes(tiny, tmp_path):
    # 10 examples, 6 per step: the second step of each epoch has 4, the last micro-batch is short
    args = ["--model", str(tiny), "--data", str(DEFAULT_CHAT), "--max-examples", "10", "--max-length", "256",
            "--epochs", "2", "--batch-size", "2", "--grad-accum", "3", "--lr", "3e-3", "--log-every", "1",
            "--save-every", "0"]
    one = launch("trainers.sft", args + ["--output", str(tmp_path / "one")], 1)
    two = launch("trainers.sft", args + ["--output", str(tmp_path / "two")], 2)
    assert one["step"] == two["step"] == 4 and abs(one["loss"] - two["loss"]) < 1e-5
    assert_same_curve(tmp_path / "one", tmp_path / "two")
    assert_same_weights(one["final_dir"], two["final_dir"])
    part = launch("trainers.sft", args + ["--output", str(tmp_path / "part"), "--stop-after-steps", "1"], 2)
    assert part["step"] == 1 and part["final_dir"] is None
    resumed = launch("trainers.sft", args + ["--output", str(tmp_path / "part"), "--resume"], 2)
    assert resumed["step"] == 4
    assert_same_curve(tmp_path / "one", tmp_path / "part")
    assert_same_weights(one["final_dir"], resumed["final_dir"])
    # only the main process wrote: one metrics line per step, no stray temporary folders
    assert [s for s, _ in curve(tmp_path / "part")] == [1, 2, 3, 4]
    assert not list((tmp_path / "part" / "checkpoints").glob(".tmp-*"))
    # a checkpoint holds the full state and the data order depends on the seed only: a run
    # stopped on 2 processes resumes on 1 to the same weights
    launch("trainers.sft", args + ["--output", str(tmp_path / "other"), "--stop-after-steps", "2"], 2)
    on_one = launch("trainers.sft", args + ["--output", str(tmp_path / "other"), "--resume"], 1)
    assert_same_curve(tmp_path / "one", tmp_path / "other")
    assert_same_weights(one["final_dir"], on_one["final_dir"])


def write_toy_pairs(path: Path, n: int = 10) -> Path:
    """Single-turn pairs from the demo conversations: chosen = the expert's first reply,
    rejected = the first reply of another conversation."""
    convs = [json.loads(line)["messages"] for line in DEFAULT_CHAT.read_text().splitlines()[:n + 1]]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            k = next(j for j, m in enumerate(convs[i]) if m["role"] == "assistant")
            other = next(m for m in convs[i + 1] if m["role"] == "assistant")
            f.write(json.dumps({"task_id": i, "chosen": [{"prompt": convs[i][:k], "response": convs[i][k]["content"]}],
                                "rejected": [{"prompt": convs[i][:k], "response": other["content"]}]}) + "\n")
    return path


@pytest.mark.long(seconds=30)
def test_dpo_on_two_processes_equals_one(tiny, tmp_path):
    pairs = write_toy_pairs(tmp_path / "pairs.jsonl")
    args = ["--model", str(tiny), "--pairs", str(pairs), "--max-length", "384", "--epochs", "2", "--batch-size", "2",
            "--grad-accum", "3", "--lr", "3e-3", "--log-every", "1", "--save-every", "0"]
    one = launch("trainers.dpo", args + ["--output", str(tmp_path / "one")], 1)
    two = launch("trainers.dpo", args + ["--output", str(tmp_path / "two")], 2)
    assert one["step"] == two["step"] == 4
    assert_same_curve(tmp_path / "one", tmp_path / "two")
    assert_same_curve(tmp_path / "one", tmp_path / "two", key="margin")
    assert abs(one["end_margin"] - two["end_margin"]) < 1e-4 and one["end_margin"] > 0
    # Adam divides by the gradient's running RMS: a float-order difference in a near-zero
    # gradient moves a weight by up to a few % of one step (lr 3e-3), hence the looser bound
    assert_same_weights(one["final_dir"], two["final_dir"], atol=2e-4)


@pytest.mark.long(seconds=30)
def test_gigpo_on_two_processes_equals_one(crossroads_start, tmp_path):
    from crossroads_training import ENV, HISTORY

    # 4 task groups of 4 trajectories: each process rolls out 2 whole groups; both runs sample
    # with per-trajectory keys (--keyed-sampling; on by itself with 2 processes)
    args = ["--model", crossroads_start["start"], "--env", ENV, "--history", str(HISTORY), "--max-new-tokens", "12",
            "--iterations", "2", "--tasks-per-iteration", "4", "--group-size", "4", "--lr", "3e-3",
            "--micro-batch", "8", "--mini-batch", "16", "--kl-coef", "0.01", "--save-every", "0", "--keyed-sampling"]
    one = launch("trainers.gigpo", args + ["--output", str(tmp_path / "one")], 1)
    two = launch("trainers.gigpo", args + ["--output", str(tmp_path / "two")], 2)
    assert one["iterations"] == two["iterations"] == 2
    for key in ("success", "reward", "samples", "loss", "kl", "entropy"):
        assert_same_curve(tmp_path / "one", tmp_path / "two", key=key, tol=1e-4)
    assert_same_weights(one["final_dir"], two["final_dir"], atol=2e-4)



@pytest.mark.long(seconds=48)
def test_sft_killed_on_two_processes_resumes_to_the_same_weights(tiny, tmp_path):
    import signal
    import time

    args = ["--model", str(tiny), "--data", str(DEFAULT_CHAT), "--max-examples", "48", "--max-length", "256",
            "--epochs", "2", "--batch-size", "4", "--grad-accum", "4", "--lr", "3e-3", "--log-every", "1",
            "--save-every", "1", "--keep-last", "0", "--device", "cpu", "--no-progress"]
    straight = launch("trainers.sft", args + ["--output", str(tmp_path / "straight")], 2)
    out = tmp_path / "killed"
    port = str(29500 + (os.getpid() + 1) % 2000)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                             "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                             "--main_process_port", port, "-m", "trainers.sft", *args, "--output", str(out)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 240
        while not (out / "checkpoints" / "step-00000002" / "trainer_state.json").is_file():
            assert proc.poll() is None and time.time() < deadline, "the run ended before its second checkpoint"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both processes, wherever they are
        proc.wait()
    assert not (out / "final").exists()  # killed before the end (6 steps)
    resumed = launch("trainers.sft", args + ["--output", str(out), "--resume"], 2)
    assert resumed["step"] == straight["step"] == 6
    assert_same_weights(straight["final_dir"], resumed["final_dir"])
    assert not list((out / "checkpoints").glob(".tmp-*"))  # a save cut by the kill is cleaned up
