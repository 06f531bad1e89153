"""Shared parameter types: every id in a path, a query string or a form is parsed by one rule.

An id is ASCII digits within 1..MAX_ID (blocklist.text.parse_id): pydantic alone would take " 12", "+12",
"1_000" and "12.0", and a plain `int` takes any size, which then overflows the databases' INTEGER.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from blocklist.errors import InvalidInput
from blocklist.text import MAX_ID, parse_id

__all__ = ["ID_RULE", "MAX_ID", "DbId", "OptionalQueryId", "OptionalSerial", "QueryId", "Serial", "form_ids"]


def _id(value: Any) -> Any:
    if value is None:
        return None
    try:
        return parse_id(value, field="id")
    except InvalidInput:
        raise PydanticCustomError("id", "must be a number from 1 to {max} (ASCII digits only)",
                                  {"max": MAX_ID}) from None


ID_RULE = BeforeValidator(_id)  # for a parameter that needs its own Path/Query (an alias, say)
# FastAPI's Path/Query come first: after a validator, their bounds reach OpenAPI as unknown keys, not min/max.
DbId = Annotated[int, Path(ge=1, le=MAX_ID), ID_RULE]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID), ID_RULE]
OptionalQueryId = Annotated[int | None, Query(ge=1, le=MAX_ID), ID_RULE]
Serial = QueryId
OptionalSerial = OptionalQueryId


def form_ids(values: list[str], *, field: str) -> list[int]:
    """Ids sent as a form's repeated field (checkboxes), each parsed by the same rule; else InvalidInput."""
    return [parse_id(v, field=field) for v in values]
