"""Browser tests: Debian's headless Chromium driven by Selenium against the real server (gunicorn, free port)
on a private anvil. Nothing downloads a browser: /usr/bin/chromium and /usr/bin/chromedriver must be installed
(`make browser-deps`, which `make test` runs first)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from energy_chain.anvil import free_port
from tests.webapp.conftest import Chain

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "browser-demo-pw"
ROUND_SECONDS = 20  # short auction rounds, so a round clears during the test


@pytest.fixture(scope="module", autouse=True)
def _chromium_installed() -> None:
    """A missing browser fails these tests (it must not pass silently) without stopping the rest of the run."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium is not installed: run `make browser-deps` (apt-get install chromium chromium-driver)",
                    pytrace=False)  # fmt: skip


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    from energy_chain.anvil import start_anvil

    anvil = start_anvil(gas_limit=300_000_000, accounts=12)
    try:
        yield Chain(anvil, tmp_path_factory.mktemp("deployments"))
    finally:
        anvil.stop()


class Server(str):
    """The server's base URL, plus the environment it runs with (for the demo bot)."""

    def __new__(cls, url: str, env: dict[str, str]) -> Server:
        obj = super().__new__(cls, url)
        obj.env = env
        return obj

    def run_bot(self, steps: int) -> None:
        subprocess.run([sys.executable, "-m", "webapp", "bot", "--steps", str(steps), "--interval", "0"],
                       env=self.env, cwd=ROOT, check=True, capture_output=True, timeout=180)  # fmt: skip


@pytest.fixture(scope="module")
def server(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`python -m webapp serve` on a free port, seeded with the demo community (operator and households), on a
    database made as `make demo` makes it (`python -m webapp upgrade` first)."""
    work = tmp_path_factory.mktemp("server")
    port = free_port()
    env = {**os.environ, "RPC_URL": chain.url, "DEPLOYMENTS_DIR": str(chain.deployments_dir),
           "DATABASE_URL": f"sqlite:///{work / 'web.db'}", "FLASK_SECRET_KEY": "browser-test-secret-key-0123456789",
           "WEBAPP_SCRYPT_N": "1024", "WEBAPP_INDEXER_POLL": "0.2", "WEBAPP_DEMO_PASSWORD": DEMO_PASSWORD,
           "WEBAPP_TOPUP_SELF_SERVICE": "1",  # as make demo
           "PYTHONPATH": str(ROOT), "WEBAPP_DEMO_BOT_HEARTBEAT": str(work / "demo-bot.json"),
           "AGENT_LOG": str(work / "decisions.jsonl")}  # fmt: skip
    subprocess.run([sys.executable, "-m", "webapp", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True,
                   timeout=120)  # fmt: skip
    subprocess.run([sys.executable, "-m", "webapp", "seed-demo", "--round-seconds", str(ROUND_SECONDS)], env=env,
                   cwd=ROOT,
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    log = open(work / "server.log", "wb")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--port", str(port), "--threads", "8"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {(work / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield Server(url, env)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
