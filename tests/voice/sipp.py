"""Run sipp (the real SIP client) against the gateway, as the caller or the agent's phone."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path

from tests.support.tools import require

SCENARIOS = Path(__file__).with_name("scenarios")
PCAPS = Path("/usr/share/sip-tester")


def require_sipp() -> str:
    return require("sipp", "sip-tester")


def pcap(name: str) -> Path:
    """sip-tester's RFC 2833 example captures (dtmf_2833_<digit>.pcap)."""
    return Path(require(str(PCAPS / name), "sip-tester"))


def free_port() -> int:
    """A port free for both UDP and TCP right now."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct ports free for both UDP and TCP: each stays bound until all are chosen."""
    with contextlib.ExitStack() as held:
        ports: list[int] = []
        for _ in range(50 * n):
            u = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            ports.append(port)
            if len(ports) == n:
                return ports
    raise RuntimeError("no free port")


@dataclass
class Sipp:
    proc: asyncio.subprocess.Process
    cwd: Path
    scenario: str
    local_port: int

    async def done(self, timeout: float = 90) -> Sipp:
        try:
            self.stdout, _ = await asyncio.wait_for(self.proc.communicate(), timeout)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"sipp {self.scenario} still running after {timeout}s:\n{self.files()}")
        return self

    @property
    def ok(self) -> bool:
        return self.proc.returncode == 0

    def files(self, kind: str = "") -> str:
        """sipp's trace files (errors, <log> lines) for assertions and failure messages."""
        out = []
        for f in sorted(self.cwd.glob(f"{Path(self.scenario).stem}_*{kind}*" if kind else f"{Path(self.scenario).stem}_*")):
            out.append(f"--- {f.name}\n{f.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)

    def explain(self) -> str:
        return f"sipp {self.scenario} exited {self.proc.returncode}\n{self.stdout.decode(errors='replace')[-3000:]}\n{self.files()}"

    def rtts(self) -> list[float]:
        """Response times (ms) of the rtd-marked response (INVITE -> 200 OK) per call."""
        values = []
        for f in self.cwd.glob(f"{Path(self.scenario).stem}_*_rtt.csv"):
            for line in f.read_text().splitlines()[1:]:  # Date_ms;response_time_ms;rtd_no
                parts = line.split(";")
                if len(parts) >= 2:
                    values.append(float(parts[1]))
        return values


async def run(scenario: str, target_port: int, cwd: Path, *, keys: dict | None = None, calls: int = 1,
              concurrent: int | None = None, rate: float | None = None, hold_ms: int = 0, tcp: bool = False,
              uas: bool = False, local_port: int | None = None, extra: tuple[str, ...] = ()) -> Sipp:
    """Start sipp in the background; `await (await run(...)).done()` for its result."""
    sipp = require_sipp()
    local_port = local_port or free_port()
    args = [sipp]
    if not uas:
        args.append(f"127.0.0.1:{target_port}")
    builtin = scenario.startswith("sn:")
    args += ["-sn", scenario[3:]] if builtin else ["-sf", str(SCENARIOS / scenario)]
    args += ["-i", "127.0.0.1", "-p", str(local_port), "-mi", "127.0.0.1", "-mp", str(free_port()),
             "-m", str(calls), "-l", str(concurrent or calls), "-r", str(rate or calls), "-d", str(hold_ms),
             "-t", "t1" if tcp else "u1", "-nostdin", "-timeout", "120s", "-timeout_error",
             "-trace_err", "-trace_logs", "-trace_rtt", "-rtt_freq", "1", *extra]
    keys = dict(keys or {})
    if "service" in keys:  # a built-in keyword: the dialled number (Request-URI and To user)
        args += ["-s", str(keys.pop("service"))]
    for k, v in keys.items():
        args += ["-key", k, str(v)]
    cwd.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(*args, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL)
    return Sipp(proc=proc, cwd=cwd, scenario=scenario, local_port=local_port)
