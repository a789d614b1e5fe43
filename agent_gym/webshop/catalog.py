"""The product catalog: built once into SQLite, opened in milliseconds.

A catalog folder holds ``catalog.sqlite`` (products as JSON rows keyed by asin, goals in
their final order with their split, build metadata) and ``index/`` (the Lucene index).
Opening a catalog reads nothing up front: products are fetched by asin on demand through
a small LRU cache, so a 1.18M-product catalog opens in well under a second and costs a
few MB. Builds write to a temporary file that is renamed into place, so an interrupted
build never leaves a half catalog behind (and the next build removes the temporaries a
killed one left). The files' checksums are recorded when they are built and checked at open
(``agent_gym.core.checksums``): a corrupt catalog or index is refused with the command that
rebuilds it.

Sources: the original WebShop files (``Catalog.from_webshop_json`` / ``from_folder``) and
the deterministic synthetic generator (``Catalog.synthetic``, the default).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from agent_gym.core import checksums
from agent_gym.core.cache import build_lock, cache_root, remove_stale
from agent_gym.webshop import goals as goal_rules
from agent_gym.webshop.original import OriginalFiles, RawRecord, raw_to_product
from agent_gym.webshop.product import Product

FORMAT_VERSION = 1
# bumped whenever processing or goal rules change, so cached catalogs are rebuilt
BUILD_VERSION = 2
DEFAULT_N_PRODUCTS = 10_000
DEFAULT_SEED = 0
GOAL_KINDS = ("human", "synthetic")


class CatalogError(RuntimeError):
    """A catalog that is missing, corrupt or from another format version."""


DB_NAME = "catalog.sqlite"
# what a killed build leaves in a catalog folder (see build_catalog)
STALE_TEMPORARIES = (f"{DB_NAME}.tmp-*", "scratch.sqlite.tmp-*", ".index.building-*", f"{checksums.MANIFEST}.tmp-*")


def rebuild_command(meta: dict) -> str:
    """The command line that rebuilds the catalog ``meta`` describes."""
    seed = meta.get("seed", DEFAULT_SEED)
    if meta.get("source") == "synthetic":
        return f"`agent-gym build --products {meta.get('n_products')} --catalog-seed {seed} --rebuild`"
    files = [f for f in meta.get("files") or [] if f]
    where = Path(files[0]).parent if files else "DIR"
    return f"`agent-gym build --catalog {where} --catalog-seed {seed} --rebuild`"


def _prepare_folder(folder: Path, rebuild: bool) -> None:
    """Under the folder's build lock: drop what killed builds left, and everything on ``rebuild``."""
    remove_stale(folder, STALE_TEMPORARIES)
    if rebuild:
        remove_stale(folder, (DB_NAME, "index", checksums.MANIFEST))


def _record_db(folder: Path, meta: dict) -> None:
    """Record the database's checksum (once: after a build, or on a folder built before)."""
    if (folder / DB_NAME).is_file() and not checksums.recorded(folder, DB_NAME):
        checksums.record(folder, [DB_NAME], rebuild=rebuild_command(meta))


class Catalog:
    """A read-only product store with goals and splits. Open with a class method."""

    def __init__(self, folder: str | os.PathLike, cache_size: int = 8192):
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        if not self.path.is_file():
            raise CatalogError(f"no catalog at {self.folder} (catalog.sqlite is missing)")
        checksums.verify(self.folder, DB_NAME)  # CorruptFileError: one line, how to rebuild
        self._cache_size = cache_size
        self._cache: OrderedDict[str, Product] = OrderedDict()
        self._lock = threading.Lock()
        self._conn_pid: int | None = None
        self._conn: sqlite3.Connection | None = None
        self._search_engine = None
        try:
            rows = self._db().execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"{self.path} is not a readable catalog ({exc}); delete the folder to rebuild it") from None
        self.meta: dict[str, Any] = {k: json.loads(v) for k, v in rows}
        if self.meta.get("format_version") != FORMAT_VERSION:
            raise CatalogError(
                f"{self.path} has catalog format {self.meta.get('format_version')}, this agent_gym reads "
                f"{FORMAT_VERSION}; delete the folder to rebuild it"
            )
        self._split_sizes: dict[tuple[str, str], int] = {}

    # ----- opening and building --------------------------------------------------------
    @classmethod
    def open(cls, folder: str | os.PathLike) -> "Catalog":
        return cls(folder)

    @classmethod
    def default(cls) -> "Catalog":
        """The embedded default: a synthetic catalog of 10,000 products (seed 0)."""
        return cls.synthetic(DEFAULT_N_PRODUCTS, DEFAULT_SEED)

    @classmethod
    def synthetic(cls, n_products: int = DEFAULT_N_PRODUCTS, seed: int = DEFAULT_SEED,
                  cache_dir: str | os.PathLike | None = None, progress: bool = True,
                  rebuild: bool = False) -> "Catalog":
        """The deterministic synthetic catalog, built on first use and cached (built again,
        index included, with ``rebuild=True``)."""
        from agent_gym.webshop import synthetic

        if n_products < 1:
            raise ValueError("n_products must be positive")
        key = f"synthetic-b{BUILD_VERSION}-g{synthetic.VERSION}-n{n_products}-s{seed}"
        folder = Path(cache_dir or cache_root() / "catalogs") / key
        with build_lock(folder):
            _prepare_folder(folder, rebuild)
            if not (folder / DB_NAME).is_file():
                cls._build_synthetic(folder, n_products, seed, progress)
            _record_db(folder, {"source": "synthetic", "n_products": n_products, "seed": seed})
        return cls(folder)

    @staticmethod
    def _build_synthetic(folder: Path, n_products: int, seed: int, progress: bool) -> None:
        from agent_gym.webshop import synthetic

        records = (
            RawRecord(item.product, item.attributes, item.human_instructions, item.title_nouns)
            for item in synthetic.generate(n_products, seed)
        )
        build_catalog(folder, records, seed=seed, total=n_products, progress=progress,
                      meta={"source": "synthetic", "n_products": n_products, "generator_version": synthetic.VERSION})

    @classmethod
    def from_webshop_json(cls, products_path, attributes_path, human_instructions_path=None,
                          human_goals_path=None, seed: int = DEFAULT_SEED,
                          cache_dir: str | os.PathLike | None = None, progress: bool = True,
                          rebuild: bool = False) -> "Catalog":
        """A catalog from the original files (``items_shuffle*.json``, ``items_ins_v2*.json``,
        ``items_human_ins.json``), cached until one of them changes."""
        files = OriginalFiles(
            Path(products_path), Path(attributes_path),
            Path(human_instructions_path) if human_instructions_path else None,
            Path(human_goals_path) if human_goals_path else None,
        )
        return cls._from_original(files, seed, cache_dir, progress, rebuild)

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, seed: int = DEFAULT_SEED,
                    cache_dir: str | os.PathLike | None = None, progress: bool = True,
                    rebuild: bool = False) -> "Catalog":
        """A catalog from a folder holding the original files (e.g. ``../shared/webshop-1k``),
        or a built catalog folder (which cannot be rebuilt: it has no source)."""
        folder = Path(folder)
        if (folder / DB_NAME).is_file():
            if rebuild:
                raise CatalogError(f"{folder} is a built catalog without its source files: rebuild it from "
                                   "them (agent-gym build --catalog FOLDER_OF_THE_ORIGINAL_FILES --rebuild)")
            return cls(folder)
        return cls._from_original(OriginalFiles.in_folder(folder), seed, cache_dir, progress, rebuild)

    @classmethod
    def _from_original(cls, files: OriginalFiles, seed, cache_dir, progress, rebuild=False) -> "Catalog":
        from agent_gym.webshop.nouns import title_nouns_batch

        for path in (files.products, files.attributes, files.human_instructions, files.human_goals):
            if path is not None and not Path(path).is_file():
                raise FileNotFoundError(f"{path} does not exist")
        digest = hashlib.sha1("|".join([str(FORMAT_VERSION), str(BUILD_VERSION), str(seed), *files.fingerprint_parts()]).encode()).hexdigest()[:12]
        folder = Path(cache_dir or cache_root() / "catalogs") / f"webshop-{digest}"
        paths = [str(p) if p else None for p in
                 (files.products, files.attributes, files.human_instructions, files.human_goals)]
        with build_lock(folder):
            _prepare_folder(folder, rebuild)
            if not (folder / DB_NAME).is_file():
                records = _with_nouns(files.records(), title_nouns_batch)
                build_catalog(folder, records, seed=seed, progress=progress,
                              human_goal_order=files.human_goal_order(),
                              meta={"source": "webshop", "files": paths})
            _record_db(folder, {"source": "webshop", "files": paths, "seed": seed})
        return cls(folder)

    # ----- products --------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        # one connection per process: a forked worker (AsyncVectorEnv) opens its own
        pid = os.getpid()
        if self._conn is None or self._conn_pid != pid:
            uri = f"file:{self.path.resolve()}?mode=ro&immutable=1"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._conn_pid = pid
        return self._conn

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db().execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                raise CatalogError(f"{self.path} is corrupt ({exc}); delete the folder to rebuild it") from None

    def get(self, asin: str) -> Product:
        """The product with this asin (``KeyError`` when there is none)."""
        product = self._cache.get(asin)
        if product is not None:
            self._cache.move_to_end(asin)
            return product
        rows = self._query("SELECT data FROM products WHERE asin = ?", (asin,))
        if not rows:
            raise KeyError(f"no product {asin!r} in this catalog")
        product = Product.from_json(rows[0][0])
        self._cache[asin] = product
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return product

    def __contains__(self, asin: object) -> bool:
        return isinstance(asin, str) and bool(self._query("SELECT 1 FROM products WHERE asin = ?", (asin,)))

    def __len__(self) -> int:
        return int(self.meta["n_products"])

    def products(self, batch: int = 2048) -> Iterator[Product]:
        """All products in catalog order, streamed."""
        last = -1
        while True:
            rows = self._query("SELECT pos, data FROM products WHERE pos > ? ORDER BY pos LIMIT ?", (last, batch))
            if not rows:
                return
            for pos, data in rows:
                yield Product.from_json(data)
            last = rows[-1][0]

    # ----- goals and splits ------------------------------------------------------------
    def num_goals(self, kind: str = "human", split: str | None = None) -> int:
        _check_kind(kind)
        if split is None:
            return int(self.meta.get(f"n_goals_{kind}", 0))
        key = (kind, split)
        if key not in self._split_sizes:
            rows = self._query("SELECT COUNT(*) FROM goals WHERE kind = ? AND split = ?", (kind, split))
            self._split_sizes[key] = int(rows[0][0])
        return self._split_sizes[key]

    def goal(self, kind: str, split: str, task_id: int) -> dict:
        """Goal ``task_id`` of a split (its position among the split's goals in index order)."""
        _check_kind(kind)
        rows = self._query("SELECT idx, data FROM goals WHERE kind = ? AND split = ? AND split_pos = ?",
                           (kind, split, task_id))
        if not rows:
            raise IndexError(f"no {kind} goal {task_id} in split {split!r} ({self.num_goals(kind, split)} goals)")
        goal = json.loads(rows[0][1])
        goal["goal_index"] = rows[0][0]
        return goal

    def goals(self, kind: str = "human", split: str | None = None) -> Iterator[dict]:
        _check_kind(kind)
        if split is None:
            rows = self._query("SELECT idx, data FROM goals WHERE kind = ? ORDER BY idx", (kind,))
        else:
            rows = self._query("SELECT idx, data FROM goals WHERE kind = ? AND split = ? ORDER BY split_pos", (kind, split))
        for idx, data in rows:
            goal = json.loads(data)
            goal["goal_index"] = idx
            yield goal

    # ----- search ----------------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.folder / "index"

    def search_engine(self):
        """The catalog's ``SearchEngine`` (index built on first use), shared by its envs."""
        if self._search_engine is None:
            from agent_gym.core.search import SearchEngine
            from agent_gym.webshop.product import search_document

            # the index is part of the catalog's folder: rebuilt exactly when the catalog is
            self._search_engine = SearchEngine.open_or_build(
                self.index_dir, lambda: ((p.asin, search_document(p)) for p in self.products()),
                rebuild=rebuild_command(self.meta))
        return self._search_engine

    # A catalog is read-only: copies share it, and pickling (spawned workers) reopens it.
    def __deepcopy__(self, memo) -> "Catalog":
        return self

    def __copy__(self) -> "Catalog":
        return self

    def __reduce__(self):
        return (Catalog, (str(self.folder), self._cache_size))

    def __repr__(self) -> str:
        return f"Catalog({self.folder}, {len(self)} products, source={self.meta.get('source')})"


def _check_kind(kind: str) -> None:
    if kind not in GOAL_KINDS:
        raise ValueError(f"goal kind must be one of {GOAL_KINDS}, got {kind!r}")


def _with_nouns(records: Iterable[RawRecord], tagger, batch: int = 512) -> Iterator[RawRecord]:
    chunk: list[RawRecord] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) == batch:
            yield from _tag(chunk, tagger)
            chunk = []
    yield from _tag(chunk, tagger)


def _tag(chunk: list[RawRecord], tagger) -> Iterator[RawRecord]:
    for rec, nouns in zip(chunk, tagger([r.product["name"] for r in chunk])):
        rec.title_nouns = nouns
        yield rec


_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE products (pos INTEGER PRIMARY KEY, asin TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE scratch.raw_goals (kind TEXT NOT NULL, pos INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, pos));
CREATE TABLE goals (kind TEXT NOT NULL, idx INTEGER NOT NULL, split TEXT NOT NULL, split_pos INTEGER NOT NULL,
                    data TEXT NOT NULL, PRIMARY KEY (kind, idx));
"""


def build_catalog(folder: str | os.PathLike, records: Iterable[RawRecord], seed: int, meta: dict,
                  total: int | None = None, progress: bool = True,
                  human_goal_order: list[str] | None = None) -> Path:
    """Process raw records into ``folder/catalog.sqlite`` (atomically) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / "catalog.sqlite"
    tmp = folder / f"catalog.sqlite.tmp-{os.getpid()}"
    # goals in build order go to a scratch file, dropped at the end (no VACUUM of the catalog)
    scratch = folder / f"scratch.sqlite.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    scratch.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("ATTACH DATABASE ? AS scratch", (str(scratch),))
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA scratch.journal_mode=OFF; "
                           "PRAGMA scratch.synchronous=OFF;" + _SCHEMA)
        n_products = 0
        n_raw = Counter()
        attr_counts = {k: Counter() for k in GOAL_KINDS}
        rows, goal_rows = [], []

        def flush():
            conn.executemany("INSERT INTO products VALUES (?, ?, ?)", rows)
            conn.executemany("INSERT INTO scratch.raw_goals VALUES (?, ?, ?)", goal_rows)
            rows.clear()
            goal_rows.clear()

        bar = tqdm(records, total=total, desc="building catalog", unit=" products", disable=not progress, mininterval=1.0)
        for rec in bar:
            product = raw_to_product(rec, seed)
            if product is None:
                continue
            rows.append((n_products, product.asin, product.to_json()))
            n_products += 1
            human = goal_rules.human_goals_for(product, rec.human_instructions, seed)
            synthetic = goal_rules.synthetic_goals_for(
                product, (rec.attributes or {}).get("instruction"), (rec.attributes or {}).get("instruction_attributes"), seed)
            for kind, goals in (("human", human), ("synthetic", synthetic)):
                for g in goals:
                    goal_rows.append((kind, n_raw[kind], json.dumps(g, ensure_ascii=False)))
                    n_raw[kind] += 1
                    attr_counts[kind].update(g["attributes"])
            if len(rows) >= 4096:
                flush()
        flush()
        if n_products == 0:
            raise CatalogError("the source has no products")
        _order_goals(conn, "human", n_raw["human"], human_goal_order)
        _order_goals(conn, "synthetic", n_raw["synthetic"], None, attr_counts["synthetic"])
        conn.execute("CREATE INDEX goals_split ON goals (kind, split, split_pos)")
        info = {**meta, "format_version": FORMAT_VERSION, "seed": seed, "n_products": n_products,
                "n_goals_human": n_raw["human"], "n_goals_synthetic": n_raw["synthetic"]}
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in info.items()])
        conn.commit()
        conn.execute("DETACH DATABASE scratch")
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        scratch.unlink(missing_ok=True)
        raise
    conn.close()
    scratch.unlink(missing_ok=True)
    os.replace(tmp, final)
    return final


def _order_goals(conn: sqlite3.Connection, kind: str, n: int, reference: list[str] | None,
                 attr_counts: Counter | None = None) -> None:
    """Give every goal its index (seed-233 shuffle, or the original order) and split."""
    if reference is not None:
        slots: dict[str, list[int]] = {}
        for i, text in enumerate(reference):
            slots.setdefault(goal_rules.instruction_key(text), []).append(i)
        index_of = []
        extra = len(reference)
        for pos, data in conn.execute("SELECT pos, data FROM scratch.raw_goals WHERE kind = ? ORDER BY pos", (kind,)):
            text = json.loads(data)["instruction_text"]
            base = text.split(", and price lower than ")[0]
            free = slots.get(goal_rules.instruction_key(base))
            if free:
                index_of.append(free.pop(0))
            else:  # not in the original list: after it, so in train
                index_of.append(extra)
                extra += 1
    else:
        order = goal_rules.shuffled_positions(n)
        index_of = [0] * n
        for idx, pos in enumerate(order):
            index_of[pos] = idx
    # split positions follow the goal index
    by_index = sorted(range(n), key=index_of.__getitem__)
    split_pos: dict[int, tuple[str, int]] = {}
    counters = Counter()
    for pos in by_index:
        split = goal_rules.split_of(index_of[pos])
        split_pos[pos] = (split, counters[split])
        counters[split] += 1
    batch = []
    for pos, data in conn.execute("SELECT pos, data FROM scratch.raw_goals WHERE kind = ? ORDER BY pos", (kind,)):
        if attr_counts is not None:
            goal = json.loads(data)
            goal["weight"] = sum(1.0 / attr_counts[a] for a in goal["attributes"]) / len(goal["attributes"])
            data = json.dumps(goal, ensure_ascii=False)
        split, spos = split_pos[pos]
        batch.append((kind, index_of[pos], split, spos, data))
        if len(batch) >= 8192:
            conn.executemany("INSERT INTO goals VALUES (?, ?, ?, ?, ?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO goals VALUES (?, ?, ?, ?, ?)", batch)
