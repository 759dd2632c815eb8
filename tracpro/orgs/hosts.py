from django.http import HttpRequest


def remember_subdomain(request: HttpRequest, subdomain: str) -> None:
    """django-hosts callback for org hosts; OrgMiddleware looks the org up."""
    request.subdomain = subdomain
