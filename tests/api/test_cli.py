"""The `blocklist` command: each sub-command, its output and its exit codes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from api.cli import main
from blocklist.settings import Settings
from tests.support.insider import rehash_chain
from tests.support.reserved_names import PROTECTED


def run(settings: Settings, *args: str) -> Result:
    env = {"DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir),
           "BLOCKLIST_PLATFORM_EXTRA": "hosting.example", "BLOCKLIST_PROTECTED_EXTRA": PROTECTED}
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
    # Its TSIG key for zone transfers, shown once, as the ISP's secondaries configure it.
    assert re.search(r'key "isp-\d+" \{ algorithm hmac-sha256; secret "[A-Za-z0-9+/]{43}="; \};', result.output)
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
    refused = run(settings, "name", "check", "good.test", "https://www.protected.example/", "192.0.2.1")
    assert refused.exit_code == 2
    assert "'good.test'\t-> good.test\taccepted" in refused.output
    assert "refused: protected: www.protected.example is under the protected name protected.example" in refused.output
    assert "refused: an IP address literal" in refused.output
    assert "2 of 3 name(s) refused" in refused.output


def test_audit_verify_exit_codes(settings: Settings) -> None:
    run(settings, "user", "add", "anna", "--role", "officer")
    run(settings, "user", "add", "ben", "--role", "magistrate")
    intact = run(settings, "audit", "verify")
    assert intact.exit_code == 0 and "intact: 6 events" in intact.output
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


def _insider(settings: Settings, *statements: str) -> None:
    """SQL as someone with full database access runs it, with the append-only triggers out of the way."""
    from blocklist.db import make_engine

    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_audit_verify_fails_when_the_head_is_cut_with_the_tail(settings: Settings) -> None:
    run(settings, "user", "add", "anna", "--role", "officer")
    run(settings, "user", "add", "ben", "--role", "magistrate")
    _insider(settings, "DELETE FROM audit_events WHERE id > 2", "DELETE FROM audit_head")
    cut = run(settings, "audit", "verify")
    assert cut.exit_code == 1 and "BROKEN at event 3" in cut.output and "audit_head" in cut.output
    _insider(settings, "DELETE FROM audit_events")
    wiped = run(settings, "audit", "verify")
    assert wiped.exit_code == 1 and "wiped" in wiped.output


def test_audit_verify_fails_on_a_status_set_in_sql(settings: Settings) -> None:
    from api.runtime import Runtime
    from blocklist import users, workflow
    from blocklist.names import NamePolicy
    from tests.blocklist.helpers import submission

    rt = Runtime(settings)
    rt.ensure_schema()
    with rt.database.transaction() as s:
        officer, _ = users.create_user(s, actor="test", username="anna", role="officer")
        sub = workflow.submit(s, actor=officer, data=submission("pending.test"), policy=NamePolicy.build()).id
    rt.database.dispose()
    assert run(settings, "audit", "verify").exit_code == 0
    _insider(settings, f"UPDATE submissions SET status = 'approved' WHERE id = {sub}")
    result = run(settings, "audit", "verify")
    assert result.exit_code == 1
    assert f"submission {sub} is 'approved' in the table but its events say 'submitted'" in result.output


def test_audit_checkpoint_and_verify_against_it(settings: Settings, tmp_path: Path) -> None:
    from tests.support.binaries import require_binary

    run(settings, "user", "add", "anna", "--role", "officer")
    run(settings, "user", "add", "ben", "--role", "magistrate")
    folder = tmp_path / "witness"
    made = run(settings, "audit", "checkpoint", str(folder))
    assert made.exit_code == 0, made.output
    (path,) = folder.glob("audit-checkpoint-*.json")
    assert f"signed: {path}" in made.output
    pub = settings.data_dir / "keys" / "active.pub"
    by_hand = subprocess.run([require_binary("minisign"), "-V", "-p", str(pub), "-m", str(path)],
                             capture_output=True, text=True)
    assert by_hand.returncode == 0, by_hand.stderr
    printed = run(settings, "audit", "checkpoint")
    assert printed.exit_code == 0 and '"type":"audit-checkpoint"' in printed.output
    assert "trusted comment: audit-checkpoint feed=be-blocklist events=" in printed.output
    ok = run(settings, "audit", "verify", "--checkpoints", str(folder))
    assert ok.exit_code == 0 and "1 signed checkpoint(s) read" in ok.output and "1 witnessed" in ok.output

    # An insider rewrites event 1 and recomputes every hash and the head: only the checkpoint can tell.
    _rehash_all(settings, "UPDATE audit_events SET actor = 'cli-forged' WHERE id = 1")
    assert run(settings, "audit", "verify").exit_code == 0
    caught = run(settings, "audit", "verify", "--checkpoints", str(folder))
    assert caught.exit_code == 1 and "does not match the checkpoint of" in caught.output
    assert "rewritten at or before event" in caught.output

    path.write_bytes(path.read_bytes().replace(b'"events":', b'"events":1'))
    tampered = run(settings, "audit", "verify", "--checkpoints", str(folder))
    assert tampered.exit_code == 1 and "checkpoint refused" in tampered.output
    empty = run(settings, "audit", "verify", "--checkpoints", str(tmp_path / "nothing-here"))
    assert empty.exit_code == 1


def test_audit_checkpoint_refuses_a_broken_chain(settings: Settings, tmp_path: Path) -> None:
    run(settings, "user", "add", "anna", "--role", "officer")
    _insider(settings, "UPDATE audit_events SET actor = 'forged' WHERE id = 1")
    result = run(settings, "audit", "checkpoint", str(tmp_path / "out"))
    assert result.exit_code == 1 and "no checkpoint is signed over a broken chain" in result.output
    assert not (tmp_path / "out").exists()


def _rehash_all(settings: Settings, *statements: str) -> None:
    from blocklist.db import make_engine

    _insider(settings, *statements)
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
        rehash_chain(conn)
    engine.dispose()


def test_commands_never_trace_while_the_database_is_locked(settings: Settings) -> None:
    """Before: `name check` crashed with a traceback while a long bulk submission held the write lock."""
    from blocklist.db import make_engine

    run(settings, "user", "add", "anna", "--role", "officer")
    env = {"BLOCKLIST_DB_LOCK_TIMEOUT_SECONDS": "0.3"}
    blocker = make_engine(settings.database_url)
    with blocker.connect() as conn:
        if blocker.dialect.name == "postgresql":
            conn.execute(text("SELECT last_id FROM audit_head WHERE id = 1 FOR UPDATE"))  # the chain's head, locked
        else:
            conn.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: SQLite's write lock, held until the end
        reading = CliRunner().invoke(main, ["name", "check", "held.test"], catch_exceptions=False, env={
            "DATABASE_URL": settings.database_url, "BLOCKLIST_DATA_DIR": str(settings.data_dir), **env})
        writing = CliRunner().invoke(main, ["user", "add", "ben", "--role", "auditor"], catch_exceptions=False,
                                     env={"DATABASE_URL": settings.database_url,
                                          "BLOCKLIST_DATA_DIR": str(settings.data_dir), **env})
        conn.rollback()
    blocker.dispose()
    assert reading.exit_code == 0 and "held.test\taccepted" in reading.output  # a read waits for nothing
    assert writing.exit_code == 75 and "database is busy" in writing.output and "Traceback" not in writing.output


def test_user_commands_of_the_operator(settings: Settings) -> None:
    assert run(settings, "user", "add", "carla", "--role", "officer").exit_code == 0
    assert run(settings, "user", "disable", "carla").output.strip() == "disabled 'carla'"
    assert run(settings, "user", "enable", "carla").output.strip() == "enabled 'carla'"
    assert "'carla' is now magistrate" in run(settings, "user", "set-role", "carla", "magistrate").output
    weak = run(settings, "user", "reset-password", "carla", "--password", "1234567890")
    assert weak.exit_code == 2 and weak.output.startswith("error: ")
    assert run(settings, "user", "reset-password", "carla", "--password", "a sturdy long passphrase").exit_code == 0
    fresh = run(settings, "user", "reset-password", "carla")
    assert fresh.exit_code == 0 and fresh.output.strip().splitlines()[-1].startswith("bl_")
    assert run(settings, "user", "disable", "nobody").exit_code == 2


def test_partner_add_prints_its_credential_once_and_is_audited(settings: Settings) -> None:
    result = run(settings, "partner", "add", "Child Focus")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("partner_") and len(token) > 40
    assert run(settings, "partner", "add", "Child Focus").exit_code == 2
    listing = run(settings, "partner", "list")
    assert "Child Focus" in listing.output and token not in listing.output and "active" in listing.output
    assert run(settings, "partner", "disable", "Child Focus").exit_code == 0
    assert "inactive" in run(settings, "partner", "list").output
    assert run(settings, "partner", "disable", "Nobody").exit_code == 2
    assert run(settings, "audit", "verify").exit_code == 0
