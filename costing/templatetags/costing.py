"""``{% cost_links actor as links %}``: the cost pages and input forms a user may open from an actor."""

from typing import Any

from django import template

from costing.views import input_links

register = template.Library()


@register.simple_tag(takes_context=True)
def cost_links(context: dict[str, Any], actor: Any) -> list[tuple[str, str]]:
    request = context.get("request")
    if request is None or actor is None:
        return []
    return input_links(request.user, actor)
