"""The web app's adapter to energy_chain: one ChainService per process, log decoding, user-facing messages."""
