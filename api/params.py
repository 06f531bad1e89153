"""Shared parameter types: database ids stay within what every backend's INTEGER holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2_147_483_647
DbId = Annotated[int, Path(ge=1, le=MAX_ID)]
Serial = Annotated[int, Query(ge=1, le=MAX_ID)]
