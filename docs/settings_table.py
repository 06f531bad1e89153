"""The table of settings in docs/operations/configuration.md, generated from the Settings model.

Names and defaults come from `blocklist.settings.Settings`, so they cannot drift from the code; the meaning of each
setting is the operator's text already in the page, kept as it is (a new setting gets an empty meaning, which
tests/test_docs.py refuses until someone writes one). `make docs` rewrites the table; the test checks that the page
holds exactly what this module generates.

    python docs/settings_table.py           # rewrite the table in place
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from blocklist.settings import Settings

PAGE = Path(__file__).parent / "operations" / "configuration.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
HEADER = "| variable | default | meaning |\n| --- | --- | --- |\n"
ROW = re.compile(r"^\| `(?P<name>[A-Z0-9_]+)` \| (?P<default>.*?) \| (?P<meaning>.*) \|$")


def variable(name: str, field: FieldInfo) -> str:
    """The environment variable a field is read from."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    if isinstance(alias, str):
        return alias
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


def default(field: FieldInfo) -> str:
    """The default as an operator would write it in the environment."""
    if field.default_factory is not None:
        return "computed at start"
    value = field.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value in ("", None):
        return "(empty)"
    return f"`{value}`"


def settings() -> list[tuple[str, str]]:
    """(variable, default) of every setting, in the model's order."""
    return [(variable(name, field), default(field)) for name, field in Settings.model_fields.items()]


def meanings(page: str) -> dict[str, str]:
    """The meaning written for each variable in the page's current table."""
    found = {}
    for line in page.split(START, 1)[-1].split(END, 1)[0].splitlines():
        match = ROW.match(line.strip())
        if match:
            found[match["name"]] = match["meaning"].strip()
    return found


def table(page: str) -> str:
    """The generated table, with the meanings the page already has."""
    known = meanings(page)
    rows = "".join(f"| `{name}` | {value} | {known.get(name, '')} |\n" for name, value in settings())
    return HEADER + rows


def rendered(page: str) -> str:
    """The page with its table regenerated."""
    if START not in page or END not in page:
        raise SystemExit(f"{PAGE}: the markers {START} and {END} are missing")
    before, rest = page.split(START, 1)
    after = rest.split(END, 1)[1]
    return f"{before}{START}\n{table(page)}{END}{after}"


def main() -> int:
    text = PAGE.read_text()
    new = rendered(text)
    if new != text:
        PAGE.write_text(new)
        print(f"{PAGE}: settings table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
