"""The language switch in a real browser: English by the browser's language, Malay after one click in the header,
remembered across pages and winning over the browser; and the Malay pages (longer words) still fit a phone."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.test_phone_and_a11y import PHONE, overflow, run_axe, set_width
from tests.browser.test_trading_in_browser import text_of, wait_for, wait_text

pytestmark = pytest.mark.slow
PAGES = ("/", "/auth/login", "/auth/signup", "/explorer", "/explorer/blocks", "/explorer/events")


def test_switch_to_malay_and_back(server, browser):
    driver = browser
    driver.delete_all_cookies()
    driver.get(server + "/explorer")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"  # headless Chromium asks en-US
    assert text_of(driver, "h1") == "Chain explorer"
    driver.find_element(By.ID, "lang-ms").click()
    wait_text(driver, "Penjelajah rantaian")
    assert driver.current_url == server + "/explorer"  # back to the page the switch was used on
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ms"
    driver.get(server + "/auth/login")  # remembered (a cookie), over the browser's English
    wait_text(driver, "Nama pengguna")
    assert text_of(driver, "#login-submit") == "Log masuk"
    assert driver.find_elements(By.ID, "lang-ms") == []  # the switch offers the other language only
    driver.find_element(By.ID, "lang-en").click()
    wait_text(driver, "Username")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_malay_pages_fit_a_phone_and_pass_axe(server, browser):
    driver = browser
    driver.delete_all_cookies()
    driver.get(server + "/")
    driver.add_cookie({"name": "lang", "value": "ms", "path": "/"})
    set_width(driver, PHONE)
    try:
        problems = {}
        for path in PAGES:
            driver.get(server + path)
            wait_for(driver, "html[lang=ms]")
            fit = overflow(driver)
            serious = [v["id"] for v in run_axe(driver) if v["impact"] in ("serious", "critical")]
            if fit["scroll"] > fit["viewport"] or serious:
                problems[path] = {**fit, "axe": serious}
        assert problems == {}
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.delete_all_cookies()


def test_the_script_speaks_malay_too(server, browser):
    """app.js (live total, order button, confirmation dialog) in Malay, for a demo household."""
    driver = browser
    driver.delete_all_cookies()
    driver.get(server + "/auth/login")
    driver.add_cookie({"name": "lang", "value": "ms", "path": "/"})
    driver.get(server + "/auth/login")
    driver.find_element(By.NAME, "username").send_keys("ben")
    driver.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait_text(driver, "Log keluar")
    try:
        driver.get(server + "/")
        form = wait_for(driver, "form.order-form")
        form.find_element(By.CSS_SELECTOR, "input[name=side][value=buy]").find_element(By.XPATH, "..").click()
        form.find_element(By.NAME, "price").send_keys("40")
        form.find_element(By.NAME, "amount").send_keys("1,5")
        assert form.find_element(By.CSS_SELECTOR, "[data-total]").text == "paling banyak RM 0.6000"
        assert form.find_element(By.ID, "place-order").text == "Buat pesanan beli"
        form.find_element(By.ID, "place-order").click()
        assert text_of(driver, "#confirm-title") == "Beli 1.5 kWh?"
        assert "ditahan daripada baki anda" in text_of(driver, "#confirm-body")
        driver.find_element(By.ID, "confirm-cancel").click()  # nothing is placed
    finally:
        driver.find_element(By.ID, "logout").click()
        driver.delete_all_cookies()
