"""Fix four bugs of @ethereumjs/client 0.10.2 after `npm ci`, so the clique chain answers as geth and Besu do.

1. eth_call ran outside any block (timestamp 0, number 0): a simulated call to code that checks `block.timestamp`
   (meter intervals, order expiry) reverted on this chain only. Fixed: the call runs in the requested block.
2. eth_getLogs checked only the first topic (the event signature) and ignored filters on indexed arguments, so a
   query for one meter's or one owner's events returned everyone's. Fixed: every topic position is checked.
3. eth_getTransactionByHash knew only mined transactions; geth and Besu also return pending ones (blockHash null),
   which is how a client tells "pending" from "unknown". Fixed: the transaction pool is consulted.
4. eth_getTransactionReceipt failed with "... not found in DB" while a sealed block was being stored. Fixed: it
   answers null (not mined yet) in that moment, as other clients do.

The package is pinned by the lock, so the text to replace is fixed; if it is not found this fails loudly instead of
running unpatched. Run by `make clique-setup`: `python -m poa.clique.patch_client`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).parent / "node_modules/@ethereumjs/client/dist/esm/src"


@dataclass(frozen=True)
class Fix:
    name: str
    file: Path
    original: str
    patched: str


FIXES = (
    Fix(
        "eth_call runs in the requested block",
        SRC / "rpc/modules/eth.js",
        "const { execResult } = await vm.evm.runCall(runCallOpts);",
        "const { execResult } = await vm.evm.runCall({ ...runCallOpts, block }); // patched: block context",
    ),
    Fix(
        "eth_getLogs filters on every topic",
        SRC / "execution/receipt.js",
        """                            if (!equalsBytes(topic, l.log[1][i]))
                                return false;
                        }
                        return true;
                    }
                });""",
        """                            if (!equalsBytes(topic, l.log[1][i]))
                                return false;
                        }
                    }
                    return true; // patched: after checking every topic position
                });""",
    ),
    Fix(
        "eth_getTransactionByHash returns pending transactions",
        SRC / "rpc/modules/eth.js",
        """        const result = await this.receiptsManager.getReceiptByTxHash(hexToBytes(txHash));
        if (!result)
            return null;
        const [_receipt, blockHash, txIndex] = result;""",
        """        const result = await this.receiptsManager.getReceiptByTxHash(hexToBytes(txHash));
        if (!result) { // patched: a pending transaction is known too
            const pooled = this.service.txPool.getByHash([hexToBytes(txHash)]);
            return pooled.length === 1 ? jsonRpcTx(pooled[0]) : null;
        }
        const [_receipt, blockHash, txIndex] = result;""",
    ),
    Fix(
        "eth_getTransactionReceipt is null while the block is stored",
        SRC / "rpc/modules/eth.js",
        """        const [receipt, blockHash, txIndex, logIndex] = result;
        const block = await this._chain.getBlock(blockHash);""",
        """        const [receipt, blockHash, txIndex, logIndex] = result;
        let block; // patched: the receipt can be stored before its block
        try {
            block = await this._chain.getBlock(blockHash);
        }
        catch {
            return null;
        }""",
    ),
)
# a filter longer than the log's topics cannot match (geth); without this equalsBytes reads past the end
_LOOP = " " * 20 + "for (const [i, topic] of topics.entries()) {\n" + " " * 24 + "if (Array.isArray(topic)) {"
TOPIC_GUARD = (
    _LOOP,
    " " * 20
    + "if (topics.length > l.log[1].length && topics.slice(l.log[1].length).some((t) => t))\n"
    + " " * 24
    + "return false; // patched: more topic filters than topics\n"
    + _LOOP,
)


def apply(fix: Fix, extra: tuple[str, str] | None = None) -> bool:
    """Apply one fix; True if the file changed, False if it was already patched."""
    text = fix.file.read_text()
    if fix.patched in text:
        return False
    if text.count(fix.original) != 1:
        raise RuntimeError(f"{fix.file}: code for '{fix.name}' not found; is @ethereumjs/client still 0.10.2?")
    text = text.replace(fix.original, fix.patched)
    if extra is not None:
        if text.count(extra[0]) != 1:
            raise RuntimeError(f"{fix.file}: code for '{fix.name}' not found; is @ethereumjs/client still 0.10.2?")
        text = text.replace(extra[0], extra[1])
    fix.file.write_text(text)
    return True


def main() -> int:
    for fix in FIXES:
        changed = apply(fix, TOPIC_GUARD if fix.file.name == "receipt.js" else None)
        print(f"ethereumjs client: {fix.name}: {'patched' if changed else 'already patched'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
