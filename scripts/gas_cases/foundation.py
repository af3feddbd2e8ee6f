"""Gas of the foundation contracts: meter registry, energy token, settlement token."""

from __future__ import annotations

from web3 import Web3

from energy_chain.approvals import UNLIMITED
from scripts.gas_report import GasContext


def _meter(n: int) -> bytes:
    return Web3.keccak(text=f"GAS-METER-{n}")


def measure(ctx: GasContext) -> None:
    admin, operator, oracle = ctx.signer(0), ctx.signer(1), ctx.signer(2)
    alice, bob = ctx.signer(3), ctx.signer(4)
    registry, energy, money = (
        ctx.contract("MeterRegistry"),
        ctx.contract("EnergyToken"),
        ctx.contract("SettlementToken"),
    )

    ctx.measure(
        "MeterRegistry",
        "registerMeter",
        "new meter",
        registry.functions.registerMeter(_meter(0), alice.address),
        operator,
    )
    ctx.measure(
        "MeterRegistry", "deactivateMeter", "active meter", registry.functions.deactivateMeter(_meter(0)), operator
    )
    ctx.measure(
        "MeterRegistry", "activateMeter", "inactive meter", registry.functions.activateMeter(_meter(0)), operator
    )
    ctx.measure(
        "MeterRegistry",
        "reassignMeter",
        "to a new owner",
        registry.functions.reassignMeter(_meter(0), bob.address),
        operator,
    )
    ctx.measure(
        "MeterRegistry", "reassignMeter", "back", registry.functions.reassignMeter(_meter(0), alice.address), operator
    )
    for i in range(1, 202):
        ctx.send(registry.functions.registerMeter(_meter(i), alice.address), operator)
    role = energy.functions.ORACLE_ROLE().call()
    ctx.measure("EnergyToken", "grantRole", "oracle role", energy.functions.grantRole(role, bob.address), admin)
    ctx.measure("EnergyToken", "revokeRole", "oracle role", energy.functions.revokeRole(role, bob.address), admin)

    ts = ctx.client.w3.eth.get_block("latest")["timestamp"] - 3600
    # Meter 0 changed owners twice just now: a reading of an hour ago has no known owner. Meter 201 never moved.
    reader = _meter(201)
    ctx.measure(
        "EnergyToken",
        "recordReading",
        "surplus, first mint to owner",
        energy.functions.recordReading((reader, ts, 1500, 0)),
        oracle,
    )
    ctx.measure(
        "EnergyToken",
        "recordReading",
        "surplus, owner holds tokens",
        energy.functions.recordReading((reader, ts + 60, 700, 0)),
        oracle,
    )
    ctx.measure(
        "EnergyToken",
        "recordReading",
        "deficit, partly burned, rest from grid",
        energy.functions.recordReading((reader, ts + 120, 0, 5000)),
        oracle,
    )
    batch = [(_meter(i), ts, 1000, 0) for i in range(1, 101)]
    receipt = ctx.measure(
        "EnergyToken", "recordReadings", "batch of 100 surplus readings", energy.functions.recordReadings(batch), oracle
    )
    ctx.rows.append(
        {
            "contract": "EnergyToken",
            "function": "recordReadings",
            "case": "per reading in a batch of 100",
            "gas": int(receipt["gasUsed"]) // 100,
        }
    )
    ctx.measure(
        "EnergyToken",
        "recordReadings",
        "batch of 100, all duplicates (replayed batch)",
        energy.functions.recordReadings(batch),
        oracle,
    )
    ctx.measure("EnergyToken", "transfer", "to a new holder", energy.functions.transfer(bob.address, 100), alice)
    ctx.measure("EnergyToken", "approve", "unlimited", energy.functions.approve(bob.address, UNLIMITED), alice)
    ctx.measure(
        "EnergyToken",
        "transferFrom",
        "with unlimited allowance",
        energy.functions.transferFrom(alice.address, bob.address, 50),
        bob,
    )

    ctx.measure(
        "SettlementToken", "topUp", "new holder", money.functions.topUp(alice.address, 10**8, b"\x01" * 32), operator
    )
    ctx.measure(
        "SettlementToken",
        "topUp",
        "existing holder",
        money.functions.topUp(alice.address, 10**8, b"\x02" * 32),
        operator,
    )
    ctx.measure("SettlementToken", "withdraw", "part of balance", money.functions.withdraw(10**7, b"\x03" * 32), alice)
    ctx.measure("SettlementToken", "transfer", "to a new holder", money.functions.transfer(bob.address, 10**6), alice)
    ctx.measure("SettlementToken", "approve", "unlimited", money.functions.approve(bob.address, UNLIMITED), alice)
