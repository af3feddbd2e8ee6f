"""English and Malay: chosen by the browser's language, or by the switch (a cookie) which wins over it."""

from __future__ import annotations


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
