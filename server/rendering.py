"""Responses that are pages: the template environment, `render`, and what every page route shares.

Why a module beside the routes rather than in one of them: the front page, the entity pages, the
named queries, the dumps, the query page, the map and the world page all answer with templates
under one Content-Security-Policy, fail with the same friendly 503 page and page their lists the
same way. Route modules are siblings and never import each other (tests/unit/test_layout.py), so
what they share lives here; the term dicts are made in server/terms.py and drawn by `term` here.
(Named `rendering` rather than `html`, which would shadow the standard library's module of that
name.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from graph.store.execution import QueryTimeout
from server import TEMPLATES_DIR

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)

TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def compile_templates() -> None:
    """Compile every page template once, at start: compiled at its first use instead, the entity
    page's template (with the base and macros it extends) cost its first visitor 33 ms, a tenth
    of the hub's first page at 5M triples (80 ms for all of them, here, before the server
    answers)."""
    for name in TEMPLATES.list_templates():
        TEMPLATES.get_template(name)


def term(t: dict) -> Markup:
    """How a term is shown (`server.terms.node`'s dict): a linked label for resources, the value
    with its language or datatype for literals; every text from the data escaped.

    A function rather than a template macro: an entity page shows hundreds of terms, and a
    macro call per term was about a third of the page's Python time, which is the server's one
    thread's time while editors write (plain strings of escaped parts, made Markup once)."""
    kind, text, lang = t.get("kind"), escape(t.get("text")), t.get("lang")
    lang_attr = f' lang="{escape(lang)}"' if lang else ""
    if kind == "literal":
        tag = (f' <span class="tag">@{escape(lang)}</span>' if lang else
               f' <span class="tag">{escape(t["datatype"])}</span>' if t.get("datatype") else "")
        return Markup(f'<span class="literal"{lang_attr}>{text}</span>{tag}')
    if kind == "iri":
        if t.get("href"):
            external = "" if t.get("local") else ' class="external" rel="noopener"'
            shown = (f'<a href="{escape(t["href"])}"{external} title="{escape(t.get("iri"))}"'
                     f'{lang_attr}>{text}</a>')
        else:
            shown = f'<span class="iri" title="{escape(t.get("iri"))}"{lang_attr}>{text}</span>'
        if t.get("secondary"):
            shown += f' <span class="secondary" lang="zh-Hant">{escape(t["secondary"])}</span>'
        return Markup(shown)
    if kind == "self":
        return Markup(f"<em>{text}</em>")
    return Markup(f'<span class="bnode">{text}</span>')


TEMPLATES.globals["term"] = term


def root_path(request: Request) -> str:
    """Pages link with root-relative paths, so they work behind a prefix and never name a host."""
    return request.scope.get("root_path", "").rstrip("/")


def render(request: Request, template: str, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(
        request=request, root=root_path(request), **context)
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": CONTENT_SECURITY_POLICY, **(headers or {})})


def wants_html(request: Request) -> bool:
    """Whether the client reads pages (a browser) rather than data; absent Accept counts as yes."""
    accept = request.headers.get("accept", "")
    requested = request.query_params.get("format")
    if requested:
        return requested.lower() == "html"
    return not accept.strip() or "text/html" in accept or accept.strip() == "*/*"


def unavailable(request: Request, message: str) -> Response:
    headers = {"Vary": "Accept", "Retry-After": "5"}
    if not wants_html(request):
        return PlainTextResponse(message + "\n", status_code=503, headers=headers)
    return render(request, "unavailable.html", status=503, headers=headers, message=message,
                  title="The graph is busy")


class PageRoute(APIRoute):
    """A route whose store failures become a friendly 503 page instead of a stack trace."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except QueryTimeout as exc:
                return unavailable(request, f"The graph took too long to answer ({exc}). "
                                   "Please try again in a moment.")
            except (RuntimeError, OSError, httpx.HTTPError):
                log.exception("a page query failed")
                return unavailable(request, "The graph store could not answer just now. "
                                   "Please try again in a moment.")

        return guarded


def page_number(request: Request, param: str) -> int | None:
    """The 1-based page a query parameter asks for (1 when absent); None when it is not one."""
    raw = request.query_params.get(param)
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        return None
    return int(raw)


def pager(request: Request, param: str, number: int, size: int, shown: int, has_next: bool,
          total: int | None = None, anchor: str = "") -> dict:
    """Links to the previous and next page of a list, keeping the other query parameters."""
    def href(n: int) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != param]
        if n > 1:
            params.append((param, str(n)))
        query = urlencode(params)
        return f"{request.url.path}{'?' + query if query else ''}{anchor}"

    first = (number - 1) * size + 1
    return {"page": number, "first": first if shown else 0, "last": first + shown - 1,
            "total": total, "prev": href(number - 1) if number > 1 else None,
            "next": href(number + 1) if has_next else None}
