"""Response headers (CSP, caching, framing), trusted hosts, and the self-hosted API docs."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import MutableMapping
from urllib.parse import urlparse

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "SecurityHeadersMiddleware", "TrustedHosts", "install_docs", "DOCS_ASSETS"]

#: Swagger UI, vendored from the npm package ``swagger-ui-dist`` (see its README.md).
DOCS_ASSETS = "/static/swagger-ui"

_BASE_POLICY = (
    "default-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)


class SecurityHeaders:
    """The headers of every response, by path: one place, used by the middleware and the 500 handler.

    Args:
        htmx_src: the exact htmx URL the pages load (the only script allowed besides our own).
        docs_script_hash: the CSP hash of the inline script of ``/docs``, allowed there only.
    """

    def __init__(self, *, htmx_src: str, docs_script_hash: str = "") -> None:
        script = "'self'"
        if urlparse(htmx_src).scheme in ("http", "https"):
            script += f" {_csp_source(htmx_src)}"
        self.page_csp = f"{_BASE_POLICY}; script-src {script}"
        docs_script = "'self'" + (f" '{docs_script_hash}'" if docs_script_hash else "")
        self.docs_csp = f"{_BASE_POLICY}; script-src {docs_script}"
        self.docs_script_hash = docs_script_hash

    def for_path(self, path: str) -> dict[str, str]:
        static = path.startswith("/static/")
        return {
            "Content-Security-Policy": self.docs_csp if path == "/docs" else self.page_csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            # Answers are personal: no cache keeps them. Static files may be kept a day.
            "Cache-Control": "public, max-age=86400" if static else "no-store",
        }

    def apply(self, path: str, headers: MutableMapping[str, str] | MutableHeaders) -> None:
        """Set the headers a response does not set itself."""
        for name, value in self.for_path(path).items():
            if name not in headers:
                headers[name] = value


def _csp_source(url: str) -> str:
    # A CSP source may name one file; ";" and "," would end the directive.
    return url.replace(";", "%3B").replace(",", "%2C")


class SecurityHeadersMiddleware:
    """Adds ``SecurityHeaders`` to every HTTP response (pure ASGI: streams are left alone)."""

    def __init__(self, app: ASGIApp, *, security: SecurityHeaders) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.security.apply(path, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TrustedHosts(TrustedHostMiddleware):
    """Starlette's check of the ``Host`` header, refusing in French (400) instead of in English."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        async def accepted(scope: Scope, receive: Receive, send: Send) -> None:
            scope["orientia.host_ok"] = True
            await app(scope, receive, send)

        super().__init__(accepted, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        refused = False

        async def send_or_translate(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and not scope.get("orientia.host_ok"):
                refused = True
            if not refused:
                await send(message)

        await super().__call__(scope, receive, send_or_translate)
        if refused:
            from .errors import error_response

            # Never built from the refused Host: the error page links are relative.
            request = Request(scope, receive)
            await error_response(request, "Nom d’hôte non autorisé.", 400)(scope, receive, send)


# -- API docs --------------------------------------------------------------------------------------


def install_docs(app: FastAPI) -> str:
    """Serve ``/docs`` with the Swagger UI files under ``web/static/swagger-ui``.

    FastAPI's page is kept as is; its one inline script is allowed by its hash on ``/docs`` only
    (see ``SecurityHeaders``). Returns that hash.
    """
    from fastapi.openapi.docs import get_swagger_ui_html

    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title="Orientia — API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        # No validator badge: it would call a third-party server.
        swagger_ui_parameters={"validatorUrl": None},
    )
    html = bytes(page.body).decode("utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1, "FastAPI's Swagger UI page is expected to hold one inline script"
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html)

    return f"sha256-{digest}"

