"""The regional observatory: the admin dashboard, its public aggregated view, CSV and JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from assistant import BadRequest, NotFound
from assistant.models import DEPARTMENTS
from assistant.observatory import ObservatoryFilters, ObservatoryReport

from .. import filters as fmt
from ..deps import AssistantDep, ObservatoryAdmin, SettingsDep
from .pages import _cell, _render

__all__ = ["router", "api_router", "TABLES", "PERIODS"]

router = APIRouter(prefix="/observatoire", include_in_schema=False)
api_router = APIRouter(prefix="/api/admin", tags=["admin"])

#: The periods the filter form offers (days; None = everything still retained).
PERIODS: dict[str, str] = {"": "Toute la période", "7": "7 derniers jours", "30": "30 derniers jours", "90": "90 derniers jours", "365": "12 derniers mois"}
_KIND_LABELS = {**fmt.KINDS, "orientia": "Repères Orientia"}


@dataclass(frozen=True)
class Table:
    """One table of the dashboard: its chart, its HTML table and its CSV export share it."""

    slug: str
    title: str
    header: tuple[str, str]
    rows: Callable[[ObservatoryReport], list[tuple[str, int]]]
    chart: bool = True


def _pairs(name: str, labels: dict[str, str] | None = None):
    def rows(report: ObservatoryReport) -> list[tuple[str, int]]:
        return [((labels or {}).get(c.key, c.label), c.count) for c in getattr(report, name)]

    return rows


TABLES: list[Table] = [
    Table("questions-par-jour", "Questions par jour", ("Jour", "Questions"),
          lambda r: [(fmt.french_date(d.day) if d.day[:1].isdigit() else d.day, d.questions) for d in r.by_day]),
    Table("departements", "Questions par département", ("Département", "Questions"), _pairs("by_department")),
    Table("publics", "Questions par public", ("Public", "Questions"), _pairs("by_audience", {**fmt.AUDIENCES, "inconnu": "non précisé"})),
    Table("familles", "Questions par famille de métiers", ("Famille de métiers", "Questions"), _pairs("by_family")),
    Table("metiers", "Fiches métiers les plus demandées", ("Fiche métier (ROME)", "Questions"), _pairs("by_job")),
    Table("sujets", "Sujets demandés", ("Sujet", "Questions"), _pairs("topics")),
    Table("certifications", "Certifications les plus demandées", ("Certification", "Questions"), _pairs("certifications")),
    Table("formations", "Formations les plus recommandées", ("Formation", "Recommandations"), _pairs("trainings")),
    Table("sources", "Types de sources citées", ("Type de source", "Réponses"), _pairs("source_kinds", _KIND_LABELS)),
    Table("contraintes-non-satisfaites", "Contraintes que l’offre ne satisfait pas", ("Demande sans formation correspondante", "Questions"), _pairs("unmet")),
    Table("contraintes-relachees", "Contraintes relâchées dans les recommandations", ("Contrainte", "Questions"), _pairs("relaxed")),
    Table("avis", "Raisons des avis négatifs", ("Raison", "Avis"), _pairs("feedback_reasons")),
]
_BY_SLUG = {t.slug: t for t in TABLES}


def _filters(period: str, department: str, audience: str) -> ObservatoryFilters:
    """The dashboard's GET form (an empty field means "any")."""
    period, department, audience = period.strip(), department.strip(), audience.strip()
    if period and not (period.isdigit() and 1 <= int(period) <= 3650):
        raise BadRequest("Période invalide : indiquez un nombre de jours entre 1 et 3650.")
    if department and department not in DEPARTMENTS:
        raise BadRequest(f"Département inconnu : {department} (attendu : {', '.join(DEPARTMENTS)}).")
    if audience and audience not in fmt.AUDIENCES:
        raise BadRequest(f"Public inconnu : {audience} (attendu : {', '.join(fmt.AUDIENCES)}).")
    return ObservatoryFilters(period_days=int(period) if period else None, department=department or None, audience=audience or None)


Period = Annotated[str, Query(max_length=4)]
Department = Annotated[str, Query(max_length=2)]
Audience = Annotated[str, Query(max_length=16)]


async def _report(assistant, filters: ObservatoryFilters, *, public: bool) -> ObservatoryReport:
    return await run_in_threadpool(assistant.observatory, filters, public=public)


def _query(filters: ObservatoryFilters) -> str:
    from urllib.parse import urlencode

    pairs = [("period", filters.period_days), ("department", filters.department), ("audience", filters.audience)]
    return urlencode([(k, v) for k, v in pairs if v])


def _page(request: Request, report: ObservatoryReport, *, base: str):
    context = {
        "report": report, "tables": TABLES, "periods": PERIODS, "base": base,
        "query": _query(report.filters), "kinds": _KIND_LABELS,
    }
    return _render(request, "observatoire.html", context)


def _csv(report: ObservatoryReport, slug: str) -> Response:
    table = _BY_SLUG.get(slug)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    if table is not None:
        writer.writerow(table.header)
        writer.writerows([_cell(label), count] for label, count in table.rows(report))
    elif slug in ("questions-sans-reponse", "questions-recentes") and not report.public:
        writer.writerow(["Date", "Public", "Département", "Fiche métier", "Répondue", "Contrainte non satisfaite", "Score de recherche", "Durée (ms)", "Question (anonymisée)"])
        records = report.unanswered if slug == "questions-sans-reponse" else report.questions
        for r in records:
            writer.writerow([_cell(v) for v in (
                r.created_at.strftime("%Y-%m-%d %H:%M"), fmt.AUDIENCES.get(r.audience or "", ""),
                r.department or "", r.rome_code or "", "oui" if r.answered else "non", r.unmet,
                "" if r.retrieval_score is None else f"{r.retrieval_score:.3f}".replace(".", ","),
                f"{r.latency_ms:.0f}", r.question if r.question is not None else "",
            )])
    else:
        raise NotFound(f"Tableau inconnu : {slug}")
    return Response(
        out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="observatoire-{slug}.csv"'},
    )


def _public_enabled(settings) -> None:
    if not settings.observatory_public:
        raise NotFound("Page introuvable.")


# -- Admin dashboard -----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, assistant: AssistantDep, _: ObservatoryAdmin, period: Period = "", department: Department = "", audience: Audience = ""):
    """The observatory for admins: every table, recent and unanswered questions (scrubbed)."""
    report = await _report(assistant, _filters(period, department, audience), public=False)
    return _page(request, report, base="/observatoire")


@router.get("/export/{slug}.csv")
async def dashboard_csv(slug: str, assistant: AssistantDep, _: ObservatoryAdmin, period: Period = "", department: Department = "", audience: Audience = ""):
    """One table of the admin dashboard as CSV (UTF-8 with BOM, ``;``)."""
    return _csv(await _report(assistant, _filters(period, department, audience), public=False), slug)


# -- Public aggregated view ----------------------------------------------------------------------


@router.get("/public", response_class=HTMLResponse)
async def public_dashboard(request: Request, assistant: AssistantDep, settings: SettingsDep, period: Period = "", department: Department = "", audience: Audience = ""):
    """The aggregated observatory (``ORIENTIA_OBSERVATORY_PUBLIC``): counts under 5 merged, no text."""
    _public_enabled(settings)
    report = await _report(assistant, _filters(period, department, audience), public=True)
    return _page(request, report, base="/observatoire/public")


@router.get("/public/export/{slug}.csv")
async def public_csv(slug: str, assistant: AssistantDep, settings: SettingsDep, period: Period = "", department: Department = "", audience: Audience = ""):
    """One table of the public view as CSV."""
    _public_enabled(settings)
    return _csv(await _report(assistant, _filters(period, department, audience), public=True), slug)


# -- JSON ------------------------------------------------------------------------------------------


@api_router.get("/observatory", response_model=ObservatoryReport)
async def observatory_json(assistant: AssistantDep, _: ObservatoryAdmin, period: Period = "", department: Department = "", audience: Audience = "") -> ObservatoryReport:
    """The observatory as JSON: totals, every table, recent records (scrubbed). Admin token."""
    return await _report(assistant, _filters(period, department, audience), public=False)
