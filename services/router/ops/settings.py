"""Ops settings (env prefix OMNIROUTE_)."""

from pydantic import model_validator

from shared.settings import CommonSettings

DEV_SURVEY_SECRET = "dev-survey-secret"


class OpsSettings(CommonSettings):
    env: str = "dev"
    # Abandons quicker than this are excluded from service level and abandon rate.
    short_abandon_s: float = 5.0
    # "Today" starts at local midnight in this IANA zone.
    stats_timezone: str = "UTC"
    # How often stats are recomputed, exported and pushed to WebSocket subscribers.
    stats_interval_ms: int = 1000
    # Read-only token for supervisors (stats, staffing, ops page); the admin token works too.
    ops_token: str | None = None
    # Signs survey links; gateways minting links (shared.survey) need the same secret.
    survey_secret: str = DEV_SURVEY_SECRET
    survey_max_age_s: int = 30 * 86400

    @model_validator(mode="after")
    def _no_default_secret_in_production(self):
        if self.env == "production" and self.survey_secret == DEV_SURVEY_SECRET:
            raise ValueError("OMNIROUTE_SURVEY_SECRET must be set in production")
        return self
