from django.urls import path

from tracpro.contacts import views

app_name = "contacts"

urlpatterns = [
    path("contact/", views.ContactListView.as_view(), name="list"),
    path("contact/export/", views.export_contacts, name="export"),
    path("contact/create/", views.ContactCreateView.as_view(), name="create"),
    path("contact/read/<int:pk>/", views.ContactDetailView.as_view(), name="read"),
    path("contact/update/<int:pk>/", views.ContactUpdateView.as_view(), name="update"),
    path("contact/delete/<int:pk>/", views.ContactDeleteView.as_view(), name="delete"),
    path("contact/status/<int:contact_id>/", views.push_status, name="push_status"),
    path("contact/retry/<int:contact_id>/", views.retry_push, name="retry_push"),
]
