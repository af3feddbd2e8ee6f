"""The `direct` design: sellers publish signed offers to a Kademlia DHT, buyers gather, select and fill them
(agents.direct, issue #13). One UDP discovery node per household on 127.0.0.1, all on one event-loop thread, with the
simulated clock; the SDK's OfferSettlementClient waits for receipts, so this phase runs with anvil's automine on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from agents.agent import TradingAgent
from agents.direct import DirectBuyer, DirectSeller
from agents.discovery import DiscoveryNode, LoopThread, chain_verifier
from agents.pricing import MarketView
from agents.venues import Trade
from energy_chain import ChainClient, Signer
from energy_chain.meters import meter_id_hex
from energy_chain.offer_settlement import OfferSettlementClient
from simulation.chain import SimChain

log = logging.getLogger("simulation.direct")
OFFER_MARGIN_S = 30
# UDP replies on a busy 2-core machine can take over half a second; a lost reply drops a peer from the routing
# table and its offers from the next gather, which would make the run depend on machine load.
RPC_TIMEOUT_S = 3.0  # offers expire this long before the interval ends (trading there is over)


class DirectMarket:
    name = "direct"

    def __init__(self, client: ChainClient, signers: Sequence[Signer], serials: Sequence[str], clock: Any,
                 interval_s: int) -> None:  # fmt: skip
        self.interval_s = interval_s
        self.failures = 0  # publishes and purchases that failed in discovery (their energy went to the grid)
        logging.getLogger("rpcudp").setLevel(logging.CRITICAL)  # reply timeouts: discovery's stats count them
        self.loop = LoopThread()
        self.nodes: list[DiscoveryNode] = []
        settlement = OfferSettlementClient(client)
        verifier = chain_verifier(client)
        meters = [meter_id_hex(s) for s in serials]
        try:
            for s in signers:
                bootstrap = [n.address for n in self.nodes[:3]]
                node = DiscoveryNode("127.0.0.1", 0, bootstrap, verifier, key=s.account.key,
                                     rpc_timeout_s=RPC_TIMEOUT_S, loop=self.loop, clock=clock)  # fmt: skip
                self.nodes.append(node.start())
        except Exception:
            self.close()
            raise
        meter_of = {s.address: m for s, m in zip(signers, meters, strict=True)}
        self.sellers = [DirectSeller(settlement, n, s, m, offer_life_s=interval_s - OFFER_MARGIN_S)
                        for n, s, m in zip(self.nodes, signers, meters, strict=True)]  # fmt: skip
        self.buyers = [DirectBuyer(settlement, n, s, m, lambda: meters, meter_of)
                       for n, s, m in zip(self.nodes, signers, meters, strict=True)]  # fmt: skip

    def trade(self, chain: SimChain, agents: Sequence[TradingAgent], view: MarketView, order: Sequence[int],
              now: int) -> list[Trade]:  # fmt: skip
        """Publish every seller's offer, then let each buyer (in `order`) buy; mined with automine at `now`+."""
        assert chain.rpc is not None
        chain.mine(now)  # the head is at `now`: offers valid from now pass the contract's checks in eth_call too
        first = int(chain.rpc.call("eth_blockNumber"), 16) + 1
        chain.automine(True)
        trades: list[Trade] = []
        try:
            intents = [a.intent(view, self.name) for a in agents]
            for i in order:
                try:
                    self.sellers[i].publish(intents[i].sell_wh, intents[i].ask, now)
                except Exception as exc:  # e.g. kademlia's set_digest with an empty routing table: no offer
                    self.failures += 1
                    log.warning("seller %d could not publish (%s: %s)", i, type(exc).__name__, exc)
            for i in order:
                if intents[i].buy_wh > 0:
                    try:
                        p = self.buyers[i].buy(intents[i].buy_wh, now)
                    except Exception as exc:  # discovery failed: this buyer's deficit comes from the grid
                        self.failures += 1
                        log.warning("buyer %d could not buy (%s: %s)", i, type(exc).__name__, exc)
                        continue
                    log.debug("buyer %d: %s", i, p)
                    trades += [Trade(t.buyer, t.seller, t.price, t.amount_wh, t.cost, t.cost) for t in p.trades]
        finally:
            chain.automine(False)
            chain.absorb(first, int(chain.rpc.call("eth_blockNumber"), 16))
        return trades

    def close(self) -> None:
        for n in self.nodes:
            n.stop()
        self.loop.close()
