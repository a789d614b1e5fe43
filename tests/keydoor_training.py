"""What the trainer learning tests share: KeyDoor expert demos, a tiny model, one SFT run.

Built once per test session, also when pytest-xdist runs the two learning files on two
workers: the first worker to ask builds them under a file lock in the session's shared temp
folder; the other waits and reads them (``once``).
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest

ENV = "agent_gym/KeyDoor-v0"
HISTORY = 0  # KeyDoor is fully observable from the instruction and the current observation
COMMON = dict(device="cpu", progress=False, history=HISTORY)
WEAK_STEP = 36  # 3 epochs of the 12 of the SFT run (12 optimizer steps an epoch)


def success(model_dir, split: str = "test", mark: str | None = None) -> float:
    from trainers.core.generation import HFGenerator
    from trainers.core.policy import Policy
    from trainers.core.rollout import evaluate_policy

    gen = HFGenerator(Policy.load(model_dir, device="cpu"), max_new_tokens=32, do_sample=False)
    return evaluate_policy(gen, ENV, split=split, history=HISTORY, mark=mark)["success"]


def same_weights(a, b) -> bool:
    """Whether two saved models have bit-identical weights."""
    import torch
    import transformers

    a = transformers.AutoModelForCausalLM.from_pretrained(a).state_dict()
    b = transformers.AutoModelForCausalLM.from_pretrained(b).state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def once(tmp_path_factory, name: str, build):
    """``build(folder)`` run once per session (across xdist workers); returns its JSON result."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if base.name.startswith("popen-gw") else base
    folder, done = root / f"shared-{name}", root / f"shared-{name}.json"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            done.write_text(json.dumps(build(folder)))
    return json.loads(done.read_text())


def _build_demos(folder: Path) -> str:
    from agent_gym.eval.runner import EvalConfig, evaluate

    evaluate(EvalConfig(env_id=ENV, agent="expert", split="train", output=str(folder), progress=False))
    return str(folder / "trajectories.jsonl")


def _build_sft(folder: Path) -> dict:
    """A tiny model and tokenizer trained on the demos' prompts, then 12 epochs of SFT."""
    from agent_gym.core.trajectory import read_trajectories
    from trainers import nat, sft
    from trainers.core.data import flatten, trajectory_to_samples
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    demos = _build_demos(folder / "demos")
    texts = ["system", "user", "assistant", nat.POSITIVE, nat.NEGATIVE]
    for t in flatten(trajectory_to_samples(r, history=HISTORY) for r in read_trajectories(demos)):
        texts += [m["content"] for m in t.messages] + [t.response]
    tiny = build_tiny_model_and_tokenizer(folder / "tiny", texts=texts, vocab_size=1000, hidden=64, layers=2)
    result = sft.train(sft.SFTConfig(model=str(tiny), data=demos, output_dir=str(folder / "sft"), epochs=12, lr=1e-2,
                                     batch_size=16, grad_accum=1, save_every=WEAK_STEP, keep_last=0, log_every=100,
                                     **COMMON))
    weak = Path(result["final_dir"]).parent / "checkpoints" / f"step-{WEAK_STEP:08d}"
    return {"demos": demos, "tiny": str(tiny), "sft": result, "weak": str(weak),
            "weak_success": success(weak, "train")}


@pytest.fixture(scope="session")
def keydoor_run(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return once(tmp_path_factory, "keydoor-sft", _build_sft)


@pytest.fixture(scope="session")
def demos(keydoor_run):
    """The expert's 36 training episodes, recorded by the evaluation harness."""
    return Path(keydoor_run["demos"])


@pytest.fixture(scope="session")
def weak(keydoor_run):
    """The SFT run's checkpoint after 3 of its 12 epochs: the starting point of the other trainers."""
    return Path(keydoor_run["weak"]), keydoor_run["weak_success"]
