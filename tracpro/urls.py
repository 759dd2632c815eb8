"""URLs of an org host (<subdomain>.PARENT_HOST); `request.org` is set for all of them."""

from django.urls import include, path

from tracpro.health.views import healthz

urlpatterns = [
    path("", include("tracpro.home.urls")),
    path("", include("tracpro.polls.urls")),
    path("", include("tracpro.groups.urls")),
    path("", include("tracpro.contacts.urls")),
    path("", include("tracpro.accounts.urls_org")),
    path("", include("tracpro.orgs.urls")),
    path("", include("tracpro.rapidpro.urls")),
    path("users/", include("tracpro.accounts.urls")),
    path("healthz", healthz, name="healthz"),
]

handler500 = "tracpro.health.errors.server_error"
