"""The ``orientia`` command: serve, ingest, ask, eval, bench."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(help="Orientia : l'assistant compétences IA des Hauts-de-France.", no_args_is_help=True)


def _settings(**overrides):
    from assistant import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)


def _logging(level: str) -> None:
    from .logs import configure

    configure(level)


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\rEmbeddings : [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _ensure_index(assistant) -> None:
    if assistant.index.is_empty():
        from ingest import ingest

        typer.echo("Première utilisation : import des connaissances embarquées…", err=True)
        ingest([assistant.settings.bundled_knowledge], assistant.index, progress=_progress)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int | None, typer.Option(help="Processus de l'application (plus d'un : serveur Chroma requis, ORIENTIA_CHROMA_URL)", min=1, max=64)] = None,
) -> None:
    """Start the web app (ingests the bundled knowledge on first start)."""
    import uvicorn

    from .server import uvicorn_options

    settings = _settings(host=host, port=port, workers=workers)
    _logging(settings.log_level)
    log = logging.getLogger(__name__)
    if settings.workers == 1:
        from .app import create_app

        log.info("Orientia on http://%s:%d (data in %s)", settings.host, settings.port, settings.data_dir)
        uvicorn.run(create_app(settings), **uvicorn_options(settings))
        return
    if not settings.chroma_url:
        typer.echo(
            f"--workers {settings.workers} : plusieurs processus ne peuvent pas partager la base Chroma "
            "embarquée. Lancez un serveur Chroma (chroma run) et indiquez-le dans ORIENTIA_CHROMA_URL, "
            "ou servez avec un seul processus (voir docs/deployment.md).",
            err=True,
        )
        raise typer.Exit(2)
    if not settings.database_url:
        log.warning(
            "%d workers share the SQLite file of %s: fine on one machine; use PostgreSQL "
            "(ORIENTIA_DATABASE_URL) for several machines", settings.workers, settings.data_dir,
        )
    # Each worker process builds its app from the environment: pass the command-line values on.
    for name, value in (("HOST", settings.host), ("PORT", settings.port), ("WORKERS", settings.workers)):
        os.environ[f"ORIENTIA_{name}"] = str(value)
    log.info(
        "Orientia on http://%s:%d with %d workers (Chroma server %s)",
        settings.host, settings.port, settings.workers, settings.chroma_url,
    )
    uvicorn.run(
        "web.app:app_from_environment", factory=True, workers=settings.workers,
        **{**uvicorn_options(settings), "http": "web.server:HeaderTimeoutProtocol"},
    )


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Fichiers ou dossiers (par défaut : les connaissances embarquées et les documents importés par l'administration)")] = None,
    check: Annotated[bool, typer.Option("--check", help="Valider sans écrire l'index")] = False,
    save_vectors: Annotated[bool, typer.Option("--save-vectors", help="Enregistrer les vecteurs dans knowledge/vectors (développement)")] = False,
) -> None:
    """Validate files and publish them as the new index version."""
    from ingest import IngestError, ingest
    from ingest import check as check_files

    settings = _settings()
    _logging(settings.log_level)
    targets = list(paths or [settings.bundled_knowledge])
    if check:
        result = check_files(targets)
        for problem in result.problems + result.notices:
            typer.echo(f"- {problem}")
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(result.counts().items()))
        typer.echo(f"{result.files} fichiers, {counts} ; {len(result.problems)} problème(s).")
        raise typer.Exit(1 if result.problems else 0)
    from assistant import Index, OrientiaError

    index = Index(settings)
    try:
        if paths:
            report = ingest(targets, index, progress=_progress)
        else:
            report = _ingest_library(settings, index)
    except IngestError as exc:
        typer.echo("Import refusé, rien n'a été écrit ; l'index précédent reste en service :", err=True)
        for problem in exc.problems:
            typer.echo(f"- {problem}", err=True)
        raise typer.Exit(1) from None
    except OrientiaError as exc:  # a full disk, another import under way, a server down
        typer.echo(f"Import échoué : {exc.message}", err=True)
        raise typer.Exit(1) from None
    if save_vectors:
        typer.echo(f"Vecteurs enregistrés dans {index.save_seed()}")
    typer.echo(
        f"Index version {report.version} : {report.records} enregistrements, {report.chunks} passages "
        f"({report.embedded} calculés, {report.reused} réutilisés) en {report.seconds:.1f} s."
    )


def _ingest_library(settings, index):
    """The bundled knowledge plus the documents admins uploaded (the content the server serves)."""
    from ingest.library import Upload, build

    from .admin import Library

    library = Library(index.store.engine, settings.uploads_path)
    rows = sorted(library.documents(statuses=("active",)), key=lambda r: r["id"])
    uploads = [Upload(id=r["id"], path=library.path_of(r), filename=r["filename"]) for r in rows]
    result = build(settings.bundled_knowledge, uploads, index, on_progress=lambda s: s.passages_total and _progress(s.passages_done, s.passages_total))
    library.record_version(result.report.version, sorted(result.documents))
    return result.report


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="La question")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (le format de POST /api/ask)")] = False,
    conversation: Annotated[str | None, typer.Option(help="Identifiant de conversation")] = None,
) -> None:
    """Ask a question from the command line."""
    from assistant import Assistant, OrientiaError

    settings = _settings()
    _logging("WARNING")
    assistant = Assistant(settings)
    _ensure_index(assistant)
    try:
        answer = assistant.answer(question, conversation_id=conversation)
    except OrientiaError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources :")
        for n, c in enumerate(answer.citations, start=1):
            typer.echo(f"[{n}] {c.title} — {c.source} ({c.id})")


@app.command("eval")
def eval_command(
    questions: Annotated[Path | None, typer.Option(help="Jeu de questions YAML")] = None,
    conversations: Annotated[Path | None, typer.Option(help="Jeu de conversations YAML")] = None,
    heldout: Annotated[bool, typer.Option("--heldout", help="Les jeux tenus à l'écart (jamais utilisés pour régler)")] = False,
    gate: Annotated[Path | None, typer.Option(help="Seuils YAML : échoue (code 1) sous un seuil")] = None,
    baseline: Annotated[bool, typer.Option(help="Comparer à une recherche dense seule (LangChain)")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Measure single questions and multi-turn conversations; optionally gate on floors."""
    from assistant import Assistant
    from assistant.evaluation import (
        check_floors,
        format_conversations,
        format_report,
        run_conversations,
        run_eval,
    )

    folder = Path("tests/eval")
    questions = questions or folder / ("heldout.yaml" if heldout else "questions.yaml")
    conversations = conversations or folder / ("conversations_heldout.yaml" if heldout else "conversations.yaml")
    settings = _settings()
    _logging("WARNING")
    assistant = Assistant(settings)
    assistant.observing = False  # evaluation questions are not the region's questions
    _ensure_index(assistant)
    report = {"questions": run_eval(assistant, questions, baseline=baseline)}
    if conversations.exists():
        report["conversations"] = run_conversations(assistant, conversations)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(f"== {questions}")
        # The held-out sets print their scores only: their questions are never read to tune.
        typer.echo(format_report(report["questions"], failures=not heldout))
        if "conversations" in report:
            typer.echo(f"\n== {conversations}")
            typer.echo(format_conversations(report["conversations"], failures=not heldout))
    if gate is not None:
        failures = check_floors(report, gate, heldout=heldout)
        for line in failures:
            typer.echo(f"SOUS LE SEUIL : {line}", err=True)
        if failures:
            raise typer.Exit(1)
        typer.echo(f"Seuils de {gate} respectés.")


@app.command()
def bench(
    rounds: Annotated[int, typer.Option(help="Passes sur les questions (la meilleure par question est aussi retenue)")] = 5,
    concurrency: Annotated[int, typer.Option(help="Requêtes simultanées pour la mesure en charge")] = 4,
    questions: Annotated[Path, typer.Option(help="Jeu de questions YAML")] = Path("tests/eval/questions.yaml"),
    http: Annotated[bool, typer.Option(help="Mesurer aussi par HTTP avec 1, 10 et 50 clients simultanés")] = True,
    levels: Annotated[str, typer.Option(help="Nombres de clients simultanés de la mesure HTTP")] = "1,10,50",
    workers: Annotated[str, typer.Option(help="Processus de l'application mesurés par HTTP (au-delà de 1 : avec un serveur Chroma)")] = "1",
    scaling: Annotated[bool, typer.Option(help="Mesurer la recherche sur des index synthétiques de 1 000 et 10 000 passages")] = True,
    large: Annotated[bool, typer.Option(help="Ajouter un index synthétique de 100 000 passages (plusieurs minutes)")] = False,
    ingest_pages: Annotated[int, typer.Option(help="Mesurer aussi l'import d'un document de N pages (lent : 0 pour ne pas le faire)", min=0)] = 0,
    first_start: Annotated[bool, typer.Option(help="Mesurer le premier démarrage sur un dossier de données vide")] = True,
) -> None:
    """Measure answer latency (alone, concurrent, over HTTP), index scaling, ingest speed and memory."""
    from assistant import Assistant
    from assistant.benchmark import format_bench, format_scaling, run_bench, run_scaling
    from assistant.evaluation import load_questions

    settings = _settings()
    _logging("WARNING")
    if first_start:
        from ingest.bench import format_first_start, run_first_start

        typer.echo(format_first_start(run_first_start(settings)))
    if ingest_pages:
        from ingest.bench import format_ingest_bench, run_ingest_bench

        typer.echo(format_ingest_bench(run_ingest_bench(settings, pages=ingest_pages)))
    assistant = Assistant(settings)
    assistant.observing = False  # benchmark questions are not the region's questions
    _ensure_index(assistant)
    if http:
        from .loadtest import format_load, run_load

        # The server process opens the index itself: this process lets go of it meanwhile.
        assistant.index.close()
        first_turns = [q["question"] for q in load_questions(questions) if not q.get("follows")]
        counts = tuple(int(n) for n in levels.split(",") if n.strip())
        for count in (int(n) for n in workers.split(",") if n.strip()):
            typer.echo(format_load(run_load(settings.data_dir, first_turns, levels=counts, workers=count)))
        assistant = Assistant(settings)
        assistant.observing = False
    typer.echo(format_bench(run_bench(assistant, questions, rounds=rounds, concurrency=concurrency)))
    if scaling:
        sizes = (1_000, 10_000, 100_000) if large else (1_000, 10_000)
        typer.echo(format_scaling(run_scaling(sizes)))


@app.command()
def demo(
    conversations: Annotated[Path, typer.Option(help="Conversations à jouer (YAML)")] = Path("docs/demo-conversations.yaml"),
    out: Annotated[Path, typer.Option(help="Fichier Markdown écrit")] = Path("docs/conversations.md"),
) -> None:
    """Play the README's persona conversations and write them as Markdown."""
    import yaml

    from assistant import Assistant

    settings = _settings()
    _logging("WARNING")
    assistant = Assistant(settings)
    assistant.observing = False  # demonstration questions are not the region's questions
    _ensure_index(assistant)
    parts = [
        "# Conversations d'exemple",
        "",
        "Produites par le code actuel avec `orientia demo` (rédacteur par défaut, sans LLM), une",
        "conversation par persona. Les numéros renvoient aux sources listées sous chaque réponse ;",
        "« exemple de formation » signale une offre illustrative.",
    ]
    for item in yaml.safe_load(conversations.read_text(encoding="utf-8")):
        parts += ["", f"## {item['persona']}"]
        conversation_id = None
        for question in item["turns"]:
            answer = assistant.answer(question, conversation_id=conversation_id)
            conversation_id = answer.conversation_id
            parts += ["", f"**« {question} »**", "", "```text", answer.answer]
            if answer.clarify:
                parts.append("Choix proposés : " + " | ".join(answer.clarify.choices))
            if answer.citations:
                parts.append("")
                parts.append("Sources :")
                for n, c in enumerate(answer.citations, start=1):
                    link = f" <{c.url}>" if c.url else ""
                    parts.append(f"[{n}] {c.title} — {c.source}{link}")
            parts.append("```")
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    typer.echo(f"Écrit : {out}")


admin_app = typer.Typer(help="Comptes administrateurs et jetons d'API (fonctionne aussi pendant que le serveur tourne).", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def _accounts():
    from assistant.store import Store

    from .admin import Accounts

    settings = _settings()
    return Accounts(Store(settings.sqlalchemy_url, connect_seconds=settings.database_connect_seconds).engine)


def _new_password(password: str | None) -> str:
    if password is None:
        password = typer.prompt("Mot de passe (10 caractères au moins)", hide_input=True, confirmation_prompt="Confirmez le mot de passe")
    return password


@admin_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option("--username", "-u", help="Identifiant")] = "admin",
    password: Annotated[str | None, typer.Option(help="Mot de passe (demandé s'il est omis ; préférez la saisie masquée)")] = None,
) -> None:
    """Create an admin account (the password is asked for, hidden)."""
    accounts = _accounts()
    try:
        accounts.create_user(username, _new_password(password))
    except ValueError as exc:
        typer.echo(f"Refusé : {exc}.", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Compte « {username} » créé.")


@admin_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="Identifiant")] = "admin",
    password: Annotated[str | None, typer.Option(help="Nouveau mot de passe (demandé s'il est omis)")] = None,
) -> None:
    """Set a new password for an admin account (its open sessions are closed)."""
    accounts = _accounts()
    try:
        accounts.reset_password(username, _new_password(password))
    except ValueError as exc:
        typer.echo(f"Refusé : {exc}.", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Mot de passe de « {username} » changé ; ses sessions ouvertes sont fermées.")


@admin_app.command("create-token")
def create_token(
    label: Annotated[str, typer.Option(help="Libellé du jeton (à quoi il sert)")] = "",
) -> None:
    """Create an API token for /api/admin/ and print it alone on the last line (shown once)."""
    token_id, token = _accounts().create_token(label)
    typer.echo(f"Jeton d'API n° {token_id} créé. Conservez-le : il ne sera plus affiché.", err=True)
    typer.echo(token)


def main() -> None:
    from assistant.store import DatabaseUnavailable

    try:
        app()
    except DatabaseUnavailable as exc:
        # Already retried for ORIENTIA_DATABASE_CONNECT_SECONDS: say where, not a traceback.
        typer.echo(exc.message, err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
