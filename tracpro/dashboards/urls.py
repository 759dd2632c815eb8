"""Poll dashboards, on the original TracPro's paths and URL names."""

from django.urls import path

from tracpro.dashboards import views

urlpatterns = [
    path("poll/read/<int:pk>/", views.PollReadView.as_view(), name="polls.poll_read"),
    path("poll/words/<int:pk>/", views.PollWordsView.as_view(), name="polls.poll_words"),
    path("poll/export/<int:pk>/", views.PollExportView.as_view(), name="polls.poll_export"),
    path("pollrun/", views.PollRunListView.as_view(), name="polls.pollrun_list"),
    path(
        "pollrun/by_poll/<int:poll>/",
        views.PollRunByPollView.as_view(),
        name="polls.pollrun_by_poll",
    ),
    path("pollrun/read/<int:pk>/", views.PollRunReadView.as_view(), name="polls.pollrun_read"),
    path(
        "pollrun/participation/<int:pk>/",
        views.PollRunParticipationView.as_view(),
        name="polls.pollrun_participation",
    ),
    path(
        "response/by_pollrun/<int:pk>/",
        views.ResponseByPollRunView.as_view(),
        name="polls.response_by_pollrun",
    ),
    path("participation/", views.ParticipationView.as_view(), name="polls.participation"),
]
