"""/docs in Chromium: Swagger UI from the app itself, rendered under its strict CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_docs_render_with_no_csp_violation_and_no_outside_request(server, page):
    outside = []
    page.on("request", lambda request: None if request.url.startswith(server) else outside.append(request.url))
    page.goto(f"{server}/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/ask").first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Orientia")
    assert page.console.errors == [], page.console.errors
    assert outside == [], outside
