"""Projections of MeterRegistry (meters: owner, active) and EnergyToken (settled readings)."""

from __future__ import annotations

from typing import Any

from webapp.indexer.projections import BatchContext, bytes32, projection
from webapp.models import Meter, Reading


@projection("MeterRegistry", "MeterRegistered")
def _meter_registered(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, bytes32(args["meterId"])) or Meter(meter_id=bytes32(args["meterId"]))
    meter.owner, meter.active, meter.registered_block = args["owner"], True, meta["block"]
    ctx.session.add(meter)


@projection("MeterRegistry", "MeterDeactivated")
def _meter_deactivated(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, bytes32(args["meterId"]))
    if meter is not None:
        meter.active = False


@projection("MeterRegistry", "MeterActivated")
def _meter_activated(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, bytes32(args["meterId"]))
    if meter is not None:
        meter.active = True


@projection("MeterRegistry", "MeterReassigned")
def _meter_reassigned(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, bytes32(args["meterId"]))
    if meter is not None:
        meter.owner = args["newOwner"]


@projection("EnergyToken", "ReadingRecorded")
def _reading(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    ctx.session.add(Reading(
        meter_id=bytes32(args["meterId"]), interval=int(args["interval"]), owner=args["owner"],
        minted_wh=int(args["mintedWh"]), burned_wh=int(args["burnedWh"]), grid_wh=int(args["gridWh"]),
        block_number=meta["block"],
    ))  # fmt: skip
