"""The Flask application: ``create_app(catalog=..., split=...)``; ``agent-gym serve webshop`` runs it.

Pages come from the same ``ShopSession`` state machine and ``pages.elements`` page model as
the environment, so the site and the env cannot disagree; the site only adds forms, links
and styles. Every visitor gets a random session id; ``/fixed_<i>`` starts task ``i`` of the
split (as the original's fixed sessions do), ``/`` a task drawn at random.

Safety: every string from a request is bounded in size and escaped by Jinja's autoescape;
nothing from a URL is evaluated; session ids are unguessable and checked against a strict
pattern; idle sessions are evicted; errors render an error page (or JSON under ``/api/``),
never a stack trace.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlparse

from flask import Flask, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from agent_gym.webshop import pages
from agent_gym.webshop.env import resolve_catalog
from agent_gym.webshop.reward import ORIGINAL_RULES
from agent_gym.webshop.shop import ShopSession
from agent_gym.webshop.site.api import bp as api_bp
from agent_gym.webshop.site.recording import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, Recorder
from agent_gym.webshop.site.sessions import SessionStore

MAX_FIELD_CHARS = 2000
MAX_BODY_BYTES = 64 * 1024
# waitress: a request body over MAX_BODY_BYTES is refused (413) as soon as its Content-Length is
# read, and a chunked one once it gets there, instead of being spooled to disk first; slow
# clients cost a socket each but no worker thread (waitress reads requests asynchronously), so
# the connection limit is set well above waitress's 100, on poll() which has no FD_SETSIZE cap;
# connections silent for CHANNEL_TIMEOUT seconds are closed. Beyond this (thousands of slow
# clients), put the site behind a buffering proxy (docs/site.md).
SERVER_SETTINGS = {"connection_limit": 1000, "asyncore_use_poll": True, "channel_timeout": 30,
                   "cleanup_interval": 10, "max_request_body_size": MAX_BODY_BYTES}
JSON_PREFIXES = ("/api/", "/agentgym/")  # the machine APIs: errors as JSON, not pages


def _image(url: Any) -> str | None:
    """Only plain http(s) image URLs reach a page; anything else gets the placeholder."""
    if not isinstance(url, str) or len(url) > 2000:
        return None
    parsed = urlparse(url)
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


def create_app(catalog=None, split: str = "test", goals: str = "human", show_attrs: bool = False,
               max_sessions: int = 10_000, idle_seconds: float = 1800.0, done_seconds: float = 120.0,
               record_dir=None, agentgym: bool = False, record_max_bytes: int = DEFAULT_MAX_BYTES,
               record_max_files: int = DEFAULT_MAX_FILES) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    catalog = resolve_catalog(catalog)
    n_tasks = catalog.num_goals(goals, split)
    if n_tasks == 0:
        raise ValueError(f"the catalog has no {goals} goals in split {split!r}")
    store = SessionStore(max_sessions=max_sessions, idle_seconds=idle_seconds, done_seconds=done_seconds)
    app.extensions["agent_gym"] = {"catalog": catalog, "store": store, "split": split, "goals": goals}
    recorder = Recorder(record_dir, split=split, goals=goals, max_bytes=record_max_bytes,
                        max_files=record_max_files) if record_dir else None
    app.extensions["agent_gym"]["recorder"] = recorder  # record_dir: human logs + trajectories (recording.py)

    def new_visit(task_id: int):
        goal = catalog.goal(goals, split, task_id)
        shop = ShopSession(goal=goal, catalog=catalog, search_engine=catalog.search_engine(),
                           show_attrs=show_attrs, rules=ORIGINAL_RULES)
        return store.create(task_id, shop)

    def visit_or_404(sid: str):
        visit = store.get(sid)
        if visit is None:
            abort(404, description="This session does not exist or has expired. Start a new one.")
        return visit

    def field(name: str) -> str:
        value = request.form.get(name, "")
        return value[:MAX_FIELD_CHARS]

    @app.before_request
    def refuse_large_bodies():
        # before any route runs, also those that never read their body (Flask's
        # MAX_CONTENT_LENGTH only applies when a route reads it)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            abort(413, description=f"request bodies are limited to {MAX_BODY_BYTES} bytes")

    app.extensions["agent_gym"]["new_visit"] = new_visit
    app.extensions["agent_gym"]["visit_or_404"] = visit_or_404
    app.register_blueprint(api_bp)  # the remote-agent JSON API under /api/
    if agentgym:  # AgentGym's WebShop server API under /agentgym/ (agentgym.py)
        from agent_gym.webshop.site.agentgym import bp as agentgym_bp

        app.register_blueprint(agentgym_bp)

    @app.get("/")
    def index():
        visit = new_visit(secrets.randbelow(n_tasks))
        return redirect(url_for("page", sid=visit.sid))

    @app.get("/fixed_<int:task_id>")
    def fixed(task_id: int):
        if not 0 <= task_id < n_tasks:
            abort(404, description=f"There is no task {task_id}: this split has tasks 0 to {n_tasks - 1}.")
        visit = new_visit(task_id)
        return redirect(url_for("page", sid=visit.sid))

    @app.get("/s/<sid>")
    def page(sid: str):
        visit = visit_or_404(sid)
        with visit.lock:
            if recorder:
                recorder.page_view(visit)
            return render_page(visit)

    @app.post("/s/<sid>/search")
    def search(sid: str):
        return act(sid, f"search[{field('q')}]")

    @app.post("/s/<sid>/click")
    def click(sid: str):
        return act(sid, f"click[{field('target')}]")

    def act(sid: str, action: str):
        visit = visit_or_404(sid)
        with visit.lock:
            outcome = recorder.act(visit, action) if recorder else visit.shop.act(action)
            visit.steps += 0 if outcome.error else 1
            # the page shows this message, never text from its URL (a link's author could
            # otherwise make the site say anything): ?error=1 only asks for it
            visit.error = outcome.error[:200] if outcome.error else None
        return redirect(url_for("page", sid=sid, error=1) if outcome.error else url_for("page", sid=sid))

    def render_page(visit):
        shop = visit.shop
        elements = [(role, text, {**extra, "image": _image(extra.get("image"))} if "image" in extra else extra)
                    for role, text, extra in pages.elements(shop)]
        error = (visit.error or "") if request.args.get("error") else ""
        return render_template("shop.html", s=shop, elements=elements, sid=visit.sid, task_id=visit.task_id,
                               error=error, split=split, breakdown=sorted(shop.reward_info.items()),
                               TEXT=pages.TEXT, BUTTON=pages.BUTTON, OPTION=pages.OPTION,
                               PRODUCT=pages.PRODUCT, HEADING=pages.HEADING)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith(JSON_PREFIXES):
            return jsonify({"error": exc.name, "message": exc.description}), exc.code
        return render_template("error.html", code=exc.code, name=exc.name, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def server_error(exc: Exception):  # never a stack trace to the visitor
        app.logger.exception("unhandled error")
        if request.path.startswith(JSON_PREFIXES):
            return jsonify({"error": "Internal Server Error", "message": "the server failed on this request"}), 500
        return render_template("error.html", code=500, name="Internal Server Error",
                               message="Something went wrong on our side."), 500

    return app


def make_server(app, host: str = "127.0.0.1", port: int = 3000, threads: int = 8):
    """A waitress server for ``app`` (not yet running: call ``run()``)."""
    from waitress.server import create_server

    return create_server(app, host=host, port=port, threads=threads, **SERVER_SETTINGS)


def serve(host: str = "127.0.0.1", port: int = 3000, threads: int = 8, **kwargs) -> None:
    """Serve the site with waitress."""
    app = create_app(**kwargs)
    # waitress warns on every request that waits for a free thread: expected under load
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    from waitress import serve as waitress_serve

    waitress_serve(app, host=host, port=port, threads=threads, **SERVER_SETTINGS)  # make_server's settings
