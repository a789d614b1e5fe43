"""The online trainers (GiGPO, PPO with its critic, StepAgent with its discriminator) run from
the command line and resume to the same weights."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from crossroads_training import ENV, HISTORY, RL, crossroads_start, success  # noqa: E402,F401
from keydoor_training import same_weights  # noqa: E402
from trainers import gigpo, ppo, stepagent  # noqa: E402

SMALL = dict(RL, iterations=2, tasks_per_iteration=2, group_size=2, lr=1e-3)


def _resumes(module, config_cls, start, tmp_path, **kwargs):
    straight = tmp_path / "straight"
    module.train(config_cls(model=start, output_dir=str(straight), **kwargs))
    split = tmp_path / "split"
    first = module.train(config_cls(model=start, output_dir=str(split), stop_after_iterations=1, **kwargs))
    assert first["stopped"] and first["iterations"] == 1
    module.train(config_cls(model=start, output_dir=str(split), resume=True, **kwargs))
    assert same_weights(straight / "final", split / "final")
    log = [json.loads(line)["step"] for line in (split / "metrics.jsonl").read_text().splitlines()]
    assert log == [1, 2]
    return straight, split


def test_gigpo_resumes_to_the_same_weights(crossroads_start, tmp_path):
    _resumes(gigpo, gigpo.GiGPOConfig, crossroads_start["start"], tmp_path, **SMALL)


def test_ppo_resumes_with_its_critic(crossroads_start, tmp_path):
    import torch

    from trainers.core.value import ValueModel

    straight, split = _resumes(ppo, ppo.PPOConfig, crossroads_start["start"], tmp_path, critic_lr=1e-3, **SMALL)
    a, b = ValueModel.from_pretrained(straight / "final" / "critic"), ValueModel.from_pretrained(split / "final" / "critic")
    assert torch.equal(a.head.weight, b.head.weight) and a.head.weight.abs().sum() > 0  # trained, and equal
    assert all(torch.equal(x, y) for x, y in zip(a.body.parameters(), b.body.parameters()))


def test_stepagent_inverse_resumes_with_its_discriminator(crossroads_start, tmp_path):
    import torch

    from trainers.core.value import ValueModel

    kw = {k: v for k, v in SMALL.items() if k not in ("tasks_per_iteration", "group_size")}
    for form in ("airl", "head"):
        straight, split = _resumes(stepagent, stepagent.StepAgentConfig, crossroads_start["start"], tmp_path / form,
                                   demos=crossroads_start["demos"], variant="inverse", thoughts=False,
                                   discriminator=form, steps_per_iteration=8, disc_lr=1e-3, **kw)
        if form == "airl":  # a causal LM, trained away from the start
            assert same_weights(straight / "final" / "discriminator", split / "final" / "discriminator")
            assert not same_weights(straight / "final" / "discriminator", crossroads_start["start"])
        else:
            a = ValueModel.from_pretrained(straight / "final" / "discriminator")
            b = ValueModel.from_pretrained(split / "final" / "discriminator")
            assert torch.equal(a.head.weight, b.head.weight) and a.head.weight.abs().sum() > 0


@pytest.mark.parametrize("name", ["ppo", "stepagent"])
def test_command_lines(crossroads_start, tmp_path, name):
    import importlib

    module = importlib.import_module(f"trainers.{name}")
    args = ["--model", crossroads_start["start"], "--env", ENV, "--output", str(tmp_path), "--iterations", "1",
            "--history", str(HISTORY), "--max-new-tokens", "12", "--lr", "1e-3", "--device", "cpu", "--no-progress"]
    if name == "stepagent":
        args += ["--demos", crossroads_start["demos"], "--variant", "implicit", "--no-thoughts",
                 "--steps-per-iteration", "8"]
    else:
        args += ["--tasks-per-iteration", "4"]
    assert module.main(args) == 0
    result = json.loads((tmp_path / "final_metrics.json").read_text())
    assert result["iterations"] == 1 and (tmp_path / "final" / "model.safetensors").is_file()
    with pytest.raises(ValueError):
        module.train(module.__dict__[{"ppo": "PPOConfig", "stepagent": "StepAgentConfig"}[name]](
            model=crossroads_start["start"], output_dir=str(tmp_path / "bad"), loss_agg="sum"))


def test_stepagent_refuses_bad_settings(crossroads_start, tmp_path):
    with pytest.raises(ValueError, match="variant"):
        stepagent.StepAgentTrainer(stepagent.StepAgentConfig(model="m", demos="d", variant="gail"))
    with pytest.raises(ValueError, match="demos"):
        stepagent.StepAgentTrainer(stepagent.StepAgentConfig(model="m"))
    with pytest.raises(ValueError, match="discriminator"):
        stepagent.StepAgentTrainer(stepagent.StepAgentConfig(model="m", demos="d", discriminator="mlp"))


def test_gigpo_refuses_an_unknown_baseline():
    with pytest.raises(ValueError, match="baseline"):
        gigpo.GiGPOTrainer(gigpo.GiGPOConfig(model="m", baseline="vtrace"))


def test_rloo_runs(crossroads_start, tmp_path):
    result = gigpo.train(gigpo.GiGPOConfig(model=crossroads_start["start"], output_dir=str(tmp_path), omega=0.0,
                                           baseline="rloo", **{**SMALL, "iterations": 1}))
    assert result["iterations"] == 1 and result["last"]["samples"] > 0
