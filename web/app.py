"""The app factory: ``create_app(settings)`` builds everything from one ``Settings``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import Assistant, OrientiaError, Settings

from .jobs import Bootstrap

__all__ = ["create_app", "HTMX_CDN_URL", "HTMX_SRI"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: htmx 2.0.11 from the CDN, pinned with its Subresource Integrity hash (same bytes as npm).
HTMX_CDN_URL = "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"


def create_app(settings: Settings | None = None, *, assistant: Assistant | None = None) -> FastAPI:
    """Build the web application.

    Args:
        settings: the settings (read from the environment when omitted).
        assistant: an already built assistant (the CLI and tests share one); built when omitted.

    Returns:
        The FastAPI application; heavy objects are created in its lifespan.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        app.state.assistant = assistant or Assistant(settings)
        app.state.bootstrap = Bootstrap(app.state.assistant)
        app.state.bootstrap.start()
        _start_admin(app, settings)
        # Privacy and retention (issue 13): no query text or personal data in the logs; expired
        # conversations, observatory records and feedback purged while the app runs.
        from .logs import install_log_privacy

        install_log_privacy()
        purger = asyncio.create_task(_purge_periodically(app.state.assistant, settings), name="orientia-purge")
        yield
        app.state.job_runner.stop()
        purger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purger
        if assistant is None:
            app.state.assistant.index.close()

    app = FastAPI(
        title="Orientia",
        description="Assistant d'orientation sur les compétences IA en Hauts-de-France.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings

    from jinja2_fragments.fastapi import Jinja2Blocks

    from . import filters

    templates = Jinja2Blocks(directory=str(HERE / "templates"))
    filters.register(templates.env)
    from assistant.observatory import FEEDBACK_REASONS

    templates.env.globals.update(
        FEEDBACK_REASONS=FEEDBACK_REASONS,
        htmx_src=settings.htmx_url or HTMX_CDN_URL,
        htmx_sri=None if settings.htmx_url else HTMX_SRI,
    )
    app.state.templates = templates

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from .routes import admin_api, admin_pages, api, feedback, observatory, pages

    app.include_router(api.router)
    app.include_router(api.health_router)
    app.include_router(admin_api.router)
    app.include_router(admin_pages.router)
    app.include_router(pages.router)
    app.include_router(feedback.router)
    app.include_router(observatory.router)
    app.include_router(observatory.api_router)

    csp = _content_security_policy(settings)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.exception_handler(OrientiaError)
    async def orientia_error(request: Request, exc: OrientiaError):
        log.info("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        if _wants_html(request):
            return pages.error_page(request, exc.message, exc.status_code)
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        if _wants_html(request):
            return pages.error_page(request, "Certains paramètres sont invalides.", 422)
        return JSONResponse(
            {"detail": "Paramètres invalides : vérifiez les valeurs envoyées.", "errors": errors},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = "Page introuvable." if exc.status_code == 404 else str(exc.detail)
        if _wants_html(request):
            return pages.error_page(request, message, exc.status_code)
        return JSONResponse({"detail": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    return app


def _start_admin(app: FastAPI, settings: Settings) -> None:
    """Admin accounts, uploaded documents and the ingest job runner of this process."""
    from .admin import Accounts, JobRunner, Library

    engine = app.state.assistant.index.store.engine
    app.state.accounts = Accounts(engine)
    app.state.accounts.bootstrap_admin(settings.admin_password.get_secret_value())
    app.state.library = Library(engine, settings.uploads_path)
    app.state.job_runner = JobRunner(
        app.state.assistant, app.state.library, app.state.accounts, bootstrap=app.state.bootstrap
    )
    app.state.job_runner.start()


async def _purge_periodically(assistant: Assistant, settings: Settings) -> None:
    """Every ``ORIENTIA_PURGE_INTERVAL_MINUTES``: delete what outlived its retention."""
    from fastapi.concurrency import run_in_threadpool

    while True:
        await asyncio.sleep(settings.purge_interval_minutes * 60)
        try:
            removed = await run_in_threadpool(assistant.purge_expired)
        except Exception:  # noqa: BLE001 - try again at the next interval
            log.exception("Purge of expired data failed")
            continue
        if any(removed.values()):
            log.info(
                "Purged %d conversation(s), %d observatory record(s), %d feedback(s)",
                removed["conversations"], removed["records"], removed["feedback"],
            )


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/healthz", "/readyz", "/docs", "/openapi"))


def _content_security_policy(settings: Settings) -> str:
    from urllib.parse import urlparse

    script = "'self'"
    src = settings.htmx_url or HTMX_CDN_URL
    parsed = urlparse(src)
    if parsed.scheme in ("http", "https"):
        script += f" {parsed.scheme}://{parsed.netloc}"
    return (
        "default-src 'self'; "
        f"script-src {script}; "
        "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )
