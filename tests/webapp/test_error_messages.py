"""Every contract error a user can cause has a sentence of its own, not the generic fallback."""

import pytest

import webapp.services.auctions
import webapp.services.autotrade
import webapp.services.trading
from energy_chain.artifacts import load_artifact
from energy_chain.errors import DecodedError
from webapp.chain.messages import MESSAGES, user_message

# Errors only the deployer, the admin or the oracle daemon can cause: they never reach a dashboard user.
NOT_USER_FACING = {
    "OrderBookZeroAddress",
    "OrderBookInvalidParameter",
    "DoubleAuctionZeroAddress",
    "DoubleAuctionInvalidSchedule",
    "DoubleAuctionZeroSteps",
    "DoubleAuctionInvalidMinAmount",
    "MeterRegistryInvalidPeriod",
    # Wiring a venue to the mandate contract (admin, once) and a venue calling it: never a dashboard user's doing.
    "VenueMandateFixed",
    "VenueMandateNotSet",
    "MandateNotVenue",
    "MandateInvalidParameter",
}


@pytest.mark.parametrize(
    "interface", ["IOrderBook", "IDoubleAuction", "ISettlementToken", "IMeterRegistry", "ITradingMandate"]
)
def test_user_facing_errors_have_messages(interface):
    names = {item["name"] for item in load_artifact(interface)["abi"] if item["type"] == "error"}
    assert names, interface
    assert sorted(names - NOT_USER_FACING - set(MESSAGES)) == []


def test_the_imports_register_their_messages():
    # webapp.services.trading and .auctions add their contracts' sentences when imported (as the app does).
    assert webapp.services.trading and webapp.services.auctions and webapp.services.autotrade
    assert "OrderBookNotOwner" in MESSAGES and "DoubleAuctionWrongPhase" in MESSAGES


def test_message_formats_arguments():
    error = DecodedError("DoubleAuctionAlreadyClaimed", {"orderId": 7})
    assert user_message(error) == "Auction order 7 was already settled."
