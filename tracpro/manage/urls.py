"""Org host: the administration pages and the contact pages, on the original
TracPro's paths. Each area keeps its own URL namespace."""

from django.urls import include, path

from tracpro.groups.views import choose_region
from tracpro.manage.views import contacts, members, org, polls, regions, sync

contact_urls = [
    path("contact/", contacts.ContactListView.as_view(), name="list"),
    path("contact/export/", contacts.export_contacts, name="export"),
    path("contact/create/", contacts.ContactCreateView.as_view(), name="create"),
    path("contact/read/<int:pk>/", contacts.ContactDetailView.as_view(), name="read"),
    path("contact/update/<int:pk>/", contacts.ContactUpdateView.as_view(), name="update"),
    path("contact/delete/<int:pk>/", contacts.ContactDeleteView.as_view(), name="delete"),
    path("contact/status/<int:contact_id>/", contacts.push_status, name="push_status"),
    path("contact/retry/<int:contact_id>/", contacts.retry_push, name="retry_push"),
]

region_urls = [
    path("region/", regions.RegionListView.as_view(), name="region_list"),
    path("region/select/", regions.RegionSelectView.as_view(), name="region_select"),
    path("region/update/<int:pk>/", regions.RegionUpdateView.as_view(), name="region_update"),
    path("region/move/", regions.move_region, name="region_move"),
    path("region/choose/", choose_region, name="choose_region"),
    path("group/", regions.ReporterGroupListView.as_view(), name="reportergroup_list"),
    path("group/select/", regions.ReporterGroupSelectView.as_view(), name="reportergroup_select"),
]

member_urls = [
    path("user/", members.MemberListView.as_view(), name="list"),
    path("user/create/", members.MemberCreateView.as_view(), name="create"),
    path("user/update/<int:pk>/", members.MemberUpdateView.as_view(), name="update"),
    path("user/remove/<int:pk>/", members.MemberRemoveView.as_view(), name="remove"),
]

org_urls = [
    path("manage/org/edit/", org.OrgSettingsView.as_view(), name="settings"),
]

sync_urls = [
    path("sync/", sync.status, name="status"),
    path("sync/now/", sync.sync_now, name="sync_now"),
]

urlpatterns = [
    path("poll/", polls.PollListView.as_view(), name="polls.poll_list"),
    path("poll/select/", polls.PollSelectView.as_view(), name="polls.poll_select"),
    path("poll/update/<int:pk>/", polls.PollUpdateView.as_view(), name="polls.poll_update"),
    path("", include((contact_urls, "contacts"))),
    path("", include((region_urls, "groups"))),
    path("", include((member_urls, "users"))),
    path("", include((org_urls, "orgs"))),
    path("", include((sync_urls, "rapidpro"))),
]
