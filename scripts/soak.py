"""`make soak`: the demo stack under the supervisor for SOAK_MINUTES (default 60) with Locust load, measured.

The demo (chain, oracle, bot, dashboard: `python -m scripts.supervise demo`) runs on free ports with every state
directory under var/soak/ (its own chain, deployment record, database, logs) and with HOME and TMPDIR pointed to
empty directories inside the clone. SOAK_USERS Locust web traders (scenario seed-500's waits, 1-5 s; users from
scripts/loadtest.py's helpers, funded on chain) trade on its dashboard for the whole run. Every SOAK_SAMPLE_S
(60 s) it samples: each process's RSS (by service: chain, oracle, bot, web, locust, supervisor, soak), the chain
directory and its state.json, anvil's tmp/cache directories (in HOME and in the real home), what appeared in HOME,
files opened for writing outside the clone by any process of the run, blocks and transactions mined. At the end it
compares the web app's database with the chain (every indexed event against eth_getLogs, every indexed order
against the contract, at the last indexed block), stops the stack with one SIGINT and checks nothing is left.

Writes reports/soak.json (one row per SOAK_ROW_MINUTES, 10, plus every sample and the verdicts) and
reports/soak.md. A benchmark, not part of `make test`: SOAK_MINUTES=3 is a quick try.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from scripts.supervise import rss_kb

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "seed-500"  # waits of 1-5 s between a user's requests, spawn 2 users/s
MB = 1024 * 1024


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------------ measuring
def tree_bytes(path: Path) -> int:
    total = 0
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def files_under(path: Path, limit: int = 20) -> list[str]:
    out: list[str] = []
    if path.exists():
        for dirpath, _dirs, files in os.walk(path):
            out += [str(Path(dirpath, f).relative_to(path)) for f in files]
            if len(out) >= limit:
                break
    return out[:limit]


def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, pgid, cmdline) of every live process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        out[int(entry.name)] = (int(fields[1]), int(fields[2]), cmd)
    return out


def descendants(root_pid: int, table: dict[int, tuple[int, int, str]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _pgid, _cmd) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


def outside_writes(pid: int, root: Path) -> list[str]:
    """Regular files this process holds open for writing outside the clone."""
    found = []
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        fds = list(fd_dir.iterdir())
    except OSError:
        return []
    for fd in fds:
        try:
            target = os.readlink(fd)
            flags = int(Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().split("flags:")[1].split()[0], 8)
        except (OSError, IndexError, ValueError):
            continue
        if not target.startswith("/") or target.startswith(("/dev/", "/proc/", "/sys/")):
            continue
        path = target.removesuffix(" (deleted)")
        if flags & 0o3 and not Path(path).resolve().is_relative_to(root):
            found.append(path)
    return found


class Sampler:
    def __init__(self, base: Path, run: dict[str, Any]) -> None:
        self.base = base
        self.run = run
        self.rpc = run["rpc_url"]
        self.samples: list[dict[str, Any]] = []
        self.last_block = self._block_number()
        self.real_foundry = Path(run["real_home"]) / ".foundry" / "anvil" / "tmp"
        self.real_foundry_start = tree_bytes(self.real_foundry)
        self.counts_file = base / "locust" / "counts.json"
        self.supervisor_log = base / "supervisor.log"
        self.t0 = time.monotonic()

    def _rpc(self, method: str, params: list[Any]) -> Any:
        return requests.post(self.rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                             timeout=30).json()["result"]  # fmt: skip

    def _block_number(self) -> int:
        return int(self._rpc("eth_blockNumber", []), 16)

    def _txs(self, start: int, end: int) -> int:
        total = 0
        for lo in range(start, end + 1, 200):
            batch = [{"jsonrpc": "2.0", "id": n, "method": "eth_getBlockTransactionCountByNumber", "params": [hex(n)]}
                     for n in range(lo, min(end, lo + 199) + 1)]  # fmt: skip
            total += sum(int(r["result"], 16) for r in requests.post(self.rpc, json=batch, timeout=60).json())
        return total

    def labels(self, table: dict[int, tuple[int, int, str]]) -> dict[int, str]:
        by_pgid = {}
        for path in (self.base / "demo" / "pids").glob("*.pid"):
            try:
                rec = json.loads(path.read_text())
                by_pgid[rec["pgid"]] = rec["name"]
            except (OSError, ValueError, KeyError):
                continue
        out = {os.getpid(): "soak"}
        for pid in descendants(os.getpid(), table):
            _ppid, pgid, cmd = table[pid]
            name = by_pgid.get(pgid)
            if name is None:
                name = "locust" if "locust" in cmd else "supervisor" if "scripts.supervise" in cmd else "other"
            out[pid] = name
        return out

    def sample(self) -> dict[str, Any]:
        table = processes()
        labels = self.labels(table)
        rss: dict[str, int] = {}
        count: dict[str, int] = {}
        writes: list[str] = []
        for pid, name in labels.items():
            rss[name] = rss.get(name, 0) + rss_kb(pid)
            count[name] = count.get(name, 0) + 1
            writes += [f"{name}: {p}" for p in outside_writes(pid, ROOT)]
        try:
            head = self._block_number()
            txs = self._txs(self.last_block + 1, head) if head > self.last_block else 0
            blocks = head - self.last_block
            self.last_block = head
        except (requests.RequestException, KeyError, ValueError):
            head, txs, blocks = None, None, None
        chain_dir = Path(self.run["chain_dir"])
        home = Path(self.run["home"])
        try:
            counts = json.loads(self.counts_file.read_text())
        except (OSError, ValueError):
            counts = {}
        restarts = supervisor_restarts(self.supervisor_log)
        row = {
            "t_s": round(time.monotonic() - self.t0, 1),
            "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rss_mb": {k: round(v / 1024, 1) for k, v in sorted(rss.items())},
            "processes": dict(sorted(count.items())),
            "chain_dir_mb": round(tree_bytes(chain_dir) / MB, 2),
            "state_json_mb": round(tree_bytes(chain_dir / "state.json") / MB, 2),
            "home_anvil_mb": round(tree_bytes(home / ".foundry") / MB, 3),
            "real_home_anvil_tmp_growth_mb": round((tree_bytes(self.real_foundry) - self.real_foundry_start) / MB, 3),
            "home_files": files_under(home),
            "tmpdir_files": len(files_under(Path(self.run["tmpdir"]), 1000)),
            "outside_writes": sorted(set(writes)),
            "head": head,
            "blocks": blocks,
            "txs": txs,
            "load": {k: counts.get(k, 0) for k in ("sent", "mined", "reverted", "dropped", "in_flight", "failures")},
            "chain_memory_restarts": restarts["memory"],
            "service_crashes": restarts["crashes"],
        }
        self.samples.append(row)
        return row


def supervisor_restarts(path: Path) -> dict[str, Any]:
    """The supervisor's restarts so far, from its log: the chain's memory restarts (its bound, CHAIN_MAX_RSS_MB)
    and the services' crash restarts ("exited with code"), with their lines."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    memory = [line for line in lines if "memory restart #" in line or "MB): restarting it" in line]
    crashes = [line for line in lines if "exited with code" in line]
    return {"memory": sum("memory restart #" in line for line in memory), "crashes": len(crashes),
            "memory_lines": memory[:40], "crash_lines": crashes[:20]}  # fmt: skip


# ------------------------------------------------------------------------------------------------ lost or late
def dropped_hashes(locust_dir: Path) -> list[str]:
    """The transactions Locust's watcher called dropped (not seen mined within 60 s). Its failures table
    (<scenario>_failures.csv) is written before the final drain, so the failure listing at the end of locust.log,
    which has every one, is read as well."""
    import re

    found: set[str] = set()
    for name in (f"{SCENARIO}_failures.csv", "locust.log"):
        with contextlib.suppress(OSError):
            text = (locust_dir / name).read_text(errors="replace")
            found |= {h.lower() for h in re.findall(r"TxDropped\('(0x[0-9a-fA-F]{64}) not mined", text)}
    return sorted(found)


def lost_or_late(rpc_url: str, hashes: list[str]) -> dict[str, Any]:
    """Each "dropped" transaction asked of the chain itself: mined late (a receipt: the watcher missed its block)
    or lost (no receipt, and not waiting in the pool either)."""
    late, lost = [], []
    for lo in range(0, len(hashes), 100):
        part = hashes[lo : lo + 100]
        batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}
                 for i, h in enumerate(part)]  # fmt: skip
        replies = sorted(requests.post(rpc_url, json=batch, timeout=60).json(), key=lambda r: r["id"])
        for h, reply in zip(part, replies, strict=True):
            receipt = reply.get("result")
            (late if receipt else lost).append({"tx": h, "block": int(receipt["blockNumber"], 16)} if receipt else h)
    return {"dropped": len(hashes), "mined_late": len(late), "lost": len(lost), "late_blocks":
            sorted({x["block"] for x in late}), "lost_examples": lost[:10]}  # fmt: skip


def recheck(report_path: Path, base: Path) -> int:
    """After a run: load its chain state (a copy) into a fresh anvil and ask it about every dropped transaction;
    the report's verdicts and markdown are rewritten with the answer."""
    from energy_chain.anvil import start_anvil

    report = json.loads(report_path.with_suffix(".json").read_text())
    state = base / "recheck-chain"
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(base / "chain", state)
    anvil = start_anvil(state_dir=state, block_time=None, log_file=base / "recheck-anvil.log")
    try:
        report["dropped_check"] = lost_or_late(anvil.url, dropped_hashes(base / "locust"))
    finally:
        anvil.stop(60)
        shutil.rmtree(state, ignore_errors=True)
    report["verdicts"] = verdicts(report.get("samples", []), report["rows"], report)
    report_path.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    report_path.with_suffix(".md").write_text(markdown(report))
    log(f"dropped transactions rechecked on the saved chain: {report['dropped_check']}")
    return 0


# ------------------------------------------------------------------------------------------------ db == chain
def tx_blocks_kept() -> int:
    """How many blocks' transactions and logs the demo's anvil keeps (its --transaction-block-keeper)."""
    from energy_chain.anvil import DEFAULT_TX_BLOCKS

    return int(os.environ.get("CHAIN_TX_BLOCKS", DEFAULT_TX_BLOCKS))


def db_equals_chain(database_url: str, rpc_url: str, deployments_dir: Path) -> dict[str, Any]:
    """Every event the indexer stored up to its last indexed block L equals the chain's logs of the project's
    contracts in [first kept block, L] (same transaction, log index, contract), and every indexed order-book order
    has the chain's remaining amount and open/closed status at block L. With a transaction keeper (CHAIN_TX_BLOCKS,
    off by default) anvil keeps only the last N blocks' logs, so events are compared within that window."""
    from sqlalchemy import create_engine, text

    from energy_chain import ChainClient, ChainConfig
    from energy_chain.calls import call_many

    client = ChainClient(ChainConfig.from_env(rpc_url=rpc_url, deployments_dir=deployments_dir))
    engine = create_engine(database_url)
    with engine.connect() as conn:  # one read transaction: a consistent snapshot of the index
        conn.execute(text("BEGIN"))
        last = int(conn.execute(text("SELECT value FROM indexer_state WHERE key = 'last_block'")).scalar_one())
        head = client.w3.eth.block_number
        # The first block whose logs anvil still has (1 of margin: a block may be mined during the check).
        kept = tx_blocks_kept()  # 0: anvil keeps every block's logs
        start = max(client.deployment.deploy_block, head - kept + 2) if kept else client.deployment.deploy_block
        events = conn.execute(text("SELECT tx_hash, log_index, contract FROM chain_events"
                                   " WHERE block_number <= :l AND block_number >= :s"),
                              {"l": last, "s": start}).all()  # fmt: skip
        orders = conn.execute(text("SELECT order_id, remaining_wh, status FROM orders")).all()
        conn.execute(text("COMMIT"))
    names = {c["address"].lower(): n for n, c in client.deployment.contracts.items()}
    chain_events: set[tuple[str, int, str]] = set()
    for lo in range(start, last + 1, 2000):
        logs = client.w3.eth.get_logs({"fromBlock": lo, "toBlock": min(last, lo + 1999),
                                       "address": [client.w3.to_checksum_address(a) for a in names]})  # fmt: skip
        chain_events |= {("0x" + e["transactionHash"].hex().removeprefix("0x"), int(e["logIndex"]),
                          names[e["address"].lower()]) for e in logs}  # fmt: skip
    db_events = {(h, int(i), c) for h, i, c in events}
    book = client.contract("OrderBook")
    results = call_many(client, [book.functions.order(int(o.order_id)) for o in orders], block=last)
    order_mismatches = []
    for o, res in zip(orders, results, strict=True):
        if not res.ok:
            order_mismatches.append({"order": int(o.order_id), "chain": res.message})
            continue
        value = res.value
        remaining, status = int(value[5]), int(value[8])
        if (int(o.remaining_wh) != remaining and o.status in ("open", "filled")) or (o.status == "open") != (
            status == 1
        ):
            order_mismatches.append({"order": int(o.order_id), "db": [int(o.remaining_wh), o.status],
                                     "chain": [remaining, status]})  # fmt: skip
    only_db, only_chain = db_events - chain_events, chain_events - db_events
    return {
        "last_indexed_block": last,
        "events_compared_from_block": start,
        "events_db": len(db_events),
        "events_chain": len(chain_events),
        "events_only_in_db": len(only_db),
        "events_only_on_chain": len(only_chain),
        "examples": [list(e) for e in sorted(only_db)[:3]] + [list(e) for e in sorted(only_chain)[:3]],
        "orders_checked": len(orders),
        "order_mismatches": len(order_mismatches),
        "order_examples": order_mismatches[:5],
        "equal": not only_db and not only_chain and not order_mismatches,
    }


# ------------------------------------------------------------------------------------------------ the run
def wait_http(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the demo supervisor exited with code {proc.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def rows_of(samples: list[dict[str, Any]], row_s: float) -> list[dict[str, Any]]:
    """One row per window of `row_s` seconds: each figure at the window's last sample, RSS at its max, tx/s."""
    rows = []
    windows: dict[int, list[dict[str, Any]]] = {}
    for s in samples:
        windows.setdefault(int(max(s["t_s"] - 1e-6, 0) // row_s), []).append(s)
    for k in sorted(windows):
        w = windows[k]
        names = sorted({n for s in w for n in s["rss_mb"]})
        txs = sum(s["txs"] or 0 for s in w)
        span = w[-1]["t_s"] - (windows[k - 1][-1]["t_s"] if k - 1 in windows else 0)
        before = windows[k - 1][-1] if k - 1 in windows else None

        def grew(key: str, w: list[dict[str, Any]] = w, before: dict[str, Any] | None = before) -> int:
            return int(w[-1]["load"].get(key, 0) - (before["load"].get(key, 0) if before else 0))

        def since(key: str, w: list[dict[str, Any]] = w, before: dict[str, Any] | None = before) -> int:
            return int(w[-1][key] - (before[key] if before else 0))

        rows.append({
            "minute": round(w[-1]["t_s"] / 60, 1),
            "rss_max_mb": {n: max(s["rss_mb"].get(n, 0) for s in w) for n in names},
            "chain_dir_mb": w[-1]["chain_dir_mb"],
            "state_json_mb": w[-1]["state_json_mb"],
            "home_anvil_mb": w[-1]["home_anvil_mb"],
            "real_home_anvil_tmp_growth_mb": w[-1]["real_home_anvil_tmp_growth_mb"],
            "home_files": len(w[-1]["home_files"]),
            "outside_writes": sorted({x for s in w for x in s["outside_writes"]}),
            "head": w[-1]["head"],
            "txs": txs,
            "chain_tx_per_s": round(txs / span, 2) if span else None,
            "load_sent": grew("sent"), "load_mined": grew("mined"), "load_reverted": grew("reverted"),
            "load_dropped": grew("dropped"), "load_in_flight": w[-1]["load"].get("in_flight", 0),
            "chain_memory_restarts": since("chain_memory_restarts"), "service_crashes": since("service_crashes"),
        })  # fmt: skip
    return rows


def verdicts(samples: list[dict[str, Any]], rows: list[dict[str, Any]], final: dict[str, Any]) -> dict[str, Any]:
    """Bounded memory: no service's RSS in the last third of the run exceeds its peak in the middle third by more
    than 25 % + 32 MB (the first third is warm-up). Bounded disk: the chain's bytes per mined transaction in the
    last third at most 1.5x that of the middle third (blocks and receipts are kept, so the state file grows with
    the transactions, never with time alone), and no anvil tmp/cache directory grew."""
    n = len(samples)
    mid, last = samples[n // 3 : 2 * n // 3] or samples, samples[2 * n // 3 :] or samples
    memory = {}
    for name in sorted({k for s in samples for k in s["rss_mb"]}):
        peak_mid = max(s["rss_mb"].get(name, 0) for s in mid)
        peak_last = max(s["rss_mb"].get(name, 0) for s in last)
        memory[name] = {"mid_peak_mb": peak_mid, "last_peak_mb": peak_last,
                        "bounded": peak_last <= 1.25 * peak_mid + 32}  # fmt: skip

    def per_tx(part: list[dict[str, Any]], before: dict[str, Any] | None) -> float | None:
        txs = sum(s["txs"] or 0 for s in part)
        grown = part[-1]["state_json_mb"] - (before["state_json_mb"] if before else part[0]["state_json_mb"])
        return round(grown * MB / txs, 1) if txs else None

    mid_before = samples[n // 3 - 1] if n // 3 >= 1 else None
    last_before = samples[2 * n // 3 - 1] if 2 * n // 3 >= 1 else None
    mid_per_tx, last_per_tx = per_tx(mid, mid_before), per_tx(last, last_before)
    disk_ok = (mid_per_tx is None or last_per_tx is None or last_per_tx <= 1.5 * max(mid_per_tx, 1)) and all(
        s["home_anvil_mb"] == 0 and s["real_home_anvil_tmp_growth_mb"] <= 0 for s in samples
    )
    outside = sorted({x for s in samples for x in s["outside_writes"]})
    home_files = sorted({x for s in samples for x in s["home_files"]})
    return {
        "memory_bounded": all(m["bounded"] for m in memory.values()),
        "memory": memory,
        "disk_bounded": disk_ok,
        "state_bytes_per_tx": {"middle_third": mid_per_tx, "last_third": last_per_tx},
        "nothing_written_outside_clone": not outside and not home_files,
        "outside_writes": outside,
        "home_files": home_files,
        "db_equals_chain": bool(final.get("db", {}).get("equal")),
        "clean_stop": bool(final.get("stop", {}).get("clean")),
        "no_service_restarts": final.get("service_crashes", 0) == 0,
        # lost: not on the chain (dropped_check asks it about each of the watcher's "dropped"), else as counted
        "no_transaction_lost": bool(samples)
        and samples[-1]["load"].get("sent", 0) > 0
        and samples[-1]["load"].get("in_flight", 0) == 0
        and (final["dropped_check"]["lost"] if "dropped_check" in final else samples[-1]["load"].get("dropped", 0))
        == 0,
        "chain_memory_restarts": final.get("chain_memory_restarts", 0),
    }


def markdown(report: dict[str, Any]) -> str:
    v, run = report["verdicts"], report["run"]
    names = sorted({n for r in report["rows"] for n in r["rss_max_mb"]})
    lines = [
        "# Soak run of the demo stack",
        "",
        f"`make soak SOAK_MINUTES={run['minutes']:g} SOAK_USERS={run['users']}` on {run['started_utc']} "
        f"({run['machine']}). Demo under `scripts/supervise.py` on free ports, state under "
        f"`{Path(run['chain_dir']).parent.relative_to(ROOT)}/`, HOME and "
        f"TMPDIR inside the clone; Locust `{run['scenario']}` waits (1-5 s) with {run['users']} web traders.",
        "",
        "| verdict | |",
        "|---|---|",
        *[
            f"| {k.replace('_', ' ')} | {'yes' if v[k] else '**no**'} |"
            for k in (
                "memory_bounded",
                "disk_bounded",
                "nothing_written_outside_clone",
                "db_equals_chain",
                "clean_stop",
                "no_service_restarts",
                "no_transaction_lost",
            )
        ],
        "",
        f"Rows: one per {run['row_minutes']} min (RSS: the window's peak, MB; disk: at the window's end, MB).",
        "",
        "| min | " + " | ".join(f"{n} RSS" for n in names) + " | chain dir | state.json | anvil tmp (HOME, real home) "
        "| chain tx/s | head | load txs sent / mined / reverted / dropped¹ | chain memory restarts | service crashes "
        "| outside writes |",
        "|---" * (len(names) + 10) + "|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['minute']} | " + " | ".join(str(r["rss_max_mb"].get(n, "")) for n in names)
            + f" | {r['chain_dir_mb']} | {r['state_json_mb']} | {r['home_anvil_mb']}, "
            f"{r['real_home_anvil_tmp_growth_mb']} | {r['chain_tx_per_s']} | {r['head']} | {r['load_sent']} / "
            f"{r['load_mined']} / {r['load_reverted']} / {r.get('load_dropped', r.get('load_lost'))} | "
            f"{r['chain_memory_restarts']} | "
            f"{r['service_crashes']} | {len(r['outside_writes'])} |"
        )  # fmt: skip
    load = report.get("locust") or {}
    db = report.get("db") or {}
    stop = report.get("stop") or {}
    total = (report.get("samples") or [{}])[-1].get("load", {})
    lines += [
        "",
        "¹ dropped: not seen mined by Locust's watcher within 60 s; each is asked of the chain below (lost or late).",
        "",
        f"**Transactions of the load** (its watcher: a transaction is mined when its block has our success log): "
        f"{total.get('sent', '?')} sent, {total.get('mined', '?')} mined, {total.get('reverted', '?')} reverted "
        f'(a cancel whose order was filled first), {total.get("dropped", "?")} "dropped" (not seen mined within '
        f"60 s), {total.get('in_flight', '?')} still in flight at the end. "
        + (
            f"Each dropped one asked of the chain: **{dc['lost']} lost** (no receipt), {dc['mined_late']} mined "
            f"(in blocks {dc['late_blocks'][:12]}: the watcher missed them)."
            if (dc := report.get("dropped_check"))
            else "The dropped ones were not checked against the chain."
        ),
        "",
        f"**Chain memory bound** (`CHAIN_MAX_RSS_MB`={run.get('chain_max_rss_mb')}): "
        f"{report.get('chain_memory_restarts', 0)} restarts of anvil from its state; the supervisor's lines:",
        "",
        *[f"    {line}" for line in report.get("memory_restart_lines", [])],
        "",
        f"**Load** (Locust's steady phase): {load.get('offered_rps', '?')} req/s offered, "
        f"{load.get('mined_tps', '?')} tx/s mined, p50/p95/p99 submit→mined {load.get('p50_s', '?')}/"
        f"{load.get('p95_s', '?')}/{load.get('p99_s', '?')} s, {load.get('failures', '?')} failures. The machine "
        "(2 cores) was shared with other jobs during the run, so these are low and not a throughput benchmark "
        "(see docs/load.md for those).",
        "",
        f"**Database vs chain** at block {db.get('last_indexed_block')}: {db.get('events_db')} indexed events, "
        f"{db.get('events_chain')} on chain ({db.get('events_only_in_db')} only in the database, "
        f"{db.get('events_only_on_chain')} only on the chain); {db.get('orders_checked')} orders checked against "
        f"`OrderBook.order`, {db.get('order_mismatches')} differ.",
        "",
        f"**Disk**: state.json bytes per mined transaction: middle third {v['state_bytes_per_tx']['middle_third']}, "
        f"last third {v['state_bytes_per_tx']['last_third']} (blocks and receipts are kept; the state file grows "
        "with transactions, not with time).",
        "",
        f"**Stop**: one SIGINT, stopped in {stop.get('seconds')} s, exit code {stop.get('exit_code')}, "
        f"leftover processes {stop.get('leftovers')}, state.json written: {stop.get('state_written')}; "
        f"service crash restarts during the run: {report.get('service_crashes')}.",
        "",
        f"**Outside the clone**: HOME and TMPDIR of every process were `{Path(run['home']).relative_to(ROOT)}` and "
        f"`{Path(run['tmpdir']).relative_to(ROOT)}`; files any process of the run held open for writing outside the "
        f"clone (every sample, /proc/*/fd): {v['outside_writes'] or 'none'}; files in that HOME (e.g. .foundry): "
        f"{v['home_files'] or 'none'}; growth of the real home's `.foundry/anvil/tmp` ({run['real_home']}): "
        f"{max((s['real_home_anvil_tmp_growth_mb'] for s in report.get('samples', [])), default=0)} MB.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES") or 60))
    parser.add_argument("--users", type=int, default=int(os.environ.get("SOAK_USERS") or 30))
    parser.add_argument("--sample-s", type=float, default=float(os.environ.get("SOAK_SAMPLE_S") or 60))
    parser.add_argument("--row-minutes", type=float, default=float(os.environ.get("SOAK_ROW_MINUTES") or 10))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("SOAK_DIR") or ROOT / "var" / "soak"))
    parser.add_argument("--report", type=Path, default=Path(os.environ.get("SOAK_REPORT") or ROOT / "reports" / "soak"),
                        help="report path without suffix (.json and .md are written)")  # fmt: skip
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="after a run: ask its saved chain about the dropped transactions, rewrite the report",
    )
    ns = parser.parse_args(argv)
    if ns.recheck:
        return recheck(ns.report, ns.dir.resolve())
    from energy_chain.anvil import free_port
    from scripts.load.scenarios import get as get_scenario
    from scripts.load_setup import connect
    from scripts.loadtest import Services, create_web_accounts, run_locust

    base = ns.dir.resolve()
    for sub in ("chain", "demo", "deployments", "home", "tmp", "locust"):
        shutil.rmtree(base / sub, ignore_errors=True)
        (base / sub).mkdir(parents=True)
    real_home = os.environ.get("HOME", "/root")
    ports = {"CHAIN_PORT": free_port(), "WEB_PORT": free_port(), "ORACLE_METRICS_PORT": free_port()}
    run = {
        "minutes": ns.minutes, "users": ns.users, "scenario": SCENARIO, "row_minutes": ns.row_minutes,
        "sample_s": ns.sample_s, "started_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, shared", "rpc_url": f"http://127.0.0.1:{ports['CHAIN_PORT']}",
        "web_url": f"http://127.0.0.1:{ports['WEB_PORT']}", "chain_dir": str(base / "chain"),
        "home": str(base / "home"), "tmpdir": str(base / "tmp"), "real_home": real_home,
        "chain_max_rss_mb": int(os.environ.get("CHAIN_MAX_RSS_MB") or 3072),
    }  # fmt: skip
    database_url = f"sqlite:///{base / 'demo' / 'webapp.sqlite'}"
    env = {
        **os.environ, **{k: str(v) for k, v in ports.items()},
        "CHAIN_DIR": str(base / "chain"), "DEMO_DIR": str(base / "demo"), "DEPLOYMENTS_DIR": str(base / "deployments"),
        "DATABASE_URL": database_url, "HOME": str(base / "home"), "TMPDIR": str(base / "tmp"),
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT),
        "LOADTEST_COUNTS": str(base / "locust" / "counts.json"),  # the load's tx counts
        # the load test's server settings (scripts/loadtest.py): cheap keystores, no per-IP login limit, no preflight
        "WEBAPP_SCRYPT_N": "1024", "WEBAPP_RATELIMIT": "0", "WEBAPP_PREFLIGHT": "0",
    }  # fmt: skip
    os.environ.update({k: env[k] for k in ("HOME", "TMPDIR", "DEPLOYMENTS_DIR", "PYTHONDONTWRITEBYTECODE",
                                           "LOADTEST_COUNTS")})  # fmt: skip
    log(f"demo stack on {run['rpc_url']} / {run['web_url']}, state in {base}; {ns.minutes:g} min, {ns.users} users")
    sup_log = open(base / "supervisor.log", "wb")  # noqa: SIM115 - the child's output for the whole run
    sup = subprocess.Popen([sys.executable, "-m", "scripts.supervise", "demo"], env=env, cwd=ROOT, stdout=sup_log,
                           stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    report: dict[str, Any] = {"run": run}
    try:
        wait_http(f"{run['web_url']}/api/v1/health", 900, sup)
        log("demo up; creating and funding the load users")
        market = connect(run["rpc_url"], base / "deployments", deploy=False)
        services = Services(run["rpc_url"], [run["web_url"]], base / "deployments", market)
        accounts = create_web_accounts(services, ns.users, base / "locust", database_url)
        scenario = replace(get_scenario(SCENARIO), users=ns.users)
        # the run's length counts from here (the stack is up); the locustfile drains 30 s after the steady phase
        steady = max(30, int(ns.minutes * 60) - scenario.ramp_s - 30)
        os.environ.update({"LOADTEST_USERS": str(ns.users), "LOADTEST_STEADY_S": str(steady)})
        scenario = replace(scenario, steady_s=steady)
        sampler = Sampler(base, run)
        done: dict[str, int] = {}
        files = {"LOADTEST_WEB_ACCOUNTS": accounts}

        def load() -> None:
            done["code"] = run_locust(scenario, services, files, base / "locust", base / "locust")

        locust = threading.Thread(target=load, daemon=True)
        locust.start()
        log(f"locust started: {ns.users} users, steady {steady}s; sampling every {ns.sample_s:g}s")
        stop = threading.Event()  # SIGINT/SIGTERM: end the load early, then check, stop and report as usual

        def on_signal(signum: int, _frame: object) -> None:
            if not stop.is_set():
                log(f"{signal.Signals(signum).name}: ending the load early; the checks and the report follow")
                stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        next_at = time.monotonic()
        while locust.is_alive():
            if stop.is_set():
                table = processes()
                for pid in descendants(os.getpid(), table):
                    if "locust" in table[pid][2] and table[pid][1] != sup.pid:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGTERM)
            if time.monotonic() >= next_at:
                row = sampler.sample()
                log(f"t={row['t_s']:.0f}s rss={row['rss_mb']} chain={row['chain_dir_mb']}MB txs={row['txs']} "
                    f"outside={len(row['outside_writes'])}")  # fmt: skip
                next_at += ns.sample_s
            time.sleep(1)
        sampler.sample()
        report["locust_exit_code"] = done.get("code")
        dropped = dropped_hashes(base / "locust")
        report["dropped_check"] = lost_or_late(run["rpc_url"], dropped)  # asked before the stack stops
        with (base / "locust" / f"{SCENARIO}.json").open() as fh:
            report["locust"] = json.load(fh)
        log("locust done; comparing the database with the chain")
        time.sleep(5)
        report["db"] = db_equals_chain(database_url, run["rpc_url"], base / "deployments")
        log(f"db == chain: {report['db']['equal']} ({report['db']['events_db']} events, "
            f"{report['db']['orders_checked']} orders)")  # fmt: skip
        report["samples"] = sampler.samples
    finally:
        t0 = time.monotonic()
        table_before = processes()
        ours = descendants(sup.pid, table_before)
        if sup.poll() is None:
            sup.send_signal(signal.SIGINT)
        try:
            code = sup.wait(120)
        except subprocess.TimeoutExpired:
            sup.send_signal(signal.SIGINT)
            code = sup.wait(60)
        stop_s = round(time.monotonic() - t0, 1)
        time.sleep(1)
        table = processes()
        left = [p for p in ours if p in table]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        sup_log.close()
        text = (base / "supervisor.log").read_text(errors="replace")
        report["stop"] = {"exit_code": code, "seconds": stop_s, "leftovers": len(left),
                          "state_written": (base / "chain" / "state.json").exists(),
                          "clean": code == 0 and not left and (base / "chain" / "state.json").exists()}  # fmt: skip
        restarts = supervisor_restarts(base / "supervisor.log")
        report["restarts"] = text.count(" restarted (pid")
        report["chain_memory_restarts"] = restarts["memory"]
        report["memory_restart_lines"] = restarts["memory_lines"]
        report["service_crashes"] = restarts["crashes"]
        report["restart_lines"] = restarts["crash_lines"]
    samples = report.get("samples", [])
    report["rows"] = rows_of(samples, ns.row_minutes * 60)
    report["verdicts"] = verdicts(samples, report["rows"], report)
    ns.report.parent.mkdir(parents=True, exist_ok=True)
    ns.report.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    ns.report.with_suffix(".md").write_text(markdown(report))
    log(f"report: {ns.report.with_suffix('.json')}, {ns.report.with_suffix('.md')}; verdicts {report['verdicts']}")
    v = report["verdicts"]
    keys = (
        "memory_bounded",
        "disk_bounded",
        "nothing_written_outside_clone",
        "db_equals_chain",
        "clean_stop",
        "no_transaction_lost",
    )
    return 0 if all(v[k] for k in keys) else 1


if __name__ == "__main__":
    sys.exit(main())
