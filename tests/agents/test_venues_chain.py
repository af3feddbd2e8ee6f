"""Agents trading on a real anvil through the SDK: order-book fills deliver energy (the oracle burns what was
bought instead of recording grid import), and a batch of auction orders hinted locally all book and clear."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.agent import AgentConfig, TradingAgent
from agents.bounds import UserBounds
from agents.forecast import PersistenceForecaster
from agents.pricing import MarketView, SupplyDemandRatioPricing, Tariffs
from agents.venues import AuctionVenue, OrderBookVenue
from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.approvals import UNLIMITED
from energy_chain.auction import AuctionClient
from energy_chain.clearing import Side as AuctionSide
from energy_chain.devchain import deploy_local, dev_signer
from energy_chain.events import EventDecoder
from energy_chain.meters import meter_id
from energy_chain.orders import OrderBookClient, Side
from scripts.register_meters import register_meters
from simulation.chain import SimChain

T0 = 1_774_000_800  # a quarter-hour boundary
L = 900
TARIFFS = Tariffs(500_000, 200_000)


@pytest.fixture
def market(tmp_path: Path) -> Iterator[tuple[SimChain, ChainClient, list[Signer]]]:
    chain = SimChain(tmp_path, T0 - 3600).start()
    try:
        client = ChainClient(ChainConfig(rpc_url=chain.url, chain_id=1337, deployments_dir=tmp_path / "deployments"))
        deploy_local(client)
        users = [dev_signer(3 + i) for i in range(4)]
        register_meters(client, dev_signer(1), [(f"M-{i}", u.address) for i, u in enumerate(users)])
        operator = dev_signer(1)
        money = client.contract("SettlementToken")
        for u in users:
            client.transact(money.functions.topUp(u.address, 10**9, b"\x01" * 32), operator, gas=120_000)
            for token in ("EnergyToken", "SettlementToken"):
                for spender in ("OrderBook", "DoubleAuction"):
                    fn = client.contract(token).functions.approve(client.deployment.address(spender), UNLIMITED)
                    client.transact(fn, u, gas=100_000)
        chain.automine(False)
        yield chain, client, users
    finally:
        chain.stop()


def record(chain: SimChain, client: ChainClient, readings: list[tuple[str, int, int, int]], ts: int) -> list[dict]:
    """The oracle's recordReadings (serial, interval, surplus, deficit); returns the ReadingRecorded args."""
    oracle = dev_signer(2)
    token = client.contract("EnergyToken")
    fn = token.functions.recordReadings([(meter_id(s), t, up, down) for s, t, up, down in readings])
    raw = oracle.sign(client.build_tx(fn, oracle, 2_000_000, nonce=oracle.next_nonce(client.pending_nonce)))
    _, blocks = chain.execute([raw], ts)
    decoder = EventDecoder(token.abi, token.address)
    events = [decoder.decode_log(log) for log in chain.logs(blocks, token.address)]
    return [e.args for e in events if e is not None and e.name == "ReadingRecorded"]


def make_agent(signer: Signer, bounds: UserBounds | None = None) -> TradingAgent:
    config = AgentConfig("M", bounds or UserBounds(), SupplyDemandRatioPricing(), PersistenceForecaster())
    return TradingAgent(config, signer.address, clock=lambda: 0.0)


def test_order_book_fill_is_delivered_by_the_oracle_burn(market):
    chain, client, (seller, buyer, *_) = market
    record(chain, client, [("M-0", T0 - L, 1_000, 0), ("M-1", T0 - L, 0, 600)], T0 + 10)
    s_agent, b_agent = make_agent(seller), make_agent(buyer, UserBounds(max_buy_price=450_000))
    s_agent.observe_reading(T0 - L, 1_000, 0)
    b_agent.observe_reading(T0 - L, 0, 600)
    energy = client.contract("EnergyToken")
    s_agent.set_balances(energy.functions.balanceOf(seller.address).call(), 0)
    b_agent.set_balances(0, 10**9)
    view = MarketView(TARIFFS, supply_wh=1_000, demand_wh=2_000)  # SDR 0.5: ask 0.2857, bid 0.3929
    for a in (s_agent, b_agent):
        a.begin_interval(T0, view)
    venue = OrderBookVenue(OrderBookClient(client))
    venue.refresh_levels()
    sell, buy = s_agent.intent(view, venue.name), b_agent.intent(view, venue.name)
    assert (sell.sell_wh, buy.buy_wh) == (1_000, 600)
    raws = [venue.place(seller, Side.SELL, sell.ask, sell.sell_wh, seller.next_nonce(client.pending_nonce)),
            venue.place(buyer, Side.BUY, buy.bid, buy.buy_wh, buyer.next_nonce(client.pending_nonce))]  # fmt: skip
    _, blocks = chain.execute(raws, T0 + 20)
    trades = venue.trades(venue.decode(chain.logs(blocks, venue.client.address)))
    assert len(trades) == 1
    t = trades[0]
    assert (t.buyer, t.seller, t.amount_wh, t.price) == (buyer.address, seller.address, 600, 285_714)
    assert t.paid == t.received == 285_714 * 600 // 1000
    # At the end of the interval the buyer's deficit is covered by the bought tokens, not by the grid.
    (reading,) = record(chain, client, [("M-1", T0, 0, 650)], T0 + L + 10)
    assert (reading["burnedWh"], reading["gridWh"]) == (600, 50)


def test_auction_batch_with_local_hints_books_clears_and_pays(market):
    chain, client, users = market
    record(chain, client, [("M-0", T0 - L, 800, 0), ("M-1", T0 - L, 500, 0)], T0 + 10)
    venue = AuctionVenue(AuctionClient(client))
    venue.open_round(T0)
    orders = [(users[0], AuctionSide.ASK, 250_000, 800), (users[2], AuctionSide.BID, 450_000, 600),
              (users[1], AuctionSide.ASK, 300_000, 500), (users[3], AuctionSide.BID, 320_000, 600)]  # fmt: skip
    raws = [venue.submit(u, T0, side, price, amount, u.next_nonce(client.pending_nonce))
            for u, side, price, amount in orders]  # fmt: skip
    _, blocks = chain.execute(raws, T0 + 20)
    booked = [e for e in venue.decode(chain.logs(blocks)) if e.name == "OrderBooked"]
    assert len(booked) == 4
    keeper = dev_signer(9)
    ids = [int(e.args["orderId"]) for e in booked]
    settle = venue.settle(keeper, T0, ids, keeper.next_nonce(client.pending_nonce), clear_steps=10)
    _, blocks = chain.execute(settle, T0 + L)
    events = venue.decode(chain.logs(blocks))
    (cleared,) = [e.args for e in events if e.name == "RoundCleared"]
    # Bids 450k x 600, 320k x 600 against asks 250k x 800, 300k x 500: all 1 200 Wh trade, marginal pair
    # (320k bid, 300k ask) -> uniform price 310k.
    assert (cleared["volumeWh"], cleared["clearingPrice"]) == (1_200, 310_000)
    claims = {e.args["owner"]: e.args for e in events if e.name == "OrderClaimed"}
    assert claims[users[2].address]["fillWh"] == 600 and claims[users[0].address]["fillWh"] == 800
    assert claims[users[1].address]["fillWh"] == 400 and claims[users[1].address]["energyRefund"] == 100
