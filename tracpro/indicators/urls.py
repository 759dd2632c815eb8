"""Recent indicators, on the original TracPro's paths."""

from django.urls import include, path

from tracpro.indicators import views

indicator_urls = [
    path("indicators/", views.IndicatorListView.as_view(), name="list"),
    path("indicators/create/", views.IndicatorCreateView.as_view(), name="create"),
    path("indicators/read/<int:pk>/", views.IndicatorReadView.as_view(), name="read"),
    path("indicators/update/<int:pk>/", views.IndicatorUpdateView.as_view(), name="update"),
    path("indicators/delete/<int:pk>/", views.IndicatorDeleteView.as_view(), name="delete"),
    path("indicators/data_spoof/<int:pk>/", views.SpoofView.as_view(), name="spoof"),
    path("indicators/clear_spoof/", views.clear_spoof, name="clear_spoof"),
]

urlpatterns = [path("", include((indicator_urls, "indicators")))]
