"""Acting on items: progress, submit, sign-off, return, cancel, extensions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import CliError, console, open_session, resolve_now, settings
from cli.options import NowOption
from cli.words import _, reason_text
from models.approvals import Chosen, check_request, decide
from models.attachments import AttachmentStore, StoredFile, apply_with_files
from models.lifecycle import TRANSITIONS, Action, item_ref
from models.queries import find_item, find_person

ItemArg = Annotated[str, typer.Argument(metavar="ITEM", help="DOCUMENT/NUMBER (e.g. 新时代意见/12) or id.")]
ByOption = Annotated[str, typer.Option("--by", help="Email of the person acting.")]
FileOption = Annotated[list[Path] | None, typer.Option(
    "--file", help="An evidence file (PDF, OFD, image, Office/WPS, zip); repeat for several.")]


def register(app: typer.Typer) -> None:
    app.command("progress")(progress)
    app.command("submit")(submit)
    app.command("sign-off")(sign_off)
    app.command("return")(return_)
    app.command("cancel")(cancel)
    app.command("acknowledge")(acknowledge)
    app.command("urge")(urge)
    extension = typer.Typer(help="Ask for, approve or reject a new deadline.", no_args_is_help=True)
    extension.command("request")(extension_request)
    extension.command("approve")(extension_approve)
    extension.command("reject")(extension_reject)
    app.add_typer(extension, name="extension")


def act(ref: str, action: Action, by: str, now: str | None, files: list[Path] | None = None, **payload: Any) -> None:
    """Load, apply, commit once; a refusal raises and nothing is written (nor any file kept)."""
    at = resolve_now(now)
    with open_session() as session:
        item = find_item(session, ref)
        actor = find_person(session, by)
        store = AttachmentStore(settings().attachments_dir)
        received: list[tuple[Path, StoredFile]] = []
        try:
            for path in files or []:
                if not path.is_file():
                    raise CliError(_("no such file: {path}", path=path))
                received.append(store.receive(path, at, max_bytes=settings().attachment_max_mb * 1024 * 1024,
                                              kinds=settings().attachment_types))
            event = apply_with_files(session, item, action, actor, at, [checked for _path, checked in received], **payload)
            for incoming, checked in received:
                store.put(incoming, checked.sha256)
        finally:
            for incoming, _checked in received:
                incoming.unlink(missing_ok=True)
        session.commit()
        console.print(_("{ref}: {event} by {actor}; now {status}", ref=item_ref(session, item), event=_(event.kind),
                        actor=actor.email, status=_(item.status)), highlight=False)


def progress(
    item: ItemArg, by: ByOption, text: Annotated[str, typer.Option(help="What was done.")],
    percent: Annotated[int | None, typer.Option(min=0, max=100, help="Estimated completion, 0-100.")] = None,
    file: FileOption = None, now: NowOption = None,
) -> None:
    """Report progress on an item (lead unit or co-unit officers)."""
    act(item, Action.REPORT_PROGRESS, by, now, file, text=text, percent=percent)


def submit(item: ItemArg, by: ByOption, evidence: Annotated[str, typer.Option(help="What shows it is done.")],
           file: FileOption = None, now: NowOption = None) -> None:
    """Claim completion (lead unit officers); a supervisor then signs off or returns it."""
    act(item, Action.SUBMIT, by, now, file, evidence=evidence)


ItemsArg = Annotated[list[str], typer.Argument(metavar="ITEM...", help="One or more items: DOCUMENT/NUMBER or id.")]


def sign_off(items: ItemsArg, by: ByOption,
             comment: Annotated[str | None, typer.Option(help="One comment for every item.")] = None,
             now: NowOption = None) -> None:
    """Sign off submitted items (销号; supervisors and admins); several at once share one comment."""
    if len(items) == 1:
        act(items[0], Action.SIGN_OFF, by, now, comment=comment)
    else:
        decide_several(items, Action.SIGN_OFF, by, now, comment or "")


def return_(items: ItemsArg, by: ByOption,
            reason: Annotated[str, typer.Option(help="Why it is not done (one reason for every item).")],
            now: NowOption = None) -> None:
    """Return submitted items to their lead units with a reason."""
    if len(items) == 1:
        act(items[0], Action.RETURN, by, now, reason=reason)
    else:
        decide_several(items, Action.RETURN, by, now, reason)


def decide_several(refs: list[str], action: Action, by: str, now: str | None, text: str) -> None:
    """Each item as it is now, one by one (models/approvals.py); a line per item, exit 1 if any was not done."""
    at = resolve_now(now)
    with open_session() as session:
        check_request(action, refs, text)
        actor = find_person(session, by)
        items = [find_item(session, ref) for ref in refs]
        outcomes = decide(session, action, actor, at, [Chosen(i.id, i.version) for i in items], text)  # type: ignore[arg-type]
        session.commit()
    for outcome in outcomes:
        said = _(str(TRANSITIONS[action].event)) if outcome.done else reason_text(outcome.error, outcome.ref)  # type: ignore[arg-type]
        console.print(f"{outcome.ref}: {said}", highlight=False)
    if not all(outcome.done for outcome in outcomes):
        raise CliError(_("{n} of {total} items were not done (above, each with the reason)",
                         n=sum(not o.done for o in outcomes), total=len(outcomes)))


def cancel(item: ItemArg, by: ByOption, reason: Annotated[str, typer.Option()], now: NowOption = None) -> None:
    """Cancel an item (supervisors and admins; final)."""
    act(item, Action.CANCEL, by, now, reason=reason)


def extension_request(
    item: ItemArg, by: ByOption,
    to: Annotated[str, typer.Option("--to", help="The new deadline, e.g. 2024-09-30 or 2024年9月底.")],
    reason: Annotated[str, typer.Option()], now: NowOption = None,
) -> None:
    """Ask for a later deadline (lead unit officers)."""
    act(item, Action.REQUEST_EXTENSION, by, now, deadline=_deadline(to), reason=reason)


def extension_approve(item: ItemArg, by: ByOption, reason: Annotated[str | None, typer.Option()] = None,
                      now: NowOption = None) -> None:
    """Approve the waiting extension request: the deadline moves, the original is kept."""
    act(item, Action.APPROVE_EXTENSION, by, now, reason=reason)


def extension_reject(item: ItemArg, by: ByOption,
                     reason: Annotated[str, typer.Option(help="Why not (required; the lead unit is told).")],
                     now: NowOption = None) -> None:
    """Reject the waiting extension request, with a reason."""
    act(item, Action.REJECT_EXTENSION, by, now, reason=reason)


def acknowledge(item: ItemArg, by: ByOption, now: NowOption = None) -> None:
    """签收: the officer's unit acknowledges the item (reporting progress does so too)."""
    act(item, Action.ACKNOWLEDGE, by, now)


def urge(items: ItemsArg, by: ByOption,
         text: Annotated[str, typer.Option("--text", help="What the unit is urged to do (one message for every item).")],
         now: NowOption = None) -> None:
    """催办: a supervisor or leader urges the lead units, each mailed at once (co-units copied); several
    items at once share one message."""
    if len(items) == 1:
        act(items[0], Action.URGE, by, now, text=text)
    else:
        decide_several(items, Action.URGE, by, now, text)


def _deadline(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(_("{value!r} is not a date; write e.g. 2024-09-30", value=text)) from None
