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
from omni.analytics import routes as analytics_routes
from omni.api import auth as api_auth
from omni.api import health
from omni.api.errors import json_error
from omni.api.logging import RequestIdMiddleware
from omni.background import BackgroundWork
from omni.catalog import routes as catalog_routes
from omni.channels import routes as channels_routes
from omni.db.engine import Database, reading
from omni.events import routes as events_routes
from omni.identity import routes as identity_routes
from omni.inventory import routes as inventory_routes
from omni.inventory.desk import ReservationDesk
from omni.journeys import routes as journeys_routes
from omni.kit.errors import OmniError
from omni.orders import routes as orders_routes
from omni.profiles import routes as profile_routes
from omni.segments import routes as segment_routes
from omni.settings import Settings
from omni.web import (
    analytics_pages,
    auth_routes,
    catalog_pages,
    customer_pages,
    journey_pages,
    order_pages,
    pages,
    review_pages,
    segment_pages,
    settings_pages,
    stock_pages,
)
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


# GETs that record something: the email open pixel and click redirect log the open or the click.
WRITING_GETS = ("/v1/t/",)


class ReadOnlyRequests:
    """Marks GET and HEAD requests as read-only, so their SQLite transactions never take the write lock."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope["path"].startswith(WRITING_GETS)
        ):
            with reading():
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class OmniApp(FastAPI):
    """FastAPI whose request-id and security-header middleware wrap even the 500 answers.

    Starlette puts its server-error middleware outside every user middleware, so a crash's answer would
    otherwise go out without the request id that locates it in the logs.
    """

    def build_middleware_stack(self) -> ASGIApp:
        stack = ReadOnlyRequests(super().build_middleware_stack())
        return SecurityHeadersMiddleware(RequestIdMiddleware(stack))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


async def _handle_error(request: Request, exc: Exception) -> Response:
    return json_error(request, exc) if _is_api(request) else page_error(request, exc)


def create_app(settings: Settings, database: Database, *, run_consumers: bool = False) -> FastAPI:
    """The Omni application over database; run_consumers also processes the log in this process."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        background = BackgroundWork(database, settings) if run_consumers else None
        # Cart holds from the API go through the desk: a flash sale's holds on one SKU commit together.
        app.state.reservation_desk = ReservationDesk(database.sessions)
        app.state.reservation_desk.start()
        if background:
            background.start()
        try:
            yield
        finally:
            app.state.reservation_desk.stop()
            if background:
                background.stop()

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
    app.include_router(analytics_pages.router)  # before pages: it serves /analytics
    app.include_router(segment_pages.router)  # before pages: it serves /segments
    app.include_router(journey_pages.router)  # before pages: it serves /journeys
    app.include_router(pages.router)
    app.include_router(stock_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(order_pages.router)
    app.include_router(settings_pages.router)
    app.include_router(identity_routes.router, dependencies=[api_auth.CUSTOMERS_STAFF])
    app.include_router(identity_routes.admin_router, dependencies=[api_auth.ADMIN_STAFF])
    app.include_router(review_pages.router)  # before customer_pages: /customers/{id} takes any segment
    app.include_router(customer_pages.router)
    app.include_router(profile_routes.router, dependencies=[api_auth.CUSTOMERS_STAFF])
    app.include_router(profile_routes.marketing_router, dependencies=[api_auth.staff_for(Section.SEGMENTS)])
    app.include_router(profile_routes.admin_router, dependencies=[api_auth.ADMIN_STAFF])
    app.include_router(segment_routes.router, dependencies=[api_auth.staff_for(Section.SEGMENTS)])
    app.include_router(segment_routes.tags_router, dependencies=[api_auth.CUSTOMERS_STAFF])
    app.include_router(channels_routes.public_router)
    app.include_router(channels_routes.write_key_router)
    app.include_router(channels_routes.router, dependencies=[api_auth.staff_for(Section.JOURNEYS)])
    app.include_router(journeys_routes.router, dependencies=[api_auth.staff_for(Section.JOURNEYS)])
    app.include_router(channels_routes.inbox_router, dependencies=[api_auth.CUSTOMERS_STAFF])
    app.include_router(catalog_routes.router, dependencies=[api_auth.staff_for(Section.CATALOG)])
    app.include_router(catalog_routes.admin_router, dependencies=[api_auth.ADMIN_STAFF])
    app.include_router(analytics_routes.router, dependencies=[api_auth.staff_for(Section.ANALYTICS)])
    app.include_router(orders_routes.router, dependencies=[api_auth.staff_for(Section.ORDERS)])
    # Availability answers shops, apps and clienteling alike; it tells stock counts, never who bought.
    app.include_router(inventory_routes.public_router)
    app.include_router(inventory_routes.router, dependencies=[api_auth.staff_for(Section.CATALOG)])
    app.add_middleware(events_routes.TrackingCORSMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
