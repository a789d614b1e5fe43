"""Rules the test suite keeps about itself (read statically: nothing here imports a test)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = ("agent_gym", "trainers", "baselines")


def _skips_on_own_modules(source: str) -> list[str]:
    """``importorskip`` calls on the project's own modules: a broken import would pass as a skip."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "importorskip" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and node.args[0].value.split(".")[0] in OWN):
            found.append(f"line {node.lineno}: importorskip({node.args[0].value!r})")
    return found


def test_the_rule_catches_an_own_module_skip_and_allows_a_third_party_one():
    assert _skips_on_own_modules('pytest.importorskip("agent_gym.webshop.goals")') == [
        "line 1: importorskip('agent_gym.webshop.goals')"]
    assert _skips_on_own_modules('x = pytest.importorskip("trainers.core")') != []
    assert _skips_on_own_modules('pytest.importorskip("torch"); pytest.importorskip("textworld")') == []


def test_no_test_skips_when_the_project_fails_to_import():
    found = {path.name: hits for path in sorted((ROOT / "tests").glob("*.py"))
             if (hits := _skips_on_own_modules(path.read_text(encoding="utf-8")))}
    assert found == {}, f"import the project's own modules plainly (a failed import must fail): {found}"


def test_ci_runs_the_slow_checks():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^test-slow:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert target and "-m slow" in target.group(1)
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert "make test" in ci and "make test-slow" in ci
    assert ci.index("make test") < ci.index("make test-slow")
