"""The `tracebot` command line.

Every command turns domain errors into a one-line reason on stderr and exit 1;
usage errors exit 2; no traceback reaches the user (set ``TRACEBOT_DEBUG=1`` to
see one).
"""

from __future__ import annotations

import getpass
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from bot.settings import Settings, load_settings
from storage.errors import StorageError
from storage.importers import ImportReport
from trace_engine import TraceError

if TYPE_CHECKING:
    from bot.service import Caller, TraceService
    from trace_engine.model import Answer

__all__ = ["app", "main"]

log = logging.getLogger("tracebot")

app = typer.Typer(
    name="tracebot",
    help="TraceBot: lot traceability for food and manufacturing plants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Load data into the database.", no_args_is_help=True)
app.add_typer(import_app, name="import")

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (overrides TRACEBOT_DATABASE_URL), e.g. sqlite:///plant.db",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class Failure(Exception):
    """A reason to stop with exit 1, shown to the user as one line."""


@app.callback()
def _root(ctx: typer.Context, db: DbOption = None) -> None:
    ctx.obj = db


def _settings(ctx: typer.Context, db: str | None) -> Settings:
    chosen = db or ctx.obj
    return load_settings(database_url=chosen) if chosen else load_settings()


@app.command()
def init(ctx: typer.Context, db: DbOption = None) -> None:
    """Create or upgrade the database schema (idempotent)."""
    from storage.db import init_schema

    settings = _settings(ctx, db)
    before, after = init_schema(settings.database_url)
    if before == after:
        stdout.print(f"Schema is up to date (revision {after}).")
    elif before is None:
        stdout.print(f"Created the schema (revision {after}).")
    else:
        stdout.print(f"Upgraded the schema from revision {before} to {after}.")


@import_app.command("csv")
def import_csv(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder holding the CSV files.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    user: Annotated[str, typer.Option("--user", help="Who imports, for the audit log.")] = "cli",
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Past data: its irregularities are recorded and summed up in one alert, "
            "not posted one by one (a plant's first import is history anyway).",
        ),
    ] = False,
) -> None:
    """Load CSV files (items, parties, lots, receipts, consumption, shipments, qc...)."""
    from storage.importers.csv_import import import_csv_dir

    settings = _settings(ctx, db)
    try:
        with _progress_bar() as progress:
            report = import_csv_dir(
                settings.database_url,
                directory,
                actor=user,
                progress=progress,
                history=True if history else None,
                horizon=settings.alert_horizon,
            )
    except FileNotFoundError as err:
        raise Failure(str(err)) from err
    if as_json:
        print(json.dumps(report.as_dict()))
    else:
        _print_report(report)
    if report.rejected:
        count = len(report.rejected)
        raise Failure(f"{count} row{'s' if count != 1 else ''} rejected; the other rows loaded.")


@import_app.command("epcis")
def import_epcis_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An EPCIS 2.0 JSON or JSON-LD document.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    user: Annotated[str, typer.Option("--user", help="Who imports, for the audit log.")] = "cli",
) -> None:
    """Load a GS1 EPCIS 2.0 document (all or nothing; repeated events change nothing)."""
    from storage.importers.epcis import import_epcis, read_epcis

    settings = _settings(ctx, db)
    if not file.is_file():
        raise Failure(f"No such file: {file}")
    report = import_epcis(settings.database_url, read_epcis(file), source=file.name, actor=user)
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    _print_report(report)
    for warning in report.warnings:
        stderr.print(f"{file.name}: warning: {warning}", markup=False, highlight=False)
    stdout.print(
        f"{report.events} new event(s), {report.skipped_events} seen before; "
        f"{report.alerts} alert(s) raised"
        + (f"; {len(report.warnings)} warning(s)." if report.warnings else ".")
    )


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None] | None]:
    if not stderr.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        yield advance


def _print_report(report: ImportReport) -> None:
    table = Table(title="Import", title_justify="left")
    for column in ("file", "rows", "new", "updated", "unchanged", "rejected", "seconds"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for file in report.files:
        table.add_row(
            file.file,
            str(file.rows),
            str(file.inserted),
            str(file.updated),
            str(file.unchanged),
            str(len(file.rejected)),
            f"{file.seconds:.2f}",
        )
    stdout.print(table)
    for rejection in report.rejected:
        stderr.print(str(rejection), markup=False, highlight=False, soft_wrap=True)


@app.command()
def stats(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Count items, parties, lots, links, receipts, shipments, QC checks, holds, alerts."""
    from storage.stats import count_rows

    counts = count_rows(_settings(ctx, db).database_url)
    if as_json:
        print(json.dumps(counts))
        return
    table = Table(show_header=False)
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    stdout.print(table)


@app.command()
def demo(
    ctx: typer.Context,
    db: DbOption = None,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="Day the demo's dates are built around (YYYY-MM-DD); default: the day "
            "the demo was first loaded, or today.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load the demo plant (idempotent) and print questions to ask it."""
    from storage.demo_plant import EXAMPLE_QUESTIONS, load_demo

    settings = _settings(ctx, db)
    try:
        anchor_day = date.fromisoformat(anchor) if anchor else None
    except ValueError as err:
        raise typer.BadParameter(f"{anchor!r} is not a date (YYYY-MM-DD)") from err
    used, report = load_demo(settings.database_url, anchor=anchor_day)
    if report.rejected:
        _print_report(report)
        raise Failure("the demo plant did not load cleanly")
    loaded = sum(file.inserted for file in report.files)
    state = f"loaded ({loaded} rows)" if loaded else "already loaded"
    stdout.print(f"Demo plant {state} into {settings.database_url}, dated around {used}.")
    stdout.print("Ask it, for example:")
    for question in EXAMPLE_QUESTIONS:
        stdout.print(f'  tracebot ask "{question}"', markup=False, highlight=False)


TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today", help="Resolve dates against this day (YYYY-MM-DD).", show_default=False
    ),
]


ConversationOption = Annotated[
    bool,
    typer.Option(
        "--conversation",
        help="Treat the stdin lines as one conversation: a follow-up reuses the lots before it.",
    ),
]


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--today"
        ) from err


def _questions(question: str | None) -> list[str]:
    if question is not None:
        return [question]
    return [line.strip() for line in sys.stdin if line.strip()]


UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        help="Who asks, for permission and the audit log (default: your login name).",
        show_default=False,
    ),
]


def _caller(user: str | None) -> Caller:
    from bot.service import Caller

    return Caller("cli", user or getpass.getuser())


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[
        str | None, typer.Argument(help="The question; without it, one question a line from stdin.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    today: TodayOption = None,
    user: UserOption = None,
    conversation: ConversationOption = False,
    sku: Annotated[
        str | None,
        typer.Option(
            "--sku", help="The item, where two items share the lot code.", show_default=False
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Confirm a hold, release or recall without asking.")
    ] = False,
) -> None:
    """Answer a question about the plant's lots."""
    from bot.service import TraceService

    settings = _settings(ctx, db)
    day = _today(today)
    questions = _questions(question)
    caller = _caller(user)
    session = f"cli:{uuid.uuid4().hex}"  # this run's own conversation
    # One question reaches a small part of the plant: load only that (preload=False).
    service = TraceService.open(
        settings.database_url, admins=settings.admin_list, preload=len(questions) > 200
    )
    # A prompt only where a person can answer it: one question, typed at a terminal.
    prompt = question is not None and sys.stdin.isatty() and sys.stdout.isatty() and not as_json
    failed = []
    for text in questions:
        answer = service.ask(
            text,
            today=day,
            caller=caller,
            conversation=session if conversation else None,
            sku=sku,
        )
        answer, _ = _settle(service, answer, caller, yes=yes, prompt=prompt)
        if as_json:
            print(json.dumps(answer.as_dict(), ensure_ascii=False), flush=True)
        else:
            print(answer.text + ("\n" if len(questions) > 1 else ""), flush=True)
        if not answer.ok:
            failed.append(answer)
    if failed:
        first = failed[0]
        reason = first.data.get("reason") or first.text.splitlines()[0]
        if reason == "confirm":
            reason = "nothing changed: add --yes to confirm"
        more = f" ({len(failed)} of {len(questions)} questions)" if len(questions) > 1 else ""
        raise Failure(f"{reason}{more}")


@app.command("parse")
def parse_command(
    ctx: typer.Context,
    text: Annotated[
        str | None, typer.Argument(help="The text; without it, one text a line from stdin.")
    ] = None,
    today: TodayOption = None,
    db: DbOption = None,
    conversation: ConversationOption = False,
) -> None:
    """Print how a question is understood, as JSON (no database needed).

    With --db, party and item names are resolved against that database's names.
    """
    from intents.model import Intent
    from intents.text import Gazetteer, Parser, clarifying_question

    gazetteer = None
    if db or ctx.obj:
        from storage import load_genealogy

        genealogy = load_genealogy(_settings(ctx, db).database_url, preload=False)
        gazetteer = Gazetteer.of(
            [(p.name, p.kind) for p in genealogy.parties()], [i.name for i in genealogy.items()]
        )
    parser = Parser(gazetteer)
    day = _today(today)
    context: Intent | None = None
    for line in _questions(text):
        intent = parser.parse(line, today=day, context=context)
        if conversation and intent.intent not in ("unknown", "help"):
            context = intent
        print(json.dumps(intent.as_dict() | {"clarify": clarifying_question(intent)}), flush=True)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0: any free one).")
    ] = 8000,
    db: DbOption = None,
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode",
            help="Connect out to Slack over Socket Mode (SLACK_APP_TOKEN) instead of "
            "taking Slack's requests at POST /slack/events: for plants without a public URL.",
        ),
    ] = False,
) -> None:
    """Run the web app: Slack, REST API (events, EPCIS capture), liveness; alerts to Slack."""
    import uvicorn

    from bot.http import create_app

    settings = _settings(ctx, db)
    from storage.db import require_schema

    require_schema(settings.database_url)
    try:
        web = create_app(settings, socket_mode=socket_mode)
    except ValueError as err:
        raise Failure(str(err)) from err
    uvicorn.run(web, host=host, port=port, log_level="info")


def _settle(
    service: TraceService, answer: Answer, caller: Caller, *, yes: bool, prompt: bool
) -> tuple[Answer, dict[str, Any] | None]:
    """A change asked for, made with ``--yes`` or a yes at the prompt, else cancelled
    at the prompt (or left waiting where nobody can be asked); and what was asked."""
    pending = answer.data.get("confirm") if answer.data.get("reason") == "confirm" else None
    if pending is not None and (yes or prompt):
        if yes or typer.confirm(answer.text.replace("`", ""), default=False):
            answer = service.confirm(pending["token"], caller=caller)
        else:
            answer = service.cancel(pending["token"], caller=caller)
            answer = replace(answer, ok=False, data=answer.data | {"reason": "not confirmed"})
    return answer, pending


def _until(value: str, now: datetime) -> datetime:
    """A snooze's end: "4h", "30m", "2d" from now, or a date-time (UTC unless it says).

    Example:
        >>> _until("4h", datetime(2026, 12, 2, 9, 0)), _until("2026-12-03 07:00", datetime(2026, 12, 2))
        (datetime.datetime(2026, 12, 2, 13, 0), datetime.datetime(2026, 12, 3, 7, 0))
    """
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", value.lower())
    if found:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[found.group(2)]
        return now + timedelta(**{unit: float(found.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Failure(
            f"--until {value!r}: give a time from now (4h, 30m, 2d) or a date-time "
            "(2026-12-03 07:00, UTC)"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@app.command()
def alerts(
    ctx: typer.Context,
    db: DbOption = None,
    as_json: JsonOption = False,
    history: Annotated[
        bool, typer.Option("--history", help="The irregularities recorded as history.")
    ] = False,
    every: Annotated[
        bool,
        typer.Option("--all", help="Every problem, acknowledged, snoozed and resolved too."),
    ] = False,
    ack: Annotated[
        int | None,
        typer.Option("--ack", help="Acknowledge alert ID.", metavar="ID", show_default=False),
    ] = None,
    snooze: Annotated[
        int | None,
        typer.Option(
            "--snooze", help="Snooze alert ID (with --until).", metavar="ID", show_default=False
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Snooze until: 4h, 30m, 2d or a UTC date-time."),
    ] = None,
    resolve: Annotated[
        int | None,
        typer.Option(
            "--resolve", help="Resolve alert ID (with --note).", metavar="ID", show_default=False
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="What was done, for --resolve.")
    ] = None,
    user: UserOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Confirm the change without asking.")
    ] = False,
) -> None:
    """List open alerts, one per problem (failed QC checks and other irregularities),
    newest first, with their state and who changed it; with --history, those found in
    past data; with --ack, --snooze or --resolve, change one (confirmed, audited)."""
    settings = _settings(ctx, db)
    changes = [
        (name, alert_id)
        for name, alert_id in (("acknowledge", ack), ("snooze", snooze), ("resolve", resolve))
        if alert_id is not None
    ]
    if len(changes) > 1:
        raise Failure("give one of --ack, --snooze and --resolve")
    if changes:
        _change_alert(
            settings, *changes[0], until=until, note=note, user=user, yes=yes, as_json=as_json
        )
        return
    from storage.alerts import STATES, open_alerts

    states = [s for s in STATES if s != "history"] if every else None
    found = open_alerts(settings.database_url, history=history, states=states)
    if as_json:
        print(json.dumps(found))
        return
    if not found:
        stdout.print("No irregularities in past data." if history else "No open alerts.")
    for alert in found:
        more = alert["consequences"]
        also = f" (+{more} more in its thread)" if more else ""
        state = ""
        if alert["state"] not in ("open", "history"):
            state = f" [{alert['state']} by {alert['state_by']}"
            if alert["state"] == "snoozed" and alert["snoozed_until"]:
                state += f" until {alert['snoozed_until'][:16].replace('T', ' ')} UTC"
            if alert["state"] == "resolved" and alert["note"]:
                state += f": {alert['note']}"
            state += "]"
        stdout.print(
            f"#{alert['id']} {alert['created_at'][:16]} {alert['kind']}: {alert['message']}{also}{state}",
            markup=False,
            highlight=False,
        )


def _change_alert(
    settings: Settings,
    action: str,
    alert_id: int,
    *,
    until: str | None,
    note: str | None,
    user: str | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Acknowledge, snooze or resolve one alert through the service: asked, then
    confirmed (--yes, or a prompt at a terminal), audited."""
    from bot.service import TraceService

    if action == "snooze" and until is None:
        raise Failure("--snooze needs --until (4h, 30m, 2d or a UTC date-time)")
    now = datetime.now(UTC).replace(tzinfo=None)
    service = TraceService.open(settings.database_url, admins=settings.admin_list, preload=False)
    caller = _caller(user)
    answer = service.alert_request(
        action,
        alert_id,
        caller=caller,
        until=_until(until, now) if until else None,
        note=note,
        now=now,
    )
    prompt = sys.stdin.isatty() and sys.stdout.isatty() and not as_json
    answer, pending = _settle(service, answer, caller, yes=yes, prompt=prompt)
    if as_json:
        print(json.dumps(answer.as_dict(), ensure_ascii=False), flush=True)
    else:
        print(answer.text, flush=True)
    if not answer.ok or (pending is not None and not (yes or prompt)):
        reason = answer.data.get("reason") or answer.text
        raise Failure("nothing changed: add --yes to confirm" if reason == "confirm" else reason)


@app.command()
def chat(
    ctx: typer.Context,
    db: DbOption = None,
    today: TodayOption = None,
    user: UserOption = None,
) -> None:
    """Chat with TraceBot in the terminal (empty line or Ctrl-D to leave)."""
    from bot.render.terminal import to_rich
    from bot.service import TraceService

    settings = _settings(ctx, db)
    service = TraceService.open(settings.database_url, admins=settings.admin_list)
    caller = _caller(user)
    session = f"chat:{uuid.uuid4().hex}"  # a "yes" here confirms only what this chat asked
    stdout.print("Ask about a lot, for example: who got lot 4471?  (empty line to leave)")
    while True:
        try:
            text = stdout.input("[bold]you>[/bold] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not text:
            break
        answer = service.ask(text, today=_today(today), caller=caller, conversation=session)
        stdout.print(to_rich(answer.text), highlight=False)


@app.command("scan")
def scan_command(
    ctx: typer.Context,
    images: Annotated[list[Path], typer.Argument(help="Photos of labels.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    today: TodayOption = None,
) -> None:
    """Read the barcodes in label photos and answer about the lots they name (without a
    database the photos are decoded all the same, and no lookup is made)."""
    from bot.service import TraceService
    from bot.service.scan import scan

    settings = _settings(ctx, db)
    service: TraceService | None = None
    reason = ""
    try:
        service = TraceService.open(settings.database_url, preload=False)
    except StorageError as err:  # no schema yet, or no server: decoding needs neither
        reason = str(err).rstrip(".")
    failed = 0
    for image in images:
        try:
            data = image.read_bytes()
        except OSError as err:
            raise Failure(f"Cannot read {image}: {err.strerror}") from err
        if service is not None:
            result = service.scan(data, today=_today(today))
        else:
            result = scan(None, data, today=_today(today), reason=reason)
        if as_json:
            print(json.dumps(result.as_dict(str(image)), ensure_ascii=False), flush=True)
        else:
            formats = ", ".join(f"{b.format} {b.text!r}" for b in result.barcodes) or "no barcode"
            stdout.print(f"{image}: {formats}", markup=False, highlight=False)
            stdout.print(result.answer.text + "\n", markup=False, highlight=False)
        # Without a database, a photo decoded is what could be done.
        done = result.answer.ok or (not result.looked_up and bool(result.barcodes))
        failed += not done
    if failed:
        raise Failure(f"{failed} of {len(images)} photo(s) gave no answer.")


@app.command("listen")
def listen_command(
    ctx: typer.Context,
    recordings: Annotated[list[Path], typer.Argument(help="WAV recordings of spoken questions.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    today: TodayOption = None,
    user: UserOption = None,
) -> None:
    """Transcribe spoken questions offline (pocketsphinx) and answer them, in order, as
    one conversation (a recorded "yes" confirms the hold recorded before it)."""
    from bot.listen import Hearing, SpeechError
    from bot.service import TraceService

    settings = _settings(ctx, db)
    service = TraceService.open(settings.database_url, admins=settings.admin_list, preload=False)
    hearing = Hearing(service)
    caller = _caller(user)
    # The recordings are one conversation: "put 4471 on hold" then "yes" holds it.
    session = f"listen:{uuid.uuid4().hex}"
    failed = 0
    for recording in recordings:
        try:
            answer = hearing.answer(
                recording.read_bytes(), today=_today(today), caller=caller, conversation=session
            )
        except OSError as err:
            raise Failure(f"Cannot read {recording}: {err.strerror}") from err
        except SpeechError as err:
            raise Failure(f"{recording}: {err}") from err
        transcript = answer.query.get("transcript", "")
        if as_json:
            print(json.dumps(answer.as_dict() | {"transcript": transcript}), flush=True)
        else:
            stdout.print(f"{recording}: heard {transcript!r}", markup=False, highlight=False)
            stdout.print(answer.text + "\n", markup=False, highlight=False)
        failed += not answer.ok
    if failed:
        raise Failure(f"{failed} of {len(recordings)} recording(s) gave no answer.")


export_app = typer.Typer(help="Write a trace to a file.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("fsma")
def export_fsma(
    ctx: typer.Context,
    lots: Annotated[list[str], typer.Argument(help="Lot codes to trace.")],
    out: Annotated[Path, typer.Option("--out", help="The .csv or .xlsx file to write.")],
    db: DbOption = None,
) -> None:
    """Write the FDA FSMA 204 sortable spreadsheet of the trace of LOTS."""
    from bot.export import write_fsma
    from storage import load_genealogy

    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter("use a .csv or .xlsx file name", param_hint="--out")
    genealogy = load_genealogy(_settings(ctx, db).database_url, preload=False)
    try:
        count = write_fsma(genealogy, lots, out)
    except TraceError as err:
        raise Failure(str(err)) from err
    stdout.print(f"Wrote {count} critical tracking events to {out}.")


@export_app.command("epcis")
def export_epcis_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The .jsonld (or .json) file to write.")],
    lots: Annotated[list[str] | None, typer.Argument(help="Lot codes to trace.")] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Export every lot of the plant.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Write the trace of LOTS (or, with --all, the whole plant) as an EPCIS 2.0 JSON-LD document."""
    from storage.epcis_export import export_epcis

    if not lots and not everything:
        raise typer.BadParameter("name lots to trace, or --all", param_hint="LOTS")
    try:
        document = export_epcis(_settings(ctx, db).database_url, None if everything else lots)
    except TraceError as err:
        raise Failure(str(err)) from err
    out.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    count = len(document["epcisBody"]["eventList"])
    stdout.print(f"Wrote {count} EPCIS events to {out}.")


@app.command()
def diagram(
    ctx: typer.Context,
    lots: Annotated[list[str], typer.Argument(help="Lot codes to draw.")],
    out: Annotated[Path, typer.Option("--out", help="The .png or .svg file to write.")],
    db: DbOption = None,
) -> None:
    """Draw the lineage diagram of LOTS: suppliers left, lots, customers right."""
    from bot.export import DiagramError, render_diagram
    from storage import load_genealogy

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise typer.BadParameter("use a .png or .svg file name", param_hint="--out")
    genealogy = load_genealogy(_settings(ctx, db).database_url, preload=False)
    try:
        out.write_bytes(render_diagram(genealogy, lots, fmt))
    except (TraceError, DiagramError) as err:
        raise Failure(str(err)) from err
    stdout.print(f"Wrote the lineage diagram to {out}.")


def main() -> None:
    """Entry point of the `tracebot` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(prog_name="tracebot")
    except (Failure, StorageError) as err:
        stderr.print(f"tracebot: {err}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:
        log.debug("unexpected error", exc_info=True)
        if load_settings().debug:
            raise
        stderr.print(
            f"tracebot: unexpected error ({type(err).__name__}: {err}); "
            "set TRACEBOT_DEBUG=1 for details.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
