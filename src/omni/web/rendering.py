"""Render pages in the request's language, with the helpers every template uses."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from omni.accounts.roles import Section, may_use
from omni.settings import Settings
from omni.web import i18n
from omni.web.security import LANGUAGE_COOKIE, session_from

TEMPLATES_DIR = Path(__file__).parent / "templates"

# The navigation, in order: section, path, label (translated in the template).
NAVIGATION: tuple[tuple[Section, str, str], ...] = (
    (Section.OVERVIEW, "/", "Overview"),
    (Section.CUSTOMERS, "/customers", "Customers"),
    (Section.SEGMENTS, "/segments", "Segments"),
    (Section.JOURNEYS, "/journeys", "Journeys"),
    (Section.CATALOG, "/catalog", "Catalog & Stock"),
    (Section.ORDERS, "/orders", "Orders"),
    (Section.LOYALTY, "/loyalty", "Loyalty"),
    (Section.ANALYTICS, "/analytics", "Analytics"),
    (Section.SETTINGS, "/settings", "Settings"),
)


@lru_cache(maxsize=len(i18n.LOCALES))
def environment(locale: str) -> Environment:
    """One Jinja environment per language, its gettext installed once."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def request_locale(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return i18n.negotiate(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"), settings.default_locale
    )


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render template for request: its language, its user, and the navigation that user may use."""
    settings: Settings = request.app.state.settings
    locale = request_locale(request)
    active = session_from(request)
    page = {
        "request": request,
        "locale": locale,
        "html_lang": locale.replace("_", "-"),
        "locales": i18n.LOCALE_NAMES,
        "fmt": i18n.Formats(locale, settings.timezone),
        "currency": settings.currency,
        "active": active,
        "csrf_token": active.csrf_token if active else None,
        "navigation": [item for item in NAVIGATION if active and may_use(active.role, item[0])],
        "current_path": request.url.path,
        **(context or {}),
    }
    body = environment(locale).get_template(template).render(page)
    return HTMLResponse(body, status_code=status)
