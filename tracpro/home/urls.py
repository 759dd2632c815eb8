from django.urls import path

from tracpro.home import views

urlpatterns = [
    path("", views.home, name="home"),
]
