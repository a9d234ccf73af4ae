"""A throwaway dovecot IMAP server: generated config in its own directory, a free port,
one plain-text user, started in the foreground and stopped by its pid. Works as root
(CI) and as an ordinary user; never touches a system dovecot.

`Dovecot(pki, introspection_url)` is the secure kind providers run now: TLS required
(IMAPS on `tls_port`, STARTTLS on `port`) with a test CA's certificate, and XOAUTH2
sign-in whose tokens dovecot checks at an OAuth 2 introspection endpoint."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.serve import free_port
from tests.support.tls import TestPki

USER, PASSWORD = "support", "support-secret"


def _ids() -> tuple[int, int, str, str]:
    """uid/gid owning the mail, and the login/internal users dovecot drops to."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return os.geteuid(), os.getegid(), me, me
    # Dovecot refuses mail access as root: store it as the unprivileged `mail` account.
    owner = pwd.getpwnam("mail")
    login = "dovenull" if _exists("dovenull") else "nobody"
    internal = "dovecot" if _exists("dovecot") else "nobody"
    return owner.pw_uid, owner.pw_gid, login, internal


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
{security}
mail_location = maildir:{d}/mail/%u
default_login_user = {login}
default_internal_user = {internal}
first_valid_uid = {uid}
last_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
{oauth_passdb}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


PLAIN = """\
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login"""
SECURE = """\
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login xoauth2 oauthbearer"""
OAUTH_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {d}/oauth2.conf
}}"""
OAUTH = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


class Dovecot:
    def __init__(self, pki: TestPki | None = None, introspection_url: str = ""):
        # Outside pytest's 0700 tmp dirs: dovecot's unprivileged processes must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="omniroute-dovecot-"))
        os.chmod(self.dir, 0o755)
        self.port, self.tls_port = free_port(), (free_port() if pki else 0)
        self.pki, self.introspection_url = pki, introspection_url
        self.proc: subprocess.Popen | None = None

    def _config(self, uid: int, gid: int, login: str, internal: str) -> str:
        security, oauth = PLAIN, ""
        if self.pki:
            for part in ("cert", "key"):
                shutil.copy(getattr(self.pki, part), self.dir / f"tls-{part}.pem")
            security = SECURE.format(cert=self.dir / "tls-cert.pem", key=self.dir / "tls-key.pem")
        if self.introspection_url:
            (self.dir / "oauth2.conf").write_text(OAUTH.format(url=self.introspection_url))
            oauth = OAUTH_PASSDB.format(d=self.dir)
        return CONFIG.format(d=self.dir, port=self.port, tls_port=self.tls_port, uid=uid, gid=gid, login=login,
                             internal=internal, security=security, oauth_passdb=oauth)

    def start(self, timeout: float = 20) -> None:
        uid, gid, login, internal = _ids()
        for sub in ("mail", "home"):
            (self.dir / sub).mkdir()
            os.chown(self.dir / sub, uid, gid)
        (self.dir / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        conf = self.dir / "dovecot.conf"
        conf.write_text(self._config(uid, gid, login, internal))
        exe = shutil.which("dovecot") or "/usr/sbin/dovecot"
        self.proc = subprocess.Popen([exe, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stdout.read().decode()} {self.log()}")
            try:
                with self.client():
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text()[-2000:] if path.exists() else ""

    def client(self) -> imaplib.IMAP4:
        """A logged-in stdlib IMAP client (use as a context manager)."""
        if self.pki:
            imap = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, timeout=10,
                                     ssl_context=ssl.create_default_context(cafile=str(self.pki.ca)))
        else:
            imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        with self.client() as imap:
            typ, data = imap.append(mailbox, "", None, raw)
            assert typ == "OK", data

    def flags(self, mailbox: str = "INBOX") -> list[str]:
        """FLAGS of every message in the mailbox, in order."""
        with self.client() as imap:
            imap.select(mailbox, readonly=True)
            typ, data = imap.fetch("1:*", "(FLAGS)")
            return [d.decode() for d in data if d] if typ == "OK" else []

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)
