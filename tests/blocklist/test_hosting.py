"""Where a listed site is hosted: a country (ISO 3166-1 alpha-2) on every new submission, single or bulk, refused in
the officer's language when missing or wrong; the provider and its abuse address optional, checked and cleaned;
kept in the submission's legal record in the audit chain. Records made before the country have none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select, text

from api.runtime import migration_locations
from blocklist import db as core_db
from blocklist import hosting, workflow
from blocklist.db import Database
from blocklist.errors import InvalidInput
from blocklist.models import AuditEvent, Submission, User
from blocklist.schemas import BulkSubmissionCreate, CaseDetails, SubmissionCreate
from tests.blocklist.helpers import submission
from tests.support.factories import POLICY, submitted


def _counts(database: Database) -> tuple[int, int]:
    with database.transaction() as s:
        return (s.execute(select(func.count()).select_from(Submission)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def _refusal(database: Database, officer: User, **hosting_fields: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused, database.transaction() as s:
        submitted(s, officer, "hosted.test", **hosting_fields)
    return refused.value


def test_the_country_is_required_and_refused_in_the_officers_language(
    database: Database, people: dict[str, User]
) -> None:
    before = _counts(database)
    officer = people["officer"]
    missing = _refusal(database, officer, hosting_country="")
    assert missing.field == "hosting_country" and "hosting country is required" in missing.message
    for language, words in (("fr", "le pays d'hébergement est requis"), ("nl", "het land van hosting is verplicht"),
                            ("de", "das Hosting-Land ist erforderlich")):
        # Refused in English, with its values, and worded in the officer's language where it is shown.
        assert words in _refusal(database, officer, hosting_country="  ").translated(language)
    officer.language = "fr"
    for typed in ("ZZ", "BEL", "B", "12", "xk", "Belgique"):
        refused = _refusal(database, officer, hosting_country=typed)
        assert refused.field == "hosting_country" and "n'est pas un code de pays" in refused.translated("fr"), typed
    assert "contains a control character" in _refusal(database, officer, hosting_country="B\x00E").message
    assert _counts(database) == before


def test_hosting_is_checked_cleaned_and_kept_in_the_audit_chain(database: Database, people: dict[str, User]) -> None:
    officer = people["officer"]
    with database.transaction() as s:
        here = submitted(s, officer, "here.test", hosting_country=" be ", hosting_provider="  Hébergeur Démo SA ",
                         hosting_abuse_email="Abuse@Hosting.Example", notice_language="de")
        abroad = submitted(s, officer, "abroad.test", hosting_country="nl", notice_language="de")
        bare = submitted(s, officer, "bare.test", hosting_country="BE")
        assert (here.hosting_country, here.hosting_provider, here.hosting_abuse_email, here.notice_language) == (
            "BE", "Hébergeur Démo SA", "Abuse@hosting.example", "de")
        # The notice's language matters for Belgium only; abroad, none is kept.
        assert (abroad.hosting_country, abroad.hosting_provider, abroad.notice_language) == ("NL", None, None)
        assert (bare.hosting_provider, bare.hosting_abuse_email, bare.notice_language) == (None, None, "fr")
        (created,) = [e for e in workflow.history(s, "here.test") if e.action == "submission.created"]
        for part in ('"hosting_country":"BE"', '"hosting_provider":"Hébergeur Démo SA"',
                     '"hosting_abuse_email":"Abuse@hosting.example"', '"notice_language":"de"'):
            assert part in created.details


def test_bad_provider_or_abuse_address_is_refused(database: Database, people: dict[str, User]) -> None:
    before = _counts(database)
    officer = people["officer"]
    officer.language = "nl"
    cases: list[tuple[dict[str, str], str, str]] = [
        ({"hosting_abuse_email": "not an address"}, "hosting_abuse_email", "geen geldig e-mailadres"),
        ({"hosting_abuse_email": "abuse@"}, "hosting_abuse_email", "geen geldig e-mailadres"),
        ({"hosting_abuse_email": "abuse@192.0.2.1"}, "hosting_abuse_email", "geen geldig e-mailadres"),
        # The notice goes to the provider, never to the site itself (which would warn its operator).
        ({"hosting_abuse_email": "abuse@hosted.test"}, "hosting_abuse_email", "valt onder de gemelde naam zelf"),
        ({"hosting_abuse_email": "abuse@mail.hosted.test"}, "hosting_abuse_email", "valt onder de gemelde naam"),
        ({"hosting_provider": "Host\u202eAS"}, "hosting_provider", "een teken voor de tekstrichting"),
        ({"hosting_provider": "x" * 201}, "hosting_provider", "at most 200 characters"),
    ]
    for fields, field, words in cases:
        with pytest.raises((InvalidInput, ValueError)) as refused, database.transaction() as s:
            submitted(s, officer, "hosted.test", hosting_country="BE", **fields)
        shown = refused.value.translated("nl") if isinstance(refused.value, InvalidInput) else str(refused.value)
        assert words in shown, fields
        if isinstance(refused.value, InvalidInput):
            assert refused.value.field == field
    assert _counts(database) == before


def test_bulk_needs_the_country_once_and_records_it_on_every_name(database: Database,
                                                                  people: dict[str, User]) -> None:
    officer = people["officer"]
    case = dict(submission("unused.test").model_dump(include=set(CaseDetails.model_fields)))
    before = _counts(database)
    with pytest.raises(InvalidInput) as refused, database.transaction() as s:
        workflow.submit_many(s, actor=officer, case=BulkSubmissionCreate(**{**case, "hosting_country": ""},
                                                                         domains=["a.test"]),
                             domains=["a.test", "b.test"], policy=POLICY)
    assert refused.value.field == "hosting_country" and _counts(database) == before
    with database.transaction() as s:
        results = workflow.submit_many(
            s, actor=officer, case=BulkSubmissionCreate(**{**case, "hosting_country": "BE",
                                                           "hosting_abuse_email": "abuse@a.test"},
                                                        domains=["a.test"]),
            domains=["a.test", "b.test"], policy=POLICY)
        # The abuse address is under a.test itself: that name alone is refused.
        assert [r.accepted for r in results] == [False, True]
        assert "under the listed name itself" in (results[0].reason or "")
        assert results[1].submission is not None and results[1].submission.hosting_country == "BE"


def test_the_schema_says_the_country_is_required() -> None:
    for model in (SubmissionCreate, BulkSubmissionCreate):
        schema = model.model_json_schema()
        assert "hosting_country" in schema["required"]
        assert schema["properties"]["hosting_country"]["pattern"] == "^[A-Za-z]{2}$"


def test_the_country_list_is_shipped_with_belgium_first() -> None:
    table = hosting.countries()
    assert len(table) == 249 and table["BE"] == {"en": "Belgium", "fr": "Belgique", "nl": "België",
                                                 "de": "Belgien"}
    for language in ("fr", "nl", "de", "en"):
        choices = hosting.country_choices(language)
        assert choices[0] == ("BE", table["BE"][language]) and len(choices) == 249
    assert hosting.country_name("NL", "fr") == "Pays-Bas" and hosting.country_name(None, "fr") == ""


def test_records_made_before_the_country_keep_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    cfg = core_db.alembic_config(url, migration_locations())
    command.upgrade(cfg, "core_0004")
    old = core_db.make_engine(url)
    with old.begin() as conn:
        conn.execute(text("INSERT INTO users (id, username, display_name, role, language, active, created_at, "
                          "credentialed_by) VALUES (1, 'officer', '', 'officer', 'en', 1, '2026-01-01', 'test')"))
        conn.execute(text("INSERT INTO submissions (id, domain, unicode, typed, scope, flags, legal_basis, "
                          "case_number, evidence_ref, verified_on, note, status, version, submitted_by, "
                          "submitted_at) VALUES (1, 'old.test', 'old.test', 'old.test', 'exact', '', 'art39bis', "
                          "'C-1', 'E-1', '2026-01-01', '', 'submitted', 1, 1, '2026-01-01')"))
    old.dispose()
    core_db.upgrade(url, migration_locations())
    database = Database(url)
    try:
        with database.transaction() as s:
            sub = s.get(Submission, 1)
            assert sub is not None and sub.hosting_country is None and sub.notice_language is None
            assert workflow.submission_details(sub)["hosting_country"] is None
    finally:
        database.dispose()
