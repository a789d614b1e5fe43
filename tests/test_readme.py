"""The README's Python examples run as written."""

import re
from pathlib import Path

import pytest

from conftest import SHARED_1K

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_examples():
    assert len(_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_example_runs(index, monkeypatch):
    block = _blocks()[index]
    if "../shared/webshop-1k" in block:
        if not SHARED_1K.is_dir():
            pytest.skip(f"the example reads the WebShop 1k sample at {SHARED_1K}")
        monkeypatch.chdir(README.parent)  # the examples use paths relative to the repository
    exec(compile(block, f"README.md example {index}", "exec"), {})
