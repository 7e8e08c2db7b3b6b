"""The named routes of the URL configuration, for the tests that must cover every one of them
(the cross-territory matrix, the English walk)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def iter_routes(patterns: Any = None, namespace: str | None = None) -> Iterator[tuple[str, set[str]]]:
    """Each named route ("api:batch-list"), with the names of its path arguments."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            joined = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from iter_routes(pattern.url_patterns, joined)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, set(pattern.pattern.regex.groupindex) - {"format"}
