"""schemathesis over the OpenAPI schema, as every kind of caller.

`test_no_server_errors`: no input produces a server error. `test_schema_conformance`: a full schemathesis run
(every phase the CLI runs, every check) finds no difference between what the schema documents and what the
server answers: every status, header and body is documented, what the schema allows is accepted, what it
refuses is refused, and a method a path does not declare gets 405 with a correct `Allow`.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from api.app import create_app
from api.runtime import Runtime
from blocklist import workflow
from blocklist.jobs import JobContext
from blocklist.models import User
from blocklist.names import NamePolicy
from isp_feed.jobs import publish_feed
from isp_feed_client import formats
from requisitions import jobs
from tests.api.conftest import bearer
from tests.api.test_api_authz import EXPECTED
from tests.blocklist.helpers import submission

EXAMPLES_PER_OPERATION = 15


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_server_errors(rt: Runtime, tokens: dict[str, str]) -> None:
    app = create_app(rt)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    callers = [{}] + [bearer(tokens[who]) for who in ("officer", "magistrate", "auditor", "admin", "isp", "partner")]
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), headers=st.sampled_from(callers))
        def run(case: schemathesis.Case, headers: dict[str, str]) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

        run()
    assert failures == []


# Examples per operation and generation mode in the fuzzing phase (the coverage phase has its own, fixed set).
CONFORMANCE_EXAMPLES = int(os.environ.get("BLOCKLIST_SCHEMATHESIS_EXAMPLES", "15"))
# A fixed seed by default, so that CI is reproducible; set BLOCKLIST_SCHEMATHESIS_SEED to explore other inputs.
CONFORMANCE_SEED = int(os.environ.get("BLOCKLIST_SCHEMATHESIS_SEED", "20260101"))
# Anonymous callers try every operation; each credential the operations it is granted (test_api_authz.EXPECTED),
# as the 401s and 403s of the others are the same documented answers, which test_api_authz checks route by route.
# The administrator runs last (it rotates the ISP's credential), and its actions on accounts are pointed at a
# spare account: revoking its own token or role half-way would leave the rest of its run answering 401.
CALLERS = ("anonymous", "officer", "magistrate", "auditor", "isp", "partner", "admin")
SPARE_ACCOUNT = "officer2"


# The project's schemathesis configuration: which operations may refuse a schema-valid request with 422, and why.
PROJECT_CONFIG = tomllib.loads((Path(__file__).parents[2] / "schemathesis.toml").read_text())


def conformance_config(who: str, headers: dict[str, str]) -> SchemathesisConfig:
    """What `schemathesis run --checks all` does, in process, as one caller."""
    config = SchemathesisConfig.from_dict({
        "seed": CONFORMANCE_SEED,
        "headers": headers,
        "continue-on-failure": True,
        "generation": {"mode": "all", "max-examples": CONFORMANCE_EXAMPLES, "no-shrink": True},
        # Each entry names operations by label ("METHOD /path"): filters on different keys would match either.
        "operations": [
            *PROJECT_CONFIG["operations"],
            {"include-name": [*(f"POST /api/v1/users/{{username}}/{action}"
                                for action in ("token", "active", "role", "profile", "enrolment")),
                              "POST /api/v1/users/{username}/tokens/{token_id}/revoke"],
             "parameters": {"path.username": SPARE_ACCOUNT}},
            # No mail server listens in this test: an enrolment link's e-mail is refused with the documented 502.
            {"include-name": "POST /api/v1/users/{username}/enrolment",
             "checks": {"not_a_server_error": {"enabled": False}}},
            # An ISP sees only its own requisitions: the `isp` filter is ignored for it, so not refused when wrong.
            *([{"include-name": "GET /api/v1/requisitions",
                "checks": {"negative_data_rejection": {"enabled": False}}}] if who == "isp" else []),
            *([{"include-name": [f"{method} {path}" for (method, path), granted in EXPECTED.items()
                                 if who not in granted], "enabled": False}] if who != "anonymous" else []),
        ],
    })
    config.projects.get_default().checks.update(included_check_names=["all"])
    return config


def _whole_numbers(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A whole float as an integer: schemathesis may reuse a JSON number such as 5.0 from an answer for an integer
    parameter, and write it "5.0" in the URL, where an id is ASCII digits by design (api/params.py)."""
    if values is None:
        return None
    return {key: int(value) if isinstance(value, float) and value.is_integer() else value
            for key, value in values.items()}


def map_query(context: Any, query: dict[str, Any]) -> dict[str, Any] | None:
    return _whole_numbers(query)


def map_path_parameters(context: Any, path_parameters: dict[str, Any]) -> dict[str, Any] | None:
    return _whole_numbers(path_parameters)


def populate(rt: Runtime, people: dict[str, User]) -> None:
    """What a running server holds, so that the answers of deeper paths come up: a blocked name, two published
    feed versions, requisitions."""
    with rt.database.transaction() as s:
        sub = workflow.submit(s, actor=people["officer"], data=submission(), policy=NamePolicy.build())
    publish_feed(rt.job_context)
    with rt.database.transaction() as s:
        workflow.approve(s, actor=people["magistrate"], submission_ids=[sub.id])
    publish_feed(rt.job_context)
    jobs.issue_pending(JobContext.standalone(rt.database, rt.settings.model_copy(
        update={"requisitions_wait_for_feed": False})))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_schema_conformance(rt: Runtime, people: dict[str, User], tokens: dict[str, str]) -> None:
    populate(rt, people)
    app = create_app(rt)
    failures: Counter[str] = Counter()
    found: dict[tuple[str, str, str], str] = {}
    timings = []
    for who in CALLERS:
        started = time.monotonic()
        headers = bearer(tokens[who]) if who != "anonymous" else {}
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=conformance_config(who, headers))
        schema.hook(map_query)
        schema.hook(map_path_parameters)
        for event in from_schema(schema).execute():
            if isinstance(event, events.FatalError | events.NonFatalError):
                raise AssertionError(f"schemathesis could not run as {who}: {event}")
            if not isinstance(event, events.ScenarioFinished):
                continue
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    failures[check.name] += 1
                    interaction = event.recorder.interactions.get(case_id)
                    answer: Any = interaction.response if interaction is not None else None
                    status = answer.status_code if answer is not None else "no answer"
                    body = (answer.content or b"")[:200] if answer is not None else b""
                    key = (check.name, str(failure.operation), failure.message.splitlines()[0])
                    found.setdefault(key, f"as {who}, {event.phase.value} phase: {status} {body!r}\n"
                                              f"    {check.failure_info.code_sample}")
        timings.append(f"{who} {time.monotonic() - started:.1f}s")
    report = "\n".join(f"{name} {operation}: {message}\n    {sample}"
                       for (name, operation, message), sample in sorted(found.items()))
    distinct = Counter(name for name, _, _ in found)
    assert not failures, (f"schemathesis failures by check {dict(failures)}, distinct {dict(distinct)} "
                          f"(seed {CONFORMANCE_SEED}; {', '.join(timings)}):\n{report}")


def test_text_patterns_say_what_clean_text_accepts() -> None:
    """The schema's text patterns (api/schemas.py) and clean_text agree on every character of the Basic
    Multilingual Plane but the surrogates (which UTF-8 JSON cannot carry), read as schemathesis reads a schema."""
    import jsonschema_rs

    from api.schemas import LINE_PATTERN, NON_BLANK_LINE_PATTERN, PARAGRAPH_PATTERN, WRITTEN_PATTERN
    from blocklist.errors import InvalidInput
    from blocklist.text import clean_text

    def cleaned(text: str, multiline: bool) -> str | None:
        try:
            return clean_text(text, field="f", max_length=10_000, multiline=multiline)
        except InvalidInput:
            return None

    rules = {  # pattern: what the server accepts (workflow._reason: at least 3 characters once cleaned)
        LINE_PATTERN: lambda text: cleaned(text, False) is not None,
        NON_BLANK_LINE_PATTERN: lambda text: bool(cleaned(text, False)),
        PARAGRAPH_PATTERN: lambda text: cleaned(text, True) is not None,
        WRITTEN_PATTERN: lambda text: len(cleaned(text, True) or "") >= 3,
    }
    validators = {pattern: jsonschema_rs.validator_for({"type": "string", "pattern": pattern}) for pattern in rules}
    disagree = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        for text in (char, f"a{char}b", f" {char} ", f"{char}{char}{char}", f"ab{char}", f"a{char}\r\nb"):
            for pattern, accepted in rules.items():
                if validators[pattern].is_valid(text) != accepted(text):
                    disagree.append((pattern[:30], f"U+{code:04X}", text))
    assert disagree == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_success_answers_match_the_schema(rt: Runtime, people: dict[str, User], tokens: dict[str, str]) -> None:
    """What random input rarely reaches, checked with every check: a feed file in each format and its signature
    (headers, media types), its 304, a diff, the requisition PDF, an acknowledgement, and a replayed POST."""
    populate(rt, people)
    app = create_app(rt)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=conformance_config("isp", {}))
    isp, auditor, officer = (bearer(tokens[who]) for who in ("isp", "auditor", "officer"))

    def check(path: str, method: str = "GET", headers: dict[str, str] | None = None, **parts: Any) -> Any:
        case = schema[path][method].Case(headers=headers, **parts)
        response = case.call()
        case.validate_response(response, headers=headers)
        return response

    for ext in formats.EXTENSIONS:
        served = check("/feed/v1/latest.{filename}", headers=isp, path_parameters={"filename": ext})
        assert served.status_code == 200, served.text
        etag = served.headers["etag"][0]  # schemathesis: each header as a list
        again = check("/feed/v1/latest.{filename}", headers={**isp, "If-None-Match": etag},
                      path_parameters={"filename": ext})
        assert again.status_code == 304
        assert check("/feed/v1/versions/{name}", headers=isp,
                     path_parameters={"name": f"1.{ext}.minisig"}).status_code == 200
    added = check("/feed/v1/diff", headers=isp, query={"from": 1}).json()["added"]
    assert [entry["name"] for entry in added] == ["csam-gallery.test"]
    requisition = check("/api/v1/requisitions", headers=auditor, query={"isp": "ISP One"}).json()[0]
    pdf = check("/api/v1/requisitions/{requisition_id}/document.pdf", headers=auditor,
                path_parameters={"requisition_id": requisition["id"]})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert check("/api/v1/requisitions/{requisition_id}/acknowledge", "POST", headers=isp,
                 path_parameters={"requisition_id": requisition["id"]}).status_code == 200
    keyed = {**officer, "Idempotency-Key": "conformance-1"}
    first = check("/api/v1/names/check", "POST", headers=keyed, body={"names": ["example.test"]})
    replayed = check("/api/v1/names/check", "POST", headers=keyed, body={"names": ["example.test"]})
    assert replayed.headers["idempotent-replayed"] == ["true"] and replayed.json() == first.json()
