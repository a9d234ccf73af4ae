"""Session-wide fixtures. Infrastructure logic lives in tests/infra.py."""

import pytest

try:  # tests/ as a package (if someone adds __init__.py) or as a plain rootdir
    from tests import infra as infra_support
except ImportError:
    import infra as infra_support


@pytest.fixture(scope="session")
def infra() -> infra_support.Infra:
    """Real Kafka + Redis (env, testcontainers or local processes); also exported as
    OMNIROUTE_KAFKA_BOOTSTRAP / OMNIROUTE_REDIS_URL for subprocesses."""
    with infra_support.provide() as found:
        yield found
