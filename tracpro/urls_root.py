"""URLs of the root host (PARENT_HOST): superuser management and the org chooser."""

from django.urls import include, path

from tracpro.accounts.views import UserCRUDL
from tracpro.health.views import healthz
from tracpro.orgs.views import OrgCRUDL, chooser

urlpatterns = [
    path("", chooser, name="home"),
    path("manage/", include(OrgCRUDL().as_urlpatterns())),
    path("manage/", include(UserCRUDL().as_urlpatterns())),
    path("manage/", include("tracpro.manage.urls_root")),
    path("users/", include("tracpro.accounts.urls")),
    path("healthz", healthz, name="healthz"),
]

handler500 = "tracpro.health.views.server_error"
