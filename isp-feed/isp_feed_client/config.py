"""The configuration file, `/etc/isp-feed.toml` by default: every option of `isp-feed pull` as a key (its flag's name
with `_` for `-`: `--state-dir` is `state_dir`), so that a cron line or a systemd unit needs no long flags and the
token is not on a command line. Flags given as well override the file; a repeatable flag (`pubkey`, `reload`,
`resolver`) is a list in the file, and given on the command line replaces the file's list. `unbound_control` is a
command: its words as a list (or one string, split as a shell would), as `--unbound-control` takes it in one string.

Read strictly (tomllib): an unknown key or a value of the wrong type is refused with a message that names the file,
the key and what was expected (the CLI exits 2), so a typo never silently falls back to a default.

    server = "https://blocklist.example"
    token = "isp_..."
    pubkey = ["/etc/isp-feed/feed.pub"]
    state_dir = "/var/lib/isp-feed"
    format = "rpz"
    out = "/etc/unbound/blocklist.rpz"
    reload = ["unbound-control auth_zone_reload rpz.blocklist.example"]
    resolver = ["127.0.0.1"]
    textfile = "/var/lib/prometheus/node-exporter/isp-feed.prom"
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
DEFAULT_PATH = Path("/etc/isp-feed.toml")


@dataclass(frozen=True)
class Key:
    """One option: its type, whether it is repeatable (a list), its default, and whether a pull needs it."""

    kind: type
    many: bool = False
    default: object = None
    required: bool = False


KEYS: dict[str, Key] = {
    "server": Key(str, required=True),
    "token": Key(str, required=True),
    "pubkey": Key(Path, many=True, required=True),
    "state_dir": Key(Path, required=True),
    "format": Key(str, default="rpz"),
    "out": Key(Path, required=True),
    "reload": Key(str, many=True),
    "resolver": Key(str, many=True, default=[]),
    "resolver_wait": Key(float, default=60.0),
    "apply": Key(str, default="reload"),  # or "unbound-control" (unbound.conf: a delta by the control channel)
    "unbound_control": Key(str, many=True, default=["unbound-control"]),  # the command and its options
    "max_change_share": Key(float, default=0.10),
    "max_change_min": Key(int, default=10),
    "refuse_confirmed_changes": Key(bool, default=False),
    "max_confirmed_share": Key(float, default=1.0),
    "max_initial": Key(int),
    "protected_file": Key(Path),
    "loop": Key(bool, default=False),
    "interval": Key(float, default=60.0),
    "ca_file": Key(Path),
    "connect_timeout": Key(float, default=10.0),
    "read_timeout": Key(float, default=30.0),
    "retries": Key(int, default=3),
    "backoff": Key(float, default=0.5),
    "textfile": Key(Path),
}
_TOML_TYPE = {str: "a string", Path: "a path (a string)", int: "an integer", float: "a number", bool: "true or false"}


class ConfigError(ValueError):
    """A configuration file that cannot be used, said in one line."""


def _value(path: Path, name: str, key: Key, raw: object) -> object:
    def wrong() -> ConfigError:
        expected = _TOML_TYPE[key.kind] + (" or a list of them" if key.many else "")
        return ConfigError(f"{path}: `{name}` must be {expected}, not {type(raw).__name__} {raw!r}")

    if key.many:
        items = raw if isinstance(raw, list) else [raw]
        return [_one(key.kind, item, wrong) for item in items]
    return _one(key.kind, raw, wrong)


def _one(kind: type, raw: object, wrong: Callable[[], ConfigError]) -> object:
    if kind is bool:
        ok = isinstance(raw, bool)
    elif kind is float:
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
    elif kind is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
    else:
        ok = isinstance(raw, str) and raw != ""
    if not ok:
        raise wrong()
    return kind(raw)


def load(path: Path) -> dict[str, object]:
    """The options a configuration file sets, typed; ConfigError when it is unreadable, not TOML, names an unknown
    key or gives a value of the wrong type."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not a TOML file: {exc}") from None
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                          f"(known: {', '.join(KEYS)})")
    return {name: _value(path, name, KEYS[name], value) for name, value in raw.items()}


PULL_NEEDS = tuple(name for name, key in KEYS.items() if key.required)


def merged(from_file: Mapping[str, object], from_flags: Mapping[str, object], *,
           need: Iterable[str] = PULL_NEEDS) -> dict[str, object]:
    """Defaults, then the file, then the flags given; ConfigError naming what the command needs and nobody gave."""
    values = {name: key.default for name, key in KEYS.items()} | dict(from_file) | dict(from_flags)
    missing = [name for name in need if not values.get(name)]
    if missing:
        raise ConfigError("missing " + ", ".join(f"--{name.replace('_', '-')}" for name in missing)
                          + " (a flag, or a key in the configuration file: --config)")
    return values


def typed(values: Mapping[str, object], name: str, kind: type[T]) -> T:
    """`values[name]`, which `load` and the CLI's parser made of the type KEYS says (an int stands for a float)."""
    value = values[name]
    if kind is float and isinstance(value, int):
        value = float(value)
    assert isinstance(value, kind), (name, value)
    return value


def optional(values: Mapping[str, object], name: str, kind: type[T]) -> T | None:
    return None if values[name] is None else typed(values, name, kind)


def many(values: Mapping[str, object], name: str, kind: type[T]) -> list[T]:
    items = values[name] or []
    assert isinstance(items, list), (name, items)
    return [kind(item) for item in items]  # type: ignore[call-arg]
