"""Appeals ("register disapproval"): the public appeal form's intake, the magistrates' queue and their decisions,
and the answer e-mailed to an appellant who left a contact.

Privacy, as for reports (blocklist/reports.py): an appeal keeps what the appellant typed and nothing about them
(no IP address, user agent or cookie: the table has no column for them), an e-mail address only when one was left.
Its audit events name the appeal, its receipt and its name, never the appellant's text or contact.

An appeal is stored whole with its receipt or not at all, whatever the name: one never blocked, or no longer
blocked, is still stored and answered, so the form's answer never tells whether a name is listed.

The decision needs a written reason and a magistrate other than the one who approved the block (four eyes again).
Upheld, it lifts the block through the one lift (blocklist.workflow.lift: a lifting order, hence lifting
requisitions and the next feed version); dismissed, the block stays. Either way it is an event in the name's
history, and the appellant's answer, when they left a contact, is queued and sent in their language by
`send_answers` (a periodic job) through the one sender, retried while the mail server refuses it for a while.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.utils import make_msgid

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blocklist import audit, mail, mail_templates, workflow
from blocklist.db import Database
from blocklist.errors import Conflict, Forbidden, InvalidInput, MailError, NameRefused, NotFound
from blocklist.i18n import N_
from blocklist.isps import validate_email
from blocklist.jobs import JobContext
from blocklist.models import Appeal, AppealAnswerMail, AppealDecision, Submission, User, utcnow
from blocklist.names import normalize
from blocklist.permissions import DECIDE_APPEALS, READ_APPEALS, require
from blocklist.queries import page_offset
from blocklist.reports import PUBLIC_ACTOR, SYSTEM_ACTOR, covering_block, new_receipt
from blocklist.roles import actor_label
from blocklist.settings import Settings
from blocklist.text import FormRefused, clean_text, form_text, parse_id
from blocklist.vocab import APPEAL_OUTCOMES, LANGUAGES, AppealAnswer

log = logging.getLogger("blocklist.appeals")
MAX_NAME = 2048  # as typed: an address with a path is accepted, and its host name kept
MAX_TEXT = 4000
MAX_CONTACT = 254
MAX_REASON = 4000
STATES = ("open", "decided", "all")
MESSAGE_ID_DOMAIN = "appeals.invalid"  # never resolves: a Message-ID names no real host
# A transient refusal (greylisting, a server down for maintenance) is retried every 10 minutes for 6 hours; a
# permanent one (no such mailbox) is not. Either end is an audit event, and the queue page shows it.
ANSWER_ATTEMPTS = 36
ANSWER_RETRY = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class AppealIn:
    """What an appellant sends: the name, why they disagree, an optional e-mail address, the page's language."""

    name: str
    text: str
    contact: str = ""
    language: str = "fr"


class AppealFourEyes(Forbidden):
    """The magistrate approved the block this appeal is against; `domain` names it."""

    def __init__(self, actor: User, domain: str) -> None:
        super().__init__(N_("Four eyes: you approved the block of %(name)s; another magistrate must decide this "
                            "appeal.", name=domain))
        self.actor = actor.username
        self.domain = domain


def check(data: AppealIn) -> AppealIn:
    """The appeal as it will be stored (the name normalised to its A-label), or FormRefused naming the field."""
    name = form_text(data.name, field="name", max_length=MAX_NAME)
    text = form_text(data.text, field="text", max_length=MAX_TEXT, multiline=True)
    contact = form_text(data.contact, field="contact", max_length=MAX_CONTACT)
    if data.language not in LANGUAGES:
        raise FormRefused(f"language must be one of {', '.join(LANGUAGES)}", field="language", code="bad_language")
    if not name:
        raise FormRefused("the blocked name is missing", field="name", code="name_missing")
    try:
        name = normalize(name).a_label
    except NameRefused as exc:
        raise FormRefused(f"not a site name: {exc.reason}", field="name", code="not_a_name") from None
    if not text:
        raise FormRefused("say why you disagree with the block", field="text", code="text_missing")
    if contact:
        try:
            contact = validate_email(contact)
        except InvalidInput:
            raise FormRefused("the contact is not an e-mail address", field="contact", code="bad_contact") from None
    return AppealIn(name=name, text=text, contact=contact, language=data.language)


def prefill(typed: str) -> str:
    """The name a link to the form carries, as the form shows it (Unicode), or "" when it is no site name."""
    try:
        return normalize(form_text(typed, field="name", max_length=MAX_NAME)).u_label
    except InvalidInput:
        return ""


def receive(session: Session, *, data: AppealIn) -> Appeal:
    """An appeal from the public form: stored whole with its receipt, or FormRefused and nothing written."""
    checked = check(data)
    block = covering_block(session, checked.name)
    appeal = Appeal(receipt=new_receipt("A"), domain=checked.name, unicode=normalize(checked.name).u_label,
                    text=checked.text, contact=checked.contact or None, language=checked.language,
                    submission_id=block.id if block else None, received_at=utcnow())
    session.add(appeal)
    session.flush()
    # In the history of the name as blocked (a subdomain's appeal is one against its parent's block); the
    # appellant's text and contact stay in the appeal itself.
    audit.record(session, actor=PUBLIC_ACTOR, action="appeal.received", object_type="appeal", object_id=appeal.id,
                 domain=block.domain if block else appeal.domain,
                 details={"receipt": appeal.receipt, "name": appeal.domain, "submission_id": appeal.submission_id,
                          "language": appeal.language})
    return appeal


def get_appeal(session: Session, appeal_id: int | str) -> Appeal:
    """One appeal, or NotFound."""
    appeal = session.get(Appeal, parse_id(appeal_id, field="appeal_id"))
    if appeal is None:
        raise NotFound(f"no appeal #{appeal_id}")
    return appeal


def record_of(session: Session, appeal: Appeal) -> Submission | None:
    """The name's record beside an appeal: the block covering it now, else the one it was lodged against, else the
    name's latest record (rejected, withdrawn, lifted); None when the name was never submitted."""
    block = covering_block(session, appeal.domain)
    if block is not None:
        return block
    if appeal.submission_id is not None:
        return session.get(Submission, appeal.submission_id)
    return session.execute(select(Submission).where(Submission.domain == appeal.domain)
                           .order_by(Submission.id.desc()).limit(1)).scalar_one_or_none()


@dataclass(frozen=True)
class QueueItem:
    """An appeal and the name's record, as the queue shows them."""

    appeal: Appeal
    record: Submission | None


def _undecided() -> ColumnElement[bool]:
    return ~exists().where(AppealDecision.appeal_id == Appeal.id)


def queue(session: Session, *, actor: User, state: str = "open", page: int = 1,
          per_page: int = 50) -> tuple[list[QueueItem], int]:
    """One page of appeals, oldest first (open: not decided yet), with each name's record; and how many there are."""
    require(actor, READ_APPEALS)
    if state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}, not {state!r}", field="state")
    offset = page_offset(page, per_page)
    query = select(Appeal)
    if state != "all":
        query = query.where(_undecided() if state == "open" else ~_undecided())
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    appeals = session.execute(query.order_by(Appeal.received_at, Appeal.id).limit(per_page).offset(offset)).scalars()
    return [QueueItem(a, record_of(session, a)) for a in appeals], total


def _answer(upheld: bool, block: Submission | None) -> AppealAnswer:
    if block is None:
        return "not_blocked"
    return "lifted" if upheld else "kept"


def decide(session: Session, *, actor: User, appeal_id: int | str, outcome: str, reason: str) -> AppealDecision:
    """Uphold (lift the block) or dismiss an appeal, with a written reason; queue the answer when a contact was left.

    Refused: another role (Forbidden), the magistrate who approved the block (AppealFourEyes), no reason or an
    unknown outcome (InvalidInput), an appeal already decided (Conflict). Nothing is written then.
    """
    require(actor, DECIDE_APPEALS)
    if outcome not in APPEAL_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(APPEAL_OUTCOMES)}, not {outcome!r}", field="outcome")
    text = clean_text(reason or "", field="reason", max_length=MAX_REASON, multiline=True)
    if len(text) < 3:
        raise InvalidInput("deciding an appeal needs a written reason", field="reason")
    appeal = get_appeal(session, appeal_id)
    if appeal.decision is not None:
        raise Conflict(f"appeal {appeal.receipt} was already decided: {appeal.decision.outcome}")
    block = covering_block(session, appeal.domain)
    lodged_against = session.get(Submission, appeal.submission_id) if appeal.submission_id else None
    for sub in (block, lodged_against):
        if sub is not None and sub.decided_by == actor.id:
            raise AppealFourEyes(actor, sub.domain)
    record = block or record_of(session, appeal)
    order = None
    if outcome == "upheld" and block is not None:
        order = workflow.lift(session, actor=actor, domain=block.domain,
                              reason=f"appeal {appeal.receipt} upheld: {text}")
    decision = AppealDecision(appeal_id=appeal.id, outcome=outcome, answer=_answer(outcome == "upheld", block),
                              reason=text, magistrate_id=actor.id, submission_id=record.id if record else None,
                              lift_order_id=order.id if order else None, decided_at=utcnow())
    try:
        with session.begin_nested():
            session.add(decision)
            session.flush()
    except IntegrityError:
        raise Conflict(f"appeal {appeal.receipt} was just decided by someone else; reload the queue") from None
    if appeal.contact:
        session.add(AppealAnswerMail(decision_id=decision.id, status="pending", attempts=0, next_attempt_at=utcnow(),
                                     message_id=make_msgid(idstring="appeal", domain=MESSAGE_ID_DOMAIN)))
        session.flush()
    audit.record(session, actor=actor_label(actor), action="appeal.decided", object_type="appeal",
                 object_id=appeal.id, domain=record.domain if record else appeal.domain,
                 order_id=order.id if order else None,
                 details={"receipt": appeal.receipt, "outcome": outcome, "answer": decision.answer, "reason": text,
                          "submission_id": decision.submission_id, "lift_order_id": decision.lift_order_id,
                          "answer_mailed": appeal.contact is not None})
    session.refresh(appeal)
    return decision


def render_answer(appeal: Appeal, decision: AppealDecision, settings: Settings) -> mail_templates.RenderedMail:
    """The answer to the appellant, in their language."""
    return mail_templates.render(
        "appeal_answer", appeal.language, receipt=appeal.receipt, name=appeal.unicode, answer=decision.answer,
        reason=decision.reason, received_on=appeal.received_at.date().isoformat(),
        decided_on=decision.decided_at.date().isoformat(), phone=settings.stop_page_phone,
        authority=mail_templates.authority(settings))


def _due(database: Database, now: dt.datetime) -> list[int]:
    with database.transaction() as session:
        return list(session.execute(
            select(AppealAnswerMail.id).where(AppealAnswerMail.status == "pending",
                                              AppealAnswerMail.next_attempt_at <= now)
            .order_by(AppealAnswerMail.id)).scalars())


def send_answer(database: Database, settings: Settings, mail_id: int) -> str:
    """Try to send one queued answer; returns its status afterwards (pending: to be retried)."""
    started = utcnow()
    with database.transaction() as session:
        queued = session.get(AppealAnswerMail, mail_id)
        if queued is None or queued.status != "pending":
            return queued.status if queued else "missing"
        queued.attempts += 1
        queued.next_attempt_at = started + ANSWER_RETRY  # claimed: a crash mid-send leaves it due again, not lost
        attempt, message_id = queued.attempts, queued.message_id
        decision = session.get(AppealDecision, queued.decision_id)
        assert decision is not None
        appeal = session.get(Appeal, decision.appeal_id)
        assert appeal is not None and appeal.contact is not None
        receipt, to_addr = appeal.receipt, appeal.contact
        answer = render_answer(appeal, decision, settings)
    config = mail.SmtpConfig.from_settings(settings)
    what = f"the answer to appeal {receipt}"
    try:
        message = mail_templates.text_message(answer, sender=config.sender, to_addr=to_addr, message_id=message_id,
                                              headers={"Reply-To": settings.authority_email,
                                                       "X-Appeal-Receipt": receipt})
        receipt_of_send = mail.send(config, message, what=what)
    except ValueError as exc:
        error = MailError(f"{what} cannot be written as an e-mail: {exc}", transient=False)
    except MailError as exc:
        error = exc
    else:
        with database.transaction() as session:
            queued = session.get(AppealAnswerMail, mail_id)
            assert queued is not None
            queued.status, queued.sent_at, queued.next_attempt_at = "sent", receipt_of_send.sent_at, None
            queued.smtp_response = receipt_of_send.smtp_response
            audit.record(session, actor=SYSTEM_ACTOR, action="appeal.answer_sent", object_type="appeal",
                         object_id=appeal.id, domain=appeal.domain,
                         details={"receipt": receipt, "message_id": message_id, "attempt": attempt,
                                  "smtp_response": receipt_of_send.smtp_response})
        return "sent"
    with database.transaction() as session:
        queued = session.get(AppealAnswerMail, mail_id)
        assert queued is not None
        queued.last_error = error.message
        if error.transient and attempt < ANSWER_ATTEMPTS:
            log.warning("%s: attempt %d failed (%s); retrying", what, attempt, error.message)
            return "pending"
        queued.status, queued.next_attempt_at = "failed", None
        audit.record(session, actor=SYSTEM_ACTOR, action="appeal.answer_failed", object_type="appeal",
                     object_id=appeal.id, domain=appeal.domain,
                     details={"receipt": receipt, "attempts": attempt, "error": error.message})
        return "failed"


def send_answers(ctx: JobContext, *, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic job: send every answer due (retries included); how many ended in each status."""
    counts: dict[str, int] = {}
    for mail_id in _due(ctx.database, now or utcnow()):
        status = send_answer(ctx.database, ctx.settings, mail_id)
        counts[status] = counts.get(status, 0) + 1
    return counts
