"""Issue 15, item F in practice: meters registered by our own tooling (scripts.register_meters, the load-test set-up,
the demo seed in tests/webapp, the simulator in tests/simulation) carry the period their oracle reports in, so a
re-reported interval at +1 s is refused, and so is an interval before the meter's first one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from energy_chain import ChainClient, ChainConfig, TxFailed
from energy_chain.anvil import start_anvil
from energy_chain.devchain import DEMO_COMMUNITY, deploy_local, dev_signer
from energy_chain.meters import DEFAULT_LOOKBACK_S, DEFAULT_PERIOD_S, align, first_interval, meter_id
from scripts.load_setup import Market, give_energy
from scripts.register_meters import main as register_main
from scripts.register_meters import period_from_args, register_meters

MISALIGNED = 2  # IMeterRegistry.ReadingCheck
BEFORE_REGISTRATION = 3


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainClient]:
    node = start_anvil()
    try:
        c = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=tmp_path_factory.mktemp("deployments")))
        deploy_local(c)
        yield c
    finally:
        node.stop()


def now(client: ChainClient) -> int:
    return int(client.w3.eth.get_block("latest")["timestamp"])


def record(client: ChainClient, meter: bytes, interval: int, wh: int = 100) -> None:
    fn = client.contract("EnergyToken").functions.recordReading((meter, interval, wh, 0))
    oracle = dev_signer("oracle")
    oracle.resync()
    client.transact(fn, oracle, gas=300_000)


def refused_check(client: ChainClient, meter: bytes, interval: int) -> int:
    with pytest.raises(TxFailed) as failed:
        record(client, meter, interval)
    assert failed.value.error_name == "EnergyTokenReadingRejected", failed.value
    return int(failed.value.error.args["check"])


def test_first_interval_is_aligned_and_a_day_back():
    assert first_interval(1_796_000_123, 60) == (1_796_000_123 - 86_400) // 60 * 60
    assert first_interval(1_796_000_123, 900) % 900 == 0
    assert first_interval(100, 60) == 60  # never interval 0, which every meter refuses
    with pytest.raises(ValueError):
        first_interval(1_796_000_123, 0)


def test_register_meters_uses_the_oracles_period_and_refuses_a_plus_one_second_re_report(client):
    owner = dev_signer(5).address
    registered, _ = register_meters(client, dev_signer("operator"), [("PERIOD-1", owner)])
    assert registered == 1
    meter = meter_id("PERIOD-1")
    period, first = client.contract("MeterRegistry").functions.periodOf(meter).call()
    assert period == DEFAULT_PERIOD_S == 60
    assert first % period == 0 and now(client) - DEFAULT_LOOKBACK_S - period <= first <= now(client)
    interval = align(now(client) - 600, period)
    record(client, meter, interval)
    assert refused_check(client, meter, interval + 1) == MISALIGNED  # the re-report at +1 s
    assert refused_check(client, meter, interval + period - 1) == MISALIGNED
    assert refused_check(client, meter, first - period) == BEFORE_REGISTRATION
    record(client, meter, interval + period)  # the next interval is fine


def test_register_meters_command_line_takes_the_community_period(client, monkeypatch, tmp_path: Path):
    community = json.loads(Path(DEMO_COMMUNITY).read_text())
    community["interval_s"] = 900
    community["households"] = [{**community["households"][0], "serial": "PERIOD-CLI", "owner": dev_signer(6).address}]
    path = tmp_path / "community.json"
    path.write_text(json.dumps(community))
    monkeypatch.delenv("ORACLE_INTERVAL_S", raising=False)
    monkeypatch.setenv("RPC_URL", client.config.rpc_url)
    monkeypatch.setenv("DEPLOYMENTS_DIR", str(client.config.deployments_dir))
    assert register_main(["--community", str(path)]) == 0
    meter = meter_id("PERIOD-CLI")
    period, _first = client.contract("MeterRegistry").functions.periodOf(meter).call()
    assert period == 900
    interval = align(now(client) - 3600, 900)
    record(client, meter, interval)
    assert refused_check(client, meter, interval + 1) == MISALIGNED

    class Args:
        period = None
        community = path

    monkeypatch.setenv("ORACLE_INTERVAL_S", "300")  # the oracle's interval, when set, wins over the file
    assert period_from_args(Args()) == 300
    Args.period = 120
    assert period_from_args(Args()) == 120


def test_load_test_sellers_meters_refuse_a_plus_one_second_re_report(client):
    from energy_chain.orders import OrderBookClient

    seller = dev_signer(7).address
    market = Market(client, OrderBookClient(client), dev_signer("operator"), dev_signer("oracle"),
                    client.config.rpc_url, Path(client.config.deployments_dir))  # fmt: skip
    give_energy(market, [seller], 500, "periods")
    meter = meter_id(f"load:periods:{seller}")
    period, _first = client.contract("MeterRegistry").functions.periodOf(meter).call()
    assert period == DEFAULT_PERIOD_S
    assert client.contract("EnergyToken").functions.balanceOf(seller).call() == 500
    interval = align(now(client) - 3600, period)  # the one reading give_energy recorded
    assert client.contract("EnergyToken").functions.isRecorded(meter, interval).call()
    assert refused_check(client, meter, interval + 1) == MISALIGNED
