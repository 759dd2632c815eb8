"""Hosts: the bare PARENT_HOST serves superuser pages; <subdomain>.PARENT_HOST an org."""

from django_hosts import host, patterns

host_patterns = patterns(
    "",
    host(
        r"(?P<subdomain>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)",
        "tracpro.urls",
        name="org",
        callback="tracpro.orgs.middleware.remember_subdomain",
    ),
    host(r"", "tracpro.urls_root", name="root"),
)
