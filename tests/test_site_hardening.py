"""The site under attack: nested JSON, huge bodies, slow clients, planted messages, a full disk.

Each test here reproduces a defect a red team found (issue 17) with what an attacker sends.
The waitress tests serve on the loopback interface only and bound every wait.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
import time

import pytest

from agent_gym.webshop.site import create_app
from agent_gym.webshop.site.app import MAX_BODY_BYTES, make_server


@pytest.fixture(scope="module")
def app(small_catalog):
    return create_app(catalog=small_catalog, split="test", goals="synthetic", agentgym=True)


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _machine_routes(app, sid):
    """Every route of the JSON APIs, with its path variables filled in."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/agentgym/")):
            path = re.sub(r"<(?:\w+:)?sid>", sid, rule.rule)
            path = re.sub(r"<[^>]+>", "0", path)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


def test_deeply_nested_json_is_a_400_on_every_api_route(app, client):
    sid = client.post("/api/create", json={}).get_json()["id"]
    routes = sorted(_machine_routes(app, sid), key=lambda r: r[1].endswith("/close"))  # close last
    assert len([r for r in routes if r[0] == "POST"]) >= 5
    for depth in (1000, 30_000):  # bodies under the size limit
        for method, path in routes:
            if method != "POST" or path == "/agentgym/create":  # takes no body (and starts a JVM)
                continue
            r = client.post(path, data="[" * depth, content_type="application/json")
            # /api/ reads every body; AgentGym's routes that take none may ignore it
            allowed = (400, 404) if path.startswith("/api/") else (200, 400, 404)
            assert r.status_code in allowed, (path, r.status_code, r.get_data(as_text=True)[:200])
            assert r.is_json and "Traceback" not in r.get_data(as_text=True)
        r = client.post(f"/api/{sid}/step", data='{"action": ' + "[" * depth + "]" * depth + "}",
                        content_type="application/json")
        assert r.status_code == 400


def test_a_body_over_the_limit_is_refused_on_every_route(app, client):
    sid = client.post("/api/create", json={}).get_json()["id"]
    visit = "an-id-the-site-never-gave"  # refused before the route looks it up
    big = b"x" * (MAX_BODY_BYTES + 1)
    routes = list(_machine_routes(app, sid)) + [("POST", f"/s/{visit}/search"), ("POST", f"/s/{visit}/click"),
                                                ("GET", f"/s/{visit}"), ("GET", "/fixed_0")]
    for method, path in routes:
        r = client.open(path, method=method, data=big, content_type="application/json")
        assert r.status_code == 413, (method, path, r.status_code)
    # the close route used to accept the body (it never read it): the session must survive it
    assert client.get(f"/api/{sid}/observation").status_code in (200, 409)


# ----- a real server (waitress) on the loopback interface ---------------------------------------
@pytest.fixture(scope="module")
def server(app):
    srv = make_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield srv
    srv.task_dispatcher.shutdown(timeout=2)
    for channel in list(srv._map.values()):
        channel.close()
    thread.join(timeout=5)


def _get(server, path, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_huge_declared_body_is_refused_before_it_is_sent(server):
    with socket.create_connection(("127.0.0.1", server.effective_port), timeout=5) as sock:
        sock.sendall(b"POST /api/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 536870912\r\n\r\n{")
        start = time.monotonic()
        reply = sock.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
        assert time.monotonic() - start < 3

    # a chunked body declares no length: refused once it passes the limit, not read to its end
    with socket.create_connection(("127.0.0.1", server.effective_port), timeout=5) as sock:
        sock.sendall(b"POST /api/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % 8192 + b"x" * 8192 + b"\r\n"
        reply, sent = b"", 0
        while not reply and sent < 4 * MAX_BODY_BYTES:
            sock.sendall(chunk)
            sent += 8192
            sock.settimeout(0.02)
            with contextlib.suppress(socket.timeout):
                reply = sock.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413") and sent <= 2 * MAX_BODY_BYTES, (sent, reply[:60])


def test_the_site_answers_with_150_slow_connections_open(server):
    slow = []
    try:
        for _ in range(150):  # each sends a header line and then nothing (a trickling client)
            sock = socket.create_connection(("127.0.0.1", server.effective_port), timeout=5)
            sock.sendall(b"GET /fixed_99999 HTTP/1.1\r\nHost: x\r\n")  # a page without a JVM search
            slow.append(sock)
        status, body = _get(server, "/fixed_99999", timeout=5)
        assert status == 404 and b"There is no task 99999" in body
        for sock in slow[::10]:  # the slow ones are still served when they finish
            sock.sendall(b"\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 404")
    finally:
        for sock in slow:
            sock.close()


# ----- messages on a session page -------------------------------------------------------------
def test_a_session_page_shows_only_messages_the_site_set(client):
    location = client.get("/fixed_0").headers["Location"]
    planted = "Your account is locked: call 555-0100 now"
    page = client.get(location, query_string={"error": planted}).get_data(as_text=True)
    assert "555-0100" not in page
    r = client.post(location + "/click", data={"target": "no such button"})
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "not clickable" in page  # the site's own message for the invalid click
    page = client.get(r.headers["Location"] + "&error=" + planted.replace(" ", "+")).get_data(as_text=True)
    assert "555-0100" not in page


# ----- recording visitors (--record) ------------------------------------------------------------
def test_recording_stops_at_its_caps_and_the_site_keeps_serving(small_catalog, tmp_path, caplog):
    app = create_app(catalog=small_catalog, split="test", goals="synthetic", record_dir=tmp_path,
                     record_max_bytes=6000, record_max_files=2)
    client = app.test_client()
    with caplog.at_level("WARNING"):
        for _ in range(4):  # four visitors, each views pages and buys
            location = client.get("/fixed_0").headers["Location"]
            for _ in range(6):
                assert client.get(location).status_code == 200
            assert client.post(location + "/search", data={"q": "shirt"}).status_code == 302
            page = client.get(location).get_data(as_text=True)
            asin = re.search(r'name="target" value="(b0[0-9a-z]+)"', page)
            if asin:
                client.post(location + "/click", data={"target": asin.group(1)})
                client.post(location + "/click", data={"target": "buy now"})
            assert client.get(location).status_code == 200
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(list((tmp_path / "human_logs").glob("*.jsonl"))) <= 2
    assert sum(p.stat().st_size for p in files) <= 6000
    assert len([r for r in caplog.records if "recording stopped" in r.getMessage()]) == 1
    for path in files:  # what was written is whole lines of JSON
        for line in path.read_text(encoding="utf-8").splitlines():
            json.loads(line)
