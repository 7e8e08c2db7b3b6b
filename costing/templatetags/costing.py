"""``{% cost_links actor as links %}``: the cost pages and input forms a user may open from an actor."""

from decimal import Decimal
from typing import Any

from django import template

from costing.views import input_links, number

register = template.Library()


@register.simple_tag(takes_context=True)
def cost_links(context: dict[str, Any], actor: Any) -> list[tuple[str, str]]:
    request = context.get("request")
    if request is None or actor is None:
        return []
    return input_links(request.user, actor)


@register.filter
def amount(value: Any) -> str:
    """An amount as the API gives it (an exact decimal string, or None) in the page's format:
    « 1 250,50 » in French; « — » when it is not known."""
    return number(None if value is None else Decimal(str(value)))
