def test_trade_flow(app, chain, users):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 5000)
    r = buyer_c.post("/account/topup", data={"amount": "20"})
    assert r.status_code == 302, r.data
    r = seller_c.post("/market/order", data={"side": "sell", "price": "45", "amount": "2"})
    assert r.status_code == 302
    page = seller_c.get("/market").get_data(as_text=True)
    assert "Sell order #" in page, page[:3000]
    r = buyer_c.post("/market/order", data={"side": "buy", "price": "50", "amount": "1.5"})
    page = buyer_c.get("/account").get_data(as_text=True)
    assert "bought" in page, page
    for url in ["/", "/market", "/account", "/meter", "/explorer", "/explorer/blocks", "/explorer/events", "/auction"]:
        r = seller_c.get(url)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:2000])
