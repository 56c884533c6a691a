"""Assemble the ASGI application: the API, the dashboard, their error handling and static assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omni import __version__
from omni.accounts.roles import Section
from omni.api import auth as api_auth
from omni.api import health
from omni.api.errors import json_error
from omni.api.logging import RequestIdMiddleware
from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.events import routes as events_routes
from omni.events.consumers import ConsumerWorker
from omni.identity import routes as identity_routes
from omni.kit.errors import OmniError
from omni.profiles import routes as profile_routes
from omni.settings import Settings
from omni.web import auth_routes, customer_pages, pages, review_pages, settings_pages
from omni.web.errors import page_error

STATIC_DIR = Path(__file__).parent / "web" / "static"
API_PREFIXES = ("/v1/", "/healthz", "/docs", "/openapi.json", "/static/")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'",
    ),
]


class SecurityHeadersMiddleware:
    """Forbid framing, sniffing and foreign scripts on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and not scope["path"].startswith("/docs"):
                message.setdefault("headers", []).extend(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


class OmniApp(FastAPI):
    """FastAPI whose request-id and security-header middleware wrap even the 500 answers.

    Starlette puts its server-error middleware outside every user middleware, so a crash's answer would
    otherwise go out without the request id that locates it in the logs.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(RequestIdMiddleware(super().build_middleware_stack()))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


async def _handle_error(request: Request, exc: Exception) -> Response:
    return json_error(request, exc) if _is_api(request) else page_error(request, exc)


def create_app(settings: Settings, database: Database, *, run_consumers: bool = False) -> FastAPI:
    """The Omni application over database; run_consumers also processes the log in this process."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker = ConsumerWorker(database.sessions, ALL_CONSUMERS) if run_consumers else None
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.stop()

    app = OmniApp(
        title="Omni",
        version=__version__,
        description="Omnichannel customer platform for retailers: collect, unify, understand, act.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    for error_type in (OmniError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(error_type, _handle_error)
    # First, so that the busiest paths are matched before every page's route is tried.
    app.include_router(events_routes.router)
    app.include_router(health.router)
    app.include_router(auth_routes.router)
    app.include_router(pages.router)
    app.include_router(settings_pages.router)
    app.include_router(identity_routes.router, dependencies=[api_auth.CUSTOMERS_STAFF])
    app.include_router(identity_routes.admin_router, dependencies=[api_auth.ADMIN_STAFF])
    app.include_router(review_pages.router)  # before customer_pages: /customers/{id} takes any segment
    app.include_router(customer_pages.router)
    app.include_router(profile_routes.router, dependencies=[api_auth.CUSTOMERS_STAFF])
    app.include_router(profile_routes.marketing_router, dependencies=[api_auth.staff_for(Section.SEGMENTS)])
    app.include_router(profile_routes.admin_router, dependencies=[api_auth.ADMIN_STAFF])
    app.add_middleware(events_routes.TrackingCORSMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
