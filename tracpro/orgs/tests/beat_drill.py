"""The Celery app of the two-beats drill: TracPro's, with a schedule that fans
out the slow probe (tracpro.orgs.tests.probe_tasks.SLOW_PROBE) every half second
(`celery -A tracpro.orgs.tests.beat_drill beat`). It imports no model: beat loads
it before Django is set up."""

from tracpro.celery import app

app.conf.beat_schedule = {
    "slow-probe": {"task": "tracpro.orgs.tasks.fan_out", "schedule": 0.5, "args": ["slow-probe"]}
}
