"""Property-based fuzzing of the JSON API from its OpenAPI schema (schemathesis + hypothesis).

Every operation gets a bounded number of generated requests, valid (positive) and invalid
(negative), against the app over the bundled corpus: no answer may be a server error, and every
error is French with the security headers.

(schemathesis' own pytest decorator does not run under pytest 9: its strategies are driven with
hypothesis' ``@given`` here.)
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from ..conftest import make_settings

#: Words of the framework's English errors that must never reach a client.
ENGLISH = ("Not Found", "Method Not Allowed", "Field required", "Input should", "There was an error",
           "Content Too Large", "Invalid host", "Internal Server Error", "value is not", "JSON decode")
#: Generated requests per operation and mode.
EXAMPLES = 25


def _cases() -> list:
    """(method, path, mode) for every documented operation; invalid requests where it has input.

    The app is only built here, not started.
    """
    from pathlib import Path

    from web.app import create_app

    paths = create_app(make_settings(Path("/nonexistent"))).openapi()["paths"]
    cases = []
    for path, item in sorted(paths.items()):
        for method, operation in item.items():
            cases.append(pytest.param(method.upper(), path, GenerationMode.POSITIVE, id=f"{method.upper()} {path} valid"))
            if operation.get("parameters") or operation.get("requestBody"):
                cases.append(pytest.param(method.upper(), path, GenerationMode.NEGATIVE, id=f"{method.upper()} {path} invalid"))
    return cases


@pytest.fixture(scope="module")
def api_schema(corpus_dir, embedder, tmp_path_factory):
    """The app's schema, bound to the app (schemathesis runs its lifespan)."""
    from assistant import Assistant, Index
    from web.app import create_app

    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(corpus_dir, data_dir)
    app_settings = make_settings(data_dir)
    app = create_app(app_settings, assistant=Assistant(app_settings, index=Index(app_settings, embedder=embedder)))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _check(case) -> None:
    response = case.call()
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    headers = {k.lower() for k in response.headers}
    for name in ("content-security-policy", "x-content-type-options", "cache-control"):
        assert name in headers, f"{where}: no {name}"
    if response.status_code >= 400:
        text = response.text
        assert not any(word in text for word in ENGLISH), f"{where}: {text[:300]}"
        assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(("method", "path", "mode"), _cases())
def test_api_never_fails_and_speaks_french(api_schema, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def run(case) -> None:
        _check(case)

    run()
