"""When the chain is unreachable every page still answers: a clear message (503 for actions), never a trace or 500."""

from __future__ import annotations

import pytest

from energy_chain.anvil import free_port
from tests.webapp.conftest import app_config

UNREACHABLE = "The energy chain is not reachable right now."


@pytest.fixture
def down(chain, db_url):
    from webapp import create_app

    app = create_app(app_config(chain, db_url, RPC_URL=f"http://127.0.0.1:{free_port()}"))
    return app


def test_pages_render_with_a_notice(down):
    client = down.test_client()
    for url in ("/", "/market", "/auction", "/explorer"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert UNREACHABLE in r.get_data(as_text=True) or "not reachable" in r.get_data(as_text=True), url


def test_actions_explain_the_outage(down):
    client = down.test_client()
    r = client.post(
        "/auth/signup", data={"username": "offline", "password": "grid-is-down-42", "confirm": "grid-is-down-42"}
    )
    assert r.status_code == 302  # accounts work offline; approvals are sent once the chain is back
    assert UNREACHABLE in client.get("/account").get_data(as_text=True)
    r = client.post("/market/order", data={"side": "buy", "price": "40", "amount": "1"}, follow_redirects=True)
    assert UNREACHABLE in r.get_data(as_text=True)
    r = client.post("/api/v1/orders", json={"side": "buy", "price": 400_000, "amount_wh": 1000})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "chain_unavailable"
    r = client.get("/api/v1/market/book")
    assert r.status_code == 503 and UNREACHABLE in r.get_json()["error"]["message"]
    r = client.get("/api/v1/me")
    assert r.status_code == 503
    assert client.get("/api/v1/health").get_json()["chain"]["connected"] is False


def test_missing_deployment_is_explained(chain, db_url, tmp_path):
    from webapp import create_app

    app = create_app(app_config(chain, db_url, DEPLOYMENTS_DIR=str(tmp_path / "nothing-deployed")))
    client = app.test_client()
    r = client.get("/api/v1/market/book")
    assert r.status_code == 503 and "not deployed" in r.get_json()["error"]["message"]
    assert "not deployed" in client.get("/market").get_data(as_text=True)


def test_unexpected_errors_are_a_friendly_500(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("internal detail that must not leak")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = app.test_client().get("/boom")
    assert r.status_code == 500
    page = r.get_data(as_text=True)
    assert "Something went wrong on our side" in page and "internal detail" not in page and "Traceback" not in page
