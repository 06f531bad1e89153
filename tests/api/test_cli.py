"""The `blocklist` command: each sub-command, its output and its exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from api.cli import main
from blocklist.settings import Settings


def run(settings: Settings, *args: str) -> Result:
    env = {"DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir),
           "BLOCKLIST_PLATFORM_EXTRA": "hosting.example"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_db_upgrade_is_idempotent(settings: Settings) -> None:
    assert run(settings, "db", "upgrade").exit_code == 0
    result = run(settings, "db", "upgrade")
    assert result.exit_code == 0 and "schema up to date" in result.output


def test_user_add_prints_token_last(settings: Settings) -> None:
    result = run(settings, "user", "add", "anna", "--role", "officer")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("bl_") and len(token) > 40
    again = run(settings, "user", "add", "anna", "--role", "officer")
    assert again.exit_code == 2 and "already exists" in again.output
    bad = run(settings, "user", "add", "Bad Name!", "--role", "officer")
    assert bad.exit_code == 2 and "username" in bad.output


def test_isp_add_and_list(settings: Settings) -> None:
    result = run(settings, "isp", "add", "ISP One", "--email", "noc@isp-one.example", "--language", "nl",
                 "--resolver", "127.0.0.1:5353", "--resolver", "::1", "--policy", "nxdomain")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("isp_")
    listing = run(settings, "isp", "list")
    assert "ISP One\tnoc@isp-one.example\tnl\tnxdomain\t127.0.0.1:5353,::1:53\tactive" in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-address", "--language", "fr"], "not a valid e-mail address"),
        (["--email", "noc@192.0.2.1", "--language", "fr"], "not a valid e-mail address"),
        (["--email", "noc@isp.example", "--language", "fr", "--resolver", "resolver.isp.example"],
         "not an IP address"),
    ],
)
def test_isp_add_refusals_write_nothing(settings: Settings, args: list[str], message: str) -> None:
    result = run(settings, "isp", "add", "ISP Two", *args)
    assert result.exit_code == 2 and message in result.output
    assert "no ISP registered" in run(settings, "isp", "list").output


def test_name_check_verdicts_and_exit_codes(settings: Settings) -> None:
    ok = run(settings, "name", "check", "Bücher.example", "shop.hosting.example")
    assert ok.exit_code == 0
    assert "xn--bcher-kva.example (bücher.example)\taccepted [flags: idn]" in ok.output
    assert "shop.hosting.example\taccepted [flags: platform_host]" in ok.output
    refused = run(settings, "name", "check", "good.test", "https://www.google.com/", "192.0.2.1")
    assert refused.exit_code == 2
    assert "'good.test'\t-> good.test\taccepted" in refused.output
    assert "refused: protected: www.google.com is under the protected name google.com" in refused.output
    assert "refused: an IP address literal" in refused.output
    assert "2 of 3 name(s) refused" in refused.output


def test_audit_verify_exit_codes(settings: Settings) -> None:
    run(settings, "user", "add", "anna", "--role", "officer")
    run(settings, "user", "add", "ben", "--role", "magistrate")
    intact = run(settings, "audit", "verify")
    assert intact.exit_code == 0 and "intact: 4 events" in intact.output
    from blocklist.db import make_engine

    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET actor = 'forged' WHERE id = 2"))
    engine.dispose()
    broken = run(settings, "audit", "verify")
    assert broken.exit_code == 1 and "BROKEN at event 2" in broken.output


def test_demo_loads_and_reloads(settings: Settings) -> None:
    first = run(settings, "demo")
    assert first.exit_code == 0, first.output
    assert "magistrate" in first.output and "API token: bl_" in first.output
    second = run(settings, "demo")
    assert second.exit_code == 0 and "API token: bl_" in second.output
    assert run(settings, "audit", "verify").exit_code == 0
