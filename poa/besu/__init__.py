"""A Hyperledger Besu QBFT network for the lab: `python -m poa.besu.generate --validators N --out DIR`."""
