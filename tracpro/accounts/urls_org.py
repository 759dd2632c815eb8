"""An org's supervisors and administrators (org hosts; admins only)."""

from django.urls import path

from tracpro.accounts import views_org

app_name = "users"

urlpatterns = [
    path("user/", views_org.MemberListView.as_view(), name="list"),
    path("user/create/", views_org.MemberCreateView.as_view(), name="create"),
    path("user/update/<int:pk>/", views_org.MemberUpdateView.as_view(), name="update"),
    path("user/remove/<int:pk>/", views_org.MemberRemoveView.as_view(), name="remove"),
]
