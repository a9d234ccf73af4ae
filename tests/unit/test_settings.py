"""Settings that must refuse what would silently mean something else."""

import pytest
from pydantic import ValidationError

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
