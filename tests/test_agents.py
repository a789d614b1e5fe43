import pytest

from agent_gym.agents import PerSlotAgents, as_batch_agent, load_agent


class Echo:
    name = "echo"

    def __init__(self, word="x"):
        self.word = word

    def reset(self, instruction, info):
        self.n = 0

    def act(self, observation, info):
        self.n += 1
        return f"search[{self.word}{self.n}]"


def make_echo():
    return Echo("f")


ECHO = Echo("i")


class Batch:
    name = "batch"

    def reset(self, slot, instruction, info):
        pass

    def act_batch(self, slots, observations, infos):
        return [f"click[{s}]" for s in slots]


def test_load_by_name_and_by_module_object():
    assert load_agent("rule").name == "rule"
    a = load_agent("tests.test_agents:Echo", word="w")
    assert isinstance(a, PerSlotAgents)
    a.reset(0, "i", {})
    a.reset(1, "i", {})
    assert a.act_batch([0, 1, 0], ["o"] * 3, [{}] * 3) == ["search[w1]", "search[w1]", "search[w2]"]
    f = load_agent("tests.test_agents:make_echo")
    f.reset(3, "i", {})
    assert f.act_batch([3], ["o"], [{}]) == ["search[f1]"]
    inst = load_agent("tests.test_agents:ECHO")  # an instance is copied per slot
    inst.reset(0, "i", {})
    inst.reset(1, "i", {})
    assert inst.act_batch([0, 1], ["o", "o"], [{}, {}]) == ["search[i1]", "search[i1]"]
    b = load_agent("tests.test_agents:Batch")
    assert type(b).__name__ == "Batch" and b.act_batch([4], ["o"], [{}]) == ["click[4]"]


def test_bad_agent_specs_are_clear():
    with pytest.raises(ValueError, match="unknown agent"):
        load_agent("nope")
    with pytest.raises(ValueError, match="cannot import"):
        load_agent("no_such_module_xyz:Agent")
    with pytest.raises(ValueError, match="has no"):
        load_agent("tests.test_agents:Missing")
    with pytest.raises(ValueError, match="takes no options"):
        load_agent("tests.test_agents:ECHO", word="z")
    with pytest.raises(TypeError):
        as_batch_agent(42)
