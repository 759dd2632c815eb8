"""URLs of an org host (<subdomain>.PARENT_HOST); `request.org` is set for all of them."""

from django.urls import include, path

from tracpro.health.views import healthz

urlpatterns = [
    path("", include("tracpro.home.urls")),
    path("", include("tracpro.dashboards.urls")),
    path("", include("tracpro.manage.urls")),
    path("", include(("tracpro.messaging.urls", "msgs"))),
    path("", include("tracpro.indicators.urls")),
    path("users/", include("tracpro.accounts.urls")),
    path("healthz", healthz, name="healthz"),
]

handler500 = "tracpro.health.views.server_error"
