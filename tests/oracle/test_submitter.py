"""The submitter against a real anvil: batches minted once, crashes between send and receipt, chain rollback,
reverted batches, and the registry view."""

from __future__ import annotations

import pytest

from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import free_port, start_anvil
from energy_chain.devchain import OPERATOR_INDEX, deploy_local, dev_signer
from energy_chain.meters import meter_id
from meter_oracle.config import OracleConfig
from meter_oracle.metrics import Metrics
from meter_oracle.model import CounterSample, align
from meter_oracle.outbox import Outbox
from meter_oracle.registry import ChainMeterDirectory
from meter_oracle.submitter import Submitter, WrongChain
from meter_oracle.validation import ACTIVE, INACTIVE, UNKNOWN, MeterState, readings_between
from tests.oracle.chain_checks import balance, recorded_keys, skipped_count
from tests.oracle.conftest import instant_mining, register

L = 60


class Crash(Exception):
    """Stands for the process dying right after a batch left for the node."""


def fill_outbox(box: Outbox, serials: list[str], intervals: int, now: float) -> dict[str, int]:
    """Readings of `intervals` past intervals per meter (surplus for even, deficit for odd meters); net per meter."""
    start = align(now, L) - (intervals + 1) * L
    net = {}
    for i, serial in enumerate(serials):
        first = MeterState(start, 10_000, 10_000)
        pos, neg = (30, 5) if i % 2 == 0 else (5, 20)
        last = CounterSample(serial, start + intervals * L, 10_000 + pos * intervals, 10_000 + neg * intervals)
        box.accept(last, readings_between(serial, first, last, L))
        net[serial] = (pos - neg) * intervals
    return net


def submitter(client: ChainClient, box: Outbox, signer, **config) -> Submitter:
    cfg = OracleConfig(chain=client.config, **{"batch_size": 7, "max_in_flight": 3, **config})
    return Submitter(client, signer, box, Metrics(), cfg)


def send_until_crash(client: ChainClient, box: Outbox, signer, batches: int) -> list:
    """A submitter that dies right after its `batches`-th batch left for the node; the batches it sent."""
    sent = []

    def crash_after_last(batch):
        sent.append(batch)
        if len(sent) == batches:
            raise Crash

    first = submitter(client, box, signer)
    first.on_sent = crash_after_last
    with pytest.raises(Crash):
        for _ in range(50):
            first.step()
    return sent


def test_registry_view_reads_status_in_batches(client):
    register(client, ["A", "B"])
    registry = client.contract("MeterRegistry")
    operator = dev_signer(OPERATOR_INDEX)
    client.transact(registry.functions.deactivateMeter(meter_id("B")), operator)
    d = ChainMeterDirectory(client)
    d.refresh(["A", "B", "C"])
    assert [d.status(s) for s in ("A", "B", "C")] == [ACTIVE, INACTIVE, UNKNOWN]


def test_every_reading_minted_once_and_balances_match(client, oracle_signer, tmp_path):
    serials = ["S0", "S1", "S2"]
    owners = register(client, serials)
    box = Outbox(tmp_path / "o.sqlite")
    net = fill_outbox(box, serials, intervals=10, now=client.w3.eth.get_block("latest")["timestamp"])
    sub = submitter(client, box, oracle_signer)
    assert sub.drain(60)
    assert box.counts() == {"pending": 0, "batched": 0, "minted": 30, "rejected": 0, "rejected_samples": 0}
    keys = recorded_keys(client)
    assert len(keys) == 30 and set(keys.values()) == {1}
    assert balance(client, owners["S0"]) == net["S0"] == 250
    assert balance(client, owners["S1"]) == 0  # a consumer without tokens: all of it came from the grid
    assert skipped_count(client) == 0


def test_crash_between_send_and_receipt_neither_loses_nor_doubles(client, oracle_signer, tmp_path):
    serials = ["S0", "S2", "S4"]
    owners = register(client, serials)
    box = Outbox(tmp_path / "o.sqlite")
    net = fill_outbox(box, serials, intervals=8, now=client.w3.eth.get_block("latest")["timestamp"])
    send_until_crash(client, box, oracle_signer, batches=2)
    assert box.counts()["batched"] > 0  # the crash left batches signed and unconfirmed
    # A new process: its own signer (no nonce memory), same outbox.
    restarted = submitter(client, Outbox(tmp_path / "o.sqlite"), dev_signer(2))
    assert restarted.drain(60)
    keys = recorded_keys(client)
    assert len(keys) == 24 and set(keys.values()) == {1}
    assert [balance(client, owners[s]) for s in serials] == [max(net[s], 0) for s in serials] == [200, 0, 200]
    assert skipped_count(client) == 0  # the same signed bytes were rebroadcast, no second transaction


def test_a_mined_batch_whose_receipt_comes_a_moment_after_its_nonce_is_not_taken_for_dropped(
    client, oracle_signer, tmp_path, monkeypatch
):
    """anvil makes a block's state (the sender's nonce) visible a moment before it stores the block's receipts. A
    reconcile in that window found a mined batch's nonce counted and no receipt, called it dropped, logged that
    another transaction had taken its nonce, and sent its readings again."""
    serials = ["S0", "S2"]
    register(client, serials)
    box = Outbox(tmp_path / "o.sqlite")
    fill_outbox(box, serials, intervals=8, now=client.w3.eth.get_block("latest")["timestamp"])
    sent = send_until_crash(client, box, oracle_signer, batches=1)
    client.wait_for_receipts([sent[0].tx_hash])  # mined; only the process that sent it never saw the receipt
    real_receipts = client.get_receipts
    asked: list[list[str]] = []

    def receipts_not_stored_yet(hashes):
        asked.append(list(hashes))
        return {h: None for h in asked[-1]} if len(asked) == 1 else real_receipts(asked[-1])

    monkeypatch.setattr(client, "get_receipts", receipts_not_stored_yet)
    restarted = submitter(client, Outbox(tmp_path / "o.sqlite"), dev_signer(2))
    restarted.reconcile()
    assert [b.tx_hash for b in box.batches("mined")] == [sent[0].tx_hash]
    assert restarted.metrics.batches.labels("dropped")._value.get() == 0
    assert asked[0] == [sent[0].tx_hash] and len(asked) >= 2
    assert restarted.drain(60)
    assert set(recorded_keys(client).values()) == {1}
    assert skipped_count(client) == 0  # no reading went to the chain twice


def test_batches_lost_in_a_chain_rollback_are_sent_again(tmp_path, oracle_signer):
    state = tmp_path / "chain"
    chain = start_anvil(block_time=1, state_dir=state, state_interval=3600)  # state saved only on a clean stop
    try:
        config = ChainConfig(rpc_url=chain.url, deployments_dir=tmp_path / "deployments")
        client = ChainClient(config)
        with instant_mining(client):
            deploy_local(client)
            owners = register(client, ["R0", "R1"])
        chain.stop()  # clean stop: deployment and meters are saved
        chain = start_anvil(port=chain.port, block_time=1, state_dir=state, state_interval=3600)
        client = ChainClient(config)
        box = Outbox(tmp_path / "o.sqlite")
        fill_outbox(box, ["R0"], intervals=5, now=client.w3.eth.get_block("latest")["timestamp"])
        assert submitter(client, box, oracle_signer).drain(30)
        assert balance(client, owners["R0"]) == 125 and box.counts()["minted"] == 5
        chain.kill()  # crash: everything since the last save is gone, including our mints
        chain = start_anvil(port=chain.port, block_time=1, state_dir=state, state_interval=3600)
        client = ChainClient(config)
        assert balance(client, owners["R0"]) == 0
        restarted = submitter(client, Outbox(tmp_path / "o.sqlite"), dev_signer(2))
        assert restarted.drain(30)
        assert restarted.metrics.batches.labels("rolled_back")._value.get() >= 1
        assert balance(client, owners["R0"]) == 125
        keys = recorded_keys(client)
        assert len(keys) == 5 and set(keys.values()) == {1}
    finally:
        chain.kill()


def test_reverted_batch_sets_aside_the_deactivated_meter_and_mints_the_rest(client, oracle_signer, tmp_path):
    owners = register(client, ["OK", "GONE"])
    box = Outbox(tmp_path / "o.sqlite")
    fill_outbox(box, ["OK", "GONE"], intervals=3, now=client.w3.eth.get_block("latest")["timestamp"])
    registry = client.contract("MeterRegistry")
    client.transact(registry.functions.deactivateMeter(meter_id("GONE")), dev_signer(OPERATOR_INDEX))
    sub = submitter(client, box, oracle_signer, batch_size=200)
    assert sub.drain(30)
    counts = box.counts()
    assert (counts["minted"], counts["rejected"]) == (3, 3)
    # The contract skips the inactive meter's readings (ReadingSkipped) instead of reverting the batch.
    assert sub.metrics.batches.labels("reverted")._value.get() == 0
    assert balance(client, owners["OK"]) == 75


def test_chain_down_readings_wait_in_the_outbox(tmp_path, oracle_signer):
    chain = start_anvil(block_time=1)
    config = ChainConfig(rpc_url=chain.url, deployments_dir=tmp_path / "deployments")
    client = ChainClient(config)
    with instant_mining(client):
        deploy_local(client)
        register(client, ["D0"])
    now = client.w3.eth.get_block("latest")["timestamp"]
    chain.kill()
    box = Outbox(tmp_path / "o.sqlite")
    fill_outbox(box, ["D0"], intervals=4, now=now)
    sub = submitter(client, box, oracle_signer, backoff_initial_s=0.01)
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        sub.step()
    delays = [sub.backoff.next() for _ in range(12)]
    assert delays[-1] == sub.config.backoff_max_s and delays == sorted(delays)  # capped, never growing without end
    assert box.counts()["pending"] + box.counts()["batched"] == 4  # nothing lost


def test_an_outbox_of_another_chain_is_refused(client, oracle_signer, tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    box.put("chain_identity", "1337:0xOldToken:0xgenesis-of-a-reset-chain")
    sub = submitter(client, box, oracle_signer)
    with pytest.raises(WrongChain, match="reset"):
        sub.step()
    fresh = Outbox(tmp_path / "fresh.sqlite")
    submitter(client, fresh, oracle_signer).step()
    assert fresh.get("chain_identity").startswith("1337:")


def test_a_bug_stops_the_loop_while_a_chain_outage_is_retried(client, oracle_signer, tmp_path):
    """Only the chain being unreachable is retried; anything else (here a closed outbox) propagates at once."""
    import sqlite3
    import threading

    box = Outbox(tmp_path / "bug.sqlite")
    sub = submitter(client, box, oracle_signer)
    box.close()  # every outbox call now fails: a bug of ours, not the chain being down
    raised: list[BaseException] = []

    def run() -> None:
        try:
            sub.run(threading.Event())
        except BaseException as exc:
            raised.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=10)
    assert not runner.is_alive(), "the submitter kept retrying a programming error"
    assert len(raised) == 1 and isinstance(raised[0], sqlite3.ProgrammingError)
    assert sub.metrics.rpc_errors._value.get() == 0  # never counted as a chain outage

    down = ChainClient(ChainConfig(rpc_url=f"http://127.0.0.1:{free_port()}", deployments_dir=tmp_path / "d"))
    outage = submitter(down, Outbox(tmp_path / "outage.sqlite"), oracle_signer, backoff_initial_s=0.05)
    stop = threading.Event()
    retrying = threading.Thread(target=outage.run, args=(stop,), daemon=True)
    retrying.start()
    retrying.join(timeout=1.5)
    assert retrying.is_alive() and outage.metrics.rpc_errors._value.get() >= 2  # waiting for the chain, not dead
    stop.set()
    retrying.join(timeout=10)
    assert not retrying.is_alive()
