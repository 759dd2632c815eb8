"""Org-host pages of the org itself (its admins' settings)."""

from django.urls import path

from tracpro.orgs.views import OrgSettingsView

app_name = "orgs"

urlpatterns = [
    path("manage/org/edit/", OrgSettingsView.as_view(), name="settings"),
]
