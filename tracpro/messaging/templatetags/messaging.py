from django import template

from tracpro.groups.views import get_scope
from tracpro.msgs.models import InboxMessage

register = template.Library()


@register.simple_tag(takes_context=True)
def unanswered_count(context) -> int:
    """Inbox messages in the user's view that nobody has replied to (for the menu)."""
    request = context.get("request")
    if request is None or getattr(request, "org", None) is None:
        return 0
    return InboxMessage.objects.visible_to(get_scope(request)).unanswered().count()
