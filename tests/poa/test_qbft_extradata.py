"""QBFT extraData codec against Besu's own known encoding, and the shape of a genesis block's extraData."""

from __future__ import annotations

import pytest
import rlp

from poa.besu.extradata import QbftExtraData, Vote, genesis_extra_data
from poa.clique.genesis import clique_extra_data, clique_signers

ADDR1, ADDR2 = "0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02"
# Besu's QbftExtraDataCodecTest: vanity 1..32, validators [1, 2], add-vote for 1, round 0xFEDCBA, two seals.
BESU_KNOWN = (
    "0xf8f0a00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20ea940000000000000000"
    "000000000000000000000001940000000000000000000000000000000000000002d7940000000000000000"
    "00000000000000000000000181ff83fedcbaf886b841000000000000000000000000000000000000000000"
    "0000000000000000000001000000000000000000000000000000000000000000000000000000000000000a"
    "00b841000000000000000000000000000000000000000000000000000000000000000a0000000000000000"
    "00000000000000000000000000000000000000000000000100"
)


def _seal(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def test_besu_known_encoding_decodes_to_its_fields():
    decoded = QbftExtraData.decode(BESU_KNOWN)
    assert decoded.vanity == bytes(range(1, 33))
    assert decoded.validators == (ADDR1, ADDR2)
    assert decoded.vote == Vote(ADDR1, add=True)
    assert decoded.round == 0xFEDCBA
    assert decoded.seals == (_seal(1, 10, 0), _seal(10, 1, 0))


def test_encoding_reproduces_besu_known_bytes():
    extra = QbftExtraData(
        (ADDR1, ADDR2), bytes(range(1, 33)), Vote(ADDR1, True), 0xFEDCBA, (_seal(1, 10, 0), _seal(10, 1, 0))
    )
    assert extra.hex() == BESU_KNOWN


def test_drop_vote_round_trips():
    extra = QbftExtraData((ADDR2,), vote=Vote(ADDR1, add=False), round=3)
    assert QbftExtraData.decode(extra.encode()) == extra


def test_genesis_extra_data_lists_validators_without_vote_round_or_seals():
    raw = genesis_extra_data([ADDR1, ADDR2])
    decoded = QbftExtraData.decode(raw)
    assert decoded == QbftExtraData((ADDR1, ADDR2))
    assert raw.endswith("c080c0")  # empty vote list, round 0 as the empty scalar, empty seal list


def test_ibft2_fixed_width_round_is_rejected():
    ibft2 = rlp.encode([bytes(32), [bytes.fromhex(ADDR1[2:])], b"", b"\x00\x00\x00\x00", []])
    with pytest.raises(ValueError, match="minimal scalar"):
        QbftExtraData.decode(ibft2)


def test_a_network_without_validators_is_refused():
    with pytest.raises(ValueError):
        genesis_extra_data([])


def test_clique_extra_data_sorts_signers_and_decodes_back():
    assert clique_signers(clique_extra_data([ADDR2, ADDR1])) == [ADDR1, ADDR2]
    assert len(bytes.fromhex(clique_extra_data([ADDR1])[2:])) == 32 + 20 + 65


def test_clique_extra_data_of_other_lengths_is_rejected():
    with pytest.raises(ValueError):
        clique_signers("0x" + "00" * (32 + 65 + 7))
