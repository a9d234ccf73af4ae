"""A throwaway Kamailio SIP proxy in front of the voice gateway, as a contact center
runs one: callers reach the gateway through it (the gateway REGISTERs, with digest
authentication, and the proxy finds it by that binding; or, with `gateway_tls`, over
SIP/TLS to that address, checking its certificate against the test CA), it
Record-Routes, and it refuses a request inside a dialog that does not come back along
the route (404). The gateway's callbacks through it as a trunk must answer its proxy
challenge (407)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from tests.support.poll import until
from tests.support.tls import TestPki
from tests.support.tools import require

MODULES = ("tm", "sl", "rr", "pv", "maxfwd", "textops", "siputils", "usrloc", "registrar", "auth", "xlog")
SECRET = "gateway-digest-secret"  # the gateway's password for both challenges
CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="127.0.0.1:{port}"
{tls_listen}
mpath="{mpath}"
{modules}
modparam("rr", "append_fromtag", 1)
modparam("usrloc", "db_mode", 0)
{tls_params}

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{
            xlog("L_NOTICE", "ROUTED in-dialog $rm along the route set to $ru\\n");
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        xlog("L_WARN", "REFUSED in-dialog $rm without a Route to this proxy\\n");
        sl_send_reply("404", "Not here: no Route to this proxy");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("$td", "{secret}", "0")) {{ www_challenge("$td", "0"); exit; }}
        if (!save("location")) {{ sl_reply_error(); }}
        xlog("L_NOTICE", "REGISTERED $fu at $ct\\n");
        exit;
    }}
    record_route();
    if ($fU == "omniroute") {{  # the gateway calling a customer back: the trunk wants to know who
        if (!pv_proxy_authenticate("$fd", "{secret}", "0")) {{ proxy_challenge("$fd", "0"); exit; }}
        consume_credentials();
        xlog("L_NOTICE", "TRUNK call to $rU, authenticated\\n");
        $du = "sip:127.0.0.1:{customers}";
        t_relay();
        exit;
    }}
    {to_gateway}
    xlog("L_NOTICE", "CALL for $tU to the gateway at $ru\\n");
    t_relay();
}}
"""


TO_REGISTERED = """$ru = "sip:omniroute@127.0.0.1";  # every other call is for the center: where the gateway registered
    if (!lookup("location")) {{ sl_send_reply("480", "Gateway not registered"); exit; }}"""
TO_TLS = """$du = "sip:{gateway};transport=tls";  # every other call is for the center: over TLS"""
TLS_CONFIG = """[server:default]
method = TLSv1.2+
certificate = {pki.cert}
private_key = {pki.key}
verify_certificate = no
require_certificate = no

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
ca_list = {pki.ca}
"""


class Kamailio:
    def __init__(self, port: int, customers_port: int = 9, gateway_tls: str = "", pki: TestPki | None = None,
                 tls_port: int = 0):
        self.port, self.customers_port = port, customers_port
        self.gateway_tls, self.pki, self.tls_port = gateway_tls, pki, tls_port
        self.dir = Path(tempfile.mkdtemp(prefix="omniroute-kamailio-"))
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group we started (start_new_session): only ours

    def log(self) -> str:
        return "".join(self.lines)

    async def start(self) -> None:
        exe = require("kamailio", "kamailio")
        mpath = next((p for p in Path("/usr/lib").glob("*/kamailio/modules") if (p / "tm.so").exists()), None)
        if mpath is None:
            raise RuntimeError("kamailio's modules (tm.so) are not under /usr/lib/*/kamailio/modules")
        config = self.dir / "kamailio.cfg"
        modules, tls_listen, tls_params, to_gateway = MODULES, "", "", TO_REGISTERED
        if self.gateway_tls:
            (self.dir / "tls.cfg").write_text(TLS_CONFIG.format(pki=self.pki))
            modules = ("tls", *MODULES)
            tls_listen = f"enable_tls=yes\nlisten=tls:127.0.0.1:{self.tls_port}"
            tls_params = f'modparam("tls", "config", "{self.dir / "tls.cfg"}")'
            to_gateway = TO_TLS.format(gateway=self.gateway_tls)
        config.write_text(CONFIG.format(
            port=self.port, mpath=f"{mpath}/", secret=SECRET, customers=self.customers_port, tls_listen=tls_listen,
            tls_params=tls_params, to_gateway=to_gateway.replace("{{", "{").replace("}}", "}"),
            modules="\n".join(f'loadmodule "{m}.so"' for m in modules)))
        self.proc = await asyncio.create_subprocess_exec(
            exe, "-DD", "-E", "-f", str(config), "-Y", str(self.dir), "-P", str(self.dir / "kamailio.pid"),
            "-m", "64", "-M", "8", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)  # its own process group: stopped with all its children
        self._reader = asyncio.create_task(self._read())
        await until(lambda: "processes (at least)" in self.log() or self.proc.returncode is not None, 20,
                    what="kamailio listening")
        if self.proc.returncode is not None:
            raise RuntimeError(f"kamailio exited {self.proc.returncode}:\n{self.log()[-3000:]}")

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode(errors="replace"))

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self.proc.wait()
        self._signal(signal.SIGKILL)  # a child left behind would hold its port and our pipe
        if self._reader:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reader, 5)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def kamailio(port: int, customers_port: int = 9, **tls) -> AsyncIterator[Kamailio]:
    """`tls`: gateway_tls (host:port), pki and tls_port, to reach the gateway over TLS."""
    proxy = Kamailio(port, customers_port, **tls)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
