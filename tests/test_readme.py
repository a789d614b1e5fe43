"""The README's Python examples run as written (and those of the docs pages its detail moved
to), and the README's figures agree with the code's own statements of them."""

import re
from pathlib import Path

import pytest

from conftest import SHARED_1K

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# pages whose examples moved there from the README: they run too
PAGES = [README, ROOT / "docs" / "webshop.md", ROOT / "docs" / "toy.md"]


def _blocks(page=README):
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


EXAMPLES = [(page, i) for page in PAGES for i in range(len(_blocks(page)))]


def test_readme_has_examples():
    assert len(_blocks()) >= 1 and len(EXAMPLES) >= 4


@pytest.mark.parametrize("page,index", EXAMPLES, ids=[f"{p.name}-{i}" for p, i in EXAMPLES])
def test_readme_example_runs(page, index, monkeypatch):
    block = _blocks(page)[index]
    if "../shared/webshop-1k" in block:
        if not SHARED_1K.is_dir():
            pytest.skip(f"the example reads the WebShop 1k sample at {SHARED_1K}")
        monkeypatch.chdir(ROOT)  # the examples use paths relative to the repository
    exec(compile(block, f"{page.name} example {index}", "exec"), {})


def test_readme_names_the_suites_ci_runs():
    text = README.read_text()
    assert "make test" in text and "make test-slow" in text and ".ci/run" in text


def test_links_to_docs_pages_resolve():
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(((?:\.\./|docs/)?[\w./-]+\.md)(?:#[\w-]+)?\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links to {target}, which does not exist"


def test_the_rule_baseline_figures_agree_with_the_generator_docstring():
    """synthetic.py states the rule baseline's score on the default catalog: the leaderboard's row."""
    from agent_gym.webshop import synthetic

    stated = re.search(r"it scores ([\d.]+) with ([\d.]+)% success", " ".join(synthetic.__doc__.split()))
    row = re.search(r"\| synthetic 10,000, human goals \| rule \| test \| 500 \| ([\d.]+) \| ([\d.]+) \|",
                    README.read_text())
    assert stated and row and stated.groups() == row.groups()
