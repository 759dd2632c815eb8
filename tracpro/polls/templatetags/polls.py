from django import template
from django.http import HttpRequest

from tracpro.polls.visibility import selected_polls

register = template.Library()

MENU_SIZE = 15


@register.simple_tag(takes_context=True)
def poll_menu(context) -> dict:
    """The org's polls for the main menu: the first few (the home page lists them all)."""
    request: HttpRequest | None = context.get("request")
    if request is None or getattr(request, "org", None) is None:
        return {"polls": [], "more": False}
    polls = list(selected_polls(request).order_by("name", "rapidpro_name")[: MENU_SIZE + 1])
    return {"polls": polls[:MENU_SIZE], "more": len(polls) > MENU_SIZE}
