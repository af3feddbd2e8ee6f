"""Automatic trading in a real browser (issue 14): a custodial household sets the bounds, confirms and sees the
agent on with its bounds; the agent's decisions and the forecast chart show; "Turn off" revokes at once. A
browser-wallet household signs the bounds as EIP-712 typed data and the revoke transaction in its wallet (played by
the test): the mandate is on chain after the first, gone after the second."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from energy_chain.mandate import MandateClient
from tests.browser.test_trading_in_browser import FAKE_WALLET, screenshot, sign_up, text_of, wait_for, wait_text

pytestmark = pytest.mark.slow


def write_decisions(path: str | Path, owner: str, count: int = 3) -> None:
    """A few intervals of the agent's decision log (agents/decision_log.py format) for `owner`."""
    start = int(time.time()) // 900 * 900 - 900 * count
    with Path(path).open("a") as fh:
        for i in range(count):
            interval = start + 900 * i
            fh.write(json.dumps({
                "kind": "decision", "ts": interval + 3, "owner": owner, "interval": interval, "meter": "DEMO-MTR-001",
                "forecast": {"generation_wh": 1500 + 100 * i, "load_wh": 400}, "bounds": {},
                "balances": {"energy_wh": 5000, "money": 20_000_000},
                "intent": {"sell_wh": 800, "ask": 260_000, "buy_wh": 0, "bid": 0},
                "explanation": f"Interval {i}: sunny, so the agent offers 0.8 kWh above your reserve at 26 sen/kWh.",
                "actions": [{"venue": "order-book", "side": "sell", "price": 260_000, "amount_wh": 800,
                             "status": "filled", "filled_wh": 800, "cost": 208_000, "order_id": 1 + i,
                             "tx_hash": "0x" + f"{i:02x}" * 32, "reason": ""}],
            }) + "\n")  # fmt: skip
            if i < count - 1:
                fh.write(json.dumps({"kind": "actual", "ts": interval + 950, "owner": owner, "interval": interval,
                                     "generation_wh": 1400 + 100 * i, "load_wh": 450}) + "\n")  # fmt: skip


def _click(driver, element_id: str) -> None:
    """Click a button where a person sees it (not under the sticky menu after a reload kept the scroll)."""
    button = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def _fill(driver, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def test_a_household_turns_automatic_trading_on_sees_what_it_did_and_turns_it_off(chain, server, browser):
    browser.delete_all_cookies()
    address = sign_up(browser, server, "autosolar")
    write_decisions(server.env["AGENT_LOG"], address)
    browser.find_element(By.ID, "nav-autotrade").click()
    wait_for(browser, "#autotrade-form")
    assert text_of(browser, "#autotrade-status") == "Off"
    _fill(browser, {"min_sell_price_sen": "24", "max_buy_price_sen": "45", "reserve_kwh": "2", "daily_cap_myr": "4"})
    _click(browser, "venue-direct")  # unticked: order book and auction only
    _fill(browser, {"weight_cost": "9"})
    _click(browser, "autotrade-save")
    wait_for(browser, "#confirm-dialog[open]")
    browser.find_element(By.ID, "confirm-ok").click()
    wait_text(browser, "Automatic trading is on")
    assert text_of(browser, "#autotrade-status") == "On"
    assert "RM 4.00" in text_of(browser, "#spent-today")
    terms = MandateClient(chain.client).terms_of(address)
    assert (terms.min_sell_price, terms.max_buy_price, terms.reserve_wh, terms.daily_spend_cap, terms.venues) == (
        240_000, 450_000, 2000, 4_000_000, 3)  # fmt: skip
    assert terms.weights[-1] == 9

    decisions = text_of(browser, "#decisions")
    assert "Interval 2: sunny" in decisions and decisions.index("Interval 2") < decisions.index("Interval 0")
    assert "filled" in decisions
    assert browser.find_elements(By.CSS_SELECTOR, "#forecast svg polyline")
    assert "not yet" in text_of(browser, "#forecast-table")
    screenshot(browser, "autotrade")  # var/screenshots (docs/screenshots under `make screenshots`)

    _click(browser, "autotrade-off")
    wait_for(browser, "#confirm-dialog[open]")
    browser.find_element(By.ID, "confirm-ok").click()
    wait_text(browser, "Automatic trading is off")
    assert text_of(browser, "#autotrade-status") == "Off"
    assert MandateClient(chain.client).terms_of(address) is None


def _play_wallet(driver, account, until, timeout: float = 40) -> list[str]:
    """The user's wallet: sign-in, typed data (eth_signTypedData_v4) and transactions, until `until(driver)`."""
    served: list[str] = []
    deadline = time.monotonic() + timeout
    while not until(driver):
        assert time.monotonic() < deadline, f"wallet flow did not finish; served {served}"
        request = driver.execute_script(
            "return window.__ethQueue && window.__ethQueue.length ? window.__ethQueue[0].args : null"
        )
        if request is None:
            time.sleep(0.1)
            continue
        method, params = request["method"], request.get("params") or []
        if method == "eth_requestAccounts":
            result = [account.address.lower()]
        elif method == "personal_sign":
            result = account.sign_message(encode_defunct(text=params[0])).signature.to_0x_hex()
        elif method == "eth_signTypedData_v4":
            assert params[0].lower() == account.address.lower()
            result = Account.sign_typed_data(account.key, full_message=json.loads(params[1])).signature.to_0x_hex()
        elif method == "eth_signTransaction":
            tx = {k: (int(v, 16) if k in {"gas", "gasPrice", "nonce", "chainId", "value"} else v)
                  for k, v in params[0].items() if k not in {"from", "type"}}  # fmt: skip
            result = account.sign_transaction(tx).raw_transaction.to_0x_hex()
        else:
            driver.execute_script("window.__ethQueue.shift().reject(new Error('unsupported'))")
            served.append(f"rejected {method}")
            continue
        driver.execute_script("window.__ethQueue.shift().resolve(arguments[0])", result)
        served.append(method)
    return served


def _status(driver) -> str:
    try:
        found = driver.find_elements(By.ID, "autotrade-status")
        return found[0].text if found else ""
    except StaleElementReferenceException:  # the page reloaded meanwhile
        return ""


def test_a_browser_wallet_signs_the_bounds_and_the_revoke_in_the_wallet(chain, server, browser):
    wallet = Account.create()
    browser.delete_all_cookies()
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_WALLET})
    try:
        browser.get(server + "/auth/login")
        wait_for(browser, "#siwe-button").click()
        _play_wallet(browser, wallet, lambda d: d.current_url.endswith("/market"))
        browser.get(server + "/autotrade")
        wait_for(browser, "#autotrade-form")
        _fill(browser, {"min_sell_price_sen": "21", "max_buy_price_sen": "44", "daily_cap_myr": "2"})
        _click(browser, "autotrade-save")
        served = _play_wallet(browser, wallet, lambda d: _status(d) == "On")
        assert served == ["eth_requestAccounts", "eth_signTypedData_v4"]
        terms = MandateClient(chain.client).terms_of(wallet.address)
        assert (terms.min_sell_price, terms.max_buy_price, terms.daily_spend_cap) == (210_000, 440_000, 2_000_000)

        _click(browser, "autotrade-off")
        served = _play_wallet(browser, wallet, lambda d: _status(d) == "Off")
        assert served == ["eth_signTransaction"]  # signed in the wallet, relayed by the server
        assert MandateClient(chain.client).terms_of(wallet.address) is None
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": "1"})
        browser.delete_all_cookies()
