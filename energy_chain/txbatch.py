"""Send many contract calls as pre-signed transactions, in order, a bounded number in flight at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web3.contract.contract import ContractFunction

from energy_chain.client import ChainClient
from energy_chain.signer import Signer

Call = tuple[ContractFunction, Signer, int]  # (function, signer, explicit gas limit)


def send_signed(client: ChainClient, raws: Sequence[bytes], batch: int = 100) -> list[dict[str, Any]]:
    """Send pre-signed transactions in JSON-RPC batches of `batch` and return their raw receipts in order.

    Only for transactions whose order does not matter across senders (a batch may be executed out of order);
    fails loudly when the node refuses one or one reverts.
    """
    receipts: list[dict[str, Any]] = []
    for start in range(0, len(raws), batch):
        results = client.send_raw_batch(raws[start : start + batch])
        bad = [r for r in results if not isinstance(r, str)]
        if bad:
            raise RuntimeError(f"node refused {len(bad)} transactions, e.g. {bad[0]}")
        hashes = [r for r in results if isinstance(r, str)]
        found = client.wait_for_receipts(hashes)
        for h in hashes:
            if int(found[h]["status"], 16) != 1:
                raise RuntimeError(f"transaction {h} reverted")
            receipts.append(found[h])
    return receipts


def send_calls(client: ChainClient, calls: Sequence[Call], chunk: int = 50, check: bool = True) -> list[dict[str, Any]]:
    """Sign each call with its signer's next nonce and send them one request after another, `chunk` at a time.

    Order is kept: a JSON-RPC batch lets anvil execute transactions of different senders out of order, and
    anvil's automine stalls with thousands in flight. Returns the receipts in call order, as raw JSON with
    `status` and `gasUsed` turned into ints; with `check`, a failed transaction raises TxFailed (decoded).
    """
    out: list[dict[str, Any]] = []
    for start in range(0, len(calls), chunk):
        part = calls[start : start + chunk]
        raws = [signer.sign(client.build_tx(fn, signer, gas)) for fn, signer, gas in part]
        try:
            hashes = [client.send_raw(raw) for raw in raws]
        except Exception:
            for _, signer, _ in part:
                signer.resync()  # some nonces were not consumed: count again from the node
            raise
        mined = client.wait_for_receipts(hashes)
        for h in hashes:
            receipt = {**mined[h], "status": int(mined[h]["status"], 16), "gasUsed": int(mined[h]["gasUsed"], 16)}
            if check and receipt["status"] != 1:
                raise client.explain_failure(h)
            out.append(receipt)
    return out
