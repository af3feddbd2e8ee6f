"""A single-signer clique proof-of-authority chain (npm @ethereumjs/client 0.10.2) for compatibility tests.

The npm package lives in this folder (its own package.json and lock, installed by `make clique-setup`), so the
project's main `npm ci` stays small.
"""

from poa.clique.genesis import clique_extra_data, clique_genesis, clique_signers
from poa.clique.node import CliqueNode, start_clique

__all__ = ["CliqueNode", "clique_extra_data", "clique_genesis", "clique_signers", "start_clique"]
