"""Root host (superusers), under /manage/: every org's sync health, and the org
form's "Test connection"."""

from django.urls import include, path

from tracpro.manage.views import org, sync

urlpatterns = [
    path("org/test_connection/", org.TestConnectionView.as_view(), name="orgs.org_test_connection"),
    path("", include(([path("sync/", sync.OrgHealthView.as_view(), name="health")], "rapidpro"))),
]
