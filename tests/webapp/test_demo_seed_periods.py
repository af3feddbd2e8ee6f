"""Issue 15, item F in practice: the demo seed registers the demo meters with the oracle's period (the interval the
demo's oracle reports in), so a re-reported interval at +1 s is refused; the starter reading is the first interval."""

from __future__ import annotations

import pytest

from energy_chain import TxFailed
from energy_chain.meters import meter_id

MISALIGNED = 2  # IMeterRegistry.ReadingCheck


def test_demo_meters_carry_the_oracles_period(app, chain):
    from webapp.services.demo_seed import STARTER_KWH, demo_users, seed

    with app.app_context():
        app.extensions["chain"].operator().resync()
        seed(app, "demo-password-1", round_seconds=None, out=lambda *_: None, meter_period_s=60)
    registry, energy = chain.client.contract("MeterRegistry"), chain.client.contract("EnergyToken")
    prosumer = next(u for u in demo_users() if u.kind == "prosumer")
    meter = meter_id(prosumer.serial)
    period, first = registry.functions.periodOf(meter).call()
    assert period == 60 and first % 60 == 0
    assert energy.functions.isRecorded(meter, first).call()  # the starter reading (STARTER_KWH) is the first interval
    assert STARTER_KWH > 0
    chain.oracle.resync()
    with pytest.raises(TxFailed) as failed:
        chain.client.transact(energy.functions.recordReading((meter, first + 1, 100, 0)), chain.oracle, gas=300_000)
    assert failed.value.error_name == "EnergyTokenReadingRejected"
    assert int(failed.value.error.args["check"]) == MISALIGNED
