"""Clique proof-of-authority chains (npm @ethereumjs/client 0.10.2, patched): one signer, or N on 127.0.0.1.

The npm package lives in this folder (its own package.json and lock, installed by `make clique-setup`), so the
project's main `npm ci` stays small.
"""

from poa.clique.genesis import clique_extra_data, clique_genesis, clique_signers
from poa.clique.network import CliqueNetwork, block_signer, start_clique_network
from poa.clique.node import CliqueNode, start_clique

__all__ = [
    "CliqueNetwork",
    "CliqueNode",
    "block_signer",
    "clique_extra_data",
    "clique_genesis",
    "clique_signers",
    "start_clique",
    "start_clique_network",
]
