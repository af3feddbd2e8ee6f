"""The indexer: events into tables, resume after a restart without duplicates, start again after a chain reset."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.webapp.conftest import app_config
from webapp.extensions import db
from webapp.indexer import Indexer
from webapp.models import ChainEvent, ChainTx, IndexerState, Meter, Reading


def _count(model) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def test_indexes_events_and_resumes_without_duplicates(app, chain, users, db_url):
    from webapp import create_app

    client = app.test_client()
    name = users.signup(client)
    address = users.address(name)
    serial = chain.mint_energy(address, 700)
    users.index()
    with app.app_context():
        head = chain.client.w3.eth.block_number
        assert Indexer.last_indexed() == head
        reading = db.session.scalar(select(Reading).where(Reading.owner == address))
        assert (reading.minted_wh, reading.burned_wh, reading.grid_wh) == (700, 0, 0)
        meter = db.session.scalar(select(Meter).where(Meter.owner == address))
        assert meter.active
        events, txs = _count(ChainEvent), _count(ChainTx)
        assert events > 0 and txs > 0

    # a restarted server (new app, same database) continues after the last indexed block
    chain.mint_energy(address, 300, serial)
    again = create_app(app_config(chain, db_url))
    with again.app_context():
        covered = again.extensions["indexer"].catch_up()
        assert covered == chain.client.w3.eth.block_number - head
        assert db.session.scalar(select(func.count()).where(Reading.owner == address)) == 2
        assert _count(ChainEvent) > events and _count(ChainTx) == txs + 1 + 0  # only the new reading's tx
        assert again.extensions["indexer"].catch_up() == 0  # nothing new: nothing done


def test_a_reset_chain_is_indexed_again(app, chain, users):
    client = app.test_client()
    name = users.signup(client)
    chain.mint_energy(users.address(name), 100)
    users.index()
    with app.app_context():
        db.session.get(IndexerState, "last_hash").value = "0x" + "00" * 32  # as if the chain had been reset
        db.session.commit()
        readings = _count(Reading)
        app.extensions["indexer"].catch_up()
        assert _count(Reading) == readings  # rebuilt from the deployment block, not doubled
        assert db.session.get(IndexerState, "last_hash").value != "0x" + "00" * 32


def test_a_new_deployment_record_restarts_the_index(app, chain, users):
    users.index()
    with app.app_context():
        db.session.get(IndexerState, "deployment").value = "1337:Other=0x0"
        db.session.add(Meter(meter_id="0x" + "11" * 32, serial="KEEP-ME", name="seeded"))
        db.session.commit()
        app.extensions["indexer"].catch_up()
        kept = db.session.get(Meter, "0x" + "11" * 32)
        assert kept.serial == "KEEP-ME" and kept.owner is None  # seed data survives, chain data is rebuilt
        assert Indexer.last_indexed() == chain.client.w3.eth.block_number


def test_background_thread_follows_new_blocks(chain, db_url):
    import time

    from webapp import create_app

    app = create_app(app_config(chain, db_url, TESTING=False, INDEXER_ENABLED=True, INDEXER_POLL_SECONDS=0.1))
    app.extensions["indexer"].start()  # as `python -m webapp serve` does; create_app starts no thread
    try:
        deadline = time.monotonic() + 20
        with app.app_context():
            while Indexer.last_indexed() != chain.client.w3.eth.block_number and time.monotonic() < deadline:
                time.sleep(0.1)
                db.session.remove()
            assert Indexer.last_indexed() == chain.client.w3.eth.block_number
    finally:
        app.extensions["indexer"].stop()
