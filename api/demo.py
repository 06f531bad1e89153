"""Demo data for `make run`: reserved names only (.test, .example), demo accounts printed at start."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from api.runtime import Runtime
from blocklist import appeals, isps, users, workflow
from blocklist.models import Isp, Submission, User
from blocklist.schemas import CourtOrderIn, SubmissionCreate
from blocklist.vocab import LegalBasis

DEMO_PASSWORD = "demo-password"
DEMO_USERS = [
    ("officer", "officer", "Inspector An Peeters (FCCU)", "nl"),
    ("officer2", "officer", "Inspecteur Luc Dubois (FCCU)", "fr"),
    ("magistrate", "magistrate", "Magistrate Sophie Janssens", "fr"),
    ("magistrate2", "magistrate", "Magistraat Pieter Claes", "nl"),
    ("auditor", "auditor", "Auditor Marie Lambert", "en"),
    ("admin", "admin", "Administrator", "en"),
]
# Where each demo site is hosted: two approved ones in Belgium get removal notices (one to an abuse address on a
# reserved domain, one without an address: to deliver by hand); the others are hosted abroad.
DEMO_HOSTING: dict[str, dict[str, str]] = {
    "csam-gallery.test": {"hosting_country": "BE", "hosting_provider": "Demo Hosting BV",
                          "hosting_abuse_email": "abuse@hosting.example", "notice_language": "nl"},
    "mirror.csam-gallery.test": {"hosting_country": "NL"},
    "bücher-verboten.example": {"hosting_country": "DE"},
    "hidden-forum.invalid": {"hosting_country": "BE", "hosting_provider": "Hébergeur Démo SA"},
    "pending-one.test": {"hosting_country": "BE", "hosting_provider": "Demo Hosting BV",
                         "hosting_abuse_email": "abuse@hosting.example"},
    "pending-two.example": {"hosting_country": "US"},
}
DEMO_APPEALS = [  # (name, text, contact, language): the public's appeals against the demo blocks
    ("mirror.csam-gallery.test", "Dit is de site van mijn bakkerij, er staat niets illegaals op.",
     "bakker@mail.example", "nl"),
    ("hidden-forum.invalid", "Ce forum est un forum de cuisine ; je ne comprends pas ce blocage.", "", "fr"),
]
DEMO_ISPS = [
    ("Demo Telecom Wallonie", "noc@isp-wallonie.example", "fr", "stoppage", ["127.0.0.1:5301"]),
    ("Demo Kabel Vlaanderen", "noc@isp-vlaanderen.example", "nl", "stoppage", ["127.0.0.1:5302"]),
    ("Demo Netz Ostbelgien", "noc@isp-ostbelgien.example", "de", "nxdomain", ["127.0.0.1:5303"]),
]


def load_demo(rt: Runtime) -> list[str]:
    """Create (or refresh the tokens of) the demo accounts, ISPs and a few submissions; returns lines to print."""
    lines = [f"Demo accounts (web password for all: {DEMO_PASSWORD}):"]
    today = dt.datetime.now(dt.UTC).date()
    with rt.database.transaction() as session:
        accounts: dict[str, User] = {}
        for username, role, display, language in DEMO_USERS:
            existing = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if existing is None:
                existing, token = users.create_user(
                    session, actor="demo", username=username, role=role, password=DEMO_PASSWORD,
                    display_name=display, language=language,
                )
            else:
                token = users.reset_token(session, actor="demo", user=existing)
            accounts[username] = existing
            lines.append(f"  {role:<10} {username:<12} API token: {token}")
        lines.append("Demo ISPs (feed credentials):")
        for isp_name, email, language, policy, resolvers in DEMO_ISPS:
            found = session.execute(select(Isp).where(Isp.name == isp_name)).scalar_one_or_none()
            if found is None:
                found, credential = isps.add_isp(
                    session, actor="demo", name=isp_name, email=email, language=language,
                    resolvers=resolvers, policy=policy,
                )
            else:
                credential = isps.rotate_credential(session, actor="demo", isp=found)
            lines.append(f"  {found.name:<24} {found.language}  credential: {credential}")
        if not workflow.list_submissions(session, limit=1):
            policy_checks = rt.name_policy(session)
            officer, magistrate = accounts["officer"], accounts["magistrate"]
            samples: list[tuple[str, LegalBasis, CourtOrderIn | None]] = [
                ("csam-gallery.test", "art39bis", None),
                ("mirror.csam-gallery.test", "art39bis", None),
                ("bücher-verboten.example", "ecommerce_law", None),
                ("hidden-forum.invalid", "court_order", CourtOrderIn(
                    court="Tribunal de première instance francophone de Bruxelles",
                    date=today - dt.timedelta(days=3), reference="2026/1234/C")),
                ("pending-one.test", "ecommerce_law", None),
                ("pending-two.example", "art39bis", None),
            ]
            created: list[Submission] = []
            for domain, basis, court in samples:
                created.append(workflow.submit(session, actor=officer, policy=policy_checks, data=SubmissionCreate(
                    domain=domain, legal_basis=basis, case_number="FCCU-2026-0042",
                    evidence_ref=f"EVD-{len(created) + 1:04d}-sha256:{'ab' * 8}", verified_on=today,
                    court_order=court, note="demo data", **DEMO_HOSTING[domain])))
            workflow.approve(session, actor=magistrate, submission_ids=[created[0].id, created[1].id],
                             reason="demo: verified by FCCU")
            workflow.reject(session, actor=magistrate, submission_id=created[2].id,
                            reason="demo: evidence reference incomplete")
            workflow.approve(session, actor=magistrate, submission_ids=[created[3].id], reason="court order")
            lines.append("Demo submissions: 3 blocked, 1 rejected, 2 pending.")
            for name, text, contact, language in DEMO_APPEALS:  # for magistrate2: magistrate approved the blocks
                appeals.receive(session, data=appeals.AppealIn(name, text, contact, language))
            lines.append(f"Demo appeals: {len(DEMO_APPEALS)}, awaiting a decision on /appeals.")
    return lines
