"""The `blocklist` command: operators' entry point to every server-side action."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from api.runtime import Runtime
from blocklist import audit, isps, partners, users
from blocklist.errors import BlocklistError
from blocklist.settings import Settings
from blocklist.vocab import ISP_POLICIES, LANGUAGES, ROLES, SCOPES
from isp_feed.primary import MAX_SHARDS, SECONDARY_RESOLVERS

F = TypeVar("F", bound=Callable[..., Any])
CLI_ACTOR = "cli"


def refusals_exit_2(func: F) -> F:
    """Print a refused operation as one line on stderr and exit 2 (nothing was written)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BlocklistError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


class _Cli(click.Group):
    """Every command: a busy or unreachable database is one clear line and exit 75 (try again), never a trace."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy import exc as sa_exc

        try:
            return super().invoke(ctx)
        except (sa_exc.OperationalError, sa_exc.TimeoutError) as exc:
            first = str(exc.orig if isinstance(exc, sa_exc.OperationalError) else exc).splitlines()[0]
            click.echo(f"error: the database is busy or unreachable ({first}); nothing was written, try again",
                       err=True)
            sys.exit(75)  # EX_TEMPFAIL


@click.group(cls=_Cli)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Belgian domain blocking: submissions, decisions, requisitions, signed feed, DNS verification."""
    from pydantic import ValidationError

    try:
        ctx.obj = Runtime(Settings())
    except ValidationError as exc:  # an environment variable the settings refuse: which one and why, no trace
        problems = "; ".join(f"{_variable(str(e['loc'][0])) if e['loc'] else 'settings'}: {e['msg']}"
                             for e in exc.errors())
        click.echo(f"error: the configuration is refused ({problems})", err=True)
        sys.exit(2)


def _variable(field: str) -> str:
    """The environment variable of a setting (BLOCKLIST_<FIELD>, or its alias: DATABASE_URL...)."""
    from pydantic import AliasChoices

    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"BLOCKLIST_{field.upper()}"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each competes to lead the scheduler; only one runs the jobs).")
@click.pass_obj
def serve(rt: Runtime, host: str, port: int, workers: int) -> None:
    """Serve the web pages, the JSON API, the feed and the stop page; SIGTERM finishes the requests in flight and
    the running job first."""
    import uvicorn

    from api.app import create_app
    from api.logs import logging_config

    rt.ensure_schema()  # once, before any worker starts
    proxies = rt.settings.trusted_proxies.strip()
    options: dict[str, Any] = {
        "host": host, "port": port, "log_config": logging_config(rt.settings.log_format), "access_log": False,
        # Forwarded headers only from the configured proxies (uvicorn would otherwise trust 127.0.0.1's).
        "proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}
    if workers == 1:
        uvicorn.run(create_app(rt), **options)
    else:
        from api.workers import serve_workers

        serve_workers(workers, options)


@main.command("scheduler")
@click.pass_obj
def scheduler_command(rt: Runtime) -> None:
    """Run only the periodic jobs, no HTTP: it competes for the same leader lock as every `serve` process, so it
    may run beside them (or alone, with BLOCKLIST_SCHEDULER=false on every `serve`). SIGTERM or Ctrl-C lets the
    running job finish, then hands the lead on."""
    import logging.config
    import signal
    import threading

    from api import scheduler
    from api.logs import logging_config

    logging.config.dictConfig(logging_config(rt.settings.log_format))
    rt.ensure_schema()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    running = scheduler.start(rt)
    logging.getLogger("scheduler").info("scheduler: %s started (%s)", running.identity,
                                        "leader" if running.leading else "waiting for the lead")
    stop.wait()
    running.shutdown(wait=True)


@main.command("stop-page")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.pass_obj
def stop_page(rt: Runtime, host: str, port: int) -> None:
    """Serve only the stop page (and /healthz), in a process of its own: a flood on it spares the staff app.
    It reads the blocked names from the database in the background and keeps serving while the database is down."""
    import uvicorn

    from api.logs import logging_config
    from api.stop_server import create_stop_app

    # A deep accept queue: a burst of visitors waits to be answered instead of being refused by the kernel.
    uvicorn.run(create_stop_app(rt), host=host, port=port, log_config=logging_config(rt.settings.log_format),
                access_log=False, backlog=4096)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(rt: Runtime) -> None:
    """Create or migrate the schema (Alembic), on SQLite or PostgreSQL."""
    rt.ensure_schema()
    click.echo(f"schema up to date ({rt.database.dialect})")


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
@refusals_exit_2
def backup_command(rt: Runtime, file: Path) -> None:
    """Write one consistent snapshot of the install (database, keys, secrets) to FILE (blocklist/backup.py)."""
    from blocklist import backup

    made = backup.backup(rt.database, rt.settings.resolved_database_url(), rt.settings.data_dir, file)
    click.echo(f"backup of the {made.dialect} database ({made.events} audit events, {made.members} members) "
               f"written to {made.path}")


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
@refusals_exit_2
def restore_command(rt: Runtime, file: Path) -> None:
    """Restore the backup FILE into this install, which must be empty; then `blocklist audit verify`."""
    from blocklist import backup

    done = backup.restore(rt.settings.resolved_database_url(), rt.settings.data_dir, file)
    rt.ensure_schema()  # a backup of an older version is brought to this version's schema
    click.echo(f"restored {done.path} (made {done.created_at}, {done.events} audit events); "
               f"run `blocklist audit verify`")


@main.command()
@click.pass_obj
@refusals_exit_2
def demo(rt: Runtime) -> None:
    """Load demo data (reserved names only) and print the demo accounts with their tokens."""
    from api.demo import load_demo

    rt.ensure_schema()
    for line in load_demo(rt):
        click.echo(line)


@main.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password", default=None, help="Sets a web password (at least 10 characters).")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--language", default="en", type=click.Choice(LANGUAGES))
@click.pass_obj
@refusals_exit_2
def user_add(rt: Runtime, username: str, role: str, password: str | None, display_name: str, language: str) -> None:
    """Create an account; the new API token is printed on the last line."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        created, token = users.create_user(
            session, actor=CLI_ACTOR, username=username, role=role, password=password,
            display_name=display_name, language=language,
        )
        click.echo(f"created {created.role} {created.username!r} (id {created.id}); API token (shown once):")
    click.echo(token)


def _account(session: Any, username: str) -> Any:
    return users.get_user(session, username)


@user.command("confirm")
@click.argument("username")
@click.pass_obj
@refusals_exit_2
def user_confirm(rt: Runtime, username: str) -> None:
    """Confirm, as the operator on the server, an account an administrator made, re-credentialed or changed."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        confirmed = users.confirm(session, actor=CLI_ACTOR, user=_account(session, username))
        click.echo(f"confirmed {confirmed.role} {confirmed.username!r} (made by {confirmed.credentialed_by})")


@user.command("enrol")
@click.argument("username")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the server is reached.")
@click.pass_obj
@refusals_exit_2
def user_enrol(rt: Runtime, username: str, base_url: str) -> None:
    """Print a one-time enrolment link (valid 3 days) to hand to the person: they set their own password and
    receive their own API token. Any older link stops working."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        code = users.start_enrolment(session, actor=CLI_ACTOR, user=_account(session, username))
    click.echo(f"one-time enrolment link for {username!r} (give it to that person only):")
    click.echo(f"{base_url.rstrip('/')}/enrol/{code}")


def _switch(group: click.Group, argument: str, verb: str, doc: str,
            apply: Callable[[Session, str], str]) -> None:
    """`<group> enable|disable <argument>`: `apply` does it in one transaction and names what it changed."""

    @group.command(verb, help=doc)
    @click.argument(argument)
    @click.pass_obj
    @refusals_exit_2
    def command(rt: Runtime, /, **values: str) -> None:
        rt.ensure_schema()
        with rt.database.transaction() as session:
            changed = apply(session, values[argument])
        click.echo(f"{verb}d {changed}")


def _user_active(active: bool) -> Callable[[Session, str], str]:
    def apply(session: Session, username: str) -> str:
        users.set_active(session, actor=CLI_ACTOR, user=_account(session, username), active=active)
        return repr(username)
    return apply


_switch(user, "username", "enable", "Re-enable a disabled account.", _user_active(True))
_switch(user, "username", "disable", "Disable an account (it is never deleted): no login, no token works.",
        _user_active(False))


@user.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_obj
@refusals_exit_2
def user_set_role(rt: Runtime, username: str, role: str) -> None:
    """Give an account another role (confirmed by the operator at once)."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        users.set_role(session, actor=CLI_ACTOR, user=_account(session, username), role=role)
    click.echo(f"{username!r} is now {role}")


@user.command("reset-password")
@click.argument("username")
@click.option("--password", default=None, help="The new web password; without it, the account's tokens and "
              "password are revoked and a new API token is printed on the last line.")
@click.pass_obj
@refusals_exit_2
def user_reset_password(rt: Runtime, username: str, password: str | None) -> None:
    """Set a new password, or revoke every credential of the account and print a fresh API token."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        account = _account(session, username)
        if password is not None:
            users.set_password(session, actor=CLI_ACTOR, user=account, password=password)
            click.echo(f"password of {username!r} set")
            return
        token = users.reset_token(session, actor=CLI_ACTOR, user=account)
        click.echo(f"every credential of {username!r} revoked; new API token (shown once):")
    click.echo(token)


@user.command("set-language")
@click.argument("username")
@click.argument("language", type=click.Choice(LANGUAGES))
@click.pass_obj
@refusals_exit_2
def user_set_language(rt: Runtime, username: str, language: str) -> None:
    """The language of the account's pages, messages and e-mails."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        users.update_profile(session, actor=CLI_ACTOR, user=_account(session, username), language=language)
    click.echo(f"{username!r} now reads {language}")


@user.command("list")
@click.pass_obj
def user_list(rt: Runtime) -> None:
    """Every account: id, username, role, language, state, and who made or confirmed its last change."""
    rt.ensure_schema()
    with rt.database.reading() as session:
        for row in users.list_users(session):
            state = ("enabled" if row.active else "disabled") + ("" if row.confirmed_at else ", awaits confirmation")
            click.echo(f"{row.id}\t{row.username}\t{row.role}\t{row.language}\t{state}\t"
                       f"by {row.credentialed_by}" + (f", confirmed by {row.confirmed_by}" if row.confirmed_by else ""))


@user.command("tokens")
@click.argument("username")
@click.pass_obj
@refusals_exit_2
def user_tokens(rt: Runtime, username: str) -> None:
    """The account's API tokens, newest first: prefix, created, revoked (the secret is never kept)."""
    rt.ensure_schema()
    with rt.database.reading() as session:
        rows = users.tokens_of(session, _account(session, username))
        if not rows:
            click.echo(f"{username!r} has no API token")
        for row in rows:
            revoked = f"revoked {row.revoked_at:%Y-%m-%d %H:%M} UTC" if row.revoked_at else "active"
            click.echo(f"{row.id}\t{row.prefix}...\tcreated {row.created_at:%Y-%m-%d %H:%M} UTC\t{revoked}")


@user.command("revoke-token")
@click.argument("username")
@click.argument("prefix")
@click.pass_obj
@refusals_exit_2
def user_revoke_token(rt: Runtime, username: str, prefix: str) -> None:
    """Revoke the account's token whose prefix (as `user tokens` lists it) starts with PREFIX."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        account = _account(session, username)
        token = users.revoke_token(session, actor=CLI_ACTOR, user=account,
                                   token_id=users.token_by_prefix(session, account, prefix).id)
        click.echo(f"revoked token {token.prefix}... of {username!r}")


@main.group()
def isp() -> None:
    """The ISP registry."""


@isp.command("add")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--language", required=True, type=click.Choice(LANGUAGES))
@click.option("--resolver", "resolvers", multiple=True, help="IP[:PORT] of a resolver to verify (repeatable).")
@click.option("--policy", default="stoppage", type=click.Choice(ISP_POLICIES), show_default=True)
@click.option("--operator-id", default="")
@click.pass_obj
@refusals_exit_2
def isp_add(rt: Runtime, name: str, email: str, language: str, resolvers: tuple[str, ...], policy: str,
            operator_id: str) -> None:
    """Register an ISP with its TSIG key for zone transfers; its feed credential is printed on the last line."""
    from isp_feed.primary import issue_key

    rt.ensure_schema()
    with rt.database.transaction() as session:
        created, token = isps.add_isp(
            session, actor=CLI_ACTOR, name=name, email=email, language=language, resolvers=resolvers,
            policy=policy, operator_id=operator_id,
        )
        key = issue_key(session, rt.settings, actor=CLI_ACTOR, isp=created)
    # Printed once the registration is committed: both are shown this once, and only what exists is shown.
    click.echo(f"registered ISP {created.name!r} (id {created.id})")
    click.echo(f"TSIG key {key.name!r} (hmac-sha256) for zone transfers, shown once; for the ISP's secondaries:")
    click.echo(key.clause())
    click.echo("feed credential (shown once):")
    click.echo(token)


@isp.command("list")
@click.pass_obj
def isp_list(rt: Runtime) -> None:
    """List every ISP with its language, policy, resolvers and state."""
    rt.ensure_schema()
    with rt.database.reading() as session:  # reads wait for no writer
        rows = isps.list_isps(session)
        if not rows:
            click.echo("no ISP registered")
        for row in rows:
            resolvers = ",".join(f"{r.address}:{r.port}" for r in row.resolvers) or "-"
            state = "active" if row.active else "inactive"
            click.echo(f"{row.id}\t{row.name}\t{row.email}\t{row.language}\t{row.policy}\t{resolvers}\t{state}")


@isp.command("tsig")
@click.argument("isp_name", metavar="ISP")
@click.pass_obj
@refusals_exit_2
def isp_tsig(rt: Runtime, isp_name: str) -> None:
    """Give an ISP a new TSIG key for zone transfers (the old one stops working); the secret is printed once."""
    from isp_feed.primary import issue_key

    rt.ensure_schema()
    with rt.database.transaction() as session:
        key = issue_key(session, rt.settings, actor=CLI_ACTOR, isp=isps.get_isp(session, isp_name))
    click.echo(f"TSIG key {key.name!r} (hmac-sha256) of ISP {isp_name!r}, shown once; for the ISP's secondaries:")
    click.echo(key.clause())
    click.echo(key.secret)


@isp.command("secondaries")
@click.argument("isp_name", metavar="ISP")
@click.option("--signed", multiple=True, help="IP[:PORT] of a secondary that transfers with the ISP's TSIG key.")
@click.option("--unsigned", multiple=True, help="IP[:PORT] of a secondary allowed by address (Unbound: no TSIG).")
@click.pass_obj
@refusals_exit_2
def isp_secondaries(rt: Runtime, isp_name: str, signed: tuple[str, ...], unsigned: tuple[str, ...]) -> None:
    """Replace the ISP's secondaries: the primary NOTIFYs them and lets them transfer the RPZ zone."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        found = isps.get_isp(session, isp_name)
        rows = isps.set_secondaries(session, actor=CLI_ACTOR, isp=found, signed=signed, unsigned=unsigned)
        listed = ", ".join(f"{r.address}:{r.port}{'' if r.tsig else ' (unsigned)'}" for r in rows) or "none"
    click.echo(f"secondaries of {isp_name!r}: {listed}")


_PRIMARY_DIR_HELP = "The primary's folder (default: BLOCKLIST_DNS_PRIMARY_DIR, else <data dir>/dns-primary)."


@main.group("dns-primary", invoke_without_command=True)
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_PRIMARY_DIR_HELP)
@click.option("--port", default=53, show_default=True, type=click.IntRange(1, 65535))
@click.option("--control-port", default=953, show_default=True, type=click.IntRange(1, 65535),
              help="rndc's control channel, on the same address.")
@click.option("--shards", default=1, show_default=True, type=click.IntRange(1, MAX_SHARDS),
              help="Spread the list over this many zones beside the configured one (which then holds the canary "
                   "only), so that a resolver re-processes only the shards a version changed.")
@click.pass_context
def dns_primary(ctx: click.Context, folder: Path | None, port: int, control_port: int, shards: int) -> None:
    """Configure the hidden primary (BIND 9: named.conf, TSIG keys, the zones) and print its systemd unit."""
    from isp_feed import primary

    if ctx.invoked_subcommand is not None:
        return
    rt: Runtime = ctx.obj
    rt.ensure_schema()
    configured = primary.configure(rt.database, rt.settings, folder=folder, port=port, control_port=control_port,
                                   shards=shards)
    spread = f" (the list in {shards} shards: {', '.join(configured.zones[1:])})" if shards > 1 else ""
    click.echo(f"# hidden primary of {configured.zone}{spread} on {configured.address}:{configured.port}, "
               f"configured in {configured.folder}; run it with this unit "
               "(/etc/systemd/system/blocklist-dns-primary.service):")
    click.echo(primary.unit_text(configured).rstrip())


@dns_primary.command("secondary-config")
@click.option("--resolver", required=True, type=click.Choice(SECONDARY_RESOLVERS))
@click.option("--isp", "isp_name", default=None, metavar="ISP",
              help="The ISP (id or name) whose key name to fill in (default: isp-ID, to replace).")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=_PRIMARY_DIR_HELP)
@click.pass_obj
@refusals_exit_2
def dns_primary_secondary_config(rt: Runtime, resolver: str, isp_name: str | None, folder: Path | None) -> None:
    """Print an ISP's secondary configuration of every zone of the primary (meta zone first) for its resolver."""
    from isp_feed import primary

    configured = primary.load(rt.settings, folder)
    if configured is None:
        click.echo("error: no hidden primary is configured here: run `blocklist dns-primary` first", err=True)
        sys.exit(2)
    key = "isp-ID"
    if isp_name is not None:
        rt.ensure_schema()
        with rt.database.reading() as session:
            key = isps.tsig_key_name(isps.get_isp(session, isp_name))
    click.echo(primary.secondary_config_text(configured, resolver, key, rt.settings.stop_page_host), nl=False)


@main.group()
def partner() -> None:
    """Partner hotlines that forward reports (e.g. the national INHOPE member)."""


@partner.command("add")
@click.argument("name")
@click.pass_obj
@refusals_exit_2
def partner_add(rt: Runtime, name: str) -> None:
    """Register a partner hotline; its credential (for POST /api/v1/reports) is printed on the last line."""
    rt.ensure_schema()
    with rt.database.transaction() as session:
        created, token = partners.add_partner(session, actor=CLI_ACTOR, name=name)
        click.echo(f"registered partner {created.name!r} (id {created.id}); credential (shown once):")
    click.echo(token)


def _partner_active(active: bool) -> Callable[[Session, str], str]:
    def apply(session: Session, name: str) -> str:
        partners.set_active(session, actor=CLI_ACTOR, partner=partners.get_partner(session, name), active=active)
        return f"partner {name!r}"
    return apply


_switch(partner, "name", "enable", "Let a partner send reports again.", _partner_active(True))
_switch(partner, "name", "disable", "Stop a partner's credential (its reports stay).", _partner_active(False))


@partner.command("list")
@click.pass_obj
def partner_list(rt: Runtime) -> None:
    """List every partner with its credential's prefix and state."""
    rt.ensure_schema()
    with rt.database.reading() as session:
        rows = partners.list_partners(session)
        if not rows:
            click.echo("no partner registered")
        for row in rows:
            click.echo(f"{row.id}\t{row.name}\t{row.token_prefix}...\t{'active' if row.active else 'inactive'}")


@main.group()
def name() -> None:
    """Domain names."""


@name.command("check")
@click.argument("names", nargs=-1, required=True)
@click.option("--scope", default="domain_and_subdomains", type=click.Choice(SCOPES))
@click.pass_obj
def name_check(rt: Runtime, names: tuple[str, ...], scope: str) -> None:
    """Print each name's normalised form and verdict; exit 2 if any is refused."""
    rt.ensure_schema()
    with rt.database.reading() as session:  # reads wait for no writer (a long bulk submission, say)
        policy = rt.name_policy(session)
    refused = 0
    for typed in names:
        verdict = policy.verdict(typed, scope=scope)
        if verdict.accepted:
            shown = verdict.a_label if verdict.a_label == verdict.u_label else f"{verdict.a_label} ({verdict.u_label})"
            flags = f" [flags: {', '.join(verdict.flags)}]" if verdict.flags else ""
            click.echo(f"{typed!r}\t-> {shown}\taccepted{flags}")
        else:
            refused += 1
            shown = f"{verdict.a_label}" if verdict.a_label else "-"
            click.echo(f"{typed!r}\t-> {shown}\trefused: {verdict.reason}")
    if refused:
        click.echo(f"error: {refused} of {len(names)} name(s) refused", err=True)
        sys.exit(2)


@main.group()
def feed() -> None:
    """The signed ISP feed."""


@feed.command("publish")
@click.option("--force", is_flag=True, help="Publish even if nothing changed (a re-issue).")
@click.pass_obj
@refusals_exit_2
def feed_publish(rt: Runtime, force: bool) -> None:
    """Build and sign a version now (the publication gate still applies)."""
    from isp_feed.jobs import publish_feed

    rt.ensure_schema()
    serial = publish_feed(rt.job_context, force=force)
    if serial is None:
        with rt.database.transaction() as session:
            from isp_feed.publish import pending_holds
            from isp_feed.versions import latest_version

            held = pending_holds(session)
            latest = latest_version(session)
            if held:
                click.echo(f"held for a magistrate's second confirmation: {held[-1].reasons}")
            click.echo(f"no new version; latest is {latest.serial if latest else 'none'}")
        return
    click.echo(f"published feed version {serial}")


@feed.command("rotate-key")
@click.pass_obj
def feed_rotate_key(rt: Runtime) -> None:
    """Sign with a new key from now on; the old public key stays valid for the transition period."""
    rt.ensure_schema()
    old = rt.keys.active_key_id()
    new = rt.keys.rotate(transition_days=rt.settings.feed_key_transition_days)
    with rt.database.transaction() as session:
        audit.record(session, actor=CLI_ACTOR, action="feed.key_rotated", object_type="feed_key", object_id=new,
                     details={"old": old, "new": new, "transition_days": rt.settings.feed_key_transition_days})
    click.echo(f"active key {new}; {old} accepted by clients until its transition ends")
    click.echo(rt.keys.active_public_key().to_text().rstrip())


@main.group("verify")
def verify_group() -> None:
    """DNS verification that every ISP really blocks."""


@verify_group.command("run")
@click.option("--isp", "isp_name", default=None, help="Only this ISP.")
@click.pass_obj
@refusals_exit_2
def verify_run(rt: Runtime, isp_name: str | None) -> None:
    """A verification round now: every blocked name at every (or one) ISP resolver, plus the control."""
    from isp_feed import compliance, verification

    rt.ensure_schema()
    round_id = verification.verify(rt.database, rt.settings, isp_name=isp_name)
    with rt.database.transaction() as session:
        for row in compliance.compliance(session):
            share = "-" if row.share_blocked is None else f"{row.share_blocked:.0%}"
            click.echo(f"{row.isp_name}\tblocked {row.blocked}/{row.checked} ({share})"
                       + (f"\tNOT BLOCKED: {', '.join(row.not_blocked)}" if row.not_blocked else ""))
    click.echo(f"verification round {round_id} done")


@main.command("probe")
@click.option("--server", required=True)
@click.option("--token", required=True, help="The probe's own credential.")
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The probe's secret key (blocklist probe-keygen).")
@click.option("--resolver", required=True, help="The ISP resolver to check, IP[:PORT].")
@click.option("--control", required=True, help="A resolver that applies no block, IP[:PORT].")
@refusals_exit_2
def probe_run(server: str, token: str, key_file: str, resolver: str, control: str) -> None:
    """Run a verification round from inside an ISP's network and post the signed results."""
    from pathlib import Path

    from isp_feed.verify.probe_run import run_probe
    from isp_feed_client.signing import SecretKey

    target, reference = isps.parse_resolver(resolver), isps.parse_resolver(control)
    outcome = run_probe(server=server, token=token, key=SecretKey.from_text(Path(key_file).read_text()),
                        resolver=(target.address, target.port), control=(reference.address, reference.port))
    click.echo(f"checked {outcome.names} names: {outcome.verdicts}; server round {outcome.round_id}")


@main.command("probe-keygen")
@click.argument("folder", type=click.Path(file_okay=False))
def probe_keygen(folder: str) -> None:
    """Create a probe's signing key (probe.key, mode 0600) and its public key (probe.pub) in FOLDER."""
    from pathlib import Path

    from isp_feed.keys import write_secret_key
    from isp_feed_client.signing import SecretKey

    target = Path(folder)
    key = SecretKey.generate()
    try:
        write_secret_key(target / "probe.key", key)  # never over an existing key
    except FileExistsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    (target / "probe.pub").write_text(key.public_key().to_text())
    click.echo(f"wrote {target / 'probe.key'} and {target / 'probe.pub'}")


@main.command("probe-register")
@click.argument("name")
@click.option("--isp", "isp_name", required=True)
@click.option("--pubkey", required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
@refusals_exit_2
def probe_register(rt: Runtime, name: str, isp_name: str, pubkey: str) -> None:
    """Register a probe inside an ISP's network; its credential is printed on the last line."""
    from pathlib import Path

    from isp_feed import probes

    rt.ensure_schema()
    with rt.database.transaction() as session:
        _, token = probes.register(session, actor=CLI_ACTOR, isp=isps.get_isp(session, isp_name), name=name,
                                   public_key=Path(pubkey).read_text())
        click.echo(f"registered probe {name!r} for {isp_name}; credential (shown once):")
    click.echo(token)


@main.group("audit")
def audit_group() -> None:
    """The audit chain."""


@audit_group.command("verify")
@click.option("--checkpoints", "folders", multiple=True, type=click.Path(file_okay=False),
              help="A folder of signed checkpoints (exported files, ISP clients' state dirs); repeatable.")
@click.option("--pubkey", "pubkeys", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Trust only this minisign public key for the checkpoints (default: the server's keys).")
@click.pass_obj
def audit_verify(rt: Runtime, folders: tuple[str, ...], pubkeys: tuple[str, ...]) -> None:
    """Exit 0 when the chain is intact; 1, naming the first broken event, when it is not.

    Intact means: every hash recomputes, the head row agrees, replaying the events gives the submissions table,
    and (with --checkpoints) the chain passes through every witnessed checkpoint.
    """
    from pathlib import Path

    from isp_feed import checkpoints
    from isp_feed_client.signing import SignatureError, parse_public_key

    rt.ensure_schema()
    witnesses: list[audit.Witness] = []
    if folders:
        try:
            keys = [parse_public_key(Path(p).read_text()) for p in pubkeys] or checkpoints.trusted_keys(rt.keys)
        except SignatureError as exc:
            click.echo(f"error: cannot read --pubkey: {exc}", err=True)
            sys.exit(2)
        found = checkpoints.load([Path(f) for f in folders], keys)
        for problem in found.problems:
            click.echo(f"checkpoint refused: {problem}", err=True)
        if found.problems or not found.witnesses:
            # A checkpoint that does not verify is not silently skipped: it may be the one that would not match.
            click.echo("audit chain NOT verified against its checkpoints: "
                       + (f"{len(found.problems)} checkpoint(s) refused" if found.problems
                          else f"no checkpoint found in {', '.join(folders)}"))
            sys.exit(1)
        witnesses = found.witnesses
        click.echo(f"{len(witnesses)} signed checkpoint(s) read")
    with rt.database.reading() as session:
        status = audit.verify(session, witnesses=witnesses)
    click.echo(status.describe())
    if not status.intact:
        sys.exit(1)


@audit_group.command("verify-export")
@click.argument("export_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--pubkey", "pubkeys", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="The feed's minisign public key (repeatable); default: the server's keys in the data dir.")
@click.pass_obj
def audit_verify_export(rt: Runtime, export_file: str, pubkeys: tuple[str, ...]) -> None:
    """Verify a history export (GET /api/v1/domains/NAME/export.json, /cases/CASE/export.json) offline: exit 0
    when every event's hash and link, its checkpoint and its signature hold; 1 naming the first bad event."""
    from pathlib import Path

    from isp_feed import bundles, checkpoints
    from isp_feed_client.signing import SignatureError, parse_public_key

    try:
        if pubkeys:
            keys = [parse_public_key(Path(p).read_text()) for p in pubkeys]
        elif (rt.settings.data_dir / "keys").is_dir():  # on the server: never a key made up here for the check
            keys = checkpoints.trusted_keys(rt.keys)
        else:
            click.echo("error: give the feed's public key with --pubkey (no server keys in "
                       f"{rt.settings.data_dir / 'keys'})", err=True)
            sys.exit(2)
    except SignatureError as exc:
        click.echo(f"error: cannot read --pubkey: {exc}", err=True)
        sys.exit(2)
    result = bundles.verify(Path(export_file).read_bytes(), keys)
    click.echo(result.describe())
    if not result.intact:
        sys.exit(1)


@audit_group.command("checkpoint")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.pass_obj
def audit_checkpoint(rt: Runtime, folder: str | None) -> None:
    """Verify the chain, then sign a checkpoint of it (event count, head hash, time) into FOLDER, or print it.

    Check one by hand: minisign -V -P <feed key> -m FOLDER/audit-checkpoint-....json
    """
    from pathlib import Path

    from isp_feed import checkpoints

    rt.ensure_schema()
    with rt.database.reading() as session:
        status = audit.verify(session)
    if not status.intact:
        click.echo(f"{status.describe()}\nerror: no checkpoint is signed over a broken chain", err=True)
        sys.exit(1)
    with rt.database.transaction() as session:
        # The verified point, not the head now: whatever was appended since has not been checked.
        made = checkpoints.make(session, rt.keys, trigger="cli", point=(status.events, status.head_hash))
    if folder is None:
        from isp_feed_client.formats import checkpoint_body

        click.echo(checkpoint_body(made.events, made.head, made.at).decode(), nl=False)
        click.echo(made.signature, nl=False)
        return
    path = checkpoints.write_file(Path(folder), made)
    click.echo(f"checkpoint of {made.events} events (head {made.head[:16]}) signed: {path} and {path.name}.minisig")
