"""Signed post-contact survey links, so any service holding OMNIROUTE_SURVEY_SECRET
(the email gateway's reply, the chat widget's end screen) can mint a link the
router's survey page accepts. A token names one contact and expires."""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.events import DEFAULT_DOMAIN, DOMAIN_PATTERN

SALT = "omniroute.survey.v1"


class InvalidSurveyToken(ValueError):
    pass


def _signed(contact_id: str, domain: str) -> str:
    """What a token signs: the contact, and its routing domain unless the default."""
    return contact_id if domain == DEFAULT_DOMAIN else f"{domain}/{contact_id}"


def survey_token(secret: str, contact_id: str, domain: str = DEFAULT_DOMAIN) -> str:
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(_signed(contact_id, domain))


def survey_url(base_url: str, secret: str, contact_id: str, domain: str = DEFAULT_DOMAIN) -> str:
    """e.g. http://router:8080/survey/<contact id>?t=<token>"""
    token = survey_token(secret, contact_id, domain)
    return f"{base_url.rstrip('/')}/survey/{quote(contact_id, safe='')}?t={token}"


def survey_domain(token: str) -> str:
    """The routing domain a token names, read before it is verified (`verify` checks it
    in that domain)."""
    _, payload = URLSafeTimedSerializer("unverified", salt=SALT).loads_unsafe(token)
    head, sep, _ = payload.partition("/") if isinstance(payload, str) else ("", "", "")
    return head if sep and DOMAIN_PATTERN.match(head) else DEFAULT_DOMAIN


def verify(secret: str, token: str, contact_id: str, max_age_s: int, domain: str = DEFAULT_DOMAIN) -> None:
    try:
        signed = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise InvalidSurveyToken("survey link expired") from exc
    except BadSignature as exc:
        raise InvalidSurveyToken("survey link is not valid") from exc
    if signed != _signed(contact_id, domain):
        raise InvalidSurveyToken("survey link is for another contact")
