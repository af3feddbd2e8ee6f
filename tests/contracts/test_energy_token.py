import brownie
import pytest
from web3 import Web3

from tests.contracts.brownie_utils import event_values

METER = Web3.keccak(text="PV-ALICE").to_0x_hex()
METER_B = Web3.keccak(text="LOAD-BOB").to_0x_hex()
UNKNOWN = Web3.keccak(text="NOBODY").to_0x_hex()


@pytest.fixture
def meters(registry, operator, alice, bob):
    registry.registerMeter(METER, alice, {"from": operator})
    registry.registerMeter(METER_B, bob, {"from": operator})


@pytest.fixture
def past(chain):
    """An interval start safely in the past, aligned to 15 minutes."""
    return (chain.time() - 3600) // 900 * 900


def test_metadata(energy):
    assert (energy.name(), energy.symbol(), energy.decimals()) == ("Microgrid Energy", "kWh", 3)
    assert energy.totalSupply() == 0


def test_surplus_mints_to_owner(energy, meters, oracle, alice, past):
    tx = energy.recordReading((METER, past, 1234, 0), {"from": oracle})
    assert energy.balanceOf(alice) == 1234
    assert energy.totalMinted() == 1234
    assert energy.isRecorded(METER, past)
    assert event_values(tx, "ReadingRecorded") == [METER, past, alice.address, 1234, 0, 0]


def test_deficit_burns_held_tokens_then_grid(energy, meters, oracle, alice, past):
    energy.recordReading((METER, past, 500, 0), {"from": oracle})
    tx = energy.recordReading((METER, past + 900, 0, 800), {"from": oracle})
    assert event_values(tx, "ReadingRecorded") == [METER, past + 900, alice.address, 0, 500, 300]
    assert energy.balanceOf(alice) == 0
    assert energy.totalBurned() == 500


def test_deficit_smaller_than_balance_burns_only_deficit(energy, meters, oracle, alice, past):
    energy.recordReading((METER, past, 500, 0), {"from": oracle})
    tx = energy.recordReading((METER, past + 900, 0, 200), {"from": oracle})
    assert tx.events["ReadingRecorded"]["burnedWh"] == 200
    assert tx.events["ReadingRecorded"]["gridWh"] == 0
    assert energy.balanceOf(alice) == 300


def test_zero_reading_is_recorded_without_supply_change(energy, meters, oracle, past):
    tx = energy.recordReading((METER, past, 0, 0), {"from": oracle})
    assert energy.isRecorded(METER, past)
    assert event_values(tx, "ReadingRecorded")[3:] == [0, 0, 0]
    assert "Transfer" not in tx.events


def test_replayed_reading_reverts(energy, meters, oracle, past):
    energy.recordReading((METER, past, 100, 0), {"from": oracle})
    with brownie.reverts(revert_pattern=rf"EnergyTokenReadingAlreadyRecorded: .*, {past}"):
        energy.recordReading((METER, past, 100, 0), {"from": oracle})
    assert energy.totalSupply() == 100


def test_batch_skips_duplicates(energy, meters, oracle, alice, bob, past):
    first = [(METER, past, 100, 0), (METER_B, past, 40, 0)]
    tx = energy.recordReadings(first, {"from": oracle})
    assert tx.return_value == 2
    replay = [*first, (METER, past + 900, 7, 0)]
    tx = energy.recordReadings(replay, {"from": oracle})
    assert tx.return_value == 1
    assert len(tx.events["ReadingDuplicateSkipped"]) == 2
    assert (energy.balanceOf(alice), energy.balanceOf(bob)) == (107, 40)


def test_batch_with_same_reading_twice_mints_once(energy, meters, oracle, alice, past):
    tx = energy.recordReadings([(METER, past, 100, 0), (METER, past, 100, 0)], {"from": oracle})
    assert tx.return_value == 1
    assert energy.balanceOf(alice) == 100


@pytest.mark.parametrize("length", [0, 201])
def test_batch_length_bounds(energy, meters, oracle, past, length):
    batch = [(METER, past - 900 * i, 1, 0) for i in range(length)]
    with brownie.reverts(f"EnergyTokenInvalidBatchLength: {length}"):
        energy.recordReadings(batch, {"from": oracle})


def test_batch_is_atomic_on_invalid_reading(energy, meters, oracle, past):
    with brownie.reverts(revert_pattern=r"MeterRegistryUnknownMeter: .*"):
        energy.recordReadings([(METER, past, 100, 0), (UNKNOWN, past, 5, 0)], {"from": oracle})
    assert not energy.isRecorded(METER, past)


def test_unknown_meter_reverts(energy, meters, oracle, past):
    with brownie.reverts(revert_pattern=r"MeterRegistryUnknownMeter: .*"):
        energy.recordReading((UNKNOWN, past, 100, 0), {"from": oracle})


def test_inactive_meter_reverts(energy, registry, meters, operator, oracle, past):
    registry.deactivateMeter(METER, {"from": operator})
    with brownie.reverts(revert_pattern=r"MeterRegistryInactiveMeter: .*"):
        energy.recordReading((METER, past, 100, 0), {"from": oracle})


def test_future_interval_reverts(energy, meters, oracle, chain):
    future = chain.time() + 3600
    with brownie.reverts(revert_pattern=rf"EnergyTokenIntervalInFuture: {future}, \d+"):
        energy.recordReading((METER, future, 100, 0), {"from": oracle})


def test_surplus_and_deficit_together_reverts(energy, meters, oracle, past):
    with brownie.reverts(revert_pattern=rf"EnergyTokenInvalidReading: .*, {past}"):
        energy.recordReading((METER, past, 1, 1), {"from": oracle})


def test_reassigned_meter_mints_to_new_owner(energy, registry, meters, operator, oracle, alice, bob, past, chain):
    registry.reassignMeter(METER, bob, {"from": operator})
    chain.sleep(5)
    energy.recordReading((METER, chain.time() - 1, 100, 0), {"from": oracle})  # an interval after the move
    assert energy.balanceOf(bob) == 100
    energy.recordReading((METER, past, 40, 0), {"from": oracle})  # a late reading of alice's time is alice's
    assert (energy.balanceOf(alice), energy.balanceOf(bob)) == (40, 100)


@pytest.mark.parametrize("who", ["admin", "operator", "alice"])
def test_only_oracle_records(energy, meters, past, who, request):
    account = request.getfixturevalue(who)
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        energy.recordReading((METER, past, 100, 0), {"from": account})
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        energy.recordReadings([(METER, past, 100, 0)], {"from": account})


def test_admin_is_not_oracle_but_can_appoint_one(energy, meters, admin, stranger, past):
    energy.grantRole(energy.ORACLE_ROLE(), stranger, {"from": admin})
    energy.recordReading((METER, past, 5, 0), {"from": stranger})
    energy.revokeRole(energy.ORACLE_ROLE(), stranger, {"from": admin})
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        energy.recordReading((METER, past + 900, 5, 0), {"from": stranger})


def test_holders_transfer_freely(energy, meters, oracle, alice, bob, past):
    energy.recordReading((METER, past, 100, 0), {"from": oracle})
    energy.transfer(bob, 30, {"from": alice})
    assert (energy.balanceOf(alice), energy.balanceOf(bob)) == (70, 30)
    with brownie.reverts(revert_pattern=r"ERC20InsufficientBalance: .*"):
        energy.transfer(bob, 71, {"from": alice})
