from django.urls import path

from tracpro.groups import views

app_name = "groups"

urlpatterns = [
    path("region/choose/", views.choose_region, name="choose_region"),
]
