"""Voice gateway settings (env prefix OMNIROUTE_)."""

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from shared.settings import GatewaySettings

DEFAULT_DIALPLAN = Path(__file__).with_name("dialplan.yaml")


class VoiceSettings(GatewaySettings):
    voice_http_host: str = "127.0.0.1"
    voice_http_port: int = 8083
    sip_host: str = "0.0.0.0"
    sip_port: int = 5060
    # Address put in Contact, Via and SDP; empty means sip_host, or this host's
    # outbound address when sip_host is a wildcard.
    sip_public_host: str = ""
    rtp_host: str = Field(default="", description="Where RTP sockets bind; empty means sip_host")
    # RTP port range (inclusive); 0/0 means any free port. Set it where a firewall or
    # a container must publish the media ports.
    rtp_port_min: int = 0
    rtp_port_max: int = 0
    # SIP over TLS (RFC 3261 26.2) on this port with this certificate chain and key (PEM);
    # 0: off.
    sip_tls_port: int = 0
    sip_tls_cert: Path | None = None
    sip_tls_key: Path | None = None
    # REGISTER to this registrar (host:port; a PBX or proxy that routes the center's
    # number to us) as sip_register_user, renewed before it expires; empty: no REGISTER.
    sip_registrar: str = ""
    sip_register_user: str = "omniroute"
    sip_register_expires_s: int = Field(default=300, ge=30)
    # Digest credentials for the registrar's and the trunk's challenges (401/407).
    sip_auth_user: str = ""
    sip_auth_password: SecretStr | None = None
    voice_dialplan: Path = DEFAULT_DIALPLAN
    # RFC 3261 timers: T1 (RTT estimate) and T2 (cap for non-INVITE retransmits).
    sip_t1_ms: int = 500
    sip_t2_ms: int = 4000
    voice_transfer_timeout_s: float = 32.0
    voice_submit_timeout_s: float = 10.0
    # Raw 8 kHz G.711 (mu-law for PCMU, a-law for PCMA) or a .wav of it, looped while queued.
    voice_hold_audio: Path | None = None
    # Say a queued caller's place and estimated wait (the router's) when queued, and the
    # wait left every voice_announce_every_s after (0: only when queued).
    voice_announce_wait: bool = True
    voice_announce_every_s: float = Field(default=60.0, ge=0)
    # Admission: calls held at once, and new INVITEs per second (burst: twice that); beyond
    # either the caller gets 503 with Retry-After.
    voice_max_calls: int = Field(default=500, ge=1)
    voice_invite_rate_per_s: float = Field(default=50.0, gt=0)
    # A call we hold (menu or queue) ends when no RTP came from the caller for this long
    # (its BYE was lost, or the phone died), and in any case after voice_max_call_s.
    voice_media_timeout_s: float = Field(default=120.0, gt=0)
    voice_max_call_s: float = Field(default=4 * 3600.0, gt=0)
    # Callbacks: placed through this trunk (host:port, e.g. your SBC or PBX) when an agent
    # accepts one; each rings this long, is tried this many times, this far apart.
    voice_trunk: str = ""
    voice_callback_ring_s: float = Field(default=30.0, gt=0)
    voice_callback_attempts: int = Field(default=3, ge=1)
    voice_callback_retry_s: float = Field(default=300.0, gt=0)
    # Outbound campaign calls (through the same trunk) are dialled by the replicas with
    # this on: with several voice gateways, keep it on in one (each reads every assignment).
    voice_campaign_dialer: bool = True
    # Closed hours: a caller may leave a voicemail (up to voice_voicemail_max_s, kept as
    # <contact id>.wav here) that the contact carries; unset: no voicemail.
    voice_voicemail_dir: Path | None = None
    voice_voicemail_max_s: float = Field(default=60.0, gt=0, le=600)

    @model_validator(mode="after")
    def _tls_complete(self):
        if self.sip_tls_port and not (self.sip_tls_cert and self.sip_tls_key):
            raise ValueError("sip_tls_port needs sip_tls_cert and sip_tls_key")
        return self

    def rtp_ports(self) -> range | None:
        if self.rtp_port_min and self.rtp_port_max >= self.rtp_port_min:
            return range(self.rtp_port_min, self.rtp_port_max + 1)
        return None
