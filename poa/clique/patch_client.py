"""Fix one bug of @ethereumjs/client 0.10.2 after `npm ci`: eth_call ran outside any block (timestamp 0, number 0).

geth and Besu run eth_call in the requested block's context; without this, a simulated call to code that checks
`block.timestamp` (meter intervals, order expiry) reverts on the clique chain only. The package is pinned by the
lock, so the text to replace is fixed; if it is not found this fails loudly instead of running unpatched.
Run by `make clique-setup`: `python -m poa.clique.patch_client`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ETH_RPC = Path(__file__).parent / "node_modules/@ethereumjs/client/dist/esm/src/rpc/modules/eth.js"
ORIGINAL = "const { execResult } = await vm.evm.runCall(runCallOpts);"
PATCHED = "const { execResult } = await vm.evm.runCall({ ...runCallOpts, block }); // patched: block context"


def patch(path: Path = ETH_RPC) -> bool:
    """Apply the fix; True if the file changed, False if it was already patched."""
    text = path.read_text()
    if PATCHED in text:
        return False
    if text.count(ORIGINAL) != 1:
        raise RuntimeError(f"{path}: expected eth_call code not found; is @ethereumjs/client still 0.10.2?")
    path.write_text(text.replace(ORIGINAL, PATCHED))
    return True


if __name__ == "__main__":
    changed = patch()
    print(
        f"{ETH_RPC.relative_to(Path.cwd()) if ETH_RPC.is_relative_to(Path.cwd()) else ETH_RPC}: "
        f"{'patched eth_call block context' if changed else 'already patched'}"
    )
    sys.exit(0)
