"""The search layer: Lucene index building and BM25 search, checked against the original."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from agent_gym.core import lucene
from agent_gym.webshop.product import Product, parse_options, search_document
from agent_gym.core.search import SearchEngine

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "webshop-1k"
needs_sample = pytest.mark.skipif(
    not (SAMPLE / "items_shuffle_1000.json").is_file(),
    reason=f"the WebShop 1k sample is not at {SAMPLE} (reference data kept outside the repo)",
)


def sample_products() -> list[Product]:
    """Products of the raw 1k sample, with just the fields the search document reads."""
    products = []
    for item in json.loads((SAMPLE / "items_shuffle_1000.json").read_text()):
        small = item.get("small_description")
        options, images = parse_options(item.get("customization_options"))
        products.append(
            Product(
                asin=item["asin"],
                title=item["name"],
                description=item.get("full_description") or "",
                bullet_points=tuple(small if isinstance(small, list) else [small]),
                options=options,
                option_images=images,
            )
        )
    return products


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory) -> Path:
    if not (SAMPLE / "items_shuffle_1000.json").is_file():
        pytest.skip(f"the WebShop 1k sample is not at {SAMPLE}")
    index_dir = tmp_path_factory.mktemp("webshop1k") / "index"
    docs = ((p.asin, search_document(p)) for p in sample_products())
    return lucene.build_index(docs, index_dir, progress=False)


@pytest.fixture(scope="module")
def engine(sample_index) -> SearchEngine:
    with SearchEngine(sample_index) as engine:
        yield engine


# --------------------------------------------------------------------------- the original's ranking


@needs_sample
def test_top50_equals_the_original_on_every_reference_query(engine):
    cases = json.loads((SAMPLE / "reference" / "search_cases.json").read_text())
    assert len(cases) == 40
    assert engine.num_docs == 1000
    mismatches = []
    for case in cases:
        got = engine.search(case["query"], k=50)
        if got != case["top50"]:
            first = next((i for i, (a, b) in enumerate(zip(got, case["top50"])) if a != b), None)
            mismatches.append((case["query"], len(got), len(case["top50"]), first))
    assert not mismatches, mismatches


@needs_sample
def test_query_join_normalisation_is_the_identity(engine):
    # The original's ' '.join(q.split(' ')) leaves every string as it was.
    for query in ["a  b", " lead", "trail ", "x\ty", "", "   "]:
        assert " ".join(query.split(" ")) == query
    assert engine.search("womens  shoes") == engine.search("womens shoes")


# --------------------------------------------------------------------------- robustness

HOSTILE = [
    "", " ", "   ", "\t\n", "\\", '"', '"unclosed phrase', "AND", "OR", "NOT", "a AND b OR c NOT d",
    "title:shoe", ":", "*", "sho*", "?", "(", ")", "((shoe)", "~", "shoe~2", "^", "shoe^10", "/",
    "/regex/", "[a TO z]", "{", "}", "!", "-", "+", "&&", "||", "<>", "\x00", "shoe\x00red",
    "\ud800", "shoe \udfff red", "\udbff\udfff", "😀 shoes", "ｓｈｏｅ", "the of and a", "é", "∑∂",
    "x" * 100_000, "shoe " * 20_000, " ".join(f"w{i}" for i in range(3_000)),
    " ".join(f"w{i}" for i in range(70_000)), "a:b:c\\:d \"e\" f* (g OR h)^2 ~i /j/ [k TO l] {m}",
]


@needs_sample
@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q[:20]))
def test_hostile_queries_never_raise(engine, query):
    hits = engine.search(query, k=50)
    assert isinstance(hits, list) and len(hits) <= 50
    assert all(isinstance(h, str) for h in hits)


@needs_sample
def test_queries_over_1024_terms_still_rank(engine):
    # The original (Lucene's default of 1,024 clauses) raised on these.
    garbage = " ".join(f"qqzz{i}" for i in range(3_000))  # terms in no document
    assert engine.search(garbage) == []
    assert engine.search(garbage + " shoe", k=10) == engine.search("shoe", k=10) != []


@needs_sample
def test_k_edges(engine):
    assert engine.search("shoe", k=0) == []
    assert engine.search("shoe", k=-3) == []
    assert engine.search("shoe", k=3) == engine.search("shoe", k=50)[:3]
    assert len(engine.search("the shoe red blue black white", k=10**9)) <= engine.num_docs
    with pytest.raises(TypeError):
        engine.search(None)  # type: ignore[arg-type]


@needs_sample
def test_cache_returns_fresh_equal_lists(sample_index):
    with SearchEngine(sample_index, cache_size=2) as cached, SearchEngine(sample_index, cache_size=0) as plain:
        first = cached.search("red dress")
        first.append("MUTATED")
        assert cached.search("red dress") == plain.search("red dress")
        for q in ["a", "b", "c", "red dress"]:
            assert cached.search(q) == plain.search(q)
        assert len(cached._cache) == 2


@needs_sample
def test_closed_engine_raises(sample_index):
    engine = SearchEngine(sample_index)
    engine.close()
    engine.close()
    with pytest.raises(RuntimeError):
        engine.search("shoe")


def _search_in_child(engine, queue):
    try:
        engine.search("shoe")
        queue.put("no error")
    except RuntimeError as e:
        queue.put("RuntimeError" if "fork" in str(e) else f"other: {e}")


@needs_sample
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_gets_an_error_not_a_hang(engine):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_search_in_child, args=(engine, queue))
    child.start()
    child.join(30)
    if child.is_alive():
        child.kill()
        pytest.fail("search in a forked child hung")
    assert queue.get(timeout=5) == "RuntimeError"


# --------------------------------------------------------------------------- building


TINY = [
    ("D1", "a wooden garden bench for two"),
    ("D2", "red running shoes for women, lightweight running shoes with red laces"),
    ("D3", "a blue ceramic coffee mug"),
]


def test_tiny_index_ranks_the_obvious_document_first(tmp_path):
    index_dir = lucene.build_index(iter(TINY), tmp_path / "tiny", threads=2, progress=False)
    with SearchEngine(index_dir) as engine:
        assert engine.num_docs == 3
        assert engine.search("red running shoes")[0] == "D2"
        assert engine.search("coffee mug") == ["D3"]
        assert engine.search("bench") == ["D1"]
        assert engine.search("zebra") == []


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".building-" in p.name)


def test_failed_builds_leave_no_half_index(tmp_path):
    target = tmp_path / "index"

    def exploding():
        yield from TINY
        raise OSError("catalog read failed")

    with pytest.raises(OSError, match="catalog read failed"):
        lucene.build_index(exploding(), target, progress=False)
    assert not target.exists() and _leftovers(tmp_path) == []

    with pytest.raises(ValueError):
        lucene.build_index([("D1", "ok"), ("", "no id")], target, progress=False)
    assert not target.exists() and _leftovers(tmp_path) == []

    # A Java-side failure (Anserini exits 0 on a bad option: the counters catch it).
    with pytest.raises(lucene.IndexBuildError, match="not a valid option"):
        lucene.build_index(iter(TINY), target, progress=False, extra_args=["-no-such-option"])
    assert not target.exists() and _leftovers(tmp_path) == []


def test_rebuild_replaces_only_on_success(tmp_path):
    target = lucene.build_index(iter(TINY), tmp_path / "index", progress=False)
    with SearchEngine(target) as engine:
        assert engine.search("coffee mug") == ["D3"]

    with pytest.raises(lucene.IndexBuildError):
        lucene.build_index([("N1", "coffee mug deluxe")], target, progress=False, extra_args=["-bogus"])
    assert _leftovers(tmp_path) == []
    with SearchEngine(target) as engine:  # the previous index, intact
        assert engine.num_docs == 3 and engine.search("coffee mug") == ["D3"]

    lucene.build_index([("N1", "coffee mug deluxe")], target, progress=False)
    assert _leftovers(tmp_path) == []
    with SearchEngine(target) as engine:
        assert engine.num_docs == 1 and engine.search("coffee mug") == ["N1"]


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        SearchEngine(tmp_path / "nowhere")


# --------------------------------------------------------------------------- plumbing


def test_plumbing(monkeypatch):
    assert lucene.anserini_jar().is_file()
    assert (lucene.java_home() / "bin").is_dir() and lucene.java_executable().is_file()
    assert lucene.start_jvm() is lucene.start_jvm()
    monkeypatch.setenv(lucene.HEAP_ENV, "2g")
    assert "-Xmx2g" in lucene.jvm_options()
    monkeypatch.setenv(lucene.HEAP_ENV, "lots")
    with pytest.raises(ValueError):
        lucene.java_heap()


def test_empty_documents_are_skipped_like_the_original(tmp_path):
    index_dir = lucene.build_index([("A", "red shoe"), ("B", ""), ("C", "  ")], tmp_path / "ix", progress=False)
    with SearchEngine(index_dir) as engine:
        assert engine.num_docs == 1 and engine.search("shoe") == ["A"]


def test_missing_jar_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(lucene.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(lucene.LuceneUnavailableError, match="pip install --no-deps pyserini"):
        lucene.anserini_jar()
