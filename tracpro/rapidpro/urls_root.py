"""Root host (superusers): every org's sync health, under /manage/."""

from django.urls import path

from tracpro.rapidpro.views import OrgHealthView

app_name = "rapidpro"

urlpatterns = [
    path("sync/", OrgHealthView.as_view(), name="health"),
]
