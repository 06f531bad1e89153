"""schemathesis over the OpenAPI schema, as every kind of caller: no input produces a server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.runtime import Runtime
from tests.api.conftest import bearer

EXAMPLES_PER_OPERATION = 15


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_server_errors(rt: Runtime, tokens: dict[str, str]) -> None:
    app = create_app(rt)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    callers = [{}] + [bearer(tokens[who]) for who in ("officer", "magistrate", "auditor", "admin", "isp")]
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
