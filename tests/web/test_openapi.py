"""The OpenAPI document and the API agree on methods, statuses and error bodies."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.web.ids import MAX_ROW_ID


async def test_a_refused_method_names_every_method_the_path_serves(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/api/v1/campaigns")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_every_api_operation_documents_the_errors_it_can_give(app: FastAPI) -> None:
    document = app.openapi()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            assert {"401", "422"} <= operation["responses"].keys(), f"{method} {path}"
    control = document["paths"]["/api/v1/campaigns/{campaign_id}/start"]["post"]["responses"]
    assert {"403", "404", "409"} <= control.keys()


def test_a_422_may_carry_a_sentence_or_a_list_of_problems(app: FastAPI) -> None:
    document = app.openapi()
    response = document["paths"]["/api/v1/campaigns"]["post"]["responses"]["422"]
    reference = response["content"]["application/json"]["schema"]["$ref"]
    model = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    kinds = {option.get("type") for option in model["properties"]["detail"]["anyOf"]}
    assert kinds == {"array", "string"}


def test_ids_are_documented_as_the_64_bit_integers_a_row_can_have(app: FastAPI) -> None:
    document = app.openapi()
    parameter = document["paths"]["/api/v1/review-items/{item_id}"]["get"]["parameters"][0]
    assert parameter["schema"]["minimum"] == 1
    assert parameter["schema"]["maximum"] == MAX_ROW_ID
