"""The market's "Buy from this offer" dialog in a real browser (headless Chromium against the real server): it opens
as a modal <dialog> with focus on the amount, Escape closes it and gives focus back to the link that opened it, it
fits a phone, and confirming buys from that order and says what was filled; the profile page's keystore download is
a file."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from energy_chain.orders import OrderBookClient
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.test_phone_and_a11y import PHONE, set_width
from tests.browser.test_trading_in_browser import (
    FAKE_WALLET,
    answer_wallet,
    funded_browser_wallet,
    log_in,
    log_out,
    text_of,
    wait_for,
    wait_text,
)

pytestmark = pytest.mark.slow


def _sell(server, username: str, price_sen: str, kwh: str) -> int:
    token = requests.post(server + "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    r = requests.post(server + "/api/v1/orders", headers={"Authorization": "Bearer " + token.json()["token"]},
                      json={"side": "sell", "price_sen": price_sen, "amount_kwh": kwh, "wait": True})  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["order_id"])


def _active_id(driver) -> str:
    return driver.execute_script("return document.activeElement && document.activeElement.id")


def test_buy_from_this_offer_dialog(chain, server, browser):
    order_id = _sell(server, "ben", "21", "0.4")  # the best ask: just above the feed-in tariff
    browser.delete_all_cookies()
    log_in(browser, server, "elena", DEMO_PASSWORD)
    try:
        browser.get(server + "/market")
        row = wait_for(browser, f'#offers-asks tr[data-order="{order_id}"]')
        assert "ben" in row.text and "0.400 kWh" in row.text
        link = row.find_element(By.ID, f"take-{order_id}")
        assert link.get_attribute("href").endswith(f"/market/offer/{order_id}")  # works without JavaScript
        link.click()
        dialog = wait_for(browser, "#offer-dialog[open]")
        WebDriverWait(browser, 10).until(lambda d: _active_id(d) == "offer-amount")
        assert f"Buy from offer #{order_id}" in dialog.text and "fill first, at their own better price" in dialog.text
        assert browser.execute_script("return document.getElementById('offer-dialog').matches(':modal')")
        browser.switch_to.active_element.send_keys(Keys.ESCAPE)
        WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#offer-dialog[open]"))
        assert _active_id(browser) == f"take-{order_id}"  # focus went back to the link that opened it

        set_width(browser, PHONE)
        browser.find_element(By.ID, f"take-{order_id}").click()
        wait_for(browser, "#offer-dialog[open]")
        box = browser.execute_script("""const r = document.getElementById('offer-confirm').getBoundingClientRect();
            const d = document.getElementById('offer-dialog').getBoundingClientRect();
            return {left: d.left, right: d.right, button: r.bottom, width: document.documentElement.clientWidth,
                    scroll: document.documentElement.scrollWidth, height: window.innerHeight};""")
        assert box["left"] >= 0 and box["right"] <= box["width"] == box["scroll"], box  # fits, page does not widen
        assert box["button"] <= box["height"], box  # the confirm button is in view
        amount = browser.find_element(By.ID, "offer-amount")
        WebDriverWait(browser, 10).until(lambda d: _active_id(d) == "offer-amount")
        amount.clear()
        amount.send_keys("0.25")
        browser.find_element(By.ID, "offer-confirm").click()
        wait_text(browser, f"Bought 0.250 kWh from order #{order_id} at 21.00 sen/kWh.")
        row = wait_for(browser, f'#offers-asks tr[data-order="{order_id}"]')
        assert "0.150 kWh" in row.text  # what is left of ben's order
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        log_out(browser)


def test_a_browser_wallet_buys_from_this_offer_signing_in_its_wallet(chain, server, browser):
    """The same dialog for a browser wallet: the server prepares the taker order, the wallet signs it, the server
    relays it and says from the receipt what was filled; nothing of the wallet's order rests in the book."""
    order_id = _sell(server, "ben", "21", "0.3")
    wallet = funded_browser_wallet(chain)

    browser.delete_all_cookies()
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_WALLET})["identifier"]
    try:
        browser.get(server + "/auth/login")
        wait_for(browser, "#siwe-button").click()
        answer_wallet(browser, wallet, lambda d: d.current_url.endswith("/market"))
        wait_for(browser, f"#take-{order_id}").click()
        dialog = wait_for(browser, "#offer-dialog[open]")
        assert "Your wallet asks you to sign this order" in dialog.text
        amount = browser.find_element(By.ID, "offer-amount")
        amount.clear()
        amount.send_keys("0.3")
        browser.find_element(By.ID, "offer-confirm").click()
        served = answer_wallet(browser, wallet, lambda d: f"from order #{order_id} at 21.00 sen/kWh" in d.find_element(
            By.TAG_NAME, "body").text)  # fmt: skip
        assert served == ["eth_signTransaction"]  # all filled at once: no rest, so no cancel to sign
        assert "Bought" in text_of(browser, "#flashes")
        assert OrderBookClient(chain.client).open_orders(wallet.address) == []
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script})
        browser.delete_all_cookies()


def test_profile_page_warns_and_changes_the_display_name(server, browser):
    browser.delete_all_cookies()
    log_in(browser, server, "farid", DEMO_PASSWORD)
    try:
        browser.find_element(By.ID, "nav-profile").click()
        wait_for(browser, "#lost-password-warning")
        # Flashes slide in from opacity 0 (0.25 s): WebDriver reads no text until they are visible.
        wait_text(browser, "if you lose your password, you lose the wallet")
        field = browser.find_element(By.ID, "display_name")
        field.clear()
        field.send_keys("Farid's flat")
        browser.find_element(By.ID, "display-name-submit").click()
        wait_text(browser, "Display name saved")
    finally:
        log_out(browser)
