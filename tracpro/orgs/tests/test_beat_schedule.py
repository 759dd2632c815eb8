"""Beat's schedule names only tasks the worker knows."""

from django.conf import settings

from tracpro.celery import app
from tracpro.orgs.tasks import ORG_TASKS


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        if entry["task"] == "tracpro.orgs.tasks.fan_out":
            (kind,) = entry["args"]
            assert kind in ORG_TASKS, name


def test_lost_contact_pushes_are_requeued_regularly():
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["tracpro.rapidpro.tasks.requeue_stale_pushes"] <= 30 * 60
