"""Stream the elements of a (possibly multi-gigabyte) top-level JSON array.

The original ``items_shuffle.json`` holds 1.18M products in one array; loading it with
``json.load`` takes about 15 GB. This reader decodes one element at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

_WS = " \t\r\n"


class JSONDataError(ValueError):
    """A data file that is not the JSON the loader expects (message names the file)."""


def iter_json_array(path: str | os.PathLike, chunk_size: int = 1 << 20) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8") as f:
        buf = f.read(chunk_size)
        pos = _skip(buf, 0)
        if pos >= len(buf) or buf[pos] != "[":
            raise JSONDataError(f"{path}: expected a JSON array")
        pos += 1
        eof = False
        first = True
        while True:
            pos = _skip(buf, pos)
            while pos >= len(buf) and not eof:
                more = f.read(chunk_size)
                eof = not more
                buf, pos = buf[pos:] + more, 0
                pos = _skip(buf, pos)
            if pos >= len(buf):
                raise JSONDataError(f"{path}: truncated JSON array (no closing ']')")
            if buf[pos] == "]":
                return
            if not first:
                if buf[pos] != ",":
                    raise JSONDataError(f"{path}: expected ',' between array elements near offset {pos}")
                pos = _skip(buf, pos + 1)
            while True:
                pos = _skip(buf, pos)
                try:
                    obj, end = decoder.raw_decode(buf, pos)
                    # a number or literal cut at the chunk edge decodes short: make sure it ended
                    if end >= len(buf) and not eof:
                        raise ValueError("element may continue")
                    break
                except ValueError:
                    if eof:
                        raise JSONDataError(f"{path}: malformed JSON element") from None
                    more = f.read(chunk_size)
                    eof = not more
                    buf, pos = buf[pos:] + more, 0
            yield obj
            first = False
            pos = end


def _skip(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in _WS:
        pos += 1
    return pos


def load_json(path: str | os.PathLike) -> Any:
    """``json.load`` with an error that names the file."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise JSONDataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError as exc:
        raise JSONDataError(f"{path}: not UTF-8 text ({exc.reason})") from None
