import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from agent_gym.webshop import Catalog, CatalogError
from agent_gym.webshop.goals import shuffled_positions, split_of
from agent_gym.webshop.jsonstream import JSONDataError, iter_json_array
from agent_gym.webshop.original import OriginalFiles
from agent_gym.webshop.product import parse_options, parse_pricing, search_document


def test_original_processing(sample_dir, sample_catalog):
    raw = {p["asin"]: p for p in json.loads((sample_dir / "items_shuffle_1000.json").read_text())}
    attrs = json.loads((sample_dir / "items_ins_v2_1000.json").read_text())
    assert len(sample_catalog) == len(raw) == 1000
    for asin in list(raw)[:200]:
        p, r = sample_catalog.get(asin), raw[asin]
        assert p.title == r["name"]  # case kept
        assert p.query == r["query"].lower().strip()
        assert list(p.attributes) == (attrs.get(asin, {}).get("attributes") or ["DUMMY_ATTR"])
        for name, values in p.options.items():
            assert name == name.lower()
            assert all(v == v.lower() and "/" not in v for v in values)
        if len(p.pricing) == 2:
            assert p.pricing[0] <= p.price <= p.pricing[1]
        else:
            assert p.price == p.pricing[0]
        assert p.title_nouns, asin


def test_price_and_option_parsing():
    assert parse_pricing("$12.5 - $20") == ((12.5, 20.0), "$12.5 to $20.0")
    assert parse_pricing("$1,299.99") == ((1299.99,), "$1299.99")
    assert parse_pricing("") == ((100.0,), "$100.0")
    opts, images = parse_options({"Color": [{"value": " Black/White ", "image": "u"}], "Size": None})
    assert opts == {"color": ["black | white"]} and images == {"black | white": "u"}


def test_goal_counts_and_splits_match_the_original(sample_catalog):
    # 6,910 synthetic goals on this sample (README of the sample), in the seed-233 order
    assert sample_catalog.num_goals("synthetic") == 6910
    sizes = {s: sample_catalog.num_goals("synthetic", s) for s in ("test", "eval", "train")}
    assert sizes == {"test": 500, "eval": 1000, "train": 5410}
    first = sample_catalog.goal("synthetic", "test", 0)
    assert first["goal_index"] == 0 and isinstance(first["goal_options"], dict)
    assert sample_catalog.goal("synthetic", "eval", 0)["goal_index"] == 500
    # human goals keep their index in the original's full list (human_goals.json)
    order = json.loads(Path(sample_catalog.meta["files"][3]).read_text())
    human = list(sample_catalog.goals("human"))
    assert len(human) == 13
    for goal in human:
        i = goal["goal_index"]
        assert i < len(order), goal["instruction_text"]  # every sample goal is in the original list
        text = goal["instruction_text"].split(", and price lower than")[0].replace("'", "")
        assert text == order[i]
    # on this sample, the original's goal 1195 is the only one in the eval split
    assert [g["goal_index"] for g in sample_catalog.goals("human", "eval")] == [1195]


def test_shuffle_is_the_originals():
    import random

    goals = list(range(100))
    random.seed(233)
    random.shuffle(goals)
    assert shuffled_positions(100) == goals


def test_goal_texts_are_seeded(sample_dir, tmp_path):
    # three builds of the sample's first 150 products (the goal texts do not depend on the rest)
    folder = tmp_path / "sample-150"
    folder.mkdir()
    items = json.loads((sample_dir / "items_shuffle_1000.json").read_text())[:150]
    (folder / "items_shuffle_150.json").write_text(json.dumps(items))
    shutil.copy(sample_dir / "items_ins_v2_1000.json", folder)
    a = Catalog.from_folder(folder, cache_dir=tmp_path / "a", progress=False)
    b = Catalog.from_folder(folder, cache_dir=tmp_path / "b", progress=False)
    ga = [g["instruction_text"] for g in a.goals("synthetic", "test")]
    assert ga and ga == [g["instruction_text"] for g in b.goals("synthetic", "test")]
    c = Catalog.from_folder(folder, seed=1, cache_dir=tmp_path / "c", progress=False)
    assert ga != [g["instruction_text"] for g in c.goals("synthetic", "test")]


def test_search_document_is_the_originals(sample_catalog):
    p = next(p for p in sample_catalog.products() if p.options)
    doc = search_document(p)
    assert doc == doc.lower() and p.title.lower() in doc
    name = next(iter(p.options))
    assert f"{name}: {', '.join(p.options[name])}" in doc


def test_products_stream_in_file_order(sample_dir, sample_catalog):
    raw = json.loads((sample_dir / "items_shuffle_1000.json").read_text())
    assert [p.asin for p in sample_catalog.products(batch=97)] == [r["asin"] for r in raw]
    assert raw[5]["asin"] in sample_catalog and "NOPE" not in sample_catalog
    with pytest.raises(KeyError):
        sample_catalog.get("NOPE")


def test_json_stream_reader(tmp_path):
    path = tmp_path / "a.json"
    items = [{"a": i, "s": "x" * (i * 37 % 100), "n": [1.5, None, True]} for i in range(500)]
    path.write_text(json.dumps(items, indent=1))
    assert list(iter_json_array(path, chunk_size=64)) == items
    path.write_text("[1, 2, 3")
    with pytest.raises(JSONDataError, match="a.json"):
        list(iter_json_array(path, chunk_size=4))
    path.write_text('{"not": "a list"}')
    with pytest.raises(JSONDataError, match="expected a JSON array"):
        list(iter_json_array(path))
    path.write_text("[12345, 678]")
    assert list(iter_json_array(path, chunk_size=3)) == [12345, 678]


def test_corrupt_source_files_give_clear_errors(sample_dir, tmp_path):
    bad = tmp_path / "src"
    bad.mkdir()
    (bad / "items_shuffle_1000.json").write_text('[{"asin": "B1", "name": "x"}, {"oops"')
    (bad / "items_ins_v2_1000.json").write_text("{}")
    with pytest.raises(JSONDataError, match="items_shuffle_1000.json"):
        Catalog.from_folder(bad, cache_dir=tmp_path / "cache", progress=False)
    # nothing half-built is left behind
    assert not list((tmp_path / "cache").rglob("catalog.sqlite"))
    (bad / "items_ins_v2_1000.json").write_text("{broken")
    with pytest.raises(JSONDataError, match="items_ins_v2_1000.json"):
        Catalog.from_folder(bad, cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(FileNotFoundError, match="items_shuffle"):
        OriginalFiles.in_folder(tmp_path)


def test_corrupt_catalog_gives_clear_error(tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "catalog.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="rebuild"):
        Catalog(folder)
    conn = sqlite3.connect(folder / "other.sqlite")
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('format_version', '0')")
    conn.commit()
    conn.close()
    (folder / "other.sqlite").replace(folder / "catalog.sqlite")
    with pytest.raises(CatalogError, match="format"):
        Catalog(folder)
