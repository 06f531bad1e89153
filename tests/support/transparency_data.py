"""A small, known dataset for the transparency figures, all of it in the third quarter of 2025 (Brussels time) but
for a few records placed just across its edges: built with the factories, then dated where the figures look.

Every secret the public must never read is in SECRETS: the listed names, case numbers, evidence references,
report addresses, texts and contacts, appellants' texts and contacts, requisition and notice references.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import update
from sqlalchemy.orm import Session

from blocklist import partners, reports, workflow
from blocklist.models import Appeal, AppealDecision, Attestation, Isp, Renewal, Report, ReportOutcome, Submission
from isp_feed.models import VerificationResult, VerificationRound
from requisitions.models import RemovalNotice, RemovalOutcome, Requisition
from tests.support.factories import approved, make_isp, make_user, submitted

UTC = dt.UTC
ALPHA, BETA, COURT, LIFTED, LATER, REJECTED = ("alpha-gallery.test", "beta-gallery.test", "court-listed.test",
                                                "lifted-gallery.test", "later-gallery.test", "rejected-gallery.test")
CASE = "FCCU-2025-SECRETCASE-"
EVIDENCE = "EVD-SECRETEVIDENCE-"
REPORT_ADDRESS = "https://reported-secret-one.test/gallery/page"
REPORT_TEXT = "SECRET-DESCRIPTION seen on a forum"
REPORT_CONTACT = "reporter-secret@example.org"
APPEAL_TEXT = "SECRET-APPEAL-TEXT this is my bakery"
APPEAL_CONTACT = "appellant-secret@example.net"
REFERENCE = "REQ-SECRETREF-"
NOTICE_REFERENCE = "RN-SECRETREF-"
PROVIDER = "Secret Hosting BVBA"
PROVIDER_EMAIL = "abuse@secret-hosting.example"
SECRETS = (ALPHA, BETA, COURT, LIFTED, LATER, REJECTED, "alpha-gallery", "reported-secret-one", CASE, EVIDENCE,
           REPORT_TEXT, REPORT_CONTACT, APPEAL_TEXT, APPEAL_CONTACT, REFERENCE, NOTICE_REFERENCE, PROVIDER,
           PROVIDER_EMAIL, "SECRET")
ISP_ALPHA, ISP_BETA = "ISP Alpha", "ISP Beta"


def at(text: str) -> dt.datetime:
    """A UTC moment written "2025-07-10 10:00"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _dated(session: Session, domain: str, **values: object) -> Submission:
    sub = session.query(Submission).filter(Submission.domain == domain).order_by(Submission.id.desc()).first()
    assert sub is not None
    session.execute(update(Submission).where(Submission.id == sub.id).values(**values))
    session.refresh(sub)
    return sub


def _requisition(session: Session, isp: Isp, n: int, kind: str, created: str, sent: str | None,
                 acked: str | None, deadline: str) -> None:
    pdf = b"%PDF-1.7 test"
    session.add(Requisition(
        reference=f"{REFERENCE}{n}", kind=kind, isp_id=isp.id, language="fr", names=json.dumps([{"a_label": ALPHA}]),
        subject=f"Requisition {REFERENCE}{n} {ALPHA}", body_text=f"{ALPHA} {CASE}1", pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(), message_id=f"<{n}@test.example>", created_at=at(created),
        deadline=at(deadline), status="acknowledged" if acked else "sent", sent_at=at(sent) if sent else None,
        acknowledged_at=at(acked) if acked else None))


def _round(session: Session, started: str, verdicts: dict[tuple[Isp, str], str]) -> None:
    found = VerificationRound(started_at=at(started), finished_at=at(started), names=2, resolvers=2)
    session.add(found)
    session.flush()
    for (isp, domain), verdict in verdicts.items():
        session.add(VerificationResult(round_id=found.id, isp_id=isp.id, resolver="127.0.0.1:53", domain=domain,
                                       verdict=verdict, reason="test", evidence="{}", at=at(started)))


def build(session: Session) -> dict[str, int]:
    """The dataset; returns the ids the tests may need."""
    officer, magistrate = make_user(session, "officer"), make_user(session, "magistrate")
    alpha_isp, beta_isp = make_isp(session, name=ISP_ALPHA), make_isp(session, name=ISP_BETA)

    # Names: two under Article 39bis (Belgium, Netherlands), one by court decision (United States), one under the
    # e-commerce law lifted at review (Belgium), one approved today, one rejected.
    order = approved(session, officer, magistrate, ALPHA, case_number=f"{CASE}1", evidence_ref=f"{EVIDENCE}1",
                     hosting_country="BE", hosting_provider=PROVIDER, hosting_abuse_email=PROVIDER_EMAIL)
    approved(session, officer, magistrate, BETA, case_number=f"{CASE}2", evidence_ref=f"{EVIDENCE}2")
    approved(session, officer, magistrate, COURT, legal_basis="court_order", case_number=f"{CASE}3",
             evidence_ref=f"{EVIDENCE}3", hosting_country="US",
             court_order={"court": "Tribunal de première instance", "date": dt.date(2025, 8, 1),
                          "reference": f"{CASE}court"})
    approved(session, officer, magistrate, LIFTED, legal_basis="ecommerce_law", case_number=f"{CASE}4",
             evidence_ref=f"{EVIDENCE}4", hosting_country="BE", hosting_provider=PROVIDER,
             hosting_abuse_email=PROVIDER_EMAIL)
    workflow.lift(session, actor=magistrate, domain=LIFTED, reason="content removed at review")
    approved(session, officer, magistrate, LATER, case_number=f"{CASE}5")  # today: in none of 2025's figures
    rejected = submitted(session, officer, REJECTED, case_number=f"{CASE}6")
    workflow.reject(session, actor=magistrate, submission_id=rejected.id, reason="not abuse material")

    alpha = _dated(session, ALPHA, submitted_at=at("2025-07-09 09:00"), decided_at=at("2025-07-10 10:00"),
                   review_due=dt.date(2025, 9, 15))  # overdue at the end of Q3, never renewed
    beta = _dated(session, BETA, submitted_at=at("2025-07-09 09:00"), decided_at=at("2025-07-10 10:00"),
                  review_due=dt.date(2026, 2, 1))  # renewed in August (below)
    court = _dated(session, COURT, submitted_at=at("2025-08-01 09:00"), decided_at=at("2025-08-05 10:00"),
                   review_due=dt.date(2026, 6, 1))  # renewed only in November: overdue at the end of Q3
    lifted = _dated(session, LIFTED, submitted_at=at("2025-07-11 09:00"), decided_at=at("2025-07-12 10:00"),
                    lifted_at=at("2025-09-01 10:00"))
    _dated(session, REJECTED, submitted_at=at("2025-07-11 09:00"), decided_at=at("2025-07-20 10:00"))

    # Reviews: beta renewed in Q3; court renewed in Q4 (due 20 September before it); lifted on an attestation.
    for sub, checked, present, when in ((beta, "2025-08-18", True, "2025-08-18 09:00"),
                                        (court, "2025-11-01", True, "2025-11-01 09:00"),
                                        (lifted, "2025-08-25", False, "2025-08-25 09:00")):
        session.add(Attestation(submission_id=sub.id, checked_on=dt.date.fromisoformat(checked),
                                evidence_ref=f"{EVIDENCE}review", content_present=present, officer_id=officer.id,
                                at=at(when)))
    session.flush()
    attestations = {a.submission_id: a.id for a in session.query(Attestation)}
    session.add(Renewal(submission_id=beta.id, attestation_id=attestations[beta.id], previous_due=dt.date(2025, 9, 1),
                        review_due=dt.date(2026, 2, 1), reason="still there", magistrate_id=magistrate.id,
                        at=at("2025-08-20 10:00")))
    session.add(Renewal(submission_id=court.id, attestation_id=attestations[court.id],
                        previous_due=dt.date(2025, 9, 20), review_due=dt.date(2026, 6, 1), reason="still there",
                        magistrate_id=magistrate.id, at=at("2025-11-05 10:00")))

    # Reports: 22:30 UTC on 30 June is 1 July in Brussels (Q3); on 30 September it is 1 October (Q4).
    partner, _ = partners.add_partner(session, actor="test", name="Hotline Secret")
    made = []
    for when, source, text, contact in (("2025-06-30 22:30", "public", REPORT_TEXT, REPORT_CONTACT),
                                        ("2025-08-01 12:00", "public", REPORT_TEXT, None),
                                        ("2025-08-02 12:00", "partner", REPORT_TEXT, None),
                                        ("2025-09-30 22:30", "public", REPORT_TEXT, REPORT_CONTACT)):
        report = Report(receipt=reports.new_receipt(), host="reported-secret-one.test",
                        unicode="reported-secret-one.test", address=REPORT_ADDRESS, found_at="SECRET forum",
                        description=text, contact=contact, source=source,
                        partner_id=partner.id if source == "partner" else None,
                        partner_reference="SECRET-PARTNER-REF" if source == "partner" else None, received_at=at(when))
        session.add(report)
        made.append(report)
    session.flush()
    for report, outcome, when in ((made[0], "dismissed", "2025-08-03 10:00"), (made[1], "linked", "2025-08-04 10:00"),
                                  (made[3], "dismissed", "2025-10-02 10:00")):
        session.add(ReportOutcome(report_id=report.id, outcome=outcome, actor="officer", at=at(when),
                                  submission_id=alpha.id if outcome == "linked" else None, reason="SECRET reason"))

    # Removal notices: by e-mail (4 days to removal) and by hand (6 days): a median of 5.
    for n, (sub, email, created, sent, gone) in enumerate((
            (alpha, PROVIDER_EMAIL, "2025-07-10 10:00", "2025-07-10 10:05", "2025-07-14"),
            (lifted, None, "2025-07-12 10:00", None, "2025-07-18"))):
        notice = RemovalNotice(
            reference=f"{NOTICE_REFERENCE}{n}", submission_id=sub.id, order_id=order.id, domain=sub.domain,
            unicode=sub.domain, language="fr", provider=PROVIDER, email=email, subject=f"Notice {sub.domain}",
            body_text=f"{sub.domain} {CASE}", pdf=b"%PDF-1.7", pdf_sha256="0" * 64, message_id=f"<rn{n}@test.example>",
            created_at=at(created), deadline=at(created) + dt.timedelta(days=2),
            status="removed", sent_at=at(sent) if sent else None)
        session.add(notice)
        session.flush()
        session.add(RemovalOutcome(notice_id=notice.id, kind="removed", happened_on=dt.date.fromisoformat(gone),
                                   reference=f"{NOTICE_REFERENCE}gone", actor="officer", at=at(f"{gone} 12:00")))

    # Requisitions: acknowledged after 2 h and after 48 h (late): a median of 25 h; one sent in Q4 by Brussels time.
    _requisition(session, alpha_isp, 1, "blocking", "2025-07-10 10:00", "2025-07-10 10:01", "2025-07-10 12:00",
                 "2025-07-11 10:00")
    _requisition(session, beta_isp, 2, "blocking", "2025-07-10 10:00", "2025-07-10 10:02", "2025-07-12 10:00",
                 "2025-07-11 10:00")
    _requisition(session, alpha_isp, 3, "lifting", "2025-09-01 10:00", "2025-09-01 10:05", None, "2025-09-02 10:00")
    _requisition(session, beta_isp, 4, "lifting", "2025-09-30 21:00", "2025-09-30 22:30", None, "2025-10-01 21:00")

    # Verification: the latest Q3 round finds ISP Alpha blocking both names, ISP Beta one of two; time to block is
    # 1 h and 3 h at Alpha (median 2 h), 1 h and 1 h at Beta. A Q4 round changes nothing in Q3.
    _round(session, "2025-07-10 09:00", {(alpha_isp, ALPHA): "blocked"})  # before the approval: not counted
    _round(session, "2025-07-10 11:00", {(alpha_isp, ALPHA): "blocked", (alpha_isp, BETA): "not_blocked",
                                         (beta_isp, ALPHA): "blocked", (beta_isp, BETA): "blocked"})
    _round(session, "2025-07-10 13:00", {(alpha_isp, ALPHA): "blocked", (alpha_isp, BETA): "blocked",
                                         (beta_isp, ALPHA): "blocked", (beta_isp, BETA): "not_blocked"})
    _round(session, "2025-10-05 10:00", {(alpha_isp, ALPHA): "not_blocked", (alpha_isp, BETA): "not_blocked"})

    # Appeals: three received in Q3, one upheld and one dismissed in Q3, the third decided in Q4.
    appeals = []
    for n, when in enumerate(("2025-08-10 10:00", "2025-08-11 10:00", "2025-09-20 10:00")):
        appeal = Appeal(receipt=f"A-SECRET{n}", domain=ALPHA, unicode=ALPHA, text=APPEAL_TEXT, contact=APPEAL_CONTACT,
                        language="nl", submission_id=alpha.id, received_at=at(when))
        session.add(appeal)
        appeals.append(appeal)
    session.flush()
    other = make_user(session, "magistrate")
    for appeal, outcome, when in ((appeals[0], "upheld", "2025-08-20 10:00"),
                                  (appeals[1], "dismissed", "2025-08-21 10:00"),
                                  (appeals[2], "dismissed", "2025-10-03 10:00")):
        session.add(AppealDecision(appeal_id=appeal.id, outcome=outcome, answer="kept", reason="SECRET reason",
                                   magistrate_id=other.id, submission_id=alpha.id, decided_at=at(when)))
    session.flush()
    return {"alpha": alpha.id, "officer": officer.id}
