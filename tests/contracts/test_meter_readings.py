"""Readings settle to the owner during their interval; intervals are aligned to the meter's period and not before its
registration; one refused reading does not revert a batch (docs/security.md, Contracts E and F)."""

import brownie
from web3 import Web3

from tests.contracts.brownie_utils import event_values

METER = Web3.keccak(text="PV-MOVES").to_0x_hex()
OTHER = Web3.keccak(text="PV-STAYS").to_0x_hex()
PERIOD = 900
OK, INACTIVE, MISALIGNED, BEFORE_REGISTRATION, OWNER_UNKNOWN = range(5)


def _day_start(chain) -> int:
    return (chain.time() - 6 * 3600) // PERIOD * PERIOD


def test_a_late_reading_settles_to_the_owner_of_its_interval(registry, energy, operator, oracle, alice, bob, chain):
    first = _day_start(chain)
    registry.registerMeterWithPeriod(METER, alice, PERIOD, first, {"from": operator})
    chain.sleep(10)
    registry.reassignMeter(METER, bob, {"from": operator})
    before = first + PERIOD  # an interval that started while alice owned the meter, reported after the move
    tx = energy.recordReading((METER, before, 700, 0), {"from": oracle})
    assert event_values(tx, "ReadingRecorded")[2] == alice.address
    assert energy.balanceOf(alice) == 700 and energy.balanceOf(bob) == 0
    after = (chain.time() // PERIOD + 1) * PERIOD
    chain.sleep(after - chain.time() + 1)
    energy.recordReading((METER, after, 300, 0), {"from": oracle})
    assert energy.balanceOf(bob) == 300
    # A late deficit of alice's time burns alice's tokens, not bob's.
    energy.recordReading((METER, before + PERIOD, 0, 200), {"from": oracle})
    assert (energy.balanceOf(alice), energy.balanceOf(bob)) == (500, 300)


def test_two_reassignments_back_is_refused(registry, energy, operator, oracle, alice, bob, carol, chain):
    first = _day_start(chain)
    registry.registerMeterWithPeriod(METER, alice, PERIOD, first, {"from": operator})
    chain.sleep(PERIOD)
    registry.reassignMeter(METER, bob, {"from": operator})
    chain.sleep(PERIOD)
    registry.reassignMeter(METER, carol, {"from": operator})
    owner, check = registry.ownerForReading(METER, first)
    assert (owner, int(check)) == (brownie.ZERO_ADDRESS, OWNER_UNKNOWN)
    with brownie.reverts(revert_pattern=f"EnergyTokenReadingRejected: .*, {first}, {OWNER_UNKNOWN}"):
        energy.recordReading((METER, first, 1, 0), {"from": oracle})


def test_intervals_are_aligned_and_not_before_registration(registry, energy, operator, oracle, alice, chain):
    first = _day_start(chain)
    registry.registerMeterWithPeriod(METER, alice, PERIOD, first, {"from": operator})
    energy.recordReading((METER, first, 100, 0), {"from": oracle})
    for bad, why in ((first + 1, MISALIGNED), (first + 899, MISALIGNED), (0, MISALIGNED),
                     (first - PERIOD, BEFORE_REGISTRATION)):  # fmt: skip
        with brownie.reverts(revert_pattern=f"EnergyTokenReadingRejected: .*, {bad}, {why}"):
            energy.recordReading((METER, bad, 100, 0), {"from": oracle})
    assert energy.balanceOf(alice) == 100  # the re-report at +1 s / +899 s minted nothing
    assert [int(v) for v in registry.periodOf(METER)] == [PERIOD, first]
    with brownie.reverts(f"MeterRegistryInvalidPeriod: {PERIOD}, {first + 1}"):
        registry.registerMeterWithPeriod(OTHER, alice, PERIOD, first + 1, {"from": operator})


def test_interval_zero_is_refused_for_every_meter(registry, energy, operator, oracle, alice):
    registry.registerMeter(OTHER, alice, {"from": operator})
    with brownie.reverts(revert_pattern=f"EnergyTokenReadingRejected: .*, 0, {MISALIGNED}"):
        energy.recordReading((OTHER, 0, 100, 0), {"from": oracle})


def test_an_inactive_meter_is_skipped_not_the_batch(registry, energy, operator, oracle, alice, bob, chain):
    first = _day_start(chain)
    registry.registerMeterWithPeriod(METER, alice, PERIOD, first, {"from": operator})
    registry.registerMeterWithPeriod(OTHER, bob, PERIOD, first, {"from": operator})
    registry.deactivateMeter(METER, {"from": operator})
    batch = [(OTHER, first, 10, 0), (METER, first, 20, 0), (OTHER, first + PERIOD, 30, 0)]
    tx = energy.recordReadings(batch, {"from": oracle})
    assert tx.return_value == 2
    assert event_values(tx, "ReadingSkipped") == [METER, first, INACTIVE]
    assert energy.balanceOf(bob) == 40 and energy.balanceOf(alice) == 0
