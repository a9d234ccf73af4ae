"""Session-wide fixtures. Infrastructure logic lives in tests/infra.py."""

import os

import pytest

# Tests run the services with their development secrets, which only an explicit dev
# environment accepts (subprocesses inherit it).
os.environ.setdefault("OMNIROUTE_ENV", "dev")

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
