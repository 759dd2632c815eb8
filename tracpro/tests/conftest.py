# The production stack's tests log in to a page of the poll world.
from tracpro.polls.tests.conftest import world  # noqa: F401
