from django import template

from tracpro.polls.models import Poll

register = template.Library()

MENU_SIZE = 15


@register.simple_tag(takes_context=True)
def poll_menu(context) -> dict:
    """The org's polls for the main menu: the first few (the home page lists them all)."""
    org = getattr(context.get("request"), "org", None)
    if org is None:
        return {"polls": [], "more": False}
    polls = list(Poll.objects.selected(org).order_by("name", "rapidpro_name")[: MENU_SIZE + 1])
    return {"polls": polls[:MENU_SIZE], "more": len(polls) > MENU_SIZE}
