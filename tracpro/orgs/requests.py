"""What TracPro's middleware adds to a request, declared for type checking."""

from django_htmx.middleware import HtmxDetails

from django.http import HttpRequest

from tracpro.orgs.models import Membership, Org


class OrgRequest(HttpRequest):
    """A request as TracPro's views get it; never instantiated, only used in annotations.

    On an org host `remember_subdomain` (django-hosts) sets `subdomain`; OrgMiddleware
    sets `org` and `membership` on every request (None off org hosts, or for users who
    are not members); django-htmx sets `htmx`.
    """

    subdomain: str
    org: Org | None
    membership: Membership | None
    htmx: HtmxDetails
