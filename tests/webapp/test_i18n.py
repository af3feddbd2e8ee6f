"""English and Malay: chosen by the browser's language, or by the switch (a cookie) which wins over it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from scripts import merge_translations
from scripts.merge_translations import placeholders
from webapp.errors import UserError
from webapp.extensions import db
from webapp.formatting import round_window, timefmt, zone
from webapp.i18n import duration, localize, term
from webapp.models import ChainTx, User
from webapp.text import Text
from webapp.units import fmt_kwh, fmt_myr


def test_browser_language_picks_malay(client):
    page = client.get("/", headers={"Accept-Language": "ms-MY,ms;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ms">' in page
    assert ">Pasaran</a>" in page and ">Market</a>" not in page


def test_english_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and ">Market</a>" in page


def test_switch_sets_cookie_and_returns_to_the_page(client):
    r = client.post("/language", data={"lang": "ms", "next": "/market?x=1"})
    assert r.status_code == 302 and r.headers["Location"] == "/market?x=1"
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">Pasaran</a>" in page  # the switch wins over the browser's language
    r = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert r.headers["Location"] == "/"  # never to another site
    assert ">Market</a>" in client.get("/").get_data(as_text=True)


def test_unknown_language_is_refused_with_a_message(client):
    r = client.post("/language", data={"lang": "xx"}, follow_redirects=True)
    assert "Unknown language" in r.get_data(as_text=True)
    assert "lang=xx" not in (r.request.headers.get("Cookie") or "")
    r = client.post("/language", data={"lang": "xx"}, headers={"Accept": "application/json"})
    assert r.status_code == 400 and "Unknown language" in r.get_json()["error"]["message"]


# ------------------------------------------------------------------ the whole UI in Malay (pages of the i18n helper)

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "webapp" / "translations" / "ms" / "LC_MESSAGES" / "messages.po"
MALAY = {"Accept-Language": "ms-MY,ms;q=0.9"}
# Attributes people read or hear (tooltips, placeholders, screen readers, confirmation dialogs).
_READ_ATTRS = {"title", "placeholder", "aria-label", "data-message", "alt"}


def _catalogue():
    with PO.open("rb") as f:
        return read_po(f)


def _english_msgids() -> set[str]:
    """Every msgid whose Malay differs from the English: seeing one of these on a Malay page is a leftover."""
    return {m.id for m in _catalogue() if m.id and m.string and m.string != m.id}


class _Texts(HTMLParser):
    """The text nodes and read-aloud attributes of a page (not scripts or styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.texts.extend(v.strip() for k, v in attrs if k in _READ_ATTRS and v)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _leftover_english(page: str) -> set[str]:
    parser = _Texts()
    parser.feed(page)
    english = _english_msgids()
    texts = set(parser.texts)
    shown = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)  # the script's strings are keys of #messages
    # a whole text node that is an English msgid, or a long one anywhere in the page outside scripts
    return {t for t in texts if t in english} | {
        e for e in english if len(e) > 25 and "%(" not in e and "{" not in e and e in shown
    }


def _malay_page(client, path: str, status: int = 200) -> str:
    r = client.get(path, headers=MALAY)
    assert r.status_code == status, (path, r.status_code)
    page = r.get_data(as_text=True)
    assert '<html lang="ms">' in page, path
    assert _leftover_english(page) == set(), path
    return page


def test_catalogue_is_complete_and_up_to_date(tmp_path):
    """Every string the code marks is in the catalogue, translated, not fuzzy, with the msgid's placeholders: a new
    `_()` / Text / UserError string fails here until `make translations-extract` and its Malay are added."""
    mk = (ROOT / "mk" / "i18n.mk").read_text()
    keywords = [arg for k in re.findall(r"-k (\S+)", mk) for arg in ("-k", k)]
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "--quiet", "extract", "-F", "webapp/babel.cfg",
                    *keywords, "-o", str(pot), "webapp"], cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    catalogue = _catalogue()
    have = {m.id: m for m in catalogue if m.id}
    assert sorted(wanted - set(have)) == [], "run `make translations-extract` and translate the new strings"
    assert [m.id for m in have.values() if not m.string] == [], "untranslated"
    assert [m.id for m in have.values() if m.fuzzy] == [], "fuzzy (check the guess, then drop the flag)"
    assert [m.id for m in have.values() if placeholders(m.id) != placeholders(m.string)] == []
    assert not list(catalogue.obsolete), "obsolete entries (#~): remove them"
    assert len(have) >= 300


def test_public_pages_render_in_malay(client):
    home = _malay_page(client, "/")
    assert "Jual lebihan tenaga solar anda kepada jiran." in home and "Cipta akaun" in home
    assert "harga dalam sen/kWh" in home  # the footer: units stay sen/kWh, kWh and RM
    login = _malay_page(client, "/auth/login")
    assert "Nama pengguna" in login and "Kata laluan" in login and ">Log masuk</button>" in login
    signup = _malay_page(client, "/auth/signup")
    assert "Cipta akaun anda" in signup and "Ulang kata laluan" in signup and "Sekurang-kurangnya 12 aksara" in signup
    explorer = _malay_page(client, "/explorer")
    assert "Penjelajah rantaian" in explorer and "Blok terkini" in explorer
    _malay_page(client, "/explorer/blocks")
    _malay_page(client, "/explorer/events")
    missing = _malay_page(client, "/explorer?q=not-a-thing", 404)
    assert "Tiada apa-apa dijumpai untuk “not-a-thing”" in missing
    error = _malay_page(client, "/no/such/page", 404)
    assert "Tidak dijumpai" in error and "Tiada apa-apa di alamat ini." in error


def test_signed_in_pages_and_operator_render_in_malay(app, chain, users):
    client = app.test_client()
    name = users.signup(client)
    address = users.address(name)
    with app.app_context():
        db.session.scalar(select(User).where(User.username == name)).is_operator = True
        db.session.commit()
    chain.mint_energy(address, 900)
    users.index()
    home = _malay_page(client, "/")
    assert "Pesanan pantas" in home and "Buat pesanan" in home and "Dagangan terkini" in home
    operator = _malay_page(client, "/operator")
    assert "Tarif grid" in operator and "Daftar meter" in operator and "Nombor siri meter" in operator
    with app.app_context():
        tx = db.session.scalar(select(ChainTx).where(ChainTx.method == "recordReading")
                               .order_by(ChainTx.block_number.desc()))  # fmt: skip
    tx_page = _malay_page(client, f"/explorer/tx/{tx.hash}")
    assert "Gas digunakan" in tx_page and "berjaya" in tx_page and "(unit asas)" in tx_page
    assert "Peristiwa yang menyebut alamat ini" in _malay_page(client, f"/explorer/address/{address}")
    assert f"Blok {tx.block_number}" in _malay_page(client, f"/explorer/block/{tx.block_number}")
    users.lock_wallet(name)
    assert "Buka kunci dompet anda" in _malay_page(client, "/auth/unlock")
    # a contract's refusal (a BraceText from the revert table) is shown in Malay on the page
    serial = chain.register_meter(address)
    r = client.post("/operator/meters", data={"serial": serial, "owner": name}, headers=MALAY, follow_redirects=True)
    assert "Meter itu sudah didaftarkan." in r.get_data(as_text=True)


def test_flashes_and_form_errors_are_in_malay(app, users):
    client = app.test_client()
    r = client.post("/auth/login", data={"username": "nobody-here", "password": "wrong password!"}, headers=MALAY)
    page = r.get_data(as_text=True)
    assert r.status_code == 401 and "Nama pengguna atau kata laluan salah." in page
    assert "Wrong username or password." not in page
    r = client.post(
        "/auth/signup",
        headers=MALAY,
        data={"username": "x", "password": "correct horse battery", "confirm": "other horse battery"},
    )
    page = r.get_data(as_text=True)
    assert "3 hingga 32 huruf, digit, titik, sempang atau garis bawah" in page and "Kata laluan tidak sepadan" in page
    r = client.post("/auth/signup", headers=MALAY, data={"username": "shortpw", "password": "abc", "confirm": "abc"})
    assert "Gunakan sekurang-kurangnya 12 aksara" in r.get_data(as_text=True)
    users.signup(client)
    r = client.post("/market/order", data={"side": "buy", "price": "abc", "amount": "1"}, headers=MALAY,
                    follow_redirects=True)  # fmt: skip
    assert "Harga mestilah nombor seperti 1.5 atau 1,5" in r.get_data(as_text=True)  # InvalidAmount, nested Text
    r = client.post("/market/order", data={"side": "buy", "price": "600", "amount": "1"}, headers=MALAY,
                    follow_redirects=True)  # fmt: skip
    assert "Harga mestilah paling tinggi 500 sen/kWh" in r.get_data(as_text=True)
    r = client.post("/market/order", data={"side": "buy", "price": "", "amount": "1"}, headers=MALAY,
                    follow_redirects=True)  # fmt: skip
    assert "Harga (sen/kWh): Masukkan harga" in r.get_data(as_text=True)  # a WTForms label and message, lazily
    r = client.post("/auth/logout", headers=MALAY, follow_redirects=True)
    assert "Anda telah log keluar." in r.get_data(as_text=True)


def test_api_errors_stay_english_whatever_the_language(client):
    """API clients parse messages: the JSON body is English even for a Malay browser or the Malay switch."""
    client.set_cookie("lang", "ms")
    r = client.post("/api/v1/auth/login", json={"username": "nobody-here", "password": "wrong password!"},
                    headers=MALAY)  # fmt: skip
    assert r.status_code == 401 and r.get_json()["error"]["message"] == "Wrong username or password."
    r = client.post("/api/v1/auth/signup", json={"username": "shortpw2", "password": "abc"}, headers=MALAY)
    assert r.get_json()["error"]["message"].startswith("Password: Use at least 12 characters")
    r = client.get("/api/v1/no-such-thing", headers=MALAY)
    assert r.status_code == 404 and r.get_json()["error"]["message"] == "There is nothing at this address."
    assert "Tiada apa-apa" in client.get("/no-such-thing").get_data(as_text=True)  # the page, though, is Malay


def test_text_is_english_for_code_and_malay_for_pages(app):
    message = Text("Amount must be at most %(max)s kWh", max=1000)
    assert message == "Amount must be at most 1000 kWh" and json.dumps(message) == '"Amount must be at most 1000 kWh"'
    nested = Text("%(what)s must be a number", what=Text("Price"))
    with app.test_request_context(headers=MALAY):
        assert localize(message) == "Jumlah mestilah paling banyak 1000 kWh"
        assert localize(nested) == "Harga mestilah nombor"
        assert localize("not a msgid") == "not a msgid"
        assert UserError(message).localized() == "Jumlah mestilah paling banyak 1000 kWh"
        assert term("cancelled") == "dibatalkan" and term("weird") == "weird"
    with app.test_request_context():
        assert localize(nested) == "Price must be a number"


def test_dates_follow_the_language_numbers_keep_the_point(app):
    start = int(datetime(2026, 12, 1, 11, 48, tzinfo=UTC).timestamp())
    tz = zone("Asia/Kuala_Lumpur")
    with app.test_request_context(headers=MALAY):
        assert round_window(start, 180, tz) == "19:48\u201319:51 UTC+8, 1 Dis"
        assert round_window(start, None, tz) == "dari 19:48 UTC+8, 1 Dis"
        assert timefmt(start, tz) == "2026-12-01 19:48:00 UTC+8"  # numeric: the same in both languages
        assert fmt_kwh(1500) == "1.500 kWh" and fmt_myr(12_500_000) == "RM 12.50"  # '.' decimal in both
    with app.test_request_context():
        assert round_window(start, 180, tz) == "19:48\u201319:51 UTC+8, 1 Dec"


def test_durations_follow_the_language(app):
    with app.test_request_context(headers=MALAY):
        assert duration(75) == "1 min 15 saat" and duration(3 * 86400 + 4 * 3600) == "3 hari 4 jam"
    with app.test_request_context():
        assert duration(75) == "1 min 15 s" and duration(3 * 86400 + 4 * 3600) == "3 d 4 h"
    assert duration(0) == "0 s"  # outside a request (logs, the CLI): English


# ------------------------------------------------------------------ scripts/merge_translations.py

_PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Language: ms\\n"

msgid "Place order"
msgstr ""

msgid "Order #%(id)s placed."
msgstr ""

#, fuzzy
msgid "Cancel"
msgstr "Batalkan guess"

msgid "Market"
msgstr "Pasaran"

msgid "No order {orderId}."
msgstr ""
"""


def test_merge_translations_merges_checks_and_deletes(tmp_path):
    po = tmp_path / "messages.po"
    po.write_text(_PO, encoding="utf-8")
    good = tmp_path / "ms-profile.json"
    entries = {"Place order": "Buat pesanan", "Order #%(id)s placed.": "Pesanan #%(id)s dibuat.", "Cancel": "Batal",
               "Market": "Pasar", "No order {orderId}.": "Tiada pesanan {orderId}."}  # fmt: skip
    good.write_text(json.dumps(entries), encoding="utf-8")
    unknown = tmp_path / "ms-typo.json"
    unknown.write_text(json.dumps({"Plaec order": "Buat pesanan"}), encoding="utf-8")
    broken = tmp_path / "ms-broken.json"
    broken.write_text(json.dumps({"Order #%(id)s placed.": "Pesanan dibuat."}), encoding="utf-8")
    other = tmp_path / "notes.json"  # not ms-*.json: not touched
    other.write_text("{}", encoding="utf-8")

    assert merge_translations.main(["--no-extract", "--po", str(po), "--json-dir", str(tmp_path)]) == 1
    with po.open("rb") as f:
        merged = {m.id: m for m in read_po(f) if m.id}
    assert merged["Place order"].string == "Buat pesanan"
    assert merged["Order #%(id)s placed."].string == "Pesanan #%(id)s dibuat."  # not the broken file's
    assert merged["Cancel"].string == "Batal" and not merged["Cancel"].fuzzy  # a fuzzy guess is replaced
    assert merged["Market"].string == "Pasaran"  # a reviewed translation is kept (and reported)
    assert merged["No order {orderId}."].string == "Tiada pesanan {orderId}."
    assert not good.exists() and unknown.exists() and broken.exists() and other.exists()

    report = merge_translations.merge(po, tmp_path)  # the kept files still have their problems
    assert any("Plaec order" in p for p in report.problems) and any("placeholders" in p for p in report.problems)
    unknown.unlink()
    broken.write_text(json.dumps({"Order #%(id)s placed.": "Pesanan #%(id)s telah dibuat."}), encoding="utf-8")
    assert merge_translations.main(["--no-extract", "--po", str(po), "--json-dir", str(tmp_path)]) == 0
    assert not broken.exists()


def test_the_dashboard_script_gets_its_malay_strings(client):
    """base.html hands app.js the translations of its _() msgids (and the stored words it shows) in #messages."""
    english = client.get("/auth/login").get_data(as_text=True)
    assert 'id="messages"' not in english
    page = client.get("/auth/login", headers=MALAY).get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="messages">(.*?)</script>', page)
    messages = json.loads(found.group(1))
    assert messages["Please confirm"] == "Sila sahkan" and messages["Buy %(amount)s kWh?"] == "Beli %(amount)s kWh?"
    assert messages["book"] == "buku pesanan"  # a trade's venue in the live notification
    assert "<" not in found.group(1)  # tojson escapes markup: the HTML of the dialog body cannot end the script


def test_services_speak_english_outside_a_request(app):
    """The demo bot, the auction keeper and the CLI call services with no request: their messages are English
    (the locale selector used to read request cookies there and raised 'Working outside of request context')."""
    from webapp.services import trading

    with app.app_context():
        assert trading._not_waited("0x" + "ab" * 32).startswith("Sent; not mined yet.")


_ENGLISH_WORDS = re.compile(r"(?<![\w-])(the|and|your|yours|of|to|in|at|for|from|with|yet|no|not|is|are|my|by|round|"
                            r"order|orders)(?![\w-])", re.I)  # fmt: skip


def _english_left(page: str) -> set[str]:
    """Text nodes with common English words: catches text nobody marked for translation (not in the catalogue)."""
    parser = _Texts()
    parser.feed(page)
    return {t for t in parser.texts if _ENGLISH_WORDS.search(t)}


def test_trading_pages_render_in_malay(app, chain, users):
    """The market, the auction, my account and my meter in Malay: headings, tables, forms, hints, chart labels."""
    guest = app.test_client()
    market = _malay_page(guest, "/market")
    assert "buku pesanan berterusan" in market and "untuk berdagang." in market and "Belum ada data" in market
    assert "untuk membida." in _malay_page(guest, "/auction")
    seller_c, buyer_c = app.test_client(), app.test_client()
    for c in (seller_c, buyer_c):
        c.set_cookie("lang", "ms")  # the flashes of the posts below are in Malay too
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 3000)
    chain.top_up(users.address(buyer), 5_000_000)
    seller_c.post("/market/order", data={"side": "sell", "price": "41", "amount": "1"})
    users.index()
    pages = {}
    market = pages["/market"] = _malay_page(seller_c, "/market")
    assert "Buat pesanan" in market and "Bidaan (beli)" in market and "Pesanan terbuka saya" in market
    assert "kWh kumulatif" in market and "harga (sen/kWh)" in market and "Dagangan terkini" in market
    account = _malay_page(seller_c, "/account")
    assert "Tenaga" in account and "Wang" in account and "Jagaan: kunci disulitkan dengan kata laluan anda" in account
    assert "lagi ditahan dalam pesanan jual terbuka" in account and "Log keluar di semua tempat (1 sesi)" in account
    buyer_c.post("/market/order", data={"side": "buy", "price": "41", "amount": "1"})
    for order_id in re.findall(r'name="order_id" value="(\d+)"', seller_c.get("/account").get_data(as_text=True)):
        seller_c.post("/market/cancel", data={"order_id": order_id})  # nothing of this test rests in the book
    users.index()
    auction = pages["/auction"] = _malay_page(seller_c, "/auction")
    assert "Pusingan semasa" in auction and "Ditutup dalam" in auction and "Julat grid" in auction
    assert "Hantar ke pusingan ini" in auction and "Pusingan terkini" in auction
    assert re.search(r"satu pusingan setiap \d+ (min|saat|jam)", auction)
    account = pages["/account"] = _malay_page(seller_c, "/account")
    assert "Sejarah pesanan" in account and ">Dagangan saya<" in account
    assert ">dibeli</span>" in _malay_page(buyer_c, "/account")
    meter = pages["/meter"] = _malay_page(seller_c, "/meter")
    assert "Semua meter saya" in meter and "Dieksport (dicetak)" in meter and "Permulaan selang" in meter
    assert "selang terakhir yang telah diselesaikan" in meter and "permulaan selang (UTC)" in meter
    assert "Lebihan dieksport = token dicetak (kWh)" in meter
    pages["/meter?by=day"] = _malay_page(seller_c, "/meter?by=day")
    assert "Belum ada meter didaftarkan pada dompet anda." in _malay_page(buyer_c, "/meter")
    for path, page in pages.items():
        assert _english_left(page) == set(), path
