"""RayEnvGroup: the envs of a group in Ray actors give what an in-process EnvGroup gives."""

from __future__ import annotations

import hashlib

import pytest

ray = pytest.importorskip("ray")

import agent_gym  # noqa: E402,F401
from agent_gym.core.backends import make_group  # noqa: E402
from agent_gym.core.groups import EnvGroup  # noqa: E402
from agent_gym.core.ray_group import EnvActorError, RayEnvGroup  # noqa: E402

KEYDOOR = "agent_gym/KeyDoor-v0"


@pytest.fixture(scope="module")
def ray_instance():
    started = not ray.is_initialized()
    if started:  # a fresh local instance, never a cluster found on the machine
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def keydoor_groups(ray_instance):
    """6 envs each way; on Ray in actors of 4 and 2 envs (order across actors is tested)."""
    with EnvGroup.make(KEYDOOR, 6, expose_goal=True) as local, \
            RayEnvGroup.make(KEYDOOR, 6, envs_per_actor=4, expose_goal=True) as remote:
        yield local, remote


def test_same_steps_as_envgroup(keydoor_groups):
    local, remote = keydoor_groups
    assert [list(r) for r in remote.actor_envs] == [[0, 1, 2, 3], [4, 5]]
    assert len(remote) == len(local) == 6
    assert remote.num_tasks == local.num_tasks == 48
    assert remote.agent_prompt == local.agent_prompt is not None
    a, b = local.reset([5, 17, 40], group_size=2, seed=3), remote.reset([5, 17, 40], group_size=2, seed=3)
    assert a == b and remote.task_ids == local.task_ids == [5, 5, 17, 17, 40, 40]
    infos, invalid = a[1], 0
    for t in range(12):
        # the expert's action, except some invalid ones and a wrong turn; done envs get None
        actions = [None if local.done[i] else
                   "dance" if (t + i) % 5 == 0 else
                   "go[right]" if (t, i) == (0, 3) else infos[i]["expert_action"] for i in range(6)]
        a, b = local.step(actions), remote.step(actions)
        assert a == b, f"step {t}"
        assert remote.done == local.done and remote.all_done == local.all_done
        infos = a[4]
        invalid += sum(bool(i.get("invalid_action")) for i in infos)
        if local.all_done:
            break
    assert local.all_done and any(i.get("won") for i in infos) and invalid > 0
    assert remote.step([None] * 6) == local.step([None] * 6)  # nothing is stepped
    with pytest.raises(ValueError):
        remote.reset([0, 1], group_size=2)
    with pytest.raises(ValueError):
        remote.step(["go[left]"])


class HashGenerator:
    """A deterministic stand-in for a model: the reply is a function of the prompt."""

    REPLIES = ("Thought: left.\nAction: go[left]", "Thought: right.\nAction: go[right]", "Action: go[back]",
               "Action: go[ahead]", "Action: take[red key]", "Action: take[blue key]", "Action: open[red door]",
               "Action: open[blue door]", "I do not know.", "Action: fly[away]")

    def generate(self, prompts):
        from trainers.core.generation import GenOut

        outs = []
        for messages in prompts:
            digest = hashlib.sha256(repr(messages).encode()).digest()
            text = self.REPLIES[digest[0] % len(self.REPLIES)]
            outs.append(GenOut(text=text, prompt_ids=list(digest[:8]), response_ids=list(digest[8:12]),
                               response_logprobs=[-b / 64 for b in digest[8:12]], finished=digest[12] % 2 == 0))
        return outs


def test_rollout_gives_the_same_episodes(keydoor_groups):
    pytest.importorskip("torch")  # trainers.core needs torch; a broken import of ours must fail
    from trainers.core.rollout import rollout

    local, remote = keydoor_groups
    a = rollout(local, HashGenerator(), [2, 9, 33], group_size=2, seed=0)
    b = rollout(remote, HashGenerator(), [2, 9, 33], group_size=2, seed=0)
    assert a == b
    assert all(e.done for e in a) and sum(len(e.steps) for e in a) > 6
    assert any(s.parse_error for e in a for s in e.steps)
    assert a[0].steps[0].messages[0]["content"].startswith(local.agent_prompt)  # the env's own system prompt


def test_make_group_backends_and_dead_actor(ray_instance):
    with make_group(KEYDOOR, 2) as local:
        assert type(local) is EnvGroup
    with pytest.raises(ValueError, match="'local', 'ray'"):
        make_group(KEYDOOR, 2, backend="dask")
    group = make_group(KEYDOOR, 4, backend="ray")  # default: one actor per CPU Ray reports (2)
    try:
        assert type(group) is RayEnvGroup and [list(r) for r in group.actor_envs] == [[0, 1], [2, 3]]
        group.reset([0, 1], group_size=2)
        with pytest.raises(TypeError):  # the env's own error comes through
            group.step([1, "go[left]", "go[left]", "go[left]"])
        ray.kill(group.actors[1])
        with pytest.raises(EnvActorError, match=r"losing envs 2-3 \(of 0-3\)"):
            group.step(["go[left]"] * 4)
    finally:
        group.close()
    assert group.actors == []
    with pytest.raises(RuntimeError, match="closed"):
        group.reset([0, 1], group_size=2)


def test_webshop_ray_group(ray_instance, small_catalog):
    kwargs = {"catalog": small_catalog, "split": "test", "max_steps": 3}
    with EnvGroup.make("agent_gym/WebShop-v0", 4, **kwargs) as local, \
            RayEnvGroup.make("agent_gym/WebShop-v0", 4, envs_per_actor=4, **kwargs) as remote:  # one actor, one JVM
        a, b = local.reset([1, 6], group_size=2, seed=0), remote.reset([1, 6], group_size=2, seed=0)
        assert a == b
        actions = [f"search[{i['instruction']}]" for i in a[1]]
        actions[1] = "search[red cotton shirt]"
        a, b = local.step(actions), remote.step(actions)
        assert a == b and a[4][0]["page"] == "results"
        # WebShop's own LLM prompt travels from the actor, as the local group gives it
        assert remote.agent_prompt == local.agent_prompt and "shopping" in remote.agent_prompt
        assert remote.num_tasks == local.num_tasks
