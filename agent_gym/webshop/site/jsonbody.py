"""The JSON object a machine-API request carries, read once for every API of the site."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, request


def json_object() -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body), or a 400 that says what is wrong.

    The body is already bounded by the app's size limit (413 before it is read); nesting
    deeper than Python's recursion limit (``[`` x 1000 is 1 KB) is malformed input, not a
    server error.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        abort(400, description="the body is not valid JSON")
    except RecursionError:
        abort(400, description="the body's JSON is nested too deeply")
    if not isinstance(body, dict):
        abort(400, description="the body must be a JSON object")
    return body
