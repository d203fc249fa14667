"""The app factory: ``create_app(settings)`` builds everything from one ``Settings``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from assistant import Assistant, Settings
from assistant.store import DatabaseUnavailable

from .jobs import Bootstrap

__all__ = ["create_app", "app_from_environment", "HTMX_CDN_URL", "HTMX_SRI"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: htmx 2.0.11 from the CDN, pinned with its Subresource Integrity hash (same bytes as npm).
HTMX_CDN_URL = "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
#: Room for the multipart envelope around an uploaded file.
_MULTIPART_OVERHEAD = 64 * 1024
#: An admin upload carries several files of up to ``upload_max_mb`` each: its body may hold this
#: many, so that a single file over the limit reaches the admin service, which refuses it by name.
_UPLOAD_FILES_PER_REQUEST = 10


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
        app.state.answer_limiter = anyio.CapacityLimiter(settings.answer_workers)
        try:
            app.state.assistant = assistant or Assistant(settings)
        except DatabaseUnavailable as exc:
            # Retried for ORIENTIA_DATABASE_CONNECT_SECONDS already: the server does not start.
            log.error("%s Le serveur s'arrête.", exc.message)
            raise
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
        docs_url=None,  # served by web.security.install_docs, with self-hosted assets
        redoc_url=None,
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

    from .errors import install_error_handlers
    from .limits import BodyLimit, RateLimit
    from .security import SecurityHeaders, SecurityHeadersMiddleware, TrustedHosts, install_docs

    docs_hash = install_docs(app)
    app.state.security = SecurityHeaders(htmx_src=settings.htmx_url or HTMX_CDN_URL, docs_script_hash=docs_hash)
    install_error_handlers(app)

    # Last added runs first: headers on every answer, then the Host check, the rate limit
    # (before any body is read), then the body limits.
    upload = (int(settings.upload_max_mb * 1024 * 1024) + _MULTIPART_OVERHEAD) * _UPLOAD_FILES_PER_REQUEST
    app.add_middleware(
        BodyLimit, limit=settings.max_body_bytes, timeout=settings.client_timeout_seconds,
        larger={"/api/admin/": upload, "/admin": upload},
    )
    if settings.rate_limit != "off":
        app.add_middleware(RateLimit, rate=settings.rate_limit)
    app.add_middleware(TrustedHosts, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(SecurityHeadersMiddleware, security=app.state.security)

    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process of ``orientia serve --workers N`` (settings from the environment)."""
    from .logs import configure
    from .server import HeaderTimeoutProtocol

    settings = Settings()
    configure(settings.log_level)
    HeaderTimeoutProtocol.header_timeout = settings.client_timeout_seconds
    return create_app(settings)


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
