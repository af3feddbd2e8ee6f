"""`make bench-dht`: offer discovery over the kademlia DHT with 50 and 200 nodes on 127.0.0.1, beside the chain.

For each size N, on its own anvil (free port): N meters registered to N owners and minted energy; N DiscoveryNodes
(real UDP sockets on free 127.0.0.1 ports, one shared asyncio loop in this process) join through the first nodes,
and each publishes one signed offer for its meter. Then:
  - publish-to-visible: a random node publishes a new offer, a random other node gathers that meter until the new
    offer shows (includes the publish call itself);
  - full-community query: a random node gathers all N meters (parallel lookups, every record and offer verified);
    messages = RPC requests the querying node sent (each one is answered: datagrams on the wire = 2x);
  - churn: 10 % and then 30 % of the nodes are killed (socket closed, no republish); surviving nodes gather all N
    meters; share of all N offers found (the killed meters' records are still unexpired and held by replicas);
  - chain: the same question answered from anvil: for every meter MeterRegistry.activeOwnerOf + EnergyToken.balanceOf
    (2N sequential eth_calls) - what a buyer can learn about sellers on chain without any DHT.
Balances for the DHT verifier come from a snapshot read from anvil once (so the DHT figures hold no chain calls).
Bounded by --max-seconds; every node and anvil is stopped in finally. Writes reports/dht-bench.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from agents.discovery import DiscoveryNode, LoopThread, Verifier
from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import start_anvil
from energy_chain.config import PROJECT_ROOT
from energy_chain.devchain import OPERATOR_INDEX, ORACLE_INDEX, deploy_local, dev_signer
from energy_chain.meters import meter_id, meter_id_hex
from energy_chain.offers import Offer, SignedOffer, sign_offer
from scripts.register_meters import register_meters

CONTRACT = "0x" + "c0" * 20  # OfferSettlement domain of the signed offers (discovery never calls it)
MINT_BATCH = 200  # EnergyToken.MAX_BATCH


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": round(pct(ms, 0.5), 2), "p95_ms": round(pct(ms, 0.95), 2), "n": len(ms)}


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise TimeoutError(f"bench ran out of time before {what}")


def setup_chain(client: ChainClient, accounts: list[LocalAccount], meters: list[str], serials: list[str]) -> None:
    deploy_local(client)
    register_meters(
        client, dev_signer(OPERATOR_INDEX), [(s, a.address) for s, a in zip(serials, accounts, strict=True)]
    )
    token = client.contract("EnergyToken")
    interval = (int(time.time()) - 3600) // 60 * 60  # aligned to the meters' period (register_meters: 60 s)
    readings = [(meter_id(s), interval, 2_000 + i, 0) for i, s in enumerate(serials)]
    for start in range(0, len(readings), MINT_BATCH):
        client.transact(token.functions.recordReadings(readings[start : start + MINT_BATCH]), dev_signer(ORACLE_INDEX))


def chain_query(client: ChainClient, meters: list[str]) -> dict[str, int]:
    """What the chain says about the community's sellers: owner and energy balance of every meter."""
    registry, token = client.contract("MeterRegistry"), client.contract("EnergyToken")
    out = {}
    for m in meters:
        owner = registry.functions.activeOwnerOf(bytes.fromhex(m[2:])).call()
        out[owner] = int(token.functions.balanceOf(owner).call())
    return out


def offer_for(account: LocalAccount, now: int, i: int) -> SignedOffer:
    offer = Offer.new(account.address, 100 + i % 50, 500 + i % 700, now - 5, now + 3600)
    return sign_offer(offer, account.key, 1337, CONTRACT)


def total_rpcs(node: DiscoveryNode) -> int:
    return sum(node.rpc_counts.values())


def run_size(n: int, args: argparse.Namespace, deadline: Deadline, rng: random.Random) -> dict[str, Any]:
    log = logging.getLogger("bench_dht")
    accounts = [Account.from_key(keccak(text=f"bench-dht-{args.seed}-{i}")) for i in range(n)]
    serials = [f"bench-dht-{args.seed}-{i}" for i in range(n)]
    meters = [meter_id_hex(s) for s in serials]
    result: dict[str, Any] = {"nodes": n}
    chain = start_anvil()
    loop = LoopThread(f"bench-dht-{n}")
    nodes: list[DiscoveryNode] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            client = ChainClient(ChainConfig(rpc_url=chain.url, deployments_dir=Path(tmp)))
            setup_chain(client, accounts, meters, serials)
            chain_times = []
            for _ in range(args.chain_repeats):
                t0 = time.perf_counter()
                balances = chain_query(client, meters)
                chain_times.append(time.perf_counter() - t0)
            result["chain_query"] = {
                "what": "per meter MeterRegistry.activeOwnerOf + EnergyToken.balanceOf, sequential eth_call on anvil",
                "calls_per_query": 2 * n,
                **summary_ms(chain_times),
            }
            owners = dict(zip(meters, (a.address for a in accounts), strict=True))
            verifier = Verifier(1337, CONTRACT, balances.__getitem__, owners.get)

            t0 = time.perf_counter()
            for i, account in enumerate(accounts):
                deadline.check(f"starting node {i} of {n}")
                boot = [nodes[j].address for j in rng.sample(range(len(nodes)), min(3, len(nodes)))]
                node = DiscoveryNode(
                    bootstrap=boot,
                    verifier=verifier,
                    key=account.key,
                    rpc_timeout_s=args.rpc_timeout,
                    max_parallel_lookups=args.parallel,
                    record_ttl_s=3600,
                    loop=loop,
                )
                nodes.append(node)
                node.start()
            result["join_s"] = round(time.perf_counter() - t0, 2)
            now = int(time.time())
            offers: dict[str, SignedOffer] = {}
            t0 = time.perf_counter()
            for i, (meter, account, node) in enumerate(zip(meters, accounts, nodes, strict=True)):
                offers[meter] = offer_for(account, now, i)
                node.publish(meter, [offers[meter]])
            result["publish_all_s"] = round(time.perf_counter() - t0, 2)
            log.info("N=%d: joined in %.1fs, published in %.1fs", n, result["join_s"], result["publish_all_s"])

            result["publish_to_visible"] = summary_ms(visible_latencies(nodes, meters, accounts, offers, args, rng))
            result["full_query"] = full_queries(nodes, meters, offers, args, rng, deadline)
            result["churn"] = {}
            alive = list(range(n))
            for share in (0.10, 0.30):
                deadline.check(f"churn {share:.0%}")
                target_dead = round(share * n)
                dead_now = n - len(alive)
                for idx in rng.sample(alive, target_dead - dead_now):
                    nodes[idx].stop()
                    alive.remove(idx)
                buyers = [nodes[i] for i in rng.sample(alive, min(args.churn_buyers, len(alive)))]
                found_share, times, msgs = [], [], []
                for buyer in buyers:
                    before = total_rpcs(buyer)
                    t0 = time.perf_counter()
                    got = {o.offer_hash for o in buyer.gather(meters, int(time.time()))}
                    times.append(time.perf_counter() - t0)
                    msgs.append(total_rpcs(buyer) - before)
                    found_share.append(len(got & {o.offer_hash for o in offers.values()}) / n)
                result["churn"][f"{round(share * 100)}%"] = {
                    "killed": target_dead,
                    "share_found_mean": round(statistics.mean(found_share), 4),
                    "share_found_min": round(min(found_share), 4),
                    "query": summary_ms(times),
                    "messages_per_query_mean": round(statistics.mean(msgs), 1),
                }
                log.info("N=%d, %d killed: share found %.3f", n, target_dead, statistics.mean(found_share))
    finally:
        for node in nodes:
            node.stop()
        loop.close()
        chain.kill()
    return result


def visible_latencies(
    nodes: list[DiscoveryNode],
    meters: list[str],
    accounts: list[LocalAccount],
    offers: dict[str, SignedOffer],
    args: argparse.Namespace,
    rng: random.Random,
) -> list[float]:
    latencies = []
    for _ in range(args.samples):
        i, j = rng.sample(range(len(nodes)), 2)
        fresh = offer_for(accounts[i], int(time.time()), rng.randrange(10**6))
        t0 = time.perf_counter()
        nodes[i].publish(meters[i], [fresh])
        while time.perf_counter() - t0 < 30:
            if fresh.offer_hash in {o.offer_hash for o in nodes[j].gather([meters[i]], int(time.time()))}:
                latencies.append(time.perf_counter() - t0)
                break
        offers[meters[i]] = fresh
    return latencies


def full_queries(
    nodes: list[DiscoveryNode],
    meters: list[str],
    offers: dict[str, SignedOffer],
    args: argparse.Namespace,
    rng: random.Random,
    deadline: Deadline,
) -> dict[str, Any]:
    times, msgs, shares, network, verify = [], [], [], [], []
    for _ in range(args.queries):
        deadline.check("full-community queries")
        buyer = rng.choice(nodes)
        before = total_rpcs(buyer)
        t0 = time.perf_counter()
        got = {o.offer_hash for o in buyer.gather(meters, int(time.time()))}
        times.append(time.perf_counter() - t0)
        msgs.append(total_rpcs(buyer) - before)
        shares.append(len(got & {o.offer_hash for o in offers.values()}) / len(meters))
        network.append(buyer.last_gather["network_s"])
        verify.append(buyer.last_gather["verify_s"])
    return {
        **summary_ms(times),
        "network": summary_ms(network),
        "verify": summary_ms(verify),
        "messages_per_query_mean": round(statistics.mean(msgs), 1),
        "messages_per_lookup_mean": round(statistics.mean(msgs) / len(meters), 2),
        "share_found_mean": round(statistics.mean(shares), 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--samples", type=int, default=20, help="publish-to-visible samples per size")
    ap.add_argument("--queries", type=int, default=10, help="full-community queries per size")
    ap.add_argument("--churn-buyers", type=int, default=5, help="queries per churn level")
    ap.add_argument("--chain-repeats", type=int, default=5)
    ap.add_argument("--rpc-timeout", type=float, default=1.0, help="seconds to wait for one UDP answer")
    ap.add_argument("--parallel", type=int, default=16, help="lookups one gather runs at once")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "dht-bench.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for name in ("kademlia", "rpcudp", "agents.discovery"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # unanswered RPCs are expected during churn
    rng = random.Random(args.seed)
    deadline = Deadline(args.max_seconds)
    started = time.time()
    sizes = [run_size(n, args, deadline, rng) for n in args.nodes]
    report = {
        "generated_at": int(started),
        "wall_s": round(time.time() - started, 1),
        "setup": {
            "host": "127.0.0.1, one process, one asyncio loop for all nodes",
            "ksize": 20,
            "alpha": 3,
            "rpc_timeout_s": args.rpc_timeout,
            "max_parallel_lookups": args.parallel,
            "offers_per_meter": 1,
            "seed": args.seed,
            "messages": "RPC requests sent by the querying node (find_node/find_value/store/ping); each answered",
        },
        "sizes": {str(s["nodes"]): s for s in sizes},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    print(f"wrote {args.out}")
    return 0


def render(report: dict[str, Any]) -> str:
    lines = []
    for n, s in report["sizes"].items():
        fq, pv, ch = s["full_query"], s["publish_to_visible"], s["chain_query"]
        lines.append(
            f"N={n}: publish->visible p50 {pv['p50_ms']} ms p95 {pv['p95_ms']} ms | full query p50 {fq['p50_ms']} ms "
            f"p95 {fq['p95_ms']} ms, {fq['messages_per_query_mean']} msgs ({fq['messages_per_lookup_mean']}/lookup), "
            f"found {fq['share_found_mean']:.1%} (network p50 {fq['network']['p50_ms']} ms, verify p50 "
            f"{fq['verify']['p50_ms']} ms) | chain p50 {ch['p50_ms']} ms p95 {ch['p95_ms']} ms"
        )
        for level, c in s["churn"].items():
            lines.append(
                f"   {level} killed: found {c['share_found_mean']:.1%} (min {c['share_found_min']:.1%}), "
                f"query p50 {c['query']['p50_ms']} ms p95 {c['query']['p95_ms']} ms"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
