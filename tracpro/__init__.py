"""TracPro: a dashboard for polls run in RapidPro.

Kept import-free on purpose: `tracpro.simulator` is a standalone program that
must not pull in Django or Celery. The Celery app is loaded by
`tracpro.orgs.apps.OrgsConfig.ready()` (and by `celery -A tracpro.celery`).
"""

# The one place the version lives (`make release VERSION=x.y.z` sets it).
__version__ = "2.0.0.dev0"
