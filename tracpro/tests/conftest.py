import pytest

from tracpro.tests.routes import ObjectMaker, sweep_registry


@pytest.fixture
def maker() -> ObjectMaker:
    """Makes the objects the sweeps' URL arguments point at (SWEEP_FACTORIES)."""
    return ObjectMaker(*sweep_registry())
