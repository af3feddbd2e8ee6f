"""Fix bugs of @ethereumjs/client 0.10.2 after `npm ci`, so the clique chain answers as geth and Besu do.

1. eth_call ran outside any block (timestamp 0, number 0): a simulated call to code that checks `block.timestamp`
   (meter intervals, order expiry) reverted on this chain only. Fixed: the call runs in the requested block.
2. eth_getLogs checked only the first topic (the event signature) and ignored filters on indexed arguments, so a
   query for one meter's or one owner's events returned everyone's. Fixed: every topic position is checked.
3. eth_getTransactionByHash knew only mined transactions; geth and Besu also return pending ones (blockHash null),
   which is how a client tells "pending" from "unknown". Fixed: the transaction pool is consulted.
4. eth_getTransactionReceipt failed with "... not found in DB" while a sealed block was being stored. Fixed: it
   answers null (not mined yet) in that moment, as other clients do.
5. Several signers (poa/clique/network.py):
   a. p2p listened on 0.0.0.0 whatever --extIP said. Fixed: discovery and RLPx bind --extIP (127.0.0.1).
   b. a sealed block went in full to sqrt(peers) peers and as a hash to the rest, and a hash is only fetched while
      a sync is running: in a 3-signer network one peer never got the block and the chain stalled. Fixed: every
      peer gets the block.
   c. a block whose parent is not our head (two signers sealed the same height) or is missing (the node was busy
      executing, or restarted) was dropped outside a sync, so signers stayed on forks or behind and the chain
      stalled. Fixed: it is stored when its parent is (total difficulty picks the head); missing ancestors are
      fetched from the peer that sent it.
   d. the miner sealed on a head that was stored but not yet executed (a block of hundreds of transactions from a
      peer): "State trie does not contain state root" was thrown in a timer, the uncaught-exception handler
      stopped the client, and the node died under load. Fixed: the miner retries 200 ms later. It also seals only
      with a peer connected when peering is on (a lone signer of several cannot keep a chain anyway).
   e. the miner dropped a sealed block's transactions from its pool at once, so when its block lost a race to
      another signer's they were lost. Fixed: transactions leave the pool when their block is canonical, and
      return when their block leaves the canonical chain.
   f. under the same lag, transaction validation and calls at 'latest' failed ("State trie does not contain state
      root"). Fixed: they use the newest executed block.

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
    Fix(
        "peer discovery binds to --extIP",
        SRC / "net/server/rlpxserver.js",
        "this.dpt.bind(this.config.port, '0.0.0.0');",
        "this.dpt.bind(this.config.port, this.config.extIP ?? '0.0.0.0'); // patched: listen address",
    ),
    Fix(
        "a new block goes to every peer",
        SRC / "sync/fullsync.js",
        "const numPeersToShareWith = Math.floor(Math.sqrt(this.pool.peers.length));",
        "const numPeersToShareWith = this.pool.peers.length; // patched: a PoA network is small, send whole blocks",
    ),
    Fix(
        "a block whose parent is missing fetches its ancestors",
        SRC / "sync/fullsync.js",
        """        if (block.header.number > this.chain.headers.height + BIGINT_1) {
            // If the block number exceeds one past our height we cannot validate it
            return;
        }""",
        """        if (!(await this._patchedKnown(block.header.parentHash))) {
            // patched: we missed its parent (busy executing, restarted, or on another branch): fetch the missing
            // ancestors from the sender in the background (awaiting here would block that peer's replies)
            void this._patchedFetchAncestors(block, peer);
            return;
        }""",
    ),
    Fix(
        "a competing block whose parent is known is stored",
        SRC / "sync/fullsync.js",
        """        else {
            // Call handleNewBlockHashes to retrieve all blocks between chain tip and new block
            this.handleNewBlockHashes([[block.hash(), block.header.number]]);
        }""",
        """        else if (!(await this._patchedKnown(block.hash()))) {
            // patched: a sibling of our head (two signers sealed the same height) or a block of another branch:
            // store it and let total difficulty pick the head, instead of waiting for a fetcher that only exists
            // while syncing
            await this.chain.putBlocks([block]);
        }""",
    ),
    Fix(
        "helpers: is a block stored, fetch missing ancestors",
        SRC / "sync/fullsync.js",
        """    /**
     * Chain was updated, new block hashes received""",
        """    async _patchedKnown(hash) {
        return this.chain.blockchain.getBlock(hash).then(() => true, () => false);
    }
    async _patchedFetchAncestors(block, peer, attempt = 0) {
        if (peer?.eth === undefined || (await this._patchedKnown(block.hash())))
            return;
        if (this._patchedFetching === true || !(await this._patchedFetchOnce(block, peer))) {
            // busy, or the peer did not answer in time (it may be executing a big block): try again shortly,
            // as the chain may wait for us and then no new block would trigger another attempt
            if (attempt < 60)
                setTimeout(() => void this._patchedFetchAncestors(block, peer, attempt + 1), 1000);
        }
    }
    async _patchedFetchOnce(block, peer) {
        this._patchedFetching = true;
        try {
            const missing = [block];
            let hash = block.header.parentHash;
            while (!(await this._patchedKnown(hash))) {
                if (missing.length > 1024)
                    return true; // far behind: the synchronizer's fetcher catches up instead
                const headers = await peer.eth.getBlockHeaders({ block: hash, max: 64, reverse: true });
                if (!Array.isArray(headers) || headers[1].length === 0)
                    return false;
                const bodies = await peer.eth.getBlockBodies({ hashes: headers[1].map((h) => h.hash()) });
                if (!Array.isArray(bodies) || bodies[1].length !== headers[1].length)
                    return false;
                for (const [i, header] of headers[1].entries()) {
                    if (!equalsBytes(header.hash(), hash) || (await this._patchedKnown(hash)))
                        break;
                    const [txs, uncles] = bodies[1][i];
                    missing.push(PatchedBlock.fromValuesArray([header.raw(), txs, uncles], { common: header.common }));
                    hash = header.parentHash;
                }
            }
            await this.chain.putBlocks(missing.reverse());
            this.config.logger.info(`Fetched ${missing.length} missing blocks up to number=${block.header.number}`);
            return true;
        }
        catch (error) {
            this.config.logger.warn(`Fetching missing blocks failed: ${error}`);
            return false;
        }
        finally {
            this._patchedFetching = false;
        }
    }
    /**
     * Chain was updated, new block hashes received""",
    ),
    Fix(
        "the pool follows the canonical chain",
        SRC / "sync/fullsync.js",
        "        this.config.events.on(Event.SYNC_FETCHED_BLOCKS, this.processBlocks);\n",
        """        this.config.events.on(Event.SYNC_FETCHED_BLOCKS, this.processBlocks);
        this.config.events.on(Event.CHAIN_UPDATED, () => { // patched: see _patchedSyncPool
            this._patchedPoolRun = (this._patchedPoolRun ?? Promise.resolve()).then(() => this._patchedSyncPool())
                .catch((e) => this.config.logger.warn(`Pool update failed: ${e}`));
        });
""",
    ),
    Fix(
        "helper: pool update on chain changes",
        SRC / "sync/fullsync.js",
        """    async _patchedKnown(hash) {""",
        """    async _patchedSyncPool() {
        // patched: transactions leave the pool when their block is canonical (not when it is sealed), and the
        // transactions of a block that left the canonical chain (a race between signers, lost by ours) come back
        const head = this.chain.blocks.latest;
        if (head === null || head === undefined)
            return;
        const seen = (this._patchedCanon ??= new Map());
        const first = head.header.number > 16n ? head.header.number - 16n : 1n;
        const orphans = [...seen.entries()].filter(([n]) => n > head.header.number).map(([, b]) => b);
        const fresh = [];
        for (let n = first; n <= head.header.number; n++) {
            const block = await this.chain.getBlock(n);
            const before = seen.get(n);
            if (before !== undefined && !equalsBytes(before.hash(), block.hash()))
                orphans.push(before);
            if (before === undefined || !equalsBytes(before.hash(), block.hash()))
                fresh.push(block);
            seen.set(n, block);
        }
        for (const n of [...seen.keys()])
            if (n < first || n > head.header.number)
                seen.delete(n);
        for (const tx of orphans.flatMap((b) => b.transactions))
            await this.txPool.add(tx, true).catch(() => undefined); // refused if its nonce is used by now
        if (orphans.length > 0)
            this.config.logger.info(`Returned transactions of ${orphans.length} orphaned blocks to the pool`);
        this.txPool.removeNewBlockTxs(fresh);
    }
    async _patchedKnown(hash) {""",
    ),
    Fix(
        "a sealed block's transactions stay pooled until it is canonical",
        SRC / "miner/miner.js",
        "        this.service.txPool.removeNewBlockTxs([block]);\n",
        "        // patched: removed when the block is canonical (fullsync _patchedSyncPool): it may lose a race\n",
    ),
    Fix(
        "the pool checks transactions against the newest executed state",
        SRC / "service/txpool.js",
        "        await vmCopy.stateManager.setStateRoot(block.stateRoot);",
        """        // patched: the canonical head can be stored before it is executed; then use the newest executed
        // state
        const root = (await vmCopy.stateManager.hasStateRoot(block.stateRoot))
            ? block.stateRoot : (await this.service.chain.blockchain.getIteratorHead('vm')).header.stateRoot;
        await vmCopy.stateManager.setStateRoot(root);""",
    ),
    Fix(
        "'latest' state is the newest executed block",
        SRC / "rpc/helpers.js",
        """        case 'latest':
            block = latest;""",
        """        case 'latest': // patched: the canonical head can be stored before it is executed
            block = (await chain.blockchain.getIteratorHead('vm').catch(() => undefined)) ?? latest;""",
    ),
    Fix(
        "import Block for fetched ancestors",
        SRC / "sync/fullsync.js",
        "import { Hardfork } from '@ethereumjs/common';\n",
        "import { Hardfork } from '@ethereumjs/common';\n"
        "import { Block as PatchedBlock } from '@ethereumjs/block'; // patched\n",
    ),
    Fix(
        "the miner waits for its parent's state and for a peer",
        SRC / "miner/miner.js",
        """        // Use a copy of the vm to not modify the existing state.""",
        """        // patched: the head can be stored before it is executed (a big block from a peer); sealing on it
        // then threw "State trie does not contain state root" and the uncaught error stopped the node. Wait.
        // A signer of a multi-signer network (maxPeers > 0) alone cannot keep a chain (recently-signed rule):
        // it seals only with a peer, so a node that starts first does not fork the chain on its own.
        const parentMissing = !(await this.execution.vm.stateManager.hasStateRoot(parentBlock.header.stateRoot));
        if (parentMissing || (this.config.maxPeers > 0 && this.service.pool.size === 0)) {
            this.assembling = false;
            this.config.events.removeListener(Event.CHAIN_UPDATED, _boundSetInterruptHandler);
            void this.queueNextAssembly(parentMissing ? 200 : this.period);
            return;
        }
        // Use a copy of the vm to not modify the existing state.""",
    ),
    Fix(
        "RLPx listens on --extIP",
        SRC / "net/server/rlpxserver.js",
        "this.rlpx.listen(this.config.port, '0.0.0.0');",
        "this.rlpx.listen(this.config.port, this.config.extIP ?? '0.0.0.0'); // patched: listen address",
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
