"""Issue 15, items 6 and 7: input that used to answer 500 (found by schemathesis and by hand) now answers a 4xx with a
clear message; bodies are bounded in size and nesting; the Host header is checked; explorer search does not tell
which usernames exist; every OpenAPI operation documents a real success schema."""

from __future__ import annotations

import pytest

PASSWORD = "correct horse battery"
UINT256 = 2**256
INT64 = 2**63
NESTED = "[" * 100_000 + "]" * 100_000
ADDRESS = "0x" + "ab" * 20


def _error(r, status: int, code: str | None = None) -> str:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    body = r.get_json()["error"]
    assert code is None or body["code"] == code, body
    assert body["message"]
    return body["message"]


# ---------------------------------------------------------------------- item 6: typed JSON fields
# Each test signs up once and loops over its cases (a sign-up is a new wallet and two approvals on chain).
SIDES = [{}, {"buy": 1}, [], ["buy"], 1, None, True]
WRONG_FIELDS = [
    ("price", [], "price_out_of_range"),
    ("price", {"a": 1}, "price_out_of_range"),
    ("price", 2**300, "price_out_of_range"),
    ("price_sen", [], "price_out_of_range"),
    ("price_sen", {}, "price_out_of_range"),
    ("price_sen", "1e3", "price_out_of_range"),
    ("amount_wh", [1], "invalid_amount"),
    ("amount_kwh", {}, "invalid_amount"),
    ("expiry_minutes", "5", "invalid_expiry"),
    ("expiry_minutes", [], "invalid_expiry"),
    ("wait", {}, "invalid_flag"),
    ("wait", "maybe", "invalid_flag"),
]
RAWS = ["0xc0", "0x", "c0", "0xzz", "0x0", "0x01", "0x02c0", "0xc3010203", 7, ["0xc0"], {"a": "b"}, None]


def test_json_bodies_are_type_checked_field_by_field(client, users):
    users.signup(client)
    for path in ("/api/v1/orders", "/api/v1/orders/prepare", "/api/v1/auction/orders"):
        for side in SIDES:
            r = client.post(path, json={"side": side, "price": 300_000, "amount_wh": 1000})
            assert "side" in _error(r, 400, "invalid_side"), (path, side)
    for field, value, code in WRONG_FIELDS:
        body = {"side": "buy", "price": 300_000, "amount_wh": 1000, field: value}
        if field == "price_sen":
            body.pop("price")
        if field == "amount_kwh":
            body.pop("amount_wh")
        assert field in _error(client.post("/api/v1/orders", json=body), 400, code), (field, value)
    for raw in RAWS:
        _error(client.post("/api/v1/tx/raw", json={"raw": raw}), 400, "invalid_transaction")
    _error(client.post("/api/v1/account/topup", json={"amount_myr": {}}), 400, "invalid_amount")
    anonymous = client.application.test_client()
    for path, body in [
        ("/api/v1/auth/login", {"username": {}, "password": PASSWORD}),
        ("/api/v1/auth/login", {"username": "someone", "password": []}),
        ("/api/v1/auth/signup", {"username": ["a"], "password": PASSWORD}),
        ("/api/v1/auth/signup", {"username": "valid_name", "password": 12345678}),
    ]:
        _error(anonymous.post(path, json=body), 400)


# ---------------------------------------------------------------------- item 6: integers in paths and forms
def test_an_order_id_beyond_uint256_is_a_404_not_a_500(client, users):
    users.signup(client)
    _error(client.delete(f"/api/v1/orders/{UINT256}"), 404, "not_found")
    _error(client.delete(f"/api/v1/orders/{UINT256 - 1}"), 422, "transaction_rejected")  # the chain's answer


def test_a_form_cancel_with_a_non_ascii_or_huge_order_id_is_refused(client, users):
    users.signup(client)
    for order_id in ["²", "1²", "٣", str(UINT256), "-1", "1e3", " 1"]:
        r = client.post("/market/cancel", data={"order_id": order_id}, headers={"Referer": "/market"})
        assert r.status_code == 302, (order_id, r.status_code)
        with client.session_transaction() as session:
            assert ("error", "Choose an order to cancel.") in session.pop("_flashes"), order_id


def test_explorer_numbers_and_digits_beyond_int64_find_nothing(client):
    for number in [INT64, INT64 + 1, UINT256, 10**40, INT64 - 1]:
        assert client.get(f"/explorer/block/{number}").status_code == 404, number
    for q in ["²", "1²", "٣", str(INT64), "9" * 5000]:
        r = client.get("/explorer", query_string={"q": q})
        assert r.status_code == 404 and "Nothing found" in r.get_data(as_text=True), q


def test_a_nul_character_in_the_query_string_is_a_400(client):
    for path in [
        "/api/v1/explorer/txs?address=%00",
        "/api/v1/explorer/events?name=a%00b",
        "/api/v1/explorer/events?tx=%00",
        "/explorer?q=%00",
        "/explorer/events?name=%00",
        "/api/v1/market/trades?limit=%00",
    ]:
        r = client.get(path)
        assert r.status_code == 400, (path, r.status_code, r.get_data(as_text=True)[:300])


# ---------------------------------------------------------------------- item 6: nesting, redirects, Host
def test_deeply_nested_json_is_a_400(client, users):
    anonymous = client.application.test_client()
    for path in ("/api/v1/auth/login", "/api/v1/auth/signup", "/auth/siwe/verify"):
        r = anonymous.post(path, data=NESTED, content_type="application/json")
        assert r.status_code == 400, (path, r.status_code, r.get_data(as_text=True)[:300])
        assert r.get_json()["error"]["code"] in {"invalid_json", "siwe_invalid"}
    users.signup(client)
    r = client.post("/api/v1/orders", data=NESTED, content_type="application/json")
    assert "nested deeper than 32 levels" in _error(r, 400, "invalid_json")
    _error(client.post("/auth/siwe/verify", json=[1]), 400, "siwe_invalid")  # a list, not an object: was a 500


def test_moderate_nesting_is_still_accepted(app):
    from webapp.validation import MAX_JSON_DEPTH

    with app.test_request_context():
        assert app.json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
        with pytest.raises(ValueError, match="nested"):
            app.json.loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def test_a_login_next_with_control_characters_goes_to_the_default_page(client, users):
    name = users.signup(client)
    for next_url in ["/market\r\nSet-Cookie: x=1", "/market\nX: y", "/m\tarket", "/\\evil.example"]:
        client.post("/auth/logout")
        r = client.post("/auth/login", query_string={"next": next_url}, data={"username": name, "password": PASSWORD})
        assert r.status_code == 302 and r.headers["Location"].endswith("/market"), next_url
        assert "Set-Cookie: x" not in str(r.headers)
    client.post("/auth/logout")
    r = client.post("/auth/login", query_string={"next": "/account"}, data={"username": name, "password": PASSWORD})
    assert r.headers["Location"].endswith("/account")  # a plain same-site path still works


BAD_HOSTS = ["a b", "a" * 64 + ".example", "a" * 64, "exa mple.com:5000", "-bad.example", "x" * 254, "host:port",
             "a..b", "[::1", "[zz::1]", "h\x00st", "example.com:99999", "ex_ample.com:", "ünï.example"]  # fmt: skip


def test_a_malformed_host_header_is_a_400(client):
    for host in BAD_HOSTS:
        for path in ("/", f"/auth/siwe/message?address={ADDRESS}", "/api/v1/health", "/market"):
            r = client.get(path, headers={"Host": host})
            assert r.status_code == 400, (host, path, r.status_code)
        assert client.get("/api/v1/health", headers={"Host": host}).get_json()["error"]["code"] == "bad_host"


def test_ordinary_hosts_are_served(client):
    for host in ["localhost", "127.0.0.1:5000", "[::1]:5000", "dash.example.org", "a" * 63 + ".lab"]:
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
        r = client.get(f"/auth/siwe/message?address={ADDRESS}", headers={"Host": host})
        # the message names the configured site, never the Host header (webapp.services.siwe)
        assert r.status_code == 200 and r.get_json()["message"].startswith("localhost wants you"), host


# ---------------------------------------------------------------------- item 7: size limit
def test_bodies_over_the_configured_limit_are_413_with_a_json_message(chain, db_url):
    from tests.webapp.conftest import app_config
    from webapp import create_app

    app = create_app(app_config(chain, db_url, MAX_CONTENT_LENGTH=64 * 1024))
    client = app.test_client()
    big = b'{"username": "' + b"a" * (10 * 1024 * 1024) + b'", "password": "x"}'
    message = _error(client.post("/api/v1/auth/login", data=big, content_type="application/json"), 413)
    assert "65536" in message or "64" in message
    r = client.post("/auth/login", data={"username": "a" * (1024 * 1024), "password": "x"})
    assert r.status_code == 413
    assert client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever1"}).status_code == 401


def test_the_body_limit_comes_from_the_environment():
    from webapp.config import load_config

    assert load_config({"FLASK_SECRET_KEY": "k" * 32})["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert load_config({"FLASK_SECRET_KEY": "k" * 32, "WEBAPP_MAX_BODY_BYTES": "5000"})["MAX_CONTENT_LENGTH"] == 5000


# ---------------------------------------------------------------------- item 7: username enumeration
def test_explorer_search_finds_a_username_only_once_the_explorer_shows_it(app, chain, users):
    client = app.test_client()
    name = users.signup(client)
    address = users.address(name)
    visitor = app.test_client()
    missing = visitor.get("/explorer", query_string={"q": f"{name}-nobody"})
    hidden = visitor.get("/explorer", query_string={"q": name})  # signed up, nothing indexed yet
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data(as_text=True).replace(name, "X") == missing.get_data(as_text=True).replace(
        f"{name}-nobody", "X"
    )
    chain.mint_energy(address, 100)
    users.index()  # now the explorer lists its transactions under its name
    r = visitor.get("/explorer", query_string={"q": name})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/explorer/address/{address}")


# ---------------------------------------------------------------------- item 7: OpenAPI success schemas
def test_every_operation_documents_a_real_success_schema_and_error_schema(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]

    def resolve(schema):
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            successes = {c: r for c, r in op["responses"].items() if c.startswith("2")}
            assert successes, (path, method)
            for code, response in successes.items():
                schema = resolve(response["content"]["application/json"]["schema"])
                assert schema.get("type") or schema.get("oneOf") or schema.get("anyOf"), (path, method, code)
                if schema.get("type") == "object":
                    assert schema.get("properties") or schema.get("additionalProperties"), (path, method, code)
            for code, response in op["responses"].items():
                if code.startswith("4") or code.startswith("5"):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            assert "404" in op["responses"] or "{" not in path, (path, method)
