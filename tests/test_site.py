import re

import pytest

from agent_gym.webshop.site import create_app


@pytest.fixture(scope="module")
def client(small_catalog):
    app = create_app(catalog=small_catalog, split="test")
    return app.test_client()


def _sid(response):
    m = re.search(r"/s/([A-Za-z0-9_-]+)", response.headers["Location"])
    return m.group(1)


def test_play_an_episode_through_the_site(client, small_catalog):
    r = client.get("/fixed_3")
    assert r.status_code == 302
    sid = _sid(r)
    page = client.get(f"/s/{sid}").get_data(as_text=True)
    goal = small_catalog.goal("human", "test", 3)
    assert goal["instruction_text"].replace("'", "&#39;") in page and 'id="search_input"' in page
    client.post(f"/s/{sid}/search", data={"q": goal["instruction_text"]})
    page = client.get(f"/s/{sid}").get_data(as_text=True)
    assert "Total results: 50" in page
    first = re.search(r'class="product-link[^"]*" name="target" value="([a-z0-9]+)"', page).group(1)
    client.post(f"/s/{sid}/click", data={"target": first})
    page = client.get(f"/s/{sid}").get_data(as_text=True)
    assert "Buy Now" in page
    client.post(f"/s/{sid}/click", data={"target": "buy now"})
    page = client.get(f"/s/{sid}").get_data(as_text=True)
    assert 'id="reward-value"' in page and "Thank you for shopping with us!" in page


def test_sessions_are_separate_and_unguessable(client):
    a, b = _sid(client.get("/fixed_1")), _sid(client.get("/fixed_1"))
    assert a != b and len(a) >= 16
    client.post(f"/s/{a}/search", data={"q": "shirt"})
    assert "Total results" not in client.get(f"/s/{b}").get_data(as_text=True)
    assert client.get("/s/not-a-real-session-id-123").status_code == 404
    assert client.get("/s/..%2F..%2Fetc").status_code == 404


def test_hostile_input_is_escaped_or_rejected(client):
    sid = _sid(client.get("/fixed_0"))
    evil = '<script>alert("x")</script>"\'><img src=x onerror=alert(1)>'
    client.post(f"/s/{sid}/search", data={"q": evil})
    page = client.get(f"/s/{sid}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    r = client.post(f"/s/{sid}/click", data={"target": evil})
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and "not clickable" in page
    assert client.post(f"/s/{sid}/search", data={"q": "x" * 200_000}).status_code == 413
    for path in ["/fixed_99999", "/fixed_-1", "/nope", "/s/" + "a" * 5000, "/fixed_1%00", "/%3Cscript%3E"]:
        r = client.get(path)
        assert r.status_code == 404 and "Traceback" not in r.get_data(as_text=True)
    assert client.get(f"/s/{sid}").status_code == 200  # still up


def test_idle_sessions_are_evicted(small_catalog):
    app = create_app(catalog=small_catalog, idle_seconds=0.0, max_sessions=3)
    c = app.test_client()
    sid = _sid(c.get("/fixed_0"))
    assert c.get(f"/s/{sid}").status_code == 404
    app = create_app(catalog=small_catalog, max_sessions=3)
    c = app.test_client()
    sids = [_sid(c.get("/fixed_0")) for _ in range(5)]
    assert len(app.extensions["agent_gym"]["store"]) == 3
    assert c.get(f"/s/{sids[0]}").status_code == 404 and c.get(f"/s/{sids[-1]}").status_code == 200


def test_finished_visits_are_swept(small_catalog):
    from agent_gym.webshop.site.sessions import SessionStore

    app = create_app(catalog=small_catalog, done_seconds=0.0)
    c = app.test_client()
    store = app.extensions["agent_gym"]["store"]
    done = _sid(c.get("/fixed_0"))
    c.post(f"/s/{done}/search", data={"q": "shirt"})
    page = c.get(f"/s/{done}").get_data(as_text=True)
    asin = re.search(r'class="product-link[^"]*" name="target" value="([a-z0-9]+)"', page).group(1)
    c.post(f"/s/{done}/click", data={"target": asin})
    c.post(f"/s/{done}/click", data={"target": "buy now"})
    open_ = _sid(c.get("/fixed_0"))
    for _ in range(SessionStore.SWEEP_EVERY):
        store.create(0, store.get(open_).shop)
    assert store.get(done) is None and store.get(open_) is not None
