import pytest

from tracpro.polls.tests.conftest import world  # noqa: F401 - the production stack logs in to it
from tracpro.tests.routes import ObjectMaker, sweep_registry


@pytest.fixture
def maker() -> ObjectMaker:
    """Makes the objects the sweeps' URL arguments point at (SWEEP_FACTORIES)."""
    return ObjectMaker(*sweep_registry())
