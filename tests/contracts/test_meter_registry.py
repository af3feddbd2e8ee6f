import brownie
import pytest
from brownie import ZERO_ADDRESS
from web3 import Web3

from tests.contracts.brownie_utils import event_values

METER = Web3.keccak(text="METER-001").to_0x_hex()
OTHER = Web3.keccak(text="METER-002").to_0x_hex()


@pytest.fixture
def registered(registry, operator, alice):
    registry.registerMeter(METER, alice, {"from": operator})
    return registry


def test_register_binds_owner_and_activates(registry, operator, alice):
    tx = registry.registerMeter(METER, alice, {"from": operator})
    owner, active, registered_at = registry.meter(METER)
    assert (owner, active) == (alice, True)
    assert registered_at == tx.timestamp
    assert registry.meterCount() == 1
    assert event_values(tx, "MeterRegistered") == [METER, alice.address]


def test_register_twice_reverts(registered, operator, bob):
    with brownie.reverts(revert_pattern=r"MeterRegistryAlreadyRegistered: .*"):
        registered.registerMeter(METER, bob, {"from": operator})


def test_register_zero_owner_reverts(registry, operator):
    with brownie.reverts("MeterRegistryZeroOwner: "):
        registry.registerMeter(METER, ZERO_ADDRESS, {"from": operator})


def test_register_zero_id_reverts(registry, operator, alice):
    with brownie.reverts("MeterRegistryZeroMeterId: "):
        registry.registerMeter(b"\x00" * 32, alice, {"from": operator})


@pytest.mark.parametrize("who", ["admin", "oracle", "stranger"])
def test_only_operator_registers(registry, alice, who, request):
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        registry.registerMeter(METER, alice, {"from": request.getfixturevalue(who)})


def test_deactivate_then_activate(registered, operator):
    tx = registered.deactivateMeter(METER, {"from": operator})
    assert "MeterDeactivated" in tx.events
    assert registered.meter(METER)[1] is False
    with brownie.reverts(revert_pattern=r"MeterRegistryInactiveMeter: .*"):
        registered.activeOwnerOf(METER)
    with brownie.reverts(revert_pattern=r"MeterRegistryInactiveMeter: .*"):
        registered.deactivateMeter(METER, {"from": operator})
    tx = registered.activateMeter(METER, {"from": operator})
    assert "MeterActivated" in tx.events
    with brownie.reverts(revert_pattern=r"MeterRegistryAlreadyActive: .*"):
        registered.activateMeter(METER, {"from": operator})


def test_reassign_moves_owner(registered, operator, alice, bob):
    tx = registered.reassignMeter(METER, bob, {"from": operator})
    assert event_values(tx, "MeterReassigned") == [METER, alice.address, bob.address]
    assert registered.activeOwnerOf(METER) == bob


def test_reassign_to_zero_reverts(registered, operator):
    with brownie.reverts("MeterRegistryZeroOwner: "):
        registered.reassignMeter(METER, ZERO_ADDRESS, {"from": operator})


@pytest.mark.parametrize("call", ["deactivateMeter", "activateMeter", "meter", "activeOwnerOf"])
def test_unknown_meter_reverts(registry, operator, call):
    with brownie.reverts(revert_pattern=r"MeterRegistryUnknownMeter: .*"):
        getattr(registry, call)(OTHER, {"from": operator})


def test_unknown_meter_reassign_reverts(registry, operator, bob):
    with brownie.reverts(revert_pattern=r"MeterRegistryUnknownMeter: .*"):
        registry.reassignMeter(OTHER, bob, {"from": operator})


def test_admin_can_grant_operator(registry, admin, stranger, alice):
    registry.grantRole(registry.OPERATOR_ROLE(), stranger, {"from": admin})
    registry.registerMeter(METER, alice, {"from": stranger})
    assert registry.activeOwnerOf(METER) == alice


def test_operator_cannot_grant_roles(registry, operator, stranger):
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        registry.grantRole(registry.OPERATOR_ROLE(), stranger, {"from": operator})
