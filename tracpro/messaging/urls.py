"""Starting polls, sending messages, the message log and the inbox, on the original
TracPro's paths."""

from django.urls import path

from tracpro.messaging import views

urlpatterns = [
    path("pollrun/start/<int:poll>/", views.StartView.as_view(), name="start"),
    path("pollrun/send/<int:pk>/", views.SendView.as_view(), name="send"),
    path("pollrun/restart/<int:pk>/", views.RestartView.as_view(), name="restart"),
    path("message/", views.MessageListView.as_view(), name="list"),
    path("message/export/", views.export_messages, name="export"),
    path("message/read/<int:pk>/", views.MessageDetailView.as_view(), name="read"),
    path("message/status/<int:pk>/", views.MessageStatusView.as_view(), name="status"),
    path("message/retry/<int:pk>/", views.RetryView.as_view(), name="retry"),
    path("inboxmessage/", views.InboxView.as_view(), name="inbox"),
    path(
        "inboxmessage/conversation/<int:contact_id>/",
        views.ConversationView.as_view(),
        name="conversation",
    ),
    path("inboxmessage/archive/<int:inboxmessage_id>/", views.archive, name="archive"),
]
