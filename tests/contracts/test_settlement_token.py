import brownie
import pytest

from tests.contracts.brownie_utils import event_values

REF = "0x" + "ab" * 32
PAYOUT = "0x" + "cd" * 32


def test_metadata(money):
    assert (money.name(), money.symbol(), money.decimals()) == ("Microgrid Ringgit", "mgMYR", 6)


def test_operator_tops_up(money, operator, alice):
    tx = money.topUp(alice, 25_000_000, REF, {"from": operator})
    assert money.balanceOf(alice) == 25_000_000
    assert money.totalIssued() == 25_000_000
    assert event_values(tx, "ToppedUp") == [alice.address, 25_000_000, REF]


def test_withdraw_burns_own_tokens(money, operator, alice):
    money.topUp(alice, 10_000_000, REF, {"from": operator})
    tx = money.withdraw(4_000_000, PAYOUT, {"from": alice})
    assert money.balanceOf(alice) == 6_000_000
    assert money.totalSupply() == 6_000_000
    assert money.totalWithdrawn() == 4_000_000
    assert event_values(tx, "Withdrawn") == [alice.address, 4_000_000, PAYOUT]


def test_withdraw_more_than_balance_reverts(money, operator, alice):
    money.topUp(alice, 1_000, REF, {"from": operator})
    with brownie.reverts(f"ERC20InsufficientBalance: {alice.address.lower()}, 1000, 1001"):
        money.withdraw(1_001, PAYOUT, {"from": alice})


@pytest.mark.parametrize("call", ["topUp", "withdraw"])
def test_zero_amount_reverts(money, operator, alice, call):
    with brownie.reverts("SettlementTokenZeroAmount: "):
        if call == "topUp":
            money.topUp(alice, 0, REF, {"from": operator})
        else:
            money.withdraw(0, PAYOUT, {"from": alice})


@pytest.mark.parametrize("who", ["admin", "oracle", "alice"])
def test_only_operator_tops_up(money, alice, who, request):
    with brownie.reverts(revert_pattern=r"AccessControlUnauthorizedAccount: .*"):
        money.topUp(alice, 1, REF, {"from": request.getfixturevalue(who)})


def test_admin_role_separate_from_operator(money, admin, operator):
    assert money.hasRole(money.DEFAULT_ADMIN_ROLE(), admin)
    assert not money.hasRole(money.OPERATOR_ROLE(), admin)
    assert not money.hasRole(money.DEFAULT_ADMIN_ROLE(), operator)
