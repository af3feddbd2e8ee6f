"""Two people sign up in a real browser; one sells, the other buys the matching amount; both see the trade in
their accounts and in the explorer. Screenshots of the main pages go to docs/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from energy_chain.approvals import approve_function
from tests.browser.conftest import DEMO_PASSWORD, ROUND_SECONDS

pytestmark = pytest.mark.slow
# `make screenshots` refreshes the README's pictures in docs/screenshots; a plain test run writes to var/ so it
# leaves the work tree clean.
SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "var" / "screenshots")
PASSWORD = "sunny-rooftop-42"


def wait_for(driver, css: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_text(driver, text: str, timeout: float = 20) -> None:
    try:
        WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text
        )
    except Exception as exc:  # say what the page showed instead
        body = driver.find_element(By.TAG_NAME, "body").text[:1500]
        raise AssertionError(f"{text!r} not on {driver.current_url}: {body}") from exc


def text_of(driver, css: str, timeout: float = 20) -> str:
    """The element's text, found again if the page replaced it meanwhile (navigation, live refresh)."""
    for _ in range(5):
        try:
            return wait_for(driver, css, timeout).text
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"{css} kept going stale")


def screenshot(driver, name: str, width: int = 1280) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height + 40, 700), 2200))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 900)


def sign_up(driver, base: str, username: str) -> str:
    driver.get(base + "/auth/signup")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.NAME, "confirm").send_keys(PASSWORD)
    driver.find_element(By.ID, "signup-submit").click()
    return wait_for(driver, "#wallet-address").get_attribute("data-address")


def log_in(driver, base: str, username: str, password: str = PASSWORD) -> None:
    driver.get(base + "/auth/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(driver, "#logout")


def log_out(driver) -> None:
    driver.find_element(By.ID, "logout").click()
    wait_for(driver, "a[href='/auth/signup']")


def place_order(driver, base: str, side: str, price: str, amount: str) -> None:
    driver.get(base + "/market")
    form = wait_for(driver, "form.order-form")
    form.find_element(By.CSS_SELECTOR, f"input[name=side][value={side}]").find_element(By.XPATH, "..").click()
    form.find_element(By.NAME, "price").send_keys(price)
    form.find_element(By.NAME, "amount").send_keys(amount)
    assert "RM" in form.find_element(By.CSS_SELECTOR, "[data-total]").text  # live total
    form.find_element(By.ID, "place-order").click()
    dialog = wait_for(driver, "#confirm-dialog[open]")  # confirmation before anything is signed
    assert amount in dialog.text and price in dialog.text
    driver.find_element(By.ID, "confirm-ok").click()


def test_two_users_trade_and_both_see_it(chain, server, browser):
    # the seller signs up and (as the oracle would) gets 5 kWh minted from a meter reading
    seller_address = sign_up(browser, server, "sella")
    chain.mint_energy(seller_address, 5000)
    place_order(browser, server, "sell", "42", "2")
    wait_text(browser, "Sell order #")
    wait_text(browser, "2.000 kWh at 42.00 sen/kWh placed")
    log_out(browser)

    # the buyer signs up, tops up RM 20 and buys 1.5 kWh, matching the sell at its price
    buyer_address = sign_up(browser, server, "bayu")
    browser.find_element(By.ID, "topup-amount").send_keys("20")
    browser.find_element(By.ID, "topup-submit").click()
    wait_for(browser, "#confirm-dialog[open]")
    browser.find_element(By.ID, "confirm-ok").click()
    wait_text(browser, "Topped up RM 20.00.")
    place_order(browser, server, "buy", "45", "1.5")
    wait_text(browser, "Filled 1.500 kWh at once for RM 0.6300")

    browser.get(server + "/account")
    trades = text_of(browser, "#my-trades")
    assert "bought" in trades and "1.500 kWh" in trades and "42.00 sen/kWh" in trades and "sella" in trades
    screenshot(browser, "account")

    # the explorer finds the buyer by address and shows the decoded fill
    browser.get(server + "/explorer")
    browser.find_element(By.ID, "explorer-search").send_keys(buyer_address)
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    wait_for(browser, "#address-value")
    events = text_of(browser, "#events-table")
    assert "OrderFilled" in events and "OrderPlaced" in events
    assert "placeOrder" in text_of(browser, "#tx-table")
    log_out(browser)

    # the seller sees the sale, and the unfilled 0.5 kWh still resting (partial fill)
    log_in(browser, server, "sella")
    browser.get(server + "/account")
    trades = text_of(browser, "#my-trades")
    assert "sold" in trades and "bayu" in trades
    orders = text_of(browser, "#my-orders")
    assert "partial" in orders and "1.500 kWh" in orders
    browser.get(server + f"/explorer/address/{seller_address}")
    assert "OrderFilled" in text_of(browser, "#events-table")


def test_validation_cues_and_error_messages(server, browser):
    browser.get(server + "/auth/signup")
    name = browser.find_element(By.NAME, "username")
    name.send_keys("x")
    browser.find_element(By.NAME, "password").click()  # leaving the field marks it
    assert "touched" in name.get_attribute("class")
    assert browser.execute_script("return arguments[0].validity.valid", name) is False
    assert browser.find_elements(By.CSS_SELECTOR, ".client-error")
    browser.get(server + "/explorer?q=nothing-here")
    assert "Nothing found" in wait_for(browser, ".flash-error").get_attribute("textContent")
    browser.get(server + "/no/such/page")
    assert "There is nothing at this address." in wait_for(browser, "#error-message").text


def record_a_sunny_day(chain, serial: str, period: int = 900) -> int:
    """Play the oracle for 08:00-20:00 Malaysian time (00:00-12:00 UTC): the simulator's net per interval, recorded on
    chain. Each interval of that daylight goes on the latest day where it has ended and the meter may report it (from a
    day before the seed registered it: energy_chain.meters.first_interval), so at any time of day the chart shows a
    whole day's sun but for the few intervals around now. Returns how many readings were recorded."""
    import time as _time

    from energy_chain.meters import meter_id
    from meter_oracle.sources.simulated import SimulatedSource, load_community
    from webapp.services.demo_seed import COMMUNITY_FILE

    source = SimulatedSource(load_community(COMMUNITY_FILE), period)
    household = next(h for h in source.community.households if h.serial == serial)
    now = int(_time.time())
    today = now // 86_400 * 86_400
    earliest = (now - 86_400) // period * period + 2 * period
    intervals = []
    for offset in range(0, 12 * 3600, period):
        t = today + offset
        if t + period > now - 60:  # not over yet today: yesterday's
            t -= 86_400
        if t >= earliest:
            intervals.append(t)
    readings = []
    for t in sorted(intervals):
        gen, use = source.interval_energy(household, t)
        net = round(gen) - round(use)
        readings.append((meter_id(serial), t, max(net, 0), max(-net, 0)))
    chain.oracle.resync()
    chain.client.transact(chain.client.contract("EnergyToken").functions.recordReadings(readings), chain.oracle)
    return len(readings)


def clear_an_auction_round(chain, server) -> None:
    """A crossing ask and bid through the API, then the round ends and the demo keeper clears and settles it."""
    import time as _time

    import requests

    def api(username: str) -> dict[str, str]:
        reply = requests.post(server + "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        return {"Authorization": "Bearer " + reply.json()["token"]}

    tokens = {user: api(user) for user in ("chandra", "farid")}  # log in first: scrypt is slow under load
    # Both orders must meet the same round while it takes orders: start early in a round, not near its close.
    deadline = _time.monotonic() + 3 * ROUND_SECONDS
    while requests.get(server + "/api/v1/auction/current").json()["round"]["seconds_left"] < ROUND_SECONDS / 2:
        assert _time.monotonic() < deadline, "no auction round with time left"
        _time.sleep(0.5)
        chain.client.w3.provider.make_request("evm_mine", [])  # automine: the clock moves with blocks
    first = None
    for user, side, price, kwh in (("chandra", "sell", "31", "2.5"), ("farid", "buy", "44", "2")):
        reply = requests.post(
            server + "/api/v1/auction/orders",
            headers=tokens[user],
            json={"side": side, "price_sen": price, "amount_kwh": kwh, "wait": True},
        )
        assert reply.status_code == 201, reply.text
        first = first or reply.json()["round_id"]
    deadline = _time.monotonic() + 3 * ROUND_SECONDS
    while requests.get(server + "/api/v1/auction/current").json()["round"]["round_id"] == first:
        assert _time.monotonic() < deadline, "the auction round did not end"
        _time.sleep(1)
        chain.client.w3.provider.make_request("evm_mine", [])  # automine: the clock moves with blocks
    for _ in range(10):
        server.run_bot(1)  # each bot step also runs the keeper: close, clear, claim
        last = requests.get(server + "/api/v1/auction/current").json()["last_cleared"]
        if last and last["round_id"] >= first:
            assert last["clearing_price"] > 0 and last["volume_wh"] >= 2000
            return
    raise AssertionError("the keeper did not clear the round")


def _meter_shows_the_day(driver, recorded: int) -> bool:
    driver.refresh()
    text = driver.find_element(By.CSS_SELECTOR, "main").text
    # the recorded intervals, and the seed's starter reading when it falls in the window
    shown = re.search(r"Last (\d+) settled intervals", text)
    return shown is not None and int(shown[1]) in (recorded, recorded + 1) and "Generation (simulated meter)" in text


def test_screenshots_of_the_main_pages(chain, server, browser):
    server.run_bot(16)  # some market activity from the demo households, so the pages show a living market
    recorded = record_a_sunny_day(chain, "DEMO-MTR-001")  # aisyah's meter
    assert recorded >= 44  # at most ~3 intervals around now are missing from the day
    clear_an_auction_round(chain, server)
    log_in(browser, server, "aisyah", DEMO_PASSWORD)
    for name, path in (
        ("home", "/"),
        ("market", "/market"),
        ("auction", "/auction"),
        ("meter", "/meter"),
        ("explorer", "/explorer"),
        ("trades", "/account/trades"),
        ("history", "/history?bucket=hour"),
        ("community", "/community"),
        ("profile", "/profile"),
    ):
        browser.get(server + path)
        wait_for(browser, "main h1")
        if name == "meter":  # wait until the indexer has the day
            WebDriverWait(browser, 20).until(lambda d: _meter_shows_the_day(d, recorded))
        screenshot(browser, name)
    browser.set_window_size(390, 844)  # a phone
    for name, path in (("market-phone", "/market"), ("home-phone", "/"), ("community-phone", "/community")):
        browser.get(server + path)
        wait_for(browser, "main h1")
        browser.save_screenshot(str(SHOTS / f"{name}.png"))
    browser.set_window_size(1280, 900)
    log_out(browser)
    log_in(browser, server, "operator", DEMO_PASSWORD)
    browser.get(server + "/operator")
    assert "DEMO-MTR-001" in text_of(browser, "#meters-table")
    screenshot(browser, "operator")
    shots = ("home", "market", "auction", "meter", "explorer", "operator", "account", "trades", "history", "community",
             "profile", "market-phone", "home-phone", "community-phone")  # fmt: skip
    for name in shots:
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000, name


# ---------------------------------------------------------------------- a browser wallet (EIP-1193), played by the test
FAKE_WALLET = """
window.__ethQueue = [];
window.ethereum = {request: (args) => new Promise(
  (resolve, reject) => window.__ethQueue.push({args, resolve, reject}))};
"""


def answer_wallet(driver, account, until, timeout: float = 30) -> list[str]:
    """Play the user's wallet: answer the page's EIP-1193 requests with `account` until `until(driver)`."""
    import time as _time

    from eth_account.messages import encode_defunct

    served: list[str] = []
    deadline = _time.monotonic() + timeout
    while not until(driver):
        assert _time.monotonic() < deadline, f"wallet flow did not finish; served {served}"
        request = driver.execute_script(
            "return window.__ethQueue && window.__ethQueue.length ? window.__ethQueue[0].args : null"
        )
        if request is None:
            _time.sleep(0.1)
            continue
        method, params = request["method"], request.get("params") or []
        if method == "eth_requestAccounts":
            result = [account.address.lower()]  # wallets often answer in lower case
        elif method == "personal_sign":
            result = account.sign_message(encode_defunct(text=params[0])).signature.to_0x_hex()
        elif method == "eth_signTransaction":
            tx = {
                k: (int(v, 16) if k in {"gas", "gasPrice", "nonce", "chainId", "value"} else v)
                for k, v in params[0].items()
                if k not in {"from", "type"}
            }
            result = account.sign_transaction(tx).raw_transaction.to_0x_hex()
        else:
            driver.execute_script("window.__ethQueue.shift().reject(new Error('unsupported'))")
            served.append(f"rejected {method}")
            continue
        driver.execute_script("window.__ethQueue.shift().resolve(arguments[0])", result)
        served.append(method)
    return served


def funded_browser_wallet(chain):
    """A new key holding RM 3 that has approved the order book for its settlement tokens (a browser wallet's set-up)."""
    from eth_account import Account

    wallet = Account.create()
    chain.top_up(wallet.address, 3_000_000)  # RM 3
    approve = approve_function(chain.client, "SettlementToken", chain.record.address("OrderBook"))
    tx = chain.client.build_tx(approve, _PendingNonce(wallet.address), 100_000)
    chain.client.wait_for_receipt(chain.client.send_raw(wallet.sign_transaction(tx).raw_transaction))
    return wallet


def test_browser_wallet_signs_in_and_signs_its_order(chain, server, browser):
    wallet = funded_browser_wallet(chain)

    browser.delete_all_cookies()
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_WALLET})
    try:
        browser.get(server + "/auth/login")
        button = wait_for(browser, "#siwe-button")
        assert button.is_displayed()  # shown only when a wallet is present
        button.click()
        served = answer_wallet(browser, wallet, lambda d: d.current_url.endswith("/market"))
        assert served == ["eth_requestAccounts", "personal_sign"]
        assert wallet.address[:6] in text_of(browser, ".who")

        form = wait_for(browser, "form.order-form")
        form.find_element(By.NAME, "price").send_keys("12.5")
        form.find_element(By.NAME, "amount").send_keys("0.8")
        form.find_element(By.ID, "place-order").click()
        wait_for(browser, "#confirm-dialog[open]")
        browser.find_element(By.ID, "confirm-ok").click()
        served = answer_wallet(
            browser,
            wallet,
            lambda d: d.execute_script("return performance.getEntriesByType('navigation')[0].type") == "reload",
        )
        assert served == ["eth_signTransaction"]  # signed in the wallet, relayed by the server
        for _ in range(40):  # the indexer shows the order within a moment
            if "12.50 sen/kWh" in text_of(browser, "#my-orders"):
                break
            browser.refresh()
        mine = text_of(browser, "#my-orders")
        assert "12.50 sen/kWh" in mine and "0.800 kWh" in mine
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": "1"})
        browser.delete_all_cookies()


class _PendingNonce:
    def __init__(self, address: str) -> None:
        self.address = address

    def next_nonce(self, fetch):
        return fetch(self.address)
