"""Text as every edge takes it in: control characters and lone surrogates refused naming the field,
NFC everywhere, digits read as ASCII in numbers; the HTTP edge applying it to path, query, headers and
bodies, and the last resort that answers an unexpected error in the envelope without raising it on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.testclient import TestClient

from mla_core.complaints.models import ManualComplaint
from mla_core.core.errors import InvalidInputError
from mla_core.core.fields import ascii_digits, sip_number
from mla_core.core.messages import CODES
from mla_core.core.text import REFUSED_INPUT, clean, clean_json
from mla_core.http.envelope import create_app, ok
from mla_core.tenants.request import TenantRequest

DECOMPOSED_E = "e\u0301"  # "é" as e + combining acute
DECOMPOSED_KO = "\u0b95\u0bc6\u0bbe"  # Tamil "கொ" as க + ெ + ா
REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f", "\ud800", "\udfff"]


# The rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_control_characters_and_lone_surrogates_are_refused_naming_the_field(char: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        clean(f"Ward{char}3", "body.location")

    [detail] = refused.value.details
    assert detail["field"] == "body.location" and f"U+{ord(char):04X}" in detail["reason"]
    assert detail["type"] == ("lone_surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "control_character")


def test_tab_line_feed_and_carriage_return_are_text() -> None:
    assert clean("line one\r\n\tline two", "body.note") == "line one\r\n\tline two"


def test_text_is_stored_composed() -> None:
    assert clean(f"caf{DECOMPOSED_E}", "q") == "caf\u00e9"
    assert clean(f"{DECOMPOSED_KO}ளம்", "q") == "\u0b95\u0bcaளம்"
    plain = "குடிநீர் வரவில்லை"
    assert clean(plain, "q") is plain  # already NFC: the same object back, nothing copied


def test_a_json_document_is_cleaned_keys_included_and_an_error_names_the_path() -> None:
    document = {"greetings": {"ta": f"வணக்{DECOMPOSED_KO}"}, "phone_numbers": ["+919876543210"], "n": 3}

    assert clean_json(document, "body") == {
        "greetings": {"ta": "வணக்\u0b95\u0bca"},
        "phone_numbers": ["+919876543210"],
        "n": 3,
    }
    for broken, field in [
        ({"phone_numbers": ["+91", "+91\x00"]}, "body.phone_numbers.1"),
        ({"greetings": {"ta\x00": "x"}}, "body.greetings"),
        ([{"a": "\ud83d"}], "body.0.a"),
    ]:
        with pytest.raises(InvalidInputError) as refused:
            clean_json(broken, "body")
        assert refused.value.details[0]["field"] == field


# Digits in numbers -------------------------------------------------------------------------------


def test_any_decimal_digit_is_read_as_its_ascii_digit() -> None:
    assert ascii_digits("+91444０001111") == "+914440001111"  # full-width zero
    assert ascii_digits("+91९८७६५४३२१०") == "+919876543210"  # Devanagari
    assert ascii_digits("௯௮௭") == "987"  # Tamil
    assert ascii_digits("²") == "²"  # a superscript is no decimal digit


def test_a_number_with_full_width_digits_is_stored_as_plain_e164() -> None:
    body = {
        "mla_name": "K. Selvi",
        "constituency": "Mylapore",
        "state": "Tamil Nadu",
        "languages": ["ta"],
        "phone_numbers": ["+91444０001111"],
        "admin_email": "office@selvi.example.in",
    }
    assert TenantRequest.model_validate(body).phone_numbers == ["+914440001111"]
    walk_in = {"category": "water", "description": "No water for days", "location": "Ward 3"}
    assert (
        ManualComplaint.model_validate({**walk_in, "caller_number": "+91９８７６５４３２１０"}).caller_number
        == "+919876543210"
    )
    with pytest.raises(ValidationError):
        ManualComplaint.model_validate({**walk_in, "caller_number": "+91²876543210"})


def test_a_sip_number_is_ascii_digits_or_none() -> None:
    assert sip_number("+91444０001111") == "+914440001111"
    assert sip_number("919876543210") == "919876543210"
    assert [sip_number(v) for v in (None, "", "anonymous", "+9198\x0076543210")] == [None, None, None, None]


# The HTTP edge ------------------------------------------------------------------------------------


class Echoed(BaseModel):
    name: str
    tags: dict[str, str] = {}


def echo_app(*, signed_bodies: bool = False) -> FastAPI:
    app = create_app(title="echo", description="", signed_bodies=signed_bodies)

    @app.get("/echo/{word}")
    async def echo_path(word: str, request: Request) -> JSONResponse:
        return ok({"word": word, "query": dict(request.query_params)})

    @app.post("/echo")
    async def echo_body(body: Echoed) -> JSONResponse:
        return ok(body.model_dump())

    @app.post("/raw")
    async def raw(request: Request) -> JSONResponse:
        return ok({"raw": (await request.body()).decode("utf-8", "surrogatepass")})

    @app.post("/form")
    async def form(request: Request) -> JSONResponse:
        return ok(dict(await request.form()))

    pages = FastAPI()

    @pages.get("/page")
    async def page(request: Request) -> JSONResponse:
        refused = getattr(request.state, REFUSED_INPUT, None)
        return JSONResponse({"refused": refused.details if refused else None, "query": str(request.query_params)})

    app.mount("/pages", pages)
    return app


def refused_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "validation_error"
    return str(body["error"]["details"][0]["field"])


def test_the_edge_refuses_a_control_character_wherever_it_is_and_names_where() -> None:
    client = TestClient(echo_app())

    assert refused_field(client.get("/echo/x", params={"status": "new\x00"})) == "status"
    assert refused_field(client.get("/echo/a%00b")) == "path"
    assert refused_field(client.post("/echo", json={"name": "A\x00B"})) == "name"
    assert refused_field(client.post("/echo", json={"name": "A", "tags": {"ta": "\x1b"}})) == "tags.ta"
    surrogate = b'{"name": "A\\ud800B"}'
    headers = {"content-type": "application/json"}
    assert refused_field(client.post("/echo", content=surrogate, headers=headers)) == "name"
    merge_patch = {"content-type": "application/merge-patch+json"}
    assert refused_field(client.post("/echo", content=b'{"name": "\\u0007"}', headers=merge_patch)) == "name"
    assert refused_field(client.post("/form", data={"full_name": "A\x00B"})) == "full_name"
    assert refused_field(client.post("/form", files={"photo": ("a.jpg", b"\xff")})) == "body"
    assert refused_field(client.get("/echo/x", headers={"Idempotency-Key": "k\x01"})) == "idempotency-key"


def test_the_edge_passes_text_on_composed() -> None:
    client = TestClient(echo_app())

    echoed = client.get(f"/echo/caf{DECOMPOSED_E}", params={"q": DECOMPOSED_KO}).json()["data"]
    assert echoed == {"word": "caf\u00e9", "query": {"q": "\u0b95\u0bca"}}
    body = client.post("/echo", json={"name": DECOMPOSED_KO, "tags": {DECOMPOSED_E: "x"}}).json()["data"]
    assert body == {"name": "\u0b95\u0bca", "tags": {"\u00e9": "x"}}
    escaped = client.post("/echo", content=b'{"name": "e\\u0301"}', headers={"content-type": "application/json"})
    assert escaped.json()["data"]["name"] == "\u00e9"
    assert client.post("/form", data={"name": DECOMPOSED_E}).json()["data"] == {"name": "\u00e9"}


def test_a_signed_body_is_left_as_sent_and_only_the_rest_is_checked() -> None:
    client = TestClient(echo_app(signed_bodies=True))
    sent = '{"room": "e\\u0301", "id": "EV_\\u0000"}'

    answered = client.post("/raw", content=sent.encode(), headers={"content-type": "application/webhook+json"})

    assert answered.json()["data"]["raw"] == sent
    assert refused_field(client.post("/raw?x=%00", content=sent.encode())) == "x"


def test_a_mounted_app_answers_its_own_refusals_with_the_input_withheld() -> None:
    client = TestClient(echo_app())

    answered = client.get("/pages/page", params={"q": "a\x00"})

    assert answered.status_code == 200
    [refused] = answered.json()["refused"]
    assert (refused["field"], refused["type"], answered.json()["query"]) == ("q", "control_character", "")


def test_a_request_without_input_goes_through_untouched() -> None:
    client = TestClient(echo_app())

    assert client.get("/echo/plain").json()["data"] == {"word": "plain", "query": {}}
    assert client.post("/echo", json={"name": "ascii only"}).json()["data"]["name"] == "ascii only"
    assert client.post("/echo", json={"name": "x"}, headers={"x-note": "a\tb"}).status_code == 200


# The last resort -----------------------------------------------------------------------------------


def failing_app() -> FastAPI:
    app = create_app(title="failing", description="")

    def broken_token_check() -> str:
        raise ValueError("the token check itself broke")

    @app.get("/dependency", dependencies=[Depends(broken_token_check)])
    def dependency() -> JSONResponse:
        return ok(None)

    @app.get("/route")
    async def route() -> JSONResponse:
        raise RuntimeError("boom")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def lines() -> Iterator[str]:
            yield "header\n"
            raise RuntimeError("the database went away mid-file")

        return StreamingResponse(lines(), media_type="text/csv")

    return app


def test_an_unexpected_error_is_answered_in_the_envelope_and_raised_no_further() -> None:
    # The test client raises whatever the app raises to the server: that is what made uvicorn drop
    # the connection after the answer.
    client = TestClient(failing_app(), raise_server_exceptions=True)

    for path in ("/dependency", "/route"):
        response = client.get(path)
        assert response.status_code == 500
        assert response.json() == {
            "success": False,
            "error": {"code": "internal_error", "message": "something went wrong on our side", "details": []},
        }


def test_an_error_in_the_middle_of_a_stream_still_cuts_the_response_off() -> None:
    client = TestClient(failing_app(), raise_server_exceptions=True)

    with pytest.raises(RuntimeError, match="mid-file"):
        client.get("/stream")


def test_an_unexpected_error_is_answered_in_the_language_the_client_asks_for() -> None:
    client = TestClient(failing_app(), raise_server_exceptions=True)

    response = client.get("/route", headers={"Accept-Language": "ta-IN,ta;q=0.9"})

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error" and error["message"] == CODES["internal_error"][2]
