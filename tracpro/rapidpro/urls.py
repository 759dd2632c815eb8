"""Org host: the sync status page (admins)."""

from django.urls import path

from tracpro.rapidpro import views

app_name = "rapidpro"

urlpatterns = [
    path("sync/", views.status, name="status"),
    path("sync/now/", views.sync_now, name="sync_now"),
]
