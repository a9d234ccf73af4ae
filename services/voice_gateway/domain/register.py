"""Registering with a registrar (RFC 3261 10): the REGISTER requests of one binding,
kept across refreshes (one Call-ID, a rising CSeq), and how long it was granted. Pure."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sipmessage import Response

from .sip import _finish, new_branch, new_tag


@dataclass
class Registration:
    registrar: str  # host:port
    user: str
    contact: str  # our Contact URI
    expires_s: int
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tag: str = field(default_factory=new_tag)
    cseq: int = 0

    @property
    def domain(self) -> str:
        return self.registrar.rpartition(":")[0] or self.registrar

    @property
    def uri(self) -> str:
        """The Request-URI: the registrar's domain (10.2)."""
        return f"sip:{self.domain}"

    @property
    def aor(self) -> str:
        return f"sip:{self.user}@{self.domain}"

    def request(self, via: str, credentials: tuple[str, str] | None = None, expires_s: int | None = None) -> tuple[bytes, str]:
        """The next REGISTER (bytes, Via branch); `expires_s=0` removes the binding."""
        self.cseq += 1
        branch, expires = new_branch(), self.expires_s if expires_s is None else expires_s
        lines = [f"REGISTER {self.uri} SIP/2.0", f"Via: {via};branch={branch};rport", "Max-Forwards: 70",
                 f"From: <{self.aor}>;tag={self.tag}", f"To: <{self.aor}>", f"Call-ID: {self.call_id}",
                 f"CSeq: {self.cseq} REGISTER", f"Contact: <{self.contact}>", f"Expires: {expires}"]
        return _finish(lines, [credentials] if credentials else [], b"", None), branch

    def granted(self, ok: Response) -> int:
        """How long the registrar keeps our binding (10.2.4): our Contact's `expires` in
        its answer, else its Expires header, else what we asked."""
        for address in ok.contact:
            if str(address.uri) == self.contact and "expires" in address.parameters:
                return int(address.parameters["expires"])
        return ok.expires if ok.expires is not None else self.expires_s
