"""Settings that must refuse what would silently mean something else."""

import pytest
from pydantic import ValidationError

from services.chat_gateway.settings import ChatSettings
from services.email_gateway.settings import EmailSettings
from services.router.settings import RouterSettings
from shared.settings import CommonSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["prod", "Production", "staging", ""])
def test_an_unknown_environment_is_an_error_not_dev(monkeypatch, value):
    monkeypatch.setenv("OMNIROUTE_ENV", value)
    with pytest.raises(ValidationError, match="dev"):
        CommonSettings()


def test_production_refuses_the_development_admin_token(monkeypatch):
    monkeypatch.setenv("OMNIROUTE_ENV", "production")
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        RouterSettings()
    assert RouterSettings(admin_token="a-real-secret-" + "x" * 20, survey_secret="another-real-secret").env == "production"


@pytest.mark.parametrize("service", [RouterSettings, ChatSettings, EmailSettings])
def test_unset_environment_is_production_and_refuses_empty_or_development_secrets(monkeypatch, service):
    monkeypatch.delenv("OMNIROUTE_ENV", raising=False)
    with pytest.raises(ValidationError, match="OMNIROUTE_ENV=dev"):
        service()
    for name in ("OMNIROUTE_ADMIN_TOKEN", "OMNIROUTE_SURVEY_SECRET", "OMNIROUTE_CHAT_SECRET"):
        monkeypatch.setenv(name, "")  # what Compose passes when .env lacks it
    with pytest.raises(ValidationError, match="must be set"):
        service()
    monkeypatch.setenv("OMNIROUTE_ENV", "dev")  # said explicitly: the development defaults work
    for name in ("OMNIROUTE_ADMIN_TOKEN", "OMNIROUTE_SURVEY_SECRET", "OMNIROUTE_CHAT_SECRET"):
        monkeypatch.delenv(name)
    assert service().env == "dev"
