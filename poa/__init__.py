"""Proof-of-authority networks: a single-signer clique node for compatibility tests, a Besu QBFT network generator."""
