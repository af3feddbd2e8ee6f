"""Merge the Malay translations helpers leave in `webapp/translations/ms-*.json` into the catalogue, then delete them.

Each JSON file maps English msgids to Malay: {"Order #%(id)s placed.": "Pesanan #%(id)s telah dibuat."}. The
script first refreshes the catalogue from the code (`make translations-extract`: pybabel extract + update), so the
msgids of strings merged in from other branches exist; then, for every file:

- a msgid the catalogue does not know (a typo, or a string that is not marked with `_()`/Text/UserError) is
  reported and its file is kept: fix the string or the JSON, then run this again;
- a translation whose %(name)s / {name} placeholders differ from the msgid's is refused the same way (it would raise at
  render time);
- a msgid that already has a different, reviewed (not fuzzy) translation keeps the catalogue's and is reported;
- everything else is written into messages.po (fuzzy flags cleared).

A file with no problem is deleted. Exit status 1 when any file was kept. Then `make translations` compiles the .mo
and `pytest tests/webapp/test_i18n.py` checks that nothing is left untranslated.

    python scripts/merge_translations.py            # extract, merge, delete the merged files
    python scripts/merge_translations.py --no-extract --po path/messages.po --json-dir dir   # (the tests)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "webapp" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdirf]|\{\w+\}")  # %(name)s, or {name} (BraceText)


@dataclass
class Report:
    merged: int = 0
    kept_files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def extract() -> None:
    """The catalogue's msgids from the code, as `make translations-extract` does."""
    subprocess.run(["make", "--no-print-directory", "translations-extract"], cwd=ROOT, check=True)


def load(po: Path) -> Catalog:
    with po.open("rb") as f:
        return read_po(f)


def save(catalog: Catalog, po: Path) -> None:
    with po.open("wb") as f:
        write_po(f, catalog, width=0)  # width 0: no wrapping, as `pybabel update --no-wrap`


def merge_file(catalog: Catalog, path: Path, report: Report) -> bool:
    """Merge one JSON file into `catalog`; False (nothing of it merged) when it has a problem."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        report.problems.append(f"{path.name}: not readable JSON ({exc})")
        return False
    if not isinstance(entries, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
        report.problems.append(f'{path.name}: must be one JSON object {{"English msgid": "Malay"}}')
        return False
    problems = []
    for msgid, text in entries.items():
        if not msgid or catalog.get(msgid) is None:
            problems.append(f"{path.name}: msgid not in the catalogue (is it marked with _()?): {msgid!r}")
        elif not text.strip():
            problems.append(f"{path.name}: empty translation for {msgid!r}")
        elif placeholders(msgid) != placeholders(text):
            problems.append(f"{path.name}: placeholders differ for {msgid!r}: {placeholders(text)}")
    if problems:
        report.problems.extend(problems)
        return False
    for msgid, text in entries.items():
        message = catalog.get(msgid)
        if message.string and message.string != text and not message.fuzzy:
            report.conflicts.append(f"{path.name}: {msgid!r} keeps {message.string!r} (not {text!r})")
            continue
        message.string = text
        message.flags.discard("fuzzy")
        report.merged += 1
    return True


def merge(po: Path, json_dir: Path) -> Report:
    catalog = load(po)
    report = Report()
    for path in sorted(json_dir.glob("ms-*.json")):
        if not merge_file(catalog, path, report):
            report.kept_files.append(path)
    save(catalog, po)
    for path in sorted(json_dir.glob("ms-*.json")):
        if path not in report.kept_files:
            path.unlink()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--po", type=Path, default=TRANSLATIONS / "ms" / "LC_MESSAGES" / "messages.po")
    parser.add_argument("--json-dir", type=Path, default=TRANSLATIONS)
    parser.add_argument("--no-extract", action="store_true", help="merge into the catalogue as it is")
    args = parser.parse_args(argv)
    if not args.no_extract:
        extract()
    report = merge(args.po, args.json_dir)
    for line in report.conflicts:
        print("conflict:", line)
    for line in report.problems:
        print("problem:", line, file=sys.stderr)
    print(f"merged {report.merged} translations into {args.po}; kept {len(report.kept_files)} file(s) with problems")
    return 1 if report.kept_files else 0


if __name__ == "__main__":
    sys.exit(main())
