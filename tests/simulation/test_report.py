"""report.html from a hand-made run folder: one self-contained page whose images decode as PNG."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from simulation.dataset import write_intervals, write_run_meta
from simulation.kpis import compute_kpis
from simulation.plots import FILES
from simulation.report import Report, main, write_report
from tests.simulation.test_kpis import RUN_META, T0, community_frame, community_rows

ROOT = Path(__file__).resolve().parents[2]


def run_folder(path: Path, rows: list[dict[str, Any]], meta: dict[str, Any] = RUN_META) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    write_intervals(path / "intervals.csv", rows)
    write_run_meta(path / "run.json", meta)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return write_report(run_folder(tmp_path_factory.mktemp("run") / "seed1", community_rows()))


def test_outputs_written(report: Report, tmp_path: Path) -> None:
    folder = report.html.parent
    assert sorted(p.name for p in report.plots) == sorted(FILES)
    assert all((folder / name).is_file() for name in (*FILES, "kpis.json", "kpis.md", "report.html"))
    expected = compute_kpis(community_frame(tmp_path), RUN_META)
    assert json.loads((folder / "kpis.json").read_text()) == expected
    assert report.violations == []
    table = (folder / "kpis.md").read_text().splitlines()
    assert table[0] == "| KPI | grid-only | grid-only+battery | order-book | order-book+battery | auction |"
    assert "| `self_sufficiency` | 50.0 % | 35.7 % | 50.0 % | 55.0 % | 50.0 % |" in table


def test_every_image_is_an_embedded_png(report: Report) -> None:
    page = report.html.read_text()
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == len(FILES)
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # decodes every pixel; a truncated image raises
            assert img.format == "PNG" and img.width >= 800 and img.height >= 400


def test_page_is_self_contained_and_phone_ready(report: Report) -> None:
    page = report.html.read_text()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<style>" in page
    # Nothing fetched from elsewhere: no external stylesheet, script, image or font.
    assert not re.search(r"<(link|script)\b", page)
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    assert "url(" not in page


def test_page_shows_kpis_per_design_and_parameters(report: Report) -> None:
    page = report.html.read_text()
    for design in RUN_META["designs"]:
        assert f"<h3>{design}</h3>" in page
    assert "All dataset checks pass (20 rows)." in page
    assert "<th>seed</th><td>1</td>" in page and "<th>interval_s</th><td>900</td>" in page
    assert "highest savings: <strong>order-book</strong> (+47.7 %)" in page
    assert "lowest peak import: <strong>order-book+battery</strong> (430 Wh)" in page
    # order-book: savings 47.7 %, self-sufficiency 50 %, mean price 35 sen/kWh, pool cost RM 0.06.
    assert "+47.7 %" in page and "50.0 %" in page and "35.00 sen/kWh" in page and "RM 0.06" in page


def test_broken_dataset_is_reported_and_fails_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Two designs only: fewer panels to draw, same code path.
    rows = [r for r in community_rows() if r["design"] in ("grid-only", "auction")]
    broken = next(r for r in rows if (r["design"], r["household"], r["interval_start"]) == ("auction", "B", T0))
    broken["grid_import_wh"] = 1
    meta = {**RUN_META, "designs": {d: RUN_META["designs"][d] for d in ("grid-only", "auction")}}
    folder = run_folder(tmp_path / "broken", rows, meta)
    assert main([str(folder)]) == 1
    assert "1 check violations, first: design auction household B" in capsys.readouterr().err
    page = (folder / "report.html").read_text()
    assert "1 check violations." in page and "burned_wh 0 + grid_import_wh 1" in page


def test_command_line_rejects_a_folder_without_a_run(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "simulation.report", str(tmp_path)], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 2
    assert f"{tmp_path / 'intervals.csv'} is missing" in done.stderr
    assert not (tmp_path / "report.html").exists()
