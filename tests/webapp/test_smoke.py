def test_home_renders(client):
    r = client.get("/")
    assert r.status_code == 200
    assert b"Sell your solar surplus" in r.data
