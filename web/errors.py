"""Every error a client sees, in French: framework errors, validation entries, limits, crashes.

One place builds the error response (an HTML page or fragment for pages, JSON for the API), so
middlewares and exception handlers answer alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from assistant import OrientiaError
from assistant.errors import storage_error

__all__ = [
    "STATUS_MESSAGES",
    "error_response",
    "french_entries",
    "install_error_handlers",
    "wants_html",
]

log = logging.getLogger(__name__)

#: The French message of each status the framework itself answers with.
STATUS_MESSAGES: dict[int, str] = {
    400: "Requête invalide.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Page introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    406: "Format de réponse non disponible.",
    408: "La requête a mis trop de temps à arriver. Réessayez.",
    411: "La longueur de la requête doit être indiquée.",
    413: "La requête est trop volumineuse.",
    414: "L’adresse demandée est trop longue.",
    415: "Type de contenu non pris en charge.",
    422: "Paramètres invalides : vérifiez les valeurs envoyées.",
    429: "Trop de demandes en peu de temps. Réessayez dans un instant.",
    500: "Une erreur interne est survenue. Réessayez dans un instant.",
    502: "Service indisponible pour le moment. Réessayez dans un instant.",
    503: "Service indisponible pour le moment. Réessayez dans un instant.",
    504: "Le service a mis trop de temps à répondre. Réessayez.",
}

#: English details Starlette and FastAPI put in the exceptions they raise.
_FRAMEWORK_DETAILS: dict[str, str] = {
    "There was an error parsing the body": "Le corps de la requête est illisible : vérifiez le JSON ou le formulaire envoyé.",
    "Content Too Large": STATUS_MESSAGES[413],
    "Invalid host header": "Nom d’hôte non autorisé.",
}
_MULTIPART = "Formulaire refusé : trop de champs ou de fichiers, champ trop long, ou format invalide."


def wants_html(path: str) -> bool:
    """Pages answer errors with a page; the API, health checks and the docs with JSON."""
    return not path.startswith(("/api/", "/healthz", "/readyz", "/docs", "/openapi"))


def error_response(
    request: Request,
    message: str,
    status_code: int,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> Response:
    """The French error answer: a page (or the HTMX fragment) for pages, JSON for the API."""
    if wants_html(request.url.path) and hasattr(request.app.state, "templates"):
        from .routes.pages import error_page

        try:
            response = error_page(request, message, status_code)
        except Exception:  # noqa: BLE001 - an error page must never fail: fall back to JSON
            log.exception("Rendering the error page failed")
        else:
            response.headers.update(headers or {})
            return response
    body: dict[str, Any] = {"detail": message}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status_code, headers=headers)


def http_message(exc: StarletteHTTPException) -> str:
    """The French message of an ``HTTPException``: ours are French already, the framework's not."""
    detail = exc.detail
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, MultiPartException):
        return _MULTIPART
    if not isinstance(detail, str) or not detail:
        return STATUS_MESSAGES.get(exc.status_code, STATUS_MESSAGES[400 if exc.status_code < 500 else 500])
    if detail in _FRAMEWORK_DETAILS:
        return _FRAMEWORK_DETAILS[detail]
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    if detail == phrase:
        return STATUS_MESSAGES.get(exc.status_code, STATUS_MESSAGES[400 if exc.status_code < 500 else 500])
    return detail


# -- Validation entries ----------------------------------------------------------------------------

#: pydantic error type -> French message (``{name}`` filled from the entry's ``ctx``).
_VALIDATION: dict[str, str] = {
    "missing": "Champ obligatoire.",
    "extra_forbidden": "Champ inconnu.",
    "string_type": "Texte attendu.",
    "string_too_short": "Texte trop court : au moins {min_length} caractère(s).",
    "string_too_long": "Texte trop long : au plus {max_length} caractères.",
    "string_pattern_mismatch": "Format invalide.",
    "string_unicode": "Texte invalide (encodage).",
    "int_type": "Nombre entier attendu.",
    "int_parsing": "Nombre entier attendu.",
    "int_from_float": "Nombre entier attendu.",
    "int_parsing_size": "Nombre trop grand.",
    "float_type": "Nombre attendu.",
    "float_parsing": "Nombre attendu.",
    "finite_number": "Nombre fini attendu.",
    "decimal_parsing": "Nombre attendu.",
    "greater_than": "La valeur doit être supérieure à {gt}.",
    "greater_than_equal": "La valeur doit être supérieure ou égale à {ge}.",
    "less_than": "La valeur doit être inférieure à {lt}.",
    "less_than_equal": "La valeur doit être inférieure ou égale à {le}.",
    "multiple_of": "La valeur doit être un multiple de {multiple_of}.",
    "bool_type": "Oui ou non attendu (true ou false).",
    "bool_parsing": "Oui ou non attendu (true ou false).",
    "literal_error": "Valeur inconnue : valeurs possibles {expected}.",
    "enum": "Valeur inconnue : valeurs possibles {expected}.",
    "list_type": "Liste attendue.",
    "tuple_type": "Liste attendue.",
    "set_type": "Liste attendue.",
    "too_short": "Trop peu d’éléments : au moins {min_length}.",
    "too_long": "Trop d’éléments : au plus {max_length}.",
    "dict_type": "Objet JSON attendu.",
    "model_type": "Objet JSON attendu.",
    "model_attributes_type": "Objet JSON attendu.",
    "json_invalid": "JSON invalide.",
    "json_type": "JSON invalide.",
    "date_type": "Date attendue (AAAA-MM-JJ).",
    "date_parsing": "Date attendue (AAAA-MM-JJ).",
    "date_from_datetime_parsing": "Date attendue (AAAA-MM-JJ).",
    "datetime_type": "Date et heure attendues.",
    "datetime_parsing": "Date et heure attendues.",
    "url_type": "Adresse web attendue.",
    "url_parsing": "Adresse web invalide.",
    "url_scheme": "Adresse web invalide (http ou https).",
    "uuid_type": "Identifiant invalide.",
    "uuid_parsing": "Identifiant invalide.",
    "bytes_type": "Données attendues.",
    "bytes_too_long": "Fichier trop volumineux : au plus {max_length} octets.",
    "none_required": "Aucune valeur attendue.",
    "union_tag_invalid": "Type d’objet inconnu.",
    "value_error": "{error}",
    "assertion_error": "Valeur invalide.",
}


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", "\u202f")
    return str(value).replace(".", ",") if isinstance(value, float) else str(value)


def _french_message(entry: dict[str, Any]) -> str:
    kind = entry.get("type", "")
    template = _VALIDATION.get(kind)
    if template is None:
        return "Valeur invalide."
    ctx = dict(entry.get("ctx") or {})
    if kind == "value_error":
        # Our own validators raise ValueErrors in French (models.py).
        error = str(ctx.get("error", ""))
        return error[:1].upper() + error[1:] if error else "Valeur invalide."
    values = {k: _number(v) for k, v in ctx.items()}
    if "expected" in values:
        values["expected"] = values["expected"].replace(" or ", " ou ")
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template.split(":")[0].rstrip(" .") + "."


def french_entries(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation entries with ``loc`` and ``type`` kept and ``msg`` in French (never the input)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": _french_message(e), "type": e.get("type", "")}
        for e in errors
    ]


# -- Handlers --------------------------------------------------------------------------------------


def install_error_handlers(app: FastAPI) -> None:
    """French answers for our errors, validation, framework HTTP errors and crashes."""

    @app.exception_handler(OrientiaError)
    async def orientia_error(request: Request, exc: OrientiaError):
        log.info("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        retry = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry)} if retry else None
        return error_response(request, exc.message, exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        if wants_html(request.url.path):
            return error_response(request, "Certains paramètres sont invalides.", 422)
        return error_response(request, STATUS_MESSAGES[422], 422, errors=french_entries(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_response(request, http_message(exc), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        # Runs outside every middleware (Starlette's ServerErrorMiddleware): add the headers here.
        said = storage_error(exc)  # a full disk, the database down: a French 503, not a crash
        if said is not None:
            log.warning("%s on %s %s: %s", type(said).__name__, request.method, request.url.path, said)
            retry = getattr(said, "retry_after", None)
            response = error_response(
                request, said.message, said.status_code, headers={"Retry-After": str(retry)} if retry else None
            )
        else:
            log.error("Unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
            response = error_response(request, STATUS_MESSAGES[500], 500)
        security = getattr(request.app.state, "security", None)
        if security is not None:
            security.apply(request.url.path, response.headers)
        return response
