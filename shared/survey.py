"""Signed post-contact survey links, so any service holding OMNIROUTE_SURVEY_SECRET
(the email gateway's reply, the chat widget's end screen) can mint a link the
router's survey page accepts. A token names one contact and expires."""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "omniroute.survey.v1"


class InvalidSurveyToken(ValueError):
    pass


def survey_token(secret: str, contact_id: str) -> str:
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(contact_id)


def survey_url(base_url: str, secret: str, contact_id: str) -> str:
    """e.g. http://router:8080/survey/<contact id>?t=<token>"""
    return f"{base_url.rstrip('/')}/survey/{quote(contact_id, safe='')}?t={survey_token(secret, contact_id)}"


def verify(secret: str, token: str, contact_id: str, max_age_s: int) -> None:
    try:
        signed = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise InvalidSurveyToken("survey link expired") from exc
    except BadSignature as exc:
        raise InvalidSurveyToken("survey link is not valid") from exc
    if signed != contact_id:
        raise InvalidSurveyToken("survey link is for another contact")
