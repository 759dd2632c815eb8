# The dashboards share one small, fully known poll world.
from tracpro.polls.tests.conftest import kampala_sam, world  # noqa: F401
