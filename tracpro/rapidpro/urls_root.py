"""Root-host (superuser) pages of the sync."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
