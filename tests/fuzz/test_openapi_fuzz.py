"""Schemathesis against each service's own OpenAPI, served by the real process: whatever
the generated request, the answer is never a 5xx and always what the schema says
(status code, content type and body). Cases run per operation: EXAMPLES."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks as st_checks

from tests.fuzz.cases import CASES
from tests.fuzz.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.fuzz
EXAMPLES = 50  # per operation (fewer where the schema allows fewer); raise it for a longer hunt
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance, st_checks.content_type_conformance,
          st_checks.response_schema_conformance]


@pytest.mark.parametrize("service", ["router", "chat", "email", "voice"])
def test_generated_requests_get_no_5xx_and_answers_the_schema_allows(service, running):
    url = running(service)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "no operations in the schema"
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
        def hunt(case):
            CASES[service] += 1
            case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=CHECKS)

        try:
            hunt()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 -- every operation's failure, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, f"{len(failures)} of {len(operations)} operations failed:\n" + "\n\n".join(failures)
