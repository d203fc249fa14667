"""``orientia eval``: retrieval, recommendation, profile and refusal quality on the eval set.

The same questions also run through a dense-only baseline (LangChain ``Chroma.similarity_search``
over the same collection and model), printed side by side.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from .compose import citation_markers
from .models import Profile
from .recommend import violations
from .service import Assistant

__all__ = [
    "LEGACY_ROLES", "PROFILE_FIELDS", "check_floors", "format_conversations", "format_report",
    "load_questions", "run_conversations", "run_eval", "translate_legacy",
]

PROFILE_FIELDS = ("role", "department", "format", "max_hours", "max_price", "funding", "certifying", "audience")


#: beside a question file: former hand-written role ids -> ROME codes (job sheets are keyed by code)
LEGACY_ROLES = "legacy_roles.yaml"


def load_questions(path: Path) -> list[dict[str, Any]]:
    """The questions of ``path``, with former role ids translated to ROME codes.

    Sets written before roles became ROME job sheets (such as the frozen held-out set) name jobs by
    their old ids (``comptable``, ``role:comptable``). When ``legacy_roles.yaml`` sits beside the
    file, each expected ``role`` and each ``role:<old id>`` source key found in it is replaced by
    the ROME code (``M1203``, ``role:M1203``); nothing else changes.
    """
    path = Path(path)
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: a YAML list of questions is expected")
    legacy_file = path.parent / LEGACY_ROLES
    legacy = yaml.safe_load(legacy_file.read_text(encoding="utf-8")) if legacy_file.exists() else {}
    return [translate_legacy(item, legacy or {}) for item in items]


def translate_legacy(item: dict[str, Any], legacy: dict[str, str]) -> dict[str, Any]:
    """``item`` with its expected role ids and ``role:`` source keys mapped through ``legacy``."""
    if not legacy or not isinstance(item, dict):
        return item
    item = dict(item)
    profile = item.get("expect_profile")
    if isinstance(profile, dict) and profile.get("role") in legacy:
        item["expect_profile"] = {**profile, "role": legacy[profile["role"]]}
    sources = item.get("expect_sources")
    if isinstance(sources, list):
        item["expect_sources"] = [
            f"role:{legacy[s[5:]]}" if isinstance(s, str) and s.startswith("role:") and s[5:] in legacy else s
            for s in sources
        ]
    return item


def _record_keys(citation_ids: list[str]) -> list[str]:
    out: list[str] = []
    for cid in citation_ids:
        key = ":".join(cid.split(":")[:2])
        if key not in out:
            out.append(key)
    return out


def _retrieval_scores(ranked: list[str], expected: list[str]) -> tuple[float, float]:
    top5 = ranked[:5]
    recall = sum(1 for e in expected if e in top5) / len(expected)
    rr = 0.0
    for rank, key in enumerate(ranked, start=1):
        if key in expected:
            rr = 1.0 / rank
            break
    return recall, rr


def _expected_profile(item: dict) -> Profile:
    data = dict(item.get("expect_profile") or {})
    data.pop("role", None)
    data.pop("audience", None)
    return Profile(**{k: v for k, v in data.items() if k in Profile.model_fields})


def _same(field: str, got: Any, want: Any) -> bool:
    if field == "funding":
        return sorted(got or []) == sorted(want or [])
    if field in ("max_hours", "max_price"):
        return got is not None and abs(float(got) - float(want)) < 1e-6
    if field == "department":
        return got == str(want).zfill(2)
    return got == want


def run_eval(assistant: Assistant, questions_path: Path, *, baseline: bool = True) -> dict[str, Any]:
    """Run every question; returns the figures (and the failures, for inspection)."""
    items = load_questions(questions_path)
    by_id = {item["id"]: item for item in items}
    conversations: dict[str, str] = {}
    traces: dict[str, dict] = {}
    kb = assistant.knowledge()
    lc_store = assistant.index.vectors.langchain(kb.collection) if baseline else None

    stats: dict[str, Any] = defaultdict(list)
    base: dict[str, Any] = defaultdict(list)
    failures: list[dict[str, Any]] = []
    field_hits: dict[str, list[bool]] = defaultdict(list)

    def answer_for(item: dict):
        conversation = None
        if item.get("follows"):
            parent = by_id[item["follows"]]
            if parent["id"] not in conversations:
                answer_for(parent)
            conversation = conversations[parent["id"]]
        trace: dict = {}
        answer = assistant.answer(item["question"], conversation_id=conversation, trace=trace)
        conversations[item["id"]] = answer.conversation_id
        traces[item["id"]] = trace
        return answer

    for item in items:
        answer = answer_for(item)
        # Retrieval is measured on what retrieval ranked (recommended trainings first, then the
        # knowledge passages), not on the citations the writer adds around them.
        trace = traces.get(item["id"], {})
        ranked = list(trace.get("records", []))
        out_of_scope = bool(item.get("out_of_scope"))
        stats["scope_ok"].append(answer.answered != out_of_scope)
        if out_of_scope:
            stats["declined"].append(not answer.answered)
            if answer.answered:
                failures.append({"id": item["id"], "what": "answered an out-of-scope question"})
        else:
            stats["not_declined"].append(answer.answered)
            if not answer.answered:
                failures.append({"id": item["id"], "what": "declined an in-scope question"})
        if answer.answered:
            markers = set(citation_markers(answer.answer))
            ok = markers == set(range(1, len(answer.citations) + 1))
            stats["citations_ok"].append(ok)
            if not ok:
                failures.append({"id": item["id"], "what": "citation markers and citations differ"})
        expected = item.get("expect_sources") or []
        if expected and not out_of_scope:
            recall, rr = _retrieval_scores(ranked, expected)
            stats["recall5"].append(recall)
            stats["mrr"].append(rr)
            if recall < 1:
                failures.append({"id": item["id"], "what": "missing sources", "expected": expected, "got": ranked[:5]})
            if lc_store is not None:
                # The dense baseline gets the same text, conversation context included.
                docs = lc_store.similarity_search(trace.get("search_text") or item["question"], k=10)
                base_ranked = _record_keys([d.id or "" for d in docs])
                b_recall, b_rr = _retrieval_scores(base_ranked, expected)
                base["recall5"].append(b_recall)
                base["mrr"].append(b_rr)
        for field, want in (item.get("expect_profile") or {}).items():
            ok = _same(field, getattr(answer.profile, field), want)
            field_hits[field].append(ok)
            if not ok:
                failures.append({"id": item["id"], "what": f"profile.{field}", "expected": want, "got": getattr(answer.profile, field)})
        if item.get("constraints"):
            wanted = _expected_profile(item)
            possible = any(not violations(t, wanted) for t in kb.trainings.values())
            top = [kb.trainings[t.id] for t in answer.trainings[:3]]
            ok = bool(top) and all(not violations(t, wanted) for t in top)
            if possible:
                stats["constraints"].append(ok)
                if not ok:
                    failures.append({"id": item["id"], "what": "constraint broken", "got": [(t.id, violations(t, wanted)) for t in top]})
            if lc_store is not None:
                docs = lc_store.similarity_search(item["question"], k=3, filter={"kind": "training"})
                b_top = [kb.trainings[d.metadata["record_key"].split(":", 1)[1]] for d in docs]
                if possible:
                    base["constraints"].append(bool(b_top) and all(not violations(t, wanted) for t in b_top))

    def mean(values: list) -> float | None:
        return round(sum(values) / len(values), 3) if values else None

    return {
        "questions": len(items),
        "orientia": {
            "recall@5": mean(stats["recall5"]),
            "mrr": mean(stats["mrr"]),
            "constraint_satisfaction@3": mean(stats["constraints"]),
            "out_of_scope_declined": mean(stats["declined"]),
            "in_scope_answered": mean(stats["not_declined"]),
            "citations_resolve_and_used": mean(stats["citations_ok"]),
            "profile_fields": {f: mean(v) for f, v in sorted(field_hits.items())},
            "profile_overall": mean([x for v in field_hits.values() for x in v]),
        },
        "baseline_dense_only": {
            "recall@5": mean(base["recall5"]),
            "mrr": mean(base["mrr"]),
            "constraint_satisfaction@3": mean(base["constraints"]),
        } if baseline else None,
        "counts": {
            "retrieval": len(stats["recall5"]), "constraints": len(stats["constraints"]),
            "out_of_scope": len(stats["declined"]), "profile_fields": sum(len(v) for v in field_hits.values()),
        },
        "failures": failures,
    }


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def format_report(report: dict[str, Any], *, failures: bool = True) -> str:
    """The question set's scores as a table; ``failures=False`` leaves out the questions missed
    (a held-out set is read by its scores only, so that nobody tunes on its questions)."""
    o, b = report["orientia"], report["baseline_dense_only"] or {}
    c = report["counts"]
    lines = [
        f"Jeu d'évaluation : {report['questions']} questions",
        "",
        f"{'mesure':38} {'Orientia':>9} {'dense seul':>11}",
        f"{'recall@5 (' + str(c['retrieval']) + ' q.)':38} {_pct(o['recall@5']):>9} {_pct(b.get('recall@5')):>11}",
        f"{'MRR':38} {_pct(o['mrr']):>9} {_pct(b.get('mrr')):>11}",
        f"{'contraintes respectées, top 3 (' + str(c['constraints']) + ' q.)':38} {_pct(o['constraint_satisfaction@3']):>9} {_pct(b.get('constraint_satisfaction@3')):>11}",
        f"{'hors sujet refusées (' + str(c['out_of_scope']) + ' q.)':38} {_pct(o['out_of_scope_declined']):>9}",
        f"{'questions du domaine traitées':38} {_pct(o['in_scope_answered']):>9}",
        f"{'citations valides et toutes utilisées':38} {_pct(o['citations_resolve_and_used']):>9}",
        f"{'profil, tous champs (' + str(c['profile_fields']) + ')':38} {_pct(o['profile_overall']):>9}",
    ]
    for field, value in o["profile_fields"].items():
        lines.append(f"{'  profil.' + field:38} {_pct(value):>9}")
    if failures and report["failures"]:
        lines.append("")
        lines.append(f"Écarts ({len(report['failures'])}) :")
        for f in report["failures"]:
            extra = {k: v for k, v in f.items() if k not in ("id", "what")}
            lines.append(f"- {f['id']} : {f['what']} {extra if extra else ''}".rstrip())
    return "\n".join(lines)


# -- Conversations ---------------------------------------------------------------------------

#: the per-turn checks of ``tests/eval/conversations*.yaml``
TURN_FIELDS = (
    "job", "not_jobs", "learners_are_asker", "audience", "department", "format", "max_hours",
    "max_price", "funding", "certifying", "cheaper_than_before", "shorter_than_before", "clarify",
    "nothing_fits", "language", "refusal", "answer_mentions", "trainings_fit_job",
)
_CONSTRAINT_FIELDS = ("department", "format", "max_hours", "max_price", "funding", "certifying")
_MARKERS = re.compile(r"\[\d+\]")


def _first_sentences(text: str, n: int = 2) -> str:
    """The first ``n`` sentences of an answer, headings left out."""
    import re

    body = " ".join(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    parts = re.split(r"(?<=[.!?])\s+", body)
    return " ".join(parts[:n])


def _own_lines(text: str) -> set[str]:
    """The answer's lines without citation markers, for the repetition check."""
    import re

    return {
        re.sub(r"\s*\[\d+\]", "", line).strip()
        for line in text.splitlines()
        if len(line.strip()) >= 40 and not line.startswith("#")
    }


def _is_english(text: str) -> bool:
    from .understanding.nlp import english_share

    return english_share(text.lower().split()) > 0.5


def _suits(training, wanted: Profile, job: str | None) -> bool:
    """Whether a catalogue training meets the constraints and suits the learners' job (aimed
    at everyone or at the job's professional domain), as a recommendation must."""
    return not violations(training, wanted) and (
        job is None or not training.rome_codes or any(c[:3] == job[:3] for c in training.rome_codes)
    )


def _check_turn(field: str, want: Any, answer, kb, shown, context: tuple[Profile, str | None] | None = None) -> bool:  # noqa: C901 - one branch per check
    from .text import fold

    p = answer.profile
    if field == "job":
        return p.rome_code == want
    if field == "not_jobs":
        return p.rome_code not in (want or []) and getattr(p, "target_role", None) not in (want or [])
    if field == "learners_are_asker":
        return (getattr(p, "learners_are_asker", None) is not False) == bool(want)
    if field in ("audience", "format", "certifying"):
        return getattr(p, field) == want
    if field == "department":
        return p.department == (str(want).zfill(2) if want is not None else None)
    if field in ("max_hours", "max_price"):
        got = getattr(p, field)
        return (got is None) if want is None else (got is not None and abs(float(got) - float(want)) < 0.01)
    if field == "funding":
        return sorted(p.funding) == sorted(want or [])
    if field in ("cheaper_than_before", "shorter_than_before"):
        attribute = "price_eur" if field == "cheaper_than_before" else "duration_hours"
        # « moins cher ? » compares with the last trainings shown (a turn between may have shown none)
        before = [v for t in (shown.trainings if shown else []) if (v := getattr(t, attribute)) is not None]
        now = [getattr(t, attribute) for t in answer.trainings]
        if not want:
            return True
        if not before:
            return False
        floor = min(before)
        wanted, job = context or (Profile(), None)
        exists = any(
            (v := getattr(t, attribute)) is not None and v < floor and _suits(t, wanted, job)
            for t in kb.trainings.values()
        )
        if exists:
            return bool(now) and all(v is not None and v < floor for v in now)
        # Nothing cheaper (shorter) suits these learners: the answer must not pass dearer
        # (longer) trainings off as what was asked; only those at the floor or below stay.
        return all(v is not None and v <= floor for v in now)
    if field == "clarify":
        return (getattr(answer, "clarify", None) is not None) == bool(want)
    if field == "nothing_fits":
        said = any(t.relaxed for t in answer.trainings) or (
            not answer.trainings and "aucune formation" in fold(answer.answer)
        )
        return said == bool(want)
    if field == "language":
        # The answer's own sentences (lines citing no source); quoted sources stay French.
        own = " ".join(
            line for line in answer.answer.splitlines()
            if line.strip() and not line.startswith("#") and not _MARKERS.search(line)
        )
        english = getattr(answer, "language", "fr") == "en" and _is_english(own)
        return english == (want == "en")
    if field == "refusal":
        got = getattr(answer, "refusal", None)
        return got == (None if want in (None, "none") else want)
    if field == "answer_mentions":
        first = fold(_first_sentences(answer.answer, 2))
        return any(fold(str(term)) in first for term in want)
    if field == "trainings_fit_job":
        job = p.rome_code
        if not want or job is None:
            return not want or not answer.trainings or job is None
        for summary in answer.trainings:
            codes = kb.trainings[summary.id].rome_codes if summary.id in kb.trainings else []
            if codes and not any(c[:3] == job[:3] for c in codes):
                return False
        return True
    raise ValueError(f"unknown conversation check: {field}")


def run_conversations(assistant: Assistant, path: Path) -> dict[str, Any]:
    """Play every conversation of a set turn by turn and score each turn's checks.

    Besides the checks each turn lists, two are made on every turn: the recommended trainings
    meet the constraints stated so far (when the catalogue has a training that does), and the
    answer does not repeat a line of the previous answer word for word.
    """
    conversations = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    kb = assistant.knowledge()
    fields: dict[str, list[bool]] = defaultdict(list)
    turns_ok: list[bool] = []
    conversations_ok: list[bool] = []
    by_class: dict[str, list[bool]] = defaultdict(list)
    failures: list[dict[str, Any]] = []
    for conversation in conversations:
        conversation_id = None
        previous = None
        shown = None  # the last answer that showed trainings
        expected_constraints: dict[str, Any] = {}
        expected_job: str | None = None
        all_ok = True
        for number, turn in enumerate(conversation["turns"], start=1):
            answer = assistant.answer(turn["say"], conversation_id=conversation_id)
            conversation_id = answer.conversation_id
            expect = turn.get("expect") or {}
            for name in _CONSTRAINT_FIELDS:
                if name in expect:
                    expected_constraints[name] = expect[name]
            wrong: list[str] = []
            wanted = Profile(**{k: v for k, v in expected_constraints.items() if v not in (None, [])})
            context = (wanted, expect.get("job", expected_job))
            for name, want in expect.items():
                ok = _check_turn(name, want, answer, kb, shown, context)
                fields[name].append(ok)
                if not ok:
                    wrong.append(name)
            if "job" in expect:
                expected_job = expect["job"]
            if answer.trainings and not expect.get("nothing_fits") and not expect.get("cheaper_than_before") and not expect.get("shorter_than_before"):
                # Counted when possible: a catalogue training suits the learners and the constraints.
                if any(_suits(t, wanted, expected_job) for t in kb.trainings.values()):
                    ok = all(not violations(kb.trainings[t.id], wanted) for t in answer.trainings if t.id in kb.trainings)
                    fields["constraints_in_trainings"].append(ok)
                    if not ok:
                        wrong.append("constraints_in_trainings")
            if previous is not None and previous.answered and answer.answered:
                ok = not (_own_lines(answer.answer) & _own_lines(previous.answer))
                fields["no_repetition"].append(ok)
                if not ok:
                    wrong.append("no_repetition")
            turns_ok.append(not wrong)
            all_ok = all_ok and not wrong
            if wrong:
                failures.append({
                    "id": f"{conversation['id']}#{number}", "say": turn["say"], "wrong": wrong,
                    "profile": answer.profile.model_dump(exclude_defaults=True),
                })
            previous = answer
            if answer.trainings:
                shown = answer
        conversations_ok.append(all_ok)
        for name in conversation.get("classes", []):
            by_class[name].append(all_ok)

    def mean(values: list[bool]) -> float | None:
        return round(sum(values) / len(values), 3) if values else None

    return {
        "conversations": len(conversations),
        "turns": len(turns_ok),
        "turns_right": mean(turns_ok),
        "conversations_right": mean(conversations_ok),
        "fields": {name: {"accuracy": mean(v), "checks": len(v)} for name, v in sorted(fields.items())},
        "classes": {name: {"conversations_right": mean(v), "conversations": len(v)} for name, v in sorted(by_class.items())},
        "failures": failures,
    }


def format_conversations(report: dict[str, Any], *, failures: bool = True) -> str:
    lines = [
        f"Conversations : {report['conversations']} ({report['turns']} tours)",
        f"{'tours entièrement justes':38} {_pct(report['turns_right']):>9}",
        f"{'conversations justes à chaque tour':38} {_pct(report['conversations_right']):>9}",
        "",
        "par vérification :",
    ]
    for name, value in report["fields"].items():
        lines.append(f"{'  ' + name + ' (' + str(value['checks']) + ')':38} {_pct(value['accuracy']):>9}")
    lines.append("par classe (conversations justes) :")
    for name, value in report["classes"].items():
        lines.append(f"{'  ' + name + ' (' + str(value['conversations']) + ')':38} {_pct(value['conversations_right']):>9}")
    if failures and report["failures"]:
        lines.append("")
        lines.append(f"Tours en écart ({len(report['failures'])}) :")
        for f in report["failures"]:
            lines.append(f"- {f['id']} {', '.join(f['wrong'])} : « {f['say'][:90]} »")
    return "\n".join(lines)


def check_floors(report: dict[str, Any], path: Path, *, heldout: bool) -> list[str]:
    """The measures of ``report`` below the floors of a YAML file (empty when all hold).

    The file maps a set (``dev`` or ``heldout``) to dotted measure names and their floors,
    e.g. ``conversations.turns_right: 0.85``; floors are set from the held-out scores.
    """
    floors = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    failures = []
    for name, floor in (floors.get("heldout" if heldout else "dev") or {}).items():
        value: Any = report
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or float(value) < float(floor):
            failures.append(f"{name} = {value} < {floor}")
    return failures
