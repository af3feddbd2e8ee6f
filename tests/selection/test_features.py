"""Offer features from plain fill records: duration (offer -> fill), quality (share delivered), participation."""

from __future__ import annotations

import pytest

from agents.selection.features import FALLBACK_DURATION_S, FillRecord, features_by_seller, seller_features

HISTORY = [
    FillRecord("A", offered_at=100, filled_at=130, requested_wh=500, delivered_wh=500),
    FillRecord("A", offered_at=200, filled_at=290, requested_wh=500, delivered_wh=250),  # short
    FillRecord("A", offered_at=300, filled_at=310, requested_wh=1000, delivered_wh=0),  # gone: a skip
    FillRecord("B", offered_at=0, filled_at=600, requested_wh=200, delivered_wh=200),
]


def test_features_of_a_seller_with_history() -> None:
    a = seller_features(HISTORY, "A")
    assert a.duration_s == pytest.approx((30 + 90) / 2)  # skips have no fill time
    assert a.quality == pytest.approx(750 / 2000)
    assert a.participation == 2


def test_newcomers_get_quality_one_no_participation_and_the_median_duration() -> None:
    got = features_by_seller(HISTORY, ["A", "B", "new"])
    assert got["new"].quality == 1.0 and got["new"].participation == 0
    assert got["new"].duration_s == pytest.approx((60 + 600) / 2)  # median of A's 60 and B's 600
    assert features_by_seller([], ["x"])["x"].duration_s == FALLBACK_DURATION_S
    assert features_by_seller(HISTORY, ["x"], default_duration_s=5.0)["x"].duration_s == 5.0


def test_since_drops_old_records() -> None:
    recent = seller_features(HISTORY, "A", since=250)
    assert recent.participation == 1 and recent.quality == pytest.approx(250 / 1500)


def test_records_are_checked_and_read_from_plain_dicts() -> None:
    rec = FillRecord.from_dict({"seller": "A", "offered_at": 1, "filled_at": 2, "requested_wh": 10, "delivered_wh": 10})
    assert rec.delivered_wh == 10
    with pytest.raises(ValueError, match="more than was requested"):
        FillRecord("A", 0, 1, requested_wh=5, delivered_wh=6)
    with pytest.raises(ValueError, match="precede"):
        FillRecord("A", 10, 1, requested_wh=5, delivered_wh=5)
