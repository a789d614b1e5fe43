"""A fake OpenAI-compatible chat server for the LLM agents' tests: scripted replies, errors, delays.

A real server (``transformers serve``) is started by the slow check in ``tests/test_llm_real_server.py``;
this one stays for the malformed cases a real server rarely produces.
"""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    """Answers ``POST /v1/chat/completions`` from a script of replies.

    An item is a reply text, or a dict: ``{"status": 500, "body": ...}``, ``{"sleep": s,
    "text": ...}``, ``{"raw": bytes}``; when the script runs out, ``default`` is answered.
    ``rule(request) -> item or None``, when given, answers first (e.g. by the request's prompt).
    """

    def __init__(self, script=(), default="Thought: nothing to do\nAction: click[back to search]", rule=None):
        self.script = list(script)
        self.default = default
        self.rule = rule
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                """Quiet: the tests read the requests from ``fake.requests``, not from stderr."""

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake.lock:
                    request = json.loads(body)
                    fake.requests.append(request)
                    fake.headers.append(dict(self.headers))
                    item = fake.rule(request) if fake.rule else None
                    if item is None:
                        item = fake.script.pop(0) if fake.script else fake.default
                if isinstance(item, str):
                    item = {"text": item}
                if item.get("sleep"):
                    fake.stop.wait(item["sleep"])
                status = item.get("status", 200)
                if "raw" in item:
                    payload = item["raw"]
                elif status == 200:
                    payload = json.dumps({
                        "id": "x", "object": "chat.completion", "model": "fake",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": item["text"]}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}).encode()
                else:
                    payload = json.dumps(item.get("body", {"error": {"message": f"status {status}"}})).encode()
                with contextlib.suppress(OSError):  # the client gave up (timeout test)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in item.get("headers", {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.alive = True

    def close(self):
        if self.alive:
            self.alive = False
            self.stop.set()
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def fake_llm():
    servers = []

    def make(script=(), **kwargs):
        server = FakeLLM(script, **kwargs)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.close()
