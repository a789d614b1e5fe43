"""The site in a real browser: headless Chromium, driven by Selenium, plays an episode and
gets the same reward as the in-process environment for the same actions.

Skipped when /usr/bin/chromium, /usr/bin/chromedriver or selenium is missing (``make test``
installs the first two with apt where it can). Network stays on 127.0.0.1: the browser is
started with every background-networking feature off and a fresh profile.
"""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "results" / "screenshots"
TIMEOUT = 20  # seconds, for page loads, scripts and waits

if not CHROMIUM.is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)", allow_module_level=True)
if not CHROMEDRIVER.is_file():
    pytest.skip(f"no chromedriver at {CHROMEDRIVER} (apt-get install chromium-driver)", allow_module_level=True)
selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site_url(small_catalog):
    from werkzeug.serving import make_server

    from agent_gym.webshop.site import create_app

    app = create_app(catalog=small_catalog, split="test")
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=TIMEOUT)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(TIMEOUT)
    driver.set_script_timeout(TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def _env_first_product_with_options(catalog, max_tasks: int = 50):
    """The first task whose goal has options and whose top search result offers options."""
    import gymnasium as gym

    import agent_gym  # noqa: F401  (registers the environments)

    env = gym.make("agent_gym/WebShop-v0", catalog=catalog, split="test")
    try:
        for task_id in range(max_tasks):
            goal = catalog.goal("human", "test", task_id)
            if not goal.get("goal_options"):
                continue
            env.reset(options={"task_id": task_id})
            _, _, _, _, info = env.step(f"search[{goal['instruction_text'].lower()}]")
            products = [a for a in info["available_actions"] if a.startswith("click[b0")]
            _, _, _, _, info = env.step(products[0])
            if any(a not in ("click[buy now]", "click[< prev]", "click[back to search]", "click[description]",
                             "click[features]", "click[reviews]", "click[attributes]")
                   for a in info["available_actions"] if a.startswith("click[")):
                return task_id
    finally:
        env.close()
    pytest.skip(f"no task among the first {max_tasks} has a goal with options and a top result with options")


def _env_reward(catalog, task_id: int, actions: list[str]) -> float:
    import gymnasium as gym

    import agent_gym  # noqa: F401

    env = gym.make("agent_gym/WebShop-v0", catalog=catalog, split="test")
    try:
        env.reset(options={"task_id": task_id})
        reward, terminated = 0.0, False
        for action in actions:
            _, reward, terminated, _, info = env.step(action)
            assert not info["invalid_action"], f"the env refused {action!r}"
        assert terminated
        return float(reward)
    finally:
        env.close()


def test_browser_episode_matches_env_reward(site_url, browser, small_catalog, tmp_path):
    task_id = _env_first_product_with_options(small_catalog)
    instruction = small_catalog.goal("human", "test", task_id)["instruction_text"]
    wait = WebDriverWait(browser, TIMEOUT)

    browser.get(f"{site_url}/fixed_{task_id}")
    box = wait.until(EC.presence_of_element_located((By.ID, "search_input")))
    box.send_keys(instruction)
    browser.find_element(By.ID, "search_button").click()

    first = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".product-link")))
    asin = first.get_attribute("value")
    first.click()

    option = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".option")))
    option_value, option_name = option.get_attribute("value"), option.get_attribute("data-option")
    option.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".option.chosen")))
    chosen = browser.find_element(By.CSS_SELECTOR, ".option.chosen")
    assert chosen.get_attribute("value") == option_value and chosen.get_attribute("data-option") == option_name
    item_png = tmp_path / f"item_fixed_{task_id}.png"
    assert browser.save_screenshot(str(item_png))

    browser.find_element(By.CSS_SELECTOR, ".btn-buy").click()
    reward_cell = wait.until(EC.presence_of_element_located((By.ID, "reward-value")))
    site_reward = float(reward_cell.text)
    done_png = tmp_path / f"done_fixed_{task_id}.png"
    assert browser.save_screenshot(str(done_png))
    assert "Thank you for shopping with us!" in browser.page_source
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(done_png, SCREENSHOTS / done_png.name)
    shutil.copyfile(item_png, SCREENSHOTS / item_png.name)

    env_reward = _env_reward(small_catalog, task_id, [f"search[{instruction.lower()}]", f"click[{asin}]",
                                                      f"click[{option_value}]", "click[buy now]"])
    assert site_reward == pytest.approx(env_reward, abs=1e-6)
    assert item_png.stat().st_size > 1000 and done_png.stat().st_size > 1000
