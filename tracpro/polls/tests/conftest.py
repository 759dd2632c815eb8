import pytest

from tracpro.polls.tests.world import World, build_world


@pytest.fixture
def world(acme) -> World:
    return build_world(acme)


@pytest.fixture
def kampala_sam(world, sam):
    """sam supervises Kampala only."""
    membership = sam.memberships.get(org=world.org)
    membership.regions.set([world.regions["Kampala"]])
    return sam
