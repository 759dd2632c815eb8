# The dashboards share one small, fully known poll world; the indicators add theirs.
from tracpro.indicators.tests.conftest import indicators  # noqa: F401
from tracpro.polls.tests.conftest import kampala_sam, world  # noqa: F401
