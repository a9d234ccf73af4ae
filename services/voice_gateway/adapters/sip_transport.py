"""SIP over UDP and TCP on one port, with the transaction layer's reliability:
absorbing retransmitted requests, retransmitting our responses and requests over UDP
(RFC 3261 §17 timers), and matching responses to the requests we sent."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sipmessage import Request, Response

from shared import logging as log
from shared.lifecycle import cancel_tasks

from ..domain import sip
from . import metrics

logger = log.get("voice.sip")
TRANSACTION_TTL_S = 32.0  # Timer J/H: how long a server transaction absorbs retransmits


@dataclass(eq=False)
class Peer:
    """Where a message came from, and so where its responses go (symmetric, like rport)."""

    transport: str  # "udp" | "tcp" | "tls"
    addr: tuple[str, int]
    writer: asyncio.StreamWriter | None = None

    @property
    def reliable(self) -> bool:
        return self.transport != "udp"

    @classmethod
    def udp(cls, address: str) -> Peer:
        """A UDP peer from a `host[:port]` setting (a trunk, a registrar): port 5060 unless given."""
        host, _, port = address.rpartition(":")
        return cls("udp", (host or address, int(port) if port.isdigit() else 5060))


RequestHandler = Callable[[Request, Peer], Awaitable[None]]


@dataclass
class _ServerTxn:
    response: bytes | None = None
    expires: float = field(default_factory=lambda: time.monotonic() + TRANSACTION_TTL_S)


class SipEndpoint:
    def __init__(self, host: str, port: int, on_request: RequestHandler, *, t1_ms: int = 500, t2_ms: int = 4000,
                 tls_port: int = 0, tls: ssl.SSLContext | None = None):
        self.host, self.port, self.tls_port, self.tls = host, port, tls_port, tls
        self._tls: asyncio.base_events.Server | None = None
        self.on_request = on_request
        self.t1, self.t2 = t1_ms / 1000, t2_ms / 1000
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.base_events.Server | None = None
        self._server_txns: dict[tuple[str, str], _ServerTxn] = {}
        self._client_txns: dict[str, asyncio.Future] = {}
        self._invite_txns: dict[str, asyncio.Queue] = {}  # our INVITEs: every response, by branch
        self._retransmits: dict[str, asyncio.Task] = {}
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(self.host, self.port))
        self.port = self._udp.get_extra_info("sockname")[1]  # port 0: the OS picked one
        self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port)
        if self.tls is not None:
            self._tls = await asyncio.start_server(lambda r, w: self._serve_tcp(r, w, "tls"), self.host, self.tls_port,
                                                   ssl=self.tls)
            self.tls_port = self._tls.sockets[0].getsockname()[1]
        self._tasks.add(asyncio.create_task(self._expire_loop()))
        logger.info("sip_listening", host=self.host, port=self.port, tls_port=self.tls_port,
                    transports="udp,tcp" + (",tls" if self._tls else ""))

    async def stop(self) -> None:
        await cancel_tasks([*self._tasks, *self._retransmits.values()])
        for server in (self._tcp, self._tls):
            if server:
                server.close()
        if self._udp:
            self._udp.close()

    def listening(self) -> bool:
        return self._udp is not None and not self._udp.is_closing() and self._tcp is not None and self._tcp.is_serving()

    # -- sending ----------------------------------------------------------------
    def send(self, peer: Peer, data: bytes) -> None:
        if peer.reliable:
            if peer.writer and not peer.writer.is_closing():
                peer.writer.write(data)
        elif self._udp:
            self._udp.sendto(data, peer.addr)

    def reply(self, req: Request, peer: Peer, data: bytes) -> None:
        """Send a response and remember it for retransmitted requests."""
        txn = self._server_txns.setdefault((sip.branch_of(req), req.method), _ServerTxn())
        txn.response = data
        self.send(peer, data)

    def retransmit_until(self, key: str, peer: Peer, data: bytes, on_timeout: Callable[[], None] | None = None) -> None:
        """Repeat a final INVITE response over UDP until `stop_retransmit(key)` (the ACK),
        doubling from T1 up to T2; give up after 64*T1 (Timers G and H)."""
        if peer.reliable:
            return
        self.stop_retransmit(key)
        self._retransmits[key] = asyncio.create_task(self._repeat(key, peer, data, on_timeout))

    def stop_retransmit(self, key: str) -> None:
        task = self._retransmits.pop(key, None)
        if task:
            task.cancel()

    async def _repeat(self, key: str, peer: Peer, data: bytes, on_timeout) -> None:
        interval, deadline = self.t1, time.monotonic() + 64 * self.t1
        while time.monotonic() + interval < deadline:
            await asyncio.sleep(interval)
            self.send(peer, data)
            interval = min(interval * 2, self.t2)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        self._retransmits.pop(key, None)
        if on_timeout:
            on_timeout()

    async def request(self, peer: Peer, data: bytes, branch: str) -> Response | None:
        """Send a non-INVITE request; the final response, or None after Timer F (64*T1)."""
        future = asyncio.get_running_loop().create_future()
        self._client_txns[branch] = future
        try:
            self.send(peer, data)
            interval, deadline = self.t1, time.monotonic() + 64 * self.t1
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                timeout = min(interval, remaining) if not peer.reliable else remaining
                with contextlib.suppress(asyncio.TimeoutError):
                    return await asyncio.wait_for(asyncio.shield(future), timeout)
                self.send(peer, data)  # Timer E (UDP only: TCP waits out the deadline)
                interval = min(interval * 2, self.t2)
        finally:
            self._client_txns.pop(branch, None)

    def invite(self, peer: Peer, data: bytes, branch: str) -> ClientInvite:
        """Send an INVITE of ours (a callback): its client transaction, RFC 3261 17.1.1."""
        txn = ClientInvite(self, peer, data, branch)
        self._invite_txns[branch] = txn.responses
        self.send(peer, data)
        return txn

    # -- receiving --------------------------------------------------------------
    def received(self, data: bytes, peer: Peer) -> None:
        if not data.strip(b"\r\n\x00 "):
            return  # keep-alive
        try:
            msg = sip.parse(data)
        except sip.BadMessage as exc:
            self._bad(data, peer, str(exc))
            return
        if isinstance(msg, Response):
            self._response(msg)
        else:
            self._request(msg, peer)

    def _bad(self, data: bytes, peer: Peer, reason: str) -> None:
        metrics.BAD_MESSAGES.labels(transport=peer.transport).inc()
        logger.warning("sip_bad_message", transport=peer.transport, peer=peer.addr[0], reason=reason[:200])
        answer = sip.raw_error_response(data, 400, "Bad Request", reason)
        if answer:
            self.send(peer, answer)

    def _response(self, msg: Response) -> None:
        if (responses := self._invite_txns.get(sip.branch_of(msg))) is not None:
            responses.put_nowait(msg)
            return
        future = self._client_txns.get(sip.branch_of(msg))
        if future and not future.done() and msg.code >= 200:
            future.set_result(msg)

    def _request(self, req: Request, peer: Peer) -> None:
        branch = sip.branch_of(req)
        if req.method == "ACK":
            # ACK of a non-2xx final shares the INVITE's branch: it ends that retransmit.
            if branch in self._retransmits:
                self.stop_retransmit(branch)
                return
        else:
            txn = self._server_txns.get((branch, req.method))
            if txn is not None:  # a retransmission: repeat our answer, never re-run it
                if txn.response:
                    self.send(peer, txn.response)
                return
            self._server_txns[(branch, req.method)] = _ServerTxn()
        metrics.SIP_REQUESTS.labels(method=req.method if req.method in sip.SUPPORTED else "other").inc()
        task = asyncio.create_task(self._run(req, peer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, req: Request, peer: Peer) -> None:
        try:
            await self.on_request(req, peer)
        except Exception:  # a bug in one dialog must not take the gateway down
            logger.exception("sip_handler_failed", method=req.method, call_id=req.call_id)
            txn = self._server_txns.get((sip.branch_of(req), req.method))
            if req.method != "ACK" and txn is not None and txn.response is None:
                self.reply(req, peer, sip.response(req, 500, "Server Internal Error"))

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(5)
            now = time.monotonic()
            for key in [k for k, t in self._server_txns.items() if t.expires < now]:
                del self._server_txns[key]

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         transport: str = "tcp") -> None:
        peer = Peer(transport, writer.get_extra_info("peername")[:2], writer)
        buffer = b""
        try:
            while data := await reader.read(65536):
                buffer += data
                try:
                    messages, buffer = sip.split_stream(buffer)
                except sip.FramingError as exc:
                    # The stream has lost its framing: answer what we can, then close.
                    self._bad(buffer, peer, str(exc))
                    break
                for message in messages:
                    self.received(message, peer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(Exception):
                await writer.drain()
            writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint):
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr) -> None:
        self.endpoint.received(data, Peer("udp", addr[:2]))

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable etc.: not fatal
        logger.debug("udp_error", error=repr(exc))


class ClientInvite:
    """One INVITE we sent: retransmitted over UDP until any response (Timer A), then
    its provisional responses are waited through for the final one."""

    def __init__(self, endpoint: SipEndpoint, peer: Peer, data: bytes, branch: str):
        self.endpoint, self.peer, self.data, self.branch = endpoint, peer, data, branch
        self.responses: asyncio.Queue[Response] = asyncio.Queue()
        self.provisional: Response | None = None  # the last 1xx (180: the phone rings)

    async def final(self, timeout_s: float) -> Response | None:
        """The final response, or None if none came within `timeout_s`."""
        interval, deadline = self.endpoint.t1, time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            retransmit = not self.peer.reliable and self.provisional is None
            try:
                msg = await asyncio.wait_for(self.responses.get(), min(interval, remaining) if retransmit else remaining)
            except TimeoutError:
                if retransmit:
                    self.endpoint.send(self.peer, self.data)
                    interval = min(interval * 2, self.endpoint.t2)
                continue
            if msg.code >= 200:
                return msg
            self.provisional = msg
        return None

    def close(self) -> None:
        self.endpoint._invite_txns.pop(self.branch, None)
