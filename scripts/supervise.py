"""A small process supervisor for `make demo` (and the soak run): one-shot steps, then long-running services.

  python -m scripts.supervise demo [--free-ports]     the demo stack (tools/demo.sh calls this)
  python -m scripts.supervise run --spec FILE.json    any stack described in a JSON file (the tests use this)
  python -m scripts.supervise stop [--run-dir DIR]    stop a running demo from another terminal (by its pid files)

Every child runs in its own session and process group (so a Ctrl-C in the terminal, or a SIGINT to make's
process group, reaches only the supervisor) and dies with the supervisor even if the supervisor is killed
(Linux parent-death signal: SIGINT for the chain, so it still writes its state, SIGTERM for the others).

Rules:
- steps start in order; a `task` (deploy, schema upgrade, seed) must exit 0 before the next step starts;
- a `service` that exits is restarted with exponential backoff (1 s, 2 s, 4 s … 30 s; back to 1 s after a
  minute of uptime), and the supervisor says so; the `chain` is never restarted: when it dies, everything stops;
- the first SIGINT/SIGTERM/SIGHUP stops the services in reverse order, each with its stop signal (the chain with
  SIGINT, so anvil dumps its state) and its own timeout, after which its whole process group gets SIGKILL;
- a second signal SIGKILLs every process group at once except the chain's, which still gets its SIGINT and a
  short wait (its state dump takes a second or two); a third signal SIGKILLs the chain too;
- pid files `<run-dir>/pids/<name>.pid` (pid, process-group id and kernel start time, so a reused pid is never
  mistaken for ours) and `<run-dir>/pids/supervisor.pid`; on start, a live supervisor means another demo is
  running (refused, with the command that stops it), live processes of a dead supervisor are stopped (the chain
  with SIGINT), dead pid files are removed, and a busy port is refused with the variable that moves it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

PR_SET_PDEATHSIG = 1
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0  # a service that ran this long restarts after BACKOFF_START_S again
SECOND_SIGNAL_CHAIN_WAIT_S = 10.0
# How often the chain's memory is compared with its bound (Step.max_rss_mb).
MEMORY_CHECK_S = float(os.environ.get("SUPERVISE_MEMORY_CHECK_S", "10"))
POOL_DRAIN_S = 30.0  # a memory restart waits at most this long for the chain's pool to be mined empty
SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM, "KILL": signal.SIGKILL, "HUP": signal.SIGHUP}


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


@dataclass
class Step:
    """One thing to start: `kind` is "chain" (the one process everything needs), "task" (runs once, must exit 0)
    or "service" (kept running). `ready` is {"rpc": url} or {"http": url}: the step counts as started only once
    that answers (within `ready_timeout_s`). `ports` are checked free before anything starts."""

    name: str
    argv: list[str]
    kind: str = "service"
    env: dict[str, str] = field(default_factory=dict)
    log: str | None = None  # file for stdout+stderr (None: the supervisor's own output)
    ready: dict[str, str] | None = None
    ready_timeout_s: float = 60.0
    stop_signal: str = "TERM"
    stop_timeout_s: float = 15.0
    timeout_s: float = 600.0  # tasks only
    ports: list[int] = field(default_factory=list)
    skip_if_exists: str | None = None  # tasks only: a file whose presence means the task was done before
    # chain only: above this resident memory (MB, the whole process group) the chain is restarted with its state
    # (SIGINT: it dumps, then loads it again); 0 = never. anvil 1.7.1 grows with every block (docs/load.md, soak).
    max_rss_mb: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(**data)


# ------------------------------------------------------------------------------------------------ processes
def start_time(pid: int) -> int | None:
    """The kernel start time of `pid` (clock ticks since boot), None when no such process is alive."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie is not running anything
        return None
    return int(fields[19])


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid` (zombies excluded)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def _child_setup(death_signal: int) -> Callable[[], None]:
    def setup() -> None:
        # Own session (so terminal and process-group signals reach only the supervisor); the kernel sends
        # `death_signal` when the supervisor dies, however it dies.
        os.setsid()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, death_signal)

    return setup


def rss_kb(pid: int) -> int:
    """Resident memory of one process in kB (0 when it is gone)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in the group, in MB (0 when it is gone)."""
    return sum(rss_kb(pid) for pid in group_members(pgid)) / 1024


def killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def answers(ready: dict[str, str]) -> bool:
    try:
        if "rpc" in ready:
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
            return requests.post(ready["rpc"], json=body, timeout=1).ok
        if "http" in ready:
            return requests.get(ready["http"], timeout=2).ok
    except requests.RequestException:
        return False
    raise ValueError(f"unknown readiness check {ready}")


def rpc_call(rpc_url: str, method: str, params: list[Any] | None = None) -> Any:
    """One JSON-RPC call's result, None when the node does not answer it (or answers an error)."""
    try:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
        return requests.post(rpc_url, json=body, timeout=5).json().get("result")
    except (requests.RequestException, ValueError):
        return None


def block_number(rpc_url: str) -> int | None:
    head = rpc_call(rpc_url, "eth_blockNumber")
    return int(head, 16) if isinstance(head, str) and head.startswith("0x") else None


def pool_size(rpc_url: str) -> int | None:
    """Transactions waiting in the chain's pool (pending + queued), None when it does not say."""
    try:
        body = {"jsonrpc": "2.0", "id": 1, "method": "txpool_status", "params": []}
        result = requests.post(rpc_url, json=body, timeout=2).json().get("result")
        if not isinstance(result, dict):
            return None
        return sum(int(str(result.get(k, "0x0")), 16) for k in ("pending", "queued"))
    except (requests.RequestException, ValueError):
        return None


# ------------------------------------------------------------------------------------------------ pid files
class PidFiles:
    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir / "pids"

    def path(self, name: str) -> Path:
        return self.dir / f"{name}.pid"

    def write(self, name: str, pid: int, stop_signal: str = "TERM") -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        record = {"name": name, "pid": pid, "pgid": os.getpgid(pid), "start_time": start_time(pid),
                  "stop_signal": stop_signal}  # fmt: skip
        tmp = self.path(name).with_suffix(".tmp")
        tmp.write_text(json.dumps(record) + "\n")
        tmp.replace(self.path(name))

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def records(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted(self.dir.glob("*.pid")) if self.dir.exists() else []:
            try:
                out.append({**json.loads(path.read_text()), "file": path})
            except (OSError, ValueError):
                out.append({"name": path.stem, "pid": None, "file": path})
        return out

    @staticmethod
    def alive(record: dict[str, Any]) -> bool:
        pid = record.get("pid")
        return bool(pid) and record.get("start_time") is not None and start_time(pid) == record["start_time"]


def stop_group(pgid: int, sig: int, timeout_s: float, name: str) -> None:
    """`sig` to the group, then SIGKILL after `timeout_s` if anything of it is still alive."""
    killpg(pgid, sig)
    deadline = time.monotonic() + timeout_s
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_members(pgid):
        say(f"{name} did not stop within {timeout_s:.0f}s: SIGKILL")
        killpg(pgid, signal.SIGKILL)


def clear_stale(pids: PidFiles) -> None:
    """Refuse when another supervisor runs; stop the orphans of a dead one; drop dead pid files."""
    records = pids.records()
    sup = next((r for r in records if r["name"] == "supervisor"), None)
    if sup is not None and PidFiles.alive(sup):
        raise SystemExit(
            f"a demo is already running (supervisor pid {sup['pid']}, pid files in {pids.dir}). Stop it with "
            f"Ctrl-C in its terminal or `python -m scripts.supervise stop --run-dir {pids.dir.parent}`."
        )
    # chain last, so the other leftovers stop while it still answers
    for r in sorted(records, key=lambda r: r["name"] == "chain"):
        if r["name"] != "supervisor" and PidFiles.alive(r):
            sig = SIGNALS[r.get("stop_signal", "TERM")]
            say(f"stopping a leftover {r['name']} of an earlier demo (pid {r['pid']}, {sig.name})")
            stop_group(r["pgid"], sig, 20, r["name"])
        elif r["name"] != "supervisor":
            say(f"removing the stale pid file {r['file']} (process {r.get('pid')} is gone)")
        r["file"].unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ supervisor
@dataclass
class Running:
    step: Step
    proc: subprocess.Popen
    started: float
    restarts: int = 0
    backoff_s: float = BACKOFF_START_S
    restart_at: float | None = None  # a crashed service waiting for its backoff


class Interrupted(Exception):
    pass


class Supervisor:
    def __init__(self, steps: Sequence[Step], run_dir: Path, base_env: dict[str, str] | None = None,
                 on_ready: Callable[[], None] | None = None) -> None:  # fmt: skip
        self.steps = list(steps)
        self.run_dir = run_dir
        self.pids = PidFiles(run_dir)
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.on_ready = on_ready
        self.running: list[Running] = []
        self.signals = 0
        self.exit_code = 0

    # signals only count; the main loop acts on them
    def _on_signal(self, signum: int, _frame: object) -> None:
        self.signals += 1
        if self.signals == 1:
            say(f"{signal.Signals(signum).name}: stopping the demo (a second Ctrl-C kills what is left)")
        elif self.signals == 2:
            say("second signal: killing the services now (the chain still saves its state)")
        else:
            say("third signal: killing the chain too")

    def install_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def check_ports(self) -> None:
        for step in self.steps:
            for port in step.ports:
                if port_busy(port):
                    raise SystemExit(
                        f"port {port} ({step.name}) is in use by another program. Stop it, or choose other ports: "
                        "make demo CHAIN_PORT=… WEB_PORT=… ORACLE_METRICS_PORT=… (or FREE_PORTS=1 to pick free ones)"
                    )

    def _spawn(self, step: Step) -> subprocess.Popen:
        env = {**self.base_env, **step.env}
        out: Any = None
        if step.log:
            Path(step.log).parent.mkdir(parents=True, exist_ok=True)
            out = open(step.log, "ab")  # noqa: SIM115 - handed to the child
        try:
            death = signal.SIGINT if step.kind == "chain" else signal.SIGTERM
            proc = subprocess.Popen(step.argv, env=env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                    stdin=subprocess.DEVNULL, preexec_fn=_child_setup(death))  # fmt: skip
        finally:
            if out is not None:
                out.close()
        self.pids.write(step.name, proc.pid, step.stop_signal)
        return proc

    def _wait(self, seconds: float) -> None:
        """Sleep in small steps; raise Interrupted as soon as a stop signal arrived."""
        deadline = time.monotonic() + seconds
        while True:
            if self.signals:
                raise Interrupted
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.1, left))

    def _wait_ready(self, run: Running) -> None:
        step = run.step
        if not step.ready:
            return
        deadline = time.monotonic() + step.ready_timeout_s
        while not answers(step.ready):
            if run.proc.poll() is not None:
                raise RuntimeError(f"{step.name} exited with code {run.proc.returncode} before it answered"
                                   + (f" (log: {step.log})" if step.log else ""))  # fmt: skip
            if time.monotonic() > deadline:
                raise RuntimeError(f"{step.name} did not answer at {step.ready} within {step.ready_timeout_s:.0f}s")
            self._wait(0.2)

    def _run_task(self, step: Step) -> None:
        if step.skip_if_exists and Path(step.skip_if_exists).exists():
            return
        say(f"{step.name}: {' '.join(Path(a).name if i == 0 else a for i, a in enumerate(step.argv))}")
        proc = self._spawn(step)
        run = Running(step, proc, time.monotonic())
        self.running.append(run)  # so that a signal during a long task stops it too
        deadline = time.monotonic() + step.timeout_s
        while proc.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{step.name} took longer than {step.timeout_s:.0f}s")
            self._wait(0.1)
        self.running.remove(run)
        self.pids.remove(step.name)
        if proc.returncode != 0:
            raise RuntimeError(f"{step.name} failed with exit code {proc.returncode}"
                               + (f" (log: {step.log})" if step.log else ""))  # fmt: skip

    def start(self) -> None:
        for step in self.steps:
            if step.kind == "task":
                self._run_task(step)
                continue
            run = Running(step, self._spawn(step), time.monotonic())
            self.running.append(run)
            say(f"{step.name} started (pid {run.proc.pid}" + (f", log {step.log})" if step.log else ")"))
            self._wait_ready(run)

    def _bound_chain_memory(self, run: Running) -> None:
        """Restart the chain with its state when its memory is over the step's bound; the services keep running
        (they see the chain unreachable for the few seconds of the dump and reload, as after any RPC outage)."""
        rss = group_rss_mb(run.proc.pid)
        if rss <= run.step.max_rss_mb:
            return
        say(f"{run.step.name} uses {rss:.0f} MB (over {run.step.max_rss_mb} MB): restarting it with its state")
        # No transaction may be lost: anvil's dump holds mined state, not its pool. So the services are paused
        # (SIGSTOP: nothing new is sent, their clients wait in the socket backlog), the pool is mined empty, and
        # only then the chain dumps and restarts; the services continue where they were (SIGCONT).
        paused = [r.proc.pid for r in self.running if r.step.kind == "service" and r.restart_at is None]
        for pgid in paused:
            killpg(pgid, signal.SIGSTOP)
        try:
            rpc = (run.step.ready or {}).get("rpc")
            deadline = time.monotonic() + POOL_DRAIN_S
            while rpc and (pool_size(rpc) or 0) > 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            # anvil's exit dump is a snapshot taken at SIGINT while its interval miner goes on for the seconds a
            # large dump takes: those blocks were lost and their numbers mined again after the restart (the soak:
            # 3 blocks behind at 1.5 GB, so block followers skipped the new ones). No block after the snapshot.
            head = None
            if rpc:
                from energy_chain.anvil import stop_interval_mining  # the demo's chain is anvil

                stop_interval_mining(rpc)
                head = block_number(rpc)
            self._stop_one(run, run.proc.pid, chain=True)
            self._reap(run)
            if self.signals:
                raise Interrupted
            run.restarts += 1
            run.proc = self._spawn(run.step)
            run.started = time.monotonic()
            self._wait_ready(run)
        finally:
            for pgid in paused:
                killpg(pgid, signal.SIGCONT)
        again = block_number(rpc) if rpc else None
        where = f"; continues at block {again}" if again is not None else ""
        if head is not None and again is not None and again < head:
            where += f" (WARNING: it had mined up to block {head}; blocks from {again + 1} are mined again)"
        say(f"{run.step.name} restarted (pid {run.proc.pid}, memory restart #{run.restarts}){where}")

    def watch(self) -> None:
        """Restart crashed services until a signal arrives or the chain dies; keep the chain's memory bounded."""
        next_memory_check = time.monotonic() + MEMORY_CHECK_S
        while True:
            now = time.monotonic()
            if now >= next_memory_check:
                next_memory_check = now + MEMORY_CHECK_S
                for run in self.running:
                    if run.step.kind == "chain" and run.step.max_rss_mb > 0 and run.proc.poll() is None:
                        self._bound_chain_memory(run)
            for run in self.running:
                if run.restart_at is not None:
                    if now >= run.restart_at:
                        run.restart_at = None
                        run.proc = self._spawn(run.step)
                        run.started = now
                        say(f"{run.step.name} restarted (pid {run.proc.pid}, restart #{run.restarts})")
                    continue
                code = run.proc.poll()
                if code is None:
                    continue
                killpg(run.proc.pid, signal.SIGKILL)  # what it left behind (a server's workers) goes too
                if run.step.kind == "chain":
                    self.exit_code = 1
                    raise RuntimeError(f"the chain exited with code {code}" +
                                       (f" (log: {run.step.log})" if run.step.log else ""))  # fmt: skip
                if now - run.started >= STABLE_AFTER_S:
                    run.backoff_s = BACKOFF_START_S
                run.restarts += 1
                run.restart_at = now + run.backoff_s
                say(f"{run.step.name} exited with code {code}; restarting in {run.backoff_s:.0f}s "
                    f"(restart #{run.restarts})" + (f", log: {run.step.log}" if run.step.log else ""))  # fmt: skip
                run.backoff_s = min(run.backoff_s * 2, BACKOFF_MAX_S)
            self._wait(0.2)

    def stop_all(self) -> None:
        """Newest first, each with its own signal and timeout; a second signal kills all but the chain at once."""
        chain = [r for r in self.running if r.step.kind == "chain"]
        others = [r for r in reversed(self.running) if r.step.kind != "chain"]
        for run in others:
            pgid = run.proc.pid  # its own session: process group id = pid
            if run.restart_at is None and group_members(pgid):
                if self.signals >= 2:
                    killpg(pgid, signal.SIGKILL)
                else:
                    self._stop_one(run, pgid)
            self._reap(run)
        for run in chain:
            pgid = run.proc.pid
            if group_members(pgid):
                if self.signals >= 3:
                    killpg(pgid, signal.SIGKILL)
                else:
                    say("stopping the chain (it writes its state first)")
                    self._stop_one(run, pgid, chain=True)
            self._reap(run)
        self.running.clear()

    def _stop_one(self, run: Running, pgid: int, chain: bool = False) -> None:
        killpg(pgid, SIGNALS[run.step.stop_signal])
        start = time.monotonic()
        limit = run.step.stop_timeout_s
        while group_members(pgid):
            level = 3 if chain else 2
            if self.signals >= level:
                killpg(pgid, signal.SIGKILL)
                break
            if chain and self.signals == 2:
                limit = min(limit, SECOND_SIGNAL_CHAIN_WAIT_S)
            if time.monotonic() - start > limit:
                say(f"{run.step.name} did not stop within {limit:.0f}s: SIGKILL")
                killpg(pgid, signal.SIGKILL)
                break
            time.sleep(0.05)
        run.proc.poll()

    def _reap(self, run: Running) -> None:
        deadline = time.monotonic() + 5
        while group_members(run.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.proc.wait(1)
        self.pids.remove(run.step.name)

    def run(self) -> int:
        self.install_signals()
        clear_stale(self.pids)
        self.check_ports()
        self.pids.write("supervisor", os.getpid())
        try:
            self.start()
            if self.on_ready:
                self.on_ready()
            self.watch()
        except Interrupted:
            pass
        except RuntimeError as exc:
            say(f"error: {exc}; stopping everything")
            self.exit_code = 1
        finally:
            self.stop_all()
            self.pids.remove("supervisor")
            say("stopped")
        return self.exit_code


# ------------------------------------------------------------------------------------------------ the demo
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoConfig:
    root: Path
    chain_port: int = 8545
    web_port: int = 5000
    metrics_port: int = 9108
    block_time: float = 1
    gas_limit: int = 300_000_000
    chain_max_rss_mb: int = 3072  # anvil's memory grows with every block: restart it with its state above this
    chain_dir: Path | None = None
    demo_dir: Path | None = None
    database_url: str | None = None
    deployments_dir: Path | None = None
    oracle_speed: float = 360
    backfill_hours: float = 12
    oracle_interval_s: int = 60  # the oracle's interval; the seed registers the demo meters with this period
    web_threads: int = 16
    demo_bot: bool = False  # DEMO_BOT=1: the random demo bot trades too (off: the agents trade for the households)

    @classmethod
    def from_env(cls, root: Path, env: dict[str, str], free: bool = False) -> DemoConfig:
        def port(name: str, default: int) -> int:
            return free_port() if free else int(env.get(name) or default)

        demo_dir = Path(env.get("DEMO_DIR") or root / "var" / "demo")
        return cls(
            root=root,
            chain_port=port("CHAIN_PORT", 8545),
            web_port=port("WEB_PORT", 5000),
            metrics_port=port("ORACLE_METRICS_PORT", 9108),
            block_time=float(env.get("BLOCK_TIME") or 1),
            chain_max_rss_mb=int(env.get("CHAIN_MAX_RSS_MB") or 3072),
            gas_limit=int(env.get("GAS_LIMIT") or 300_000_000),
            chain_dir=Path(env.get("CHAIN_DIR") or root / ".chain"),
            demo_dir=demo_dir,
            database_url=env.get("DATABASE_URL") or None,
            deployments_dir=Path(env["DEPLOYMENTS_DIR"]) if env.get("DEPLOYMENTS_DIR") else None,
            oracle_speed=float(env.get("ORACLE_SPEED") or 360),
            backfill_hours=float(env.get("ORACLE_BACKFILL_HOURS") or 12),
            oracle_interval_s=int(env.get("ORACLE_INTERVAL_S") or 60),
            demo_bot=env.get("DEMO_BOT") == "1",
        )

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.chain_port}"

    def env(self) -> dict[str, str]:
        assert self.demo_dir is not None
        out = {
            "RPC_URL": self.rpc_url,
            "CHAIN_ID": "1337",
            "DATABASE_URL": self.database_url or f"sqlite:///{self.demo_dir / 'webapp.sqlite'}",
            "PYTHONUNBUFFERED": "1",
            # one interval for the oracle (meter_oracle.config) and the seed's meter registration (--meter-period)
            "ORACLE_INTERVAL_S": str(self.oracle_interval_s),
            # Demo only: users top themselves up at once (no payment), within per-account and all-account caps
            # per 24 h; without it top-ups are requests the operator confirms on the operator page.
            "WEBAPP_TOPUP_SELF_SERVICE": os.environ.get("WEBAPP_TOPUP_SELF_SERVICE", "1"),
            # Sign-In with Ethereum names this site (never the request's Host header).
            "WEBAPP_PUBLIC_URL": os.environ.get("WEBAPP_PUBLIC_URL", f"http://127.0.0.1:{self.web_port}"),
            # the agents' decision log and liveness file: written by agents.service, read by the dashboard
            "AGENT_LOG": os.environ.get("AGENT_LOG") or str(self.demo_dir / "agents" / "decisions.jsonl"),
            "AGENT_HEARTBEAT": os.environ.get("AGENT_HEARTBEAT") or str(self.demo_dir / "agents" / "heartbeat.json"),
        }
        if self.deployments_dir is not None:
            out["DEPLOYMENTS_DIR"] = str(self.deployments_dir)
        return out


def demo_steps(cfg: DemoConfig) -> list[Step]:
    """The demo: chain, contracts, schema, households (and their mandates), oracle, the households' trading agents,
    the auction keeper, dashboard (the order they stop in reverse)."""
    assert cfg.demo_dir is not None and cfg.chain_dir is not None
    py, logs, keys = sys.executable, cfg.demo_dir / "logs", cfg.demo_dir / "keys"
    env = cfg.env()
    return [
        Step(
            "chain",
            [
                py,
                "-m",
                "energy_chain.anvil",
                "--port",
                str(cfg.chain_port),
                "--block-time",
                str(cfg.block_time),
                "--gas-limit",
                str(cfg.gas_limit),
                "--state-dir",
                str(cfg.chain_dir),
            ],
            kind="chain",
            env=env,
            log=str(logs / "anvil.log"),
            ready={"rpc": cfg.rpc_url},
            stop_signal="INT",
            stop_timeout_s=60,
            ports=[cfg.chain_port],
            max_rss_mb=cfg.chain_max_rss_mb,
        ),
        Step("deploy", [py, "-m", "scripts.deploy"], kind="task", env=env),
        Step("upgrade", [py, "-m", "webapp", "upgrade"], kind="task", env=env),
        Step("seed", [py, "-m", "webapp", "seed-demo"], kind="task", env=env),
        Step(
            "oracle-key",
            [
                py,
                "-m",
                "energy_chain.devchain",
                "keystore",
                "--role",
                "oracle",
                "--out",
                str(keys / "oracle.json"),
                "--password-file",
                str(keys / "oracle.password"),
            ],
            kind="task",
            env=env,
            skip_if_exists=str(keys / "oracle.json"),
        ),
        Step(
            "oracle",
            [
                py,
                "-m",
                "meter_oracle",
                "run",
                "--simulate",
                str(cfg.root / "meter_oracle" / "config" / "demo-community.json"),
                "--keystore",
                str(keys / "oracle.json"),
                "--password-file",
                str(keys / "oracle.password"),
                "--outbox",
                str(cfg.demo_dir / "oracle.sqlite"),
                "--rpc-url",
                cfg.rpc_url,
                "--metrics-port",
                str(cfg.metrics_port),
                "--backfill-hours",
                str(cfg.backfill_hours),
                "--speed",
                str(cfg.oracle_speed),
            ],
            env=env,
            log=str(logs / "oracle.log"),
            ports=[cfg.metrics_port],
        ),
        Step(
            "agent-key",
            [
                py,
                "-m",
                "energy_chain.devchain",
                "keystore",
                "--role",
                "agent",
                "--out",
                str(keys / "agent.json"),
                "--password-file",
                str(keys / "agent.password"),
            ],
            kind="task",
            env=env,
            skip_if_exists=str(keys / "agent.json"),
        ),
        # The demo households' automatic-trading agents: one agent key, trading for each household within the bounds
        # of the mandate it granted (the seed grants them); DEMO_BOT=1 runs the old random bot as well.
        Step(
            "agents",
            [py, "-m", "agents.service"],
            env={
                **env,
                "AGENT_KEYSTORE": str(keys / "agent.json"),
                "AGENT_PASSWORD_FILE": str(keys / "agent.password"),
                "AGENT_COMMUNITY": str(cfg.root / "meter_oracle" / "config" / "demo-community.json"),
            },
            log=str(logs / "agents.log"),
        ),
        # closes, clears and settles ended auction rounds (the bot's keeper; with DEMO_BOT=1 it also trades randomly)
        Step(
            "keeper",
            [py, "-m", "webapp", "bot", *([] if cfg.demo_bot else ["--keeper-only"])],
            env=env,
            log=str(logs / "keeper.log"),
        ),
        Step(
            "web",
            [
                py,
                "-m",
                "webapp",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(cfg.web_port),
                "--threads",
                str(cfg.web_threads),
            ],
            env=env,
            log=str(logs / "web.log"),
            ready={"http": f"http://127.0.0.1:{cfg.web_port}/api/v1/health"},
            ready_timeout_s=180,
            stop_timeout_s=20,
            ports=[cfg.web_port],
        ),
    ]


def _demo(ns: argparse.Namespace) -> int:
    root = Path(__file__).resolve().parent.parent
    free = ns.free_ports or os.environ.get("FREE_PORTS") == "1"
    cfg = DemoConfig.from_env(root, dict(os.environ), free=free)
    assert cfg.demo_dir is not None
    (cfg.demo_dir / "logs").mkdir(parents=True, exist_ok=True)
    say(f"chain {cfg.rpc_url} (chain 1337, gas price 0, {cfg.block_time:g}s blocks, gas limit {cfg.gas_limit:,}, "
        f"state in {cfg.chain_dir}); logs in {cfg.demo_dir / 'logs'}")  # fmt: skip

    def ready() -> None:
        say(f"dashboard on http://127.0.0.1:{cfg.web_port}; oracle metrics on http://127.0.0.1:{cfg.metrics_port}"
            "/metrics (Ctrl-C stops the demo)")  # fmt: skip
        say("automatic trading: the demo households' agents trade for them, each within the bounds of the mandate "
            f"it granted on chain (decisions: {cfg.env()['AGENT_LOG']})"
            + ("; the random demo bot trades too (DEMO_BOT=1)" if cfg.demo_bot else ""))  # fmt: skip

    return Supervisor(demo_steps(cfg), cfg.demo_dir, on_ready=ready).run()


def _run(ns: argparse.Namespace) -> int:
    spec = json.loads(Path(ns.spec).read_text())
    steps = [Step.from_dict(s) for s in spec["steps"]]
    return Supervisor(steps, Path(spec["run_dir"])).run()


def _stop(ns: argparse.Namespace) -> int:
    pids = PidFiles(Path(ns.run_dir))
    sup = next((r for r in pids.records() if r["name"] == "supervisor"), None)
    if sup is not None and PidFiles.alive(sup):
        os.kill(sup["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 90
        while PidFiles.alive(sup) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not PidFiles.alive(sup):
            say("stopped")
            return 0
        say("the supervisor did not stop within 90 s; stopping its services directly")
    clear_stale(pids)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.supervise", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the demo stack (make demo)")
    demo.add_argument("--free-ports", action="store_true", help="pick free ports instead of 8545/5000/9108")
    demo.set_defaults(func=_demo)
    run = sub.add_parser("run", help="run the steps of a JSON spec")
    run.add_argument("--spec", required=True)
    run.set_defaults(func=_run)
    stop = sub.add_parser("stop", help="stop a running demo by its pid files")
    default_run = Path(os.environ.get("DEMO_DIR") or Path(__file__).resolve().parent.parent / "var" / "demo")
    stop.add_argument("--run-dir", default=str(default_run))
    stop.set_defaults(func=_stop)
    ns = parser.parse_args(argv)
    return int(ns.func(ns))


if __name__ == "__main__":
    sys.exit(main())
