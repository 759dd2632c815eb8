"""The Celery app: Redis broker, settings from Django (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracpro.settings")

app = Celery("tracpro")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
