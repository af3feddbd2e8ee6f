"""Two people sign up in a real browser; one sells, the other buys the matching amount; both see the trade in
their accounts and in the explorer. Screenshots of the main pages go to docs/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "sunny-rooftop-42"


def wait_for(driver, css: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_text(driver, text: str, timeout: float = 20) -> None:
    try:
        WebDriverWait(driver, timeout).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)
    except Exception as exc:  # say what the page showed instead
        body = driver.find_element(By.TAG_NAME, "body").text[:1500]
        raise AssertionError(f"{text!r} not on {driver.current_url}: {body}") from exc


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
    trades = wait_for(browser, "#my-trades").text
    assert "bought" in trades and "1.500 kWh" in trades and "42.00 sen/kWh" in trades and "sella" in trades
    screenshot(browser, "account")

    # the explorer finds the buyer by address and shows the decoded fill
    browser.get(server + "/explorer")
    browser.find_element(By.ID, "explorer-search").send_keys(buyer_address)
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    wait_for(browser, "#address-value")
    events = browser.find_element(By.ID, "events-table").text
    assert "OrderFilled" in events and "OrderPlaced" in events
    assert "placeOrder" in browser.find_element(By.ID, "tx-table").text
    log_out(browser)

    # the seller sees the sale, and the unfilled 0.5 kWh still resting (partial fill)
    log_in(browser, server, "sella")
    browser.get(server + "/account")
    assert "sold" in wait_for(browser, "#my-trades").text and "bayu" in browser.find_element(By.ID, "my-trades").text
    orders = browser.find_element(By.ID, "my-orders").text
    assert "partial" in orders and "1.500 kWh" in orders
    browser.get(server + f"/explorer/address/{seller_address}")
    assert "OrderFilled" in wait_for(browser, "#events-table").text


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


def test_screenshots_of_the_main_pages(server, browser):
    server.run_bot(16)  # some market activity from the demo households, so the pages show a living market
    log_in(browser, server, "aisyah", DEMO_PASSWORD)
    for name, path in (("home", "/"), ("market", "/market"), ("auction", "/auction"), ("meter", "/meter"),
                       ("explorer", "/explorer")):  # fmt: skip
        browser.get(server + path)
        wait_for(browser, "main h1")
        screenshot(browser, name)
    browser.get(server + "/market")
    wait_for(browser, "main h1")
    browser.set_window_size(390, 844)  # a phone
    browser.save_screenshot(str(SHOTS / "market-phone.png"))
    browser.set_window_size(1280, 900)
    log_out(browser)
    log_in(browser, server, "operator", DEMO_PASSWORD)
    browser.get(server + "/operator")
    assert "DEMO-MTR-001" in wait_for(browser, "#meters-table").text
    screenshot(browser, "operator")
    for name in ("home", "market", "auction", "meter", "explorer", "operator", "account", "market-phone"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000, name
