"""The feeder model: efficiency falls with electrical distance; config errors are refused."""

from __future__ import annotations

import json

import pytest

from agents.feeder import DEFAULT_CONFIG, Feeder, FeederConfigError, efficiency


def _config() -> dict:
    return json.loads(DEFAULT_CONFIG.read_text())


def test_shipped_feeder_orders_sellers_by_distance() -> None:
    f = Feeder.load()
    assert f.efficiency("DEMO-MTR-003", "DEMO-MTR-003") == 1.0
    near = f.efficiency("DEMO-MTR-001", "DEMO-MTR-002")  # A1 - A2, one segment
    mid = f.efficiency("DEMO-MTR-001", "DEMO-MTR-004")  # A1 - A6, five segments
    far = f.efficiency("DEMO-MTR-004", "DEMO-MTR-008")  # A6 - B6, across the transformer
    assert 1.0 > near > mid > far >= 0.99  # small LV feeder: losses below 1 %
    assert f.efficiency("DEMO-MTR-008", "DEMO-MTR-004") == far  # symmetric
    assert efficiency("DEMO-MTR-001", "DEMO-MTR-002") == near


def test_loss_is_the_documented_formula() -> None:
    f = Feeder.load()
    # A1 -> A2: one 50 m main segment plus 15 m and 25 m of service cable.
    r = 50 * 0.32e-3 + (15 + 25) * 0.868e-3
    assert f.resistance_ohm("DEMO-MTR-001", "DEMO-MTR-002") == pytest.approx(r)
    assert f.efficiency("DEMO-MTR-001", "DEMO-MTR-002") == pytest.approx(1 - 5000 * r / (400**2 * 0.95**2))


def test_unlisted_meters_get_a_stable_position() -> None:
    f = Feeder.load()
    assert f.position("HH-17") == f.position("HH-17")
    assert f.position("HH-17")[0] in f.parent and f.position("HH-17")[1] == 20
    assert 0.99 < f.efficiency("HH-17", "HH-42") <= 1.0


def test_env_names_another_feeder_file(tmp_path, monkeypatch) -> None:
    cfg = _config()
    cfg["reference_power_w"] = 50_000  # ten times the power: ten times the loss
    path = tmp_path / "feeder.json"
    path.write_text(json.dumps(cfg))
    monkeypatch.setenv("AGENTS_FEEDER_CONFIG", str(path))
    loud = Feeder.load()
    base = Feeder.load(DEFAULT_CONFIG)
    loss = 1 - base.efficiency("DEMO-MTR-001", "DEMO-MTR-004")
    assert 1 - loud.efficiency("DEMO-MTR-001", "DEMO-MTR-004") == pytest.approx(10 * loss)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["buses"].append({"id": "T2"}), "exactly one root"),
        (lambda c: c["buses"].append({"id": "X", "parent": "nowhere", "length_m": 5}), "unknown bus"),
        (lambda c: c["buses"][1].update(length_m=-3), "length_m must be > 0"),
        (lambda c: c["meters"].update({"M": {"bus": "Z9"}}), "must name a known bus"),
        (lambda c: c.update(power_factor=1.5), "power_factor must be <= 1"),
        (lambda c: c.pop("cables_ohm_per_km"), "cables_ohm_per_km"),
        (lambda c: c["buses"].extend([{"id": p, "parent": q, "length_m": 1} for p, q in ("PQ", "QP")]), "cycle"),
    ],
)
def test_bad_feeder_files_are_refused(mutate, message: str) -> None:
    cfg = _config()
    mutate(cfg)
    with pytest.raises(FeederConfigError, match=message):
        Feeder.from_dict(cfg)


def test_unreadable_feeder_file(tmp_path) -> None:
    bad = tmp_path / "f.json"
    bad.write_text("{nope")
    with pytest.raises(FeederConfigError, match="cannot read feeder file"):
        Feeder.load(bad)
