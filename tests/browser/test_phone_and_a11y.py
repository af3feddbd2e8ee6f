"""Issue 14 in a real browser: every page at 390 px has no horizontal overflow, axe-core (npm, run inside the headless
Chromium) finds no serious or critical violation on any page at 1366 and 390 px, logged in and not; the menu works
from the keyboard; focus is visible; typed decimals, confirmations, notifications, kept input and the busy sign-up
behave as a new user expects. The axe counts go to reports/a11y.json."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.test_autotrade_in_browser import write_decisions
from tests.browser.test_trading_in_browser import log_in, log_out, sign_up, wait_for, wait_text

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REPORT = Path(os.environ.get("A11Y_REPORT") or ROOT / "reports" / "a11y.json")
WIDTHS = (1366, 390)
PHONE = 390
DOCS_IMG = ROOT / "docs" / "img"


def set_width(driver, width: int) -> None:
    """The layout viewport of a desktop or a phone (device metrics, so headless Chromium's window size is moot)."""
    metrics = {"width": width, "height": 844 if width < 600 else 900, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def overflow(driver) -> dict:
    """How far the page is wider than the viewport, and the widest elements that stick out."""
    return driver.execute_script("""
        const vw = document.documentElement.clientWidth;
        const wide = [];
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.width && r.right > vw + 1 && !el.closest('.table-wrap')) {
            const name = el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className;
            wide.push(name + ' ' + Math.round(r.right));
          }
        }
        return {viewport: vw, scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 8)};
    """)


def run_axe(driver) -> list[dict]:
    if not driver.execute_script("return typeof axe !== 'undefined'"):
        driver.execute_script(AXE.read_text())
    driver.set_script_timeout(60)
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').slice(0, 160))}))))
          .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
    """)
    return result


def _api_token(server, username: str) -> dict[str, str]:
    reply = requests.post(server + "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    return {"Authorization": "Bearer " + reply.json()["token"]}


def _activity(server) -> dict[str, str]:
    """One placement by a demo household (so the explorer has a transaction, a block and an address to show)."""
    r = requests.post(server + "/api/v1/orders", headers=_api_token(server, "ben"),
                      json={"side": "sell", "price_sen": "47", "amount_kwh": "0.5", "wait": True})  # fmt: skip
    assert r.status_code == 201, r.text
    tx = r.json()["tx_hash"]
    for _ in range(50):
        body = requests.get(server + "/explorer/tx/" + tx)
        if body.status_code == 200:
            break
        time.sleep(0.2)
    status = requests.get(server + "/api/v1/tx/" + tx).json()
    return {"tx": tx, "block": str(status["block"]), "order": str(r.json()["order_id"])}


def test_every_page_fits_a_phone_and_has_no_serious_accessibility_violation(chain, server, browser):
    found = _activity(server)
    anonymous = ["/", "/market", "/auction", "/explorer", "/explorer/blocks", "/explorer/events",
                 f"/explorer/tx/{found['tx']}", f"/explorer/block/{found['block']}", "/auth/login", "/auth/signup",
                 "/no/such/page", "/history", "/history?bucket=day", "/community",
                 f"/market/offer/{found['order']}"]  # fmt: skip
    household = ["/", "/market", "/auction", "/account", "/meter", "/autotrade", "/explorer",
                 f"/explorer/tx/{found['tx']}", "/account/trades", "/meter?by=day", "/meter?by=month", "/history",
                 "/community", "/profile", f"/market/offer/{found['order']}"]  # fmt: skip
    report: dict[str, dict] = {"tool": "axe-core 4.11.0 in headless Chromium", "pages": {}}
    problems: list[str] = []

    def check(state: str, paths: list[str]) -> None:
        for width in WIDTHS:
            set_width(browser, width)
            for path in paths:
                browser.get(server + path)
                wait_for(browser, "main")
                fit = overflow(browser)
                violations = run_axe(browser)
                counts: dict[str, int] = {}
                for v in violations:
                    counts[v["impact"] or "none"] = counts.get(v["impact"] or "none", 0) + 1
                report["pages"][f"{state} {width}px {path}"] = {
                    "scroll_width": fit["scroll"], "viewport": fit["viewport"], "violations": counts,
                    "serious_or_critical": [v for v in violations if v["impact"] in ("serious", "critical")],
                    "other": [f"{v['impact']}: {v['id']}" for v in violations
                              if v["impact"] not in ("serious", "critical")],
                }  # fmt: skip
                if width == PHONE and fit["scroll"] > fit["viewport"]:
                    problems.append(f"{state} {path} at {width}px is {fit['scroll']} px wide: {fit['wide']}")
                for v in violations:
                    if v["impact"] in ("serious", "critical"):
                        problems.append(f"{state} {width}px {path}: {v['impact']} {v['id']} ({v['help']}) {v['nodes']}")

    browser.delete_all_cookies()
    check("anonymous", anonymous)
    set_width(browser, 1366)
    log_in(browser, server, "aisyah", DEMO_PASSWORD)
    address = wait_for(browser, ".who").get_attribute("title")
    write_decisions(server.env["AGENT_LOG"], address)  # the automatic-trading page with the agent's log
    check("aisyah", [*household, f"/explorer/address/{address}"])
    set_width(browser, 1366)
    log_out(browser)
    log_in(browser, server, "operator", DEMO_PASSWORD)
    check("operator", ["/operator"])
    set_width(browser, 1366)
    log_out(browser)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    totals: dict[str, int] = {}
    for page in report["pages"].values():
        for impact, n in page["violations"].items():
            totals[impact] = totals.get(impact, 0) + n
    report["totals"] = totals
    report["pages_checked"] = len(report["pages"])
    report["max_scroll_width_at_390"] = max(p["scroll_width"] for k, p in report["pages"].items() if " 390px " in k)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    assert not problems, "\n".join(problems)


def test_menu_works_from_the_keyboard_and_says_its_state(server, browser):
    set_width(browser, PHONE)
    try:
        browser.get(server + "/market")
        toggle = wait_for(browser, "#nav-toggle")
        nav = browser.find_element(By.ID, "main-nav")
        assert toggle.tag_name == "button" and toggle.get_attribute("aria-expanded") == "false"
        assert toggle.accessible_name == "Menu"
        assert not nav.is_displayed()
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)  # the skip link
        browser.switch_to.active_element.send_keys(Keys.TAB)  # the brand
        browser.switch_to.active_element.send_keys(Keys.TAB)  # the menu button
        assert browser.switch_to.active_element.get_attribute("id") == "nav-toggle"
        browser.switch_to.active_element.send_keys(Keys.ENTER)
        assert toggle.get_attribute("aria-expanded") == "true" and nav.is_displayed()
        browser.switch_to.active_element.send_keys(Keys.TAB)
        assert browser.switch_to.active_element.text == "Market"  # the first link is next in the tab order
        browser.switch_to.active_element.send_keys(Keys.ESCAPE)
        assert toggle.get_attribute("aria-expanded") == "false" and not nav.is_displayed()
        # "Sign up" in the menu is readable (it was light text on orange, 1.62:1)
        toggle.click()
        colors = browser.execute_script("""
            const a = document.querySelector('.nav a.btn-primary'), s = getComputedStyle(a);
            return [s.color, s.backgroundColor];""")
        assert colors == ["rgb(28, 39, 51)", "rgb(245, 166, 35)"], colors
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_my_orders_keep_their_key_columns_on_a_phone(server, browser):
    r = requests.post(server + "/api/v1/orders", headers=_api_token(server, "grace"),
                      json={"side": "buy", "price_sen": "21", "amount_kwh": "0.05", "wait": True})  # fmt: skip
    assert r.status_code == 201, r.text
    browser.delete_all_cookies()
    log_in(browser, server, "grace", DEMO_PASSWORD)
    set_width(browser, PHONE)
    try:
        browser.get(server + "/market")
        row = wait_for(browser, "#my-orders tbody tr")
        width = browser.execute_script("return document.documentElement.clientWidth")
        for label in ("Price", "Amount", "Filled", "Status"):
            cell = row.find_element(By.CSS_SELECTOR, f"td[data-label={label}]")
            box = cell.rect
            assert cell.is_displayed() and box["x"] >= 0 and box["x"] + box["width"] <= width, (label, box)
        cancel = row.find_element(By.CSS_SELECTOR, "button.btn-danger")
        assert cancel.is_displayed() and cancel.rect["x"] + cancel.rect["width"] <= width
        assert "21.00 sen/kWh" in row.text and "open" in row.text
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        log_out(browser)


def test_home_latest_trades_are_not_clipped(server, browser):
    browser.delete_all_cookies()
    log_in(browser, server, "elena", DEMO_PASSWORD)
    set_width(browser, 1366)
    try:
        browser.get(server + "/")
        wrap = wait_for(browser, "#latest-trades .table-wrap")
        sizes = browser.execute_script("return [arguments[0].scrollWidth, arguments[0].clientWidth]", wrap)
        assert sizes[0] <= sizes[1], sizes
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        log_out(browser)


def test_focus_on_buy_and_sell_is_visible(server, browser):
    browser.delete_all_cookies()
    log_in(browser, server, "elena", DEMO_PASSWORD)
    browser.get(server + "/market")
    buy = wait_for(browser, "form.order-form input[value=buy]")
    browser.execute_script("arguments[0].focus()", buy)
    buy.send_keys(Keys.ARROW_RIGHT)  # keyboard: moves to Sell and focuses it
    outline = browser.execute_script("""
        const l = document.querySelector('form.order-form input[value=sell]').closest('label'), s = getComputedStyle(l);
        return [document.activeElement.value, s.outlineStyle, s.outlineWidth];""")
    assert outline[0] == "sell" and outline[1] != "none" and outline[2] != "0px", outline
    log_out(browser)


def _order(driver, side: str, price: str, amount: str) -> None:
    form = wait_for(driver, "form.order-form")
    form.find_element(By.CSS_SELECTOR, f"input[name=side][value={side}]").find_element(By.XPATH, "..").click()
    for name, value in (("price", price), ("amount", amount)):
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(By.ID, "place-order").click()


def test_decimal_commas_confirmations_and_kept_input(chain, server, browser):
    browser.delete_all_cookies()
    sign_up(browser, server, "koma")
    # a top-up of "1,5" is RM 1.50 (it was RM 15), and zero is refused before anything is sent
    amount = browser.find_element(By.ID, "topup-amount")
    amount.send_keys("1,5")
    browser.find_element(By.ID, "topup-submit").click()
    assert wait_for(browser, "#confirm-dialog[open]").find_element(By.ID, "confirm-title").text == "Top up RM 1.50?"
    browser.find_element(By.ID, "confirm-ok").click()
    wait_text(browser, "Topped up RM 1.50.")
    amount = browser.find_element(By.ID, "topup-amount")
    amount.send_keys("0")
    browser.find_element(By.ID, "topup-submit").click()
    assert not browser.find_elements(By.CSS_SELECTOR, "#confirm-dialog[open]")
    assert browser.execute_script("return arguments[0].validity.valid", amount) is False

    # "1,5" kWh is 1.5 kWh in the dialog and on the server
    browser.get(server + "/market")
    assert wait_for(browser, "form.order-form input[value=buy]").is_selected()  # a consumer starts on Buy
    _order(browser, "buy", "40", "1,5")
    dialog = wait_for(browser, "#confirm-dialog[open]")
    assert dialog.find_element(By.ID, "confirm-title").text == "Buy 1.5 kWh?"
    assert "up to 40 sen/kWh" in dialog.text and "at most RM 0.6000" in dialog.text
    browser.find_element(By.ID, "confirm-cancel").click()

    # the sell confirmation reads right ("at at least" is gone)
    _order(browser, "sell", "41", "2")
    dialog = wait_for(browser, "#confirm-dialog[open]")
    assert "Sell 2 kWh at no less than 41 sen/kWh" in dialog.text and "at at" not in dialog.text
    # a refused order keeps what the user typed, and the side
    browser.find_element(By.ID, "confirm-ok").click()
    wait_text(browser, "Insufficient balance")
    form = wait_for(browser, "form.order-form")
    assert form.find_element(By.CSS_SELECTOR, "input[value=sell]").is_selected()
    assert form.find_element(By.NAME, "price").get_attribute("value") == "41"
    assert form.find_element(By.NAME, "amount").get_attribute("value") == "2"

    # a buy at 500 sen/kWh (10x the grid retail price) is warned about and needs a tick
    _order(browser, "buy", "500", "0.01")
    wait_for(browser, "#confirm-dialog[open] #unusual-price")
    wait_text(browser, "10.0\u00d7 the grid retail price")  # the warning slides in (opacity 0 → 1: no text before)
    ok = browser.find_element(By.ID, "confirm-ok")
    assert not ok.is_enabled()
    browser.find_element(By.ID, "confirm-unusual").click()
    assert ok.is_enabled()
    browser.find_element(By.ID, "confirm-cancel").click()
    log_out(browser)


# Pages poll for the user's new trades every 10 s (static/js/app.js); this test's pages poll every second instead, and
# the test waits for polls to have been answered rather than sleeping through 10 s ones.
FAST_TRADE_POLLS = """const every = window.setInterval;
window.setInterval = (fn, ms, ...rest) => every(fn, ms === 10000 ? 1000 : ms, ...rest);"""


def _trade_polls(driver) -> int:
    """How many of this page's polls for the user's trades have been answered."""
    return driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/market/trades')).length"
    )


def _after_a_poll(driver) -> None:
    """Wait until a poll that started after this call has been answered and handled (two answers: the first may
    have been in flight already; the second starts a second after the first was handled)."""
    seen = _trade_polls(driver)
    WebDriverWait(driver, 30).until(lambda d: _trade_polls(d) >= seen + 2)


def test_trade_notifications_say_what_happened_once_and_stay_in_view(chain, server, browser):
    fast = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAST_TRADE_POLLS})
    try:
        _trade_notifications_say_what_happened_once_and_stay_in_view(chain, server, browser)
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": fast["identifier"]})


def _trade_notifications_say_what_happened_once_and_stay_in_view(chain, server, browser) -> None:
    browser.delete_all_cookies()
    buyer = sign_up(browser, server, "nota")
    chain.top_up(buyer, 5_000_000)
    browser.get(server + "/explorer")  # a long page, scrolled to its end
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    # the buyer bids through the API (its own token); a demo household sells into the bid if nothing filled it yet
    login = requests.post(server + "/api/v1/auth/login", json={"username": "nota", "password": "sunny-rooftop-42"})
    bid = {"Authorization": "Bearer " + login.json()["token"]}
    r = requests.post(server + "/api/v1/orders", headers=bid,
                      json={"side": "buy", "price_sen": "49", "amount_kwh": "0.3", "wait": True})  # fmt: skip
    assert r.status_code == 201, r.text
    if r.json()["filled_wh"] < 300:
        r = requests.post(server + "/api/v1/orders", headers=_api_token(server, "chandra"),
                          json={"side": "sell", "price_sen": "45", "amount_kwh": "0.3", "wait": True})  # fmt: skip
        assert r.status_code == 201 and r.json()["filled_wh"] >= 1, r.text

    # a toast slides in from opacity 0 (0.25 s): WebDriver reads its text only once it is visible
    toast = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: [t for t in d.find_elements(By.CSS_SELECTOR, "#toasts .flash") if t.text.strip()] or None
    )
    text = toast[0].text
    assert "Trade: you bought" in text and "sold" not in text, text
    in_view = browser.execute_script(
        """const r = arguments[0].getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;""",
        toast[0],
    )
    assert in_view
    shown = len(browser.find_elements(By.CSS_SELECTOR, "#toasts .flash"))
    _after_a_poll(browser)  # one more poll: the same trades are not announced again
    assert len(browser.find_elements(By.CSS_SELECTOR, "#toasts .flash")) == shown
    browser.get(server + "/account")  # a new page starts after the trades it already shows
    wait_for(browser, "main")
    _after_a_poll(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "#toasts .flash")
    log_out(browser)


def test_back_after_logout_does_not_show_the_account_and_sign_up_shows_progress(server, browser):
    browser.delete_all_cookies()
    log_in(browser, server, "farid", DEMO_PASSWORD)
    browser.get(server + "/account")
    wait_for(browser, "#wallet-address")
    log_out(browser)
    browser.back()
    wait_for(browser, "main h1")
    assert not browser.find_elements(By.ID, "wallet-address"), browser.current_url  # reloaded: log in first
    browser.get(server + "/auth/signup")
    state = browser.execute_script("""
        const f = document.getElementById('signup-form');
        f.username.value = 'busybee'; f.password.value = 'sunny-rooftop-42'; f.confirm.value = 'sunny-rooftop-42';
        f.requestSubmit(document.getElementById('signup-submit'));
        return [f.getAttribute('aria-busy'), document.getElementById('signup-submit').textContent];""")
    assert state[0] == "true" and "Creating your wallet" in state[1], state
    wait_for(browser, "#wallet-address")
    log_out(browser)


def test_phone_screenshots_for_the_docs(server, browser):
    """Three 390 px pictures for docs/webapp.md (docs/img/)."""
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    browser.delete_all_cookies()
    log_in(browser, server, "aisyah", DEMO_PASSWORD)
    set_width(browser, PHONE)
    try:
        for name, path in (("phone-market", "/market"), ("phone-account", "/account"), ("phone-explorer", "/explorer")):
            browser.get(server + path)
            wait_for(browser, "main h1")
            height = min(browser.execute_script("return document.documentElement.scrollHeight"), 2400)
            metrics = {"width": PHONE, "height": height, "deviceScaleFactor": 1, "mobile": True}
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            browser.save_screenshot(str(DOCS_IMG / f"{name}.png"))
            set_width(browser, PHONE)
            assert (DOCS_IMG / f"{name}.png").stat().st_size > 10_000
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        log_out(browser)
