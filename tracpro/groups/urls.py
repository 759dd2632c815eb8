from django.urls import path

from tracpro.groups import views

app_name = "groups"

urlpatterns = [
    path("region/", views.RegionListView.as_view(), name="region_list"),
    path("region/select/", views.RegionSelectView.as_view(), name="region_select"),
    path("region/update/<int:pk>/", views.RegionUpdateView.as_view(), name="region_update"),
    path("region/move/", views.move_region, name="region_move"),
    path("region/choose/", views.choose_region, name="choose_region"),
    path("group/", views.ReporterGroupListView.as_view(), name="reportergroup_list"),
    path("group/select/", views.ReporterGroupSelectView.as_view(), name="reportergroup_select"),
]
