"""The error answers of the API, documented once so the OpenAPI document says what is returned.

Every error body is ``{"detail": ...}``. A request that fails validation gets FastAPI's list of
problems; one that breaks a domain rule (``InvalidInputError``) gets a sentence; both are 422, so
the 422 schema accepts either. Routes list the other statuses they can give with :func:`errors`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    """Why the request was refused, in a sentence."""

    detail: str


class ValidationProblem(BaseModel):
    """One problem with the request: where (``loc``) and what (``msg``)."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidOut(BaseModel):
    """422: the problems found validating the request, or the domain rule it broke."""

    detail: list[ValidationProblem] | str


DESCRIPTIONS = {
    400: "The body could not be read (JSON that is not UTF-8, a broken multipart form)",
    401: "No valid bearer token",
    403: "The token's role does not allow this",
    404: "No such record",
    409: "The record is not in a state that allows this (the detail says why)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry for a route that can answer each of ``statuses``."""
    return {status: {"model": ErrorOut, "description": DESCRIPTIONS[status]} for status in statuses}


# Every API route needs a token, and every one that takes input can be refused with 422.
EVERY_ROUTE: dict[int | str, dict[str, Any]] = {
    **errors(401),
    422: {"model": InvalidOut, "description": "The request is not valid (the detail says why)"},
}
