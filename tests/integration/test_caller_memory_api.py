"""Caller memory through the dashboard API (`/api/mem0`), as an office's admin and staff use it and as
someone who knows Mem0 would: add as given and by inference, list, search, correct, delete, history; a
slot superseded with its history, two people on one phone, isolation between offices and callers, and
every route's validation. Embeddings and the extraction model are the local stack's OpenAI stand-in."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from support import Api, tenant_body, unique_number

ROUTES_WITH_IDS = ("GET /api/mem0/memories/{id}", "PUT /api/mem0/memories/{id}", "DELETE /api/mem0/memories/{id}",
                   "GET /api/mem0/memories/{id}/history")  # fmt: skip


@pytest.fixture(scope="module")
def office(api: Api, admin_token: str) -> dict[str, Any]:
    office = api.office_admin(admin_token, tenant_body(languages=["ta", "en"]))
    return {**office, "staff_token": api.staff_of(office)}


@pytest.fixture(scope="module")
def other_office(api: Api, admin_token: str) -> dict[str, Any]:
    return api.office_admin(admin_token, tenant_body())


def add(api: Api, token: str, **body: Any) -> httpx.Response:
    return api.request("POST", "/api/mem0/memories", token, json={"infer": False, **body})


def added(api: Api, token: str, **body: Any) -> dict[str, Any]:
    response = add(api, token, **body)
    assert response.status_code == 200, response.text
    [result] = response.json()["data"]["results"]
    return result


def memories_of(api: Api, token: str, phone: str, **filters: Any) -> list[dict[str, Any]]:
    response = api.request("POST", "/api/mem0/memories/list", token, json={"filters": {"user_id": phone, **filters}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["items"]


def wait_for_event(api: Api, token: str, event_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.request("GET", f"/api/mem0/events/{event_id}", token).json()["data"]
        if job["status"] != "PENDING" or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_a_memory_added_as_given_answers_as_mem0_does_and_reads_back(api: Api, office: dict[str, Any]) -> None:
    phone = unique_number()
    result = added(api, office["staff_token"], user_id=phone, text="Runs a tea shop near the bus stand",
                   metadata={"source": "walk_in"})  # fmt: skip
    assert result["event"] == "ADD" and result["memory"] == "Runs a tea shop near the bus stand"

    again = added(api, office["token"], user_id=phone, text="runs a tea shop  near the bus stand")
    assert again["event"] == "NONE" and again["id"] == result["id"]  # Mem0's hash dedupe, case and spacing folded

    one = api.request("GET", f"/api/mem0/memories/{result['id']}", office["token"]).json()["data"]
    assert one["user_id"] == phone and one["kind"] == "fact" and one["metadata"] == {"source": "walk_in"}
    assert one["created_by"].startswith("user:") and len(one["hash"]) == 32
    typed = unique_number()
    spaced = f"{typed[3:8]} {typed[8:]}"  # as people write it: 98400 12345
    added(api, office["token"], user_id=spaced, text="Prefers a call after 6 pm")
    assert [m["memory"] for m in memories_of(api, office["token"], typed)] == ["Prefers a call after 6 pm"]


def test_a_new_ward_supersedes_the_old_one_and_the_history_keeps_both(api: Api, office: dict[str, Any]) -> None:
    phone = unique_number()
    first = added(api, office["token"], user_id=phone, slot="ward", text="Ward 12", run_id="call-1")
    moved = added(api, office["staff_token"], user_id=phone, slot="ward", text="Ward 13", run_id="call-2")
    assert (first["event"], moved["event"]) == ("ADD", "UPDATE") and moved["id"] == first["id"]
    assert moved["previous_memory"] == "Ward 12"
    assert [m["memory"] for m in memories_of(api, office["token"], phone, slot="ward")] == ["Ward 13"]

    history = api.request("GET", f"/api/mem0/memories/{first['id']}/history", office["token"]).json()["data"]
    assert [(h["event"], h["old_memory"], h["new_memory"], h["call_id"]) for h in history] == [
        ("ADD", None, "Ward 12", "call-1"),
        ("UPDATE", "Ward 12", "Ward 13", "call-2"),
    ]
    assert history[0]["actor"] != history[1]["actor"]  # the admin, then the staffer


def test_two_people_on_one_phone_keep_their_own_slots(api: Api, office: dict[str, Any]) -> None:
    phone = unique_number()
    added(api, office["token"], user_id=phone, person="Selvi", slot="name", text="Selvi")
    added(api, office["token"], user_id=phone, person="Murugan", slot="name", text="Murugan")
    added(api, office["token"], user_id=phone, person="Murugan", slot="accessibility", text="Hard of hearing")
    names = {m["person"]: m["memory"] for m in memories_of(api, office["token"], phone, slot="name")}
    assert names == {"Selvi": "Selvi", "Murugan": "Murugan"}

    deleted = api.request(
        "POST", "/api/mem0/memories/delete", office["token"], json={"user_id": phone, "person": "Murugan"}
    )
    assert deleted.json()["data"]["deleted"] == 2
    assert [m["person"] for m in memories_of(api, office["token"], phone)] == ["Selvi"]


def test_search_finds_the_nearest_of_a_callers_memories_and_needs_a_caller(api: Api, office: dict[str, Any]) -> None:
    phone, someone_else = unique_number(), unique_number()
    for text in ("Lives in Ward 12 near the temple", "Has two children in the government school",
                 "Drives an auto rickshaw"):  # fmt: skip
        added(api, office["token"], user_id=phone, text=text)
    added(api, office["token"], user_id=someone_else, text="Lives in Ward 12 near the temple tank")
    found = api.request(
        "POST", "/api/mem0/memories/search", office["staff_token"],
        json={"query": "which ward does the caller live in", "filters": {"user_id": phone}, "top_k": 2},
    )  # fmt: skip
    assert found.status_code == 200, found.text
    results = found.json()["data"]["results"]
    assert next(r["memory"] for r in results) == "Lives in Ward 12 near the temple"
    assert len(results) == 2 and all(r["user_id"] == phone for r in results)
    assert results[0]["score"] >= results[1]["score"]

    unscoped = api.request("POST", "/api/mem0/memories/search", office["token"], json={"query": "ward", "filters": {}})
    assert unscoped.status_code == 422 and unscoped.json()["error"]["details"][0]["reason"] == "entity_required"


def test_mem0_filter_operators(api: Api, office: dict[str, Any]) -> None:
    phone = unique_number()
    added(api, office["token"], user_id=phone, slot="booth", text="Booth 45")
    added(api, office["token"], user_id=phone, text="Sells flowers at the market", metadata={"source": "call"})
    added(api, office["token"], user_id=phone, text="Widow, lives alone", metadata={"source": "walk_in"})
    texts = lambda **f: sorted(m["memory"] for m in memories_of(api, office["token"], phone, **f))  # noqa: E731
    assert texts(kind="profile") == ["Booth 45"]
    assert texts(**{"metadata.source": {"in": ["call", "walk_in"]}}) == [
        "Sells flowers at the market",
        "Widow, lives alone",
    ]
    assert texts(memory={"icontains": "FLOWERS"}) == ["Sells flowers at the market"]
    assert texts(OR=[{"slot": "booth"}, {"metadata.source": "walk_in"}]) == ["Booth 45", "Widow, lives alone"]
    assert texts(NOT={"kind": "fact"}) == ["Booth 45"]
    assert texts(created_at={"gte": "2000-01-01T00:00:00Z"}, slot={"ne": "booth"}) == [
        "Sells flowers at the market", "Widow, lives alone"
    ]  # fmt: skip
    for bad, reason in (({"colour": "red"}, "unknown field"), ({"slot": {"like": "b%"}}, "unknown operator"),
                        ({"created_at": {"gt": "yesterday"}}, "not a date"), ({"user_id": "12"}, "not an Indian")):  # fmt: skip
        refused = api.request("POST", "/api/mem0/memories/list", office["token"], json={"filters": bad})
        assert refused.status_code == 422 and reason in refused.json()["error"]["details"][0]["ctx"]["problem"]
        hindi = api.request("POST", "/api/mem0/memories/list", office["token"], json={"filters": bad},
                            headers={"Accept-Language": "hi"})  # fmt: skip
        assert hindi.json()["error"]["details"][0]["message"].startswith("ये फ़िल्टर समझ में नहीं आए")


def test_a_page_at_a_time_newest_first(api: Api, office: dict[str, Any]) -> None:
    phone = unique_number()
    for n in range(5):
        added(api, office["token"], user_id=phone, text=f"Fact number {n}")
    seen, cursor = [], None
    while True:
        body = {"filters": {"user_id": phone}, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.request("POST", "/api/mem0/memories/list", office["token"], json=body).json()["data"]
        seen += [m["memory"] for m in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"Fact number {n}" for n in (4, 3, 2, 1, 0)]
    listed = api.request("GET", "/api/mem0/memories", office["token"], params={"user_id": phone, "limit": 3})
    assert len(listed.json()["data"]["items"]) == 3


def test_correct_and_delete_a_memory_each_on_its_history(api: Api, office: dict[str, Any]) -> None:
    phone = unique_number()
    memory = added(api, office["token"], user_id=phone, text="Works as a mason")
    corrected = api.request(
        "PUT", f"/api/mem0/memories/{memory['id']}", office["staff_token"], json={"text": "Works as a carpenter"}
    )
    assert corrected.status_code == 200 and corrected.json()["data"]["event"] == "UPDATE"
    deleted = api.request("DELETE", f"/api/mem0/memories/{memory['id']}", office["token"])
    assert deleted.status_code == 200 and deleted.json()["data"]["event"] == "DELETE"
    assert api.request("GET", f"/api/mem0/memories/{memory['id']}", office["token"]).status_code == 404
    history = api.request("GET", f"/api/mem0/memories/{memory['id']}/history", office["token"]).json()["data"]
    assert [h["event"] for h in history] == ["ADD", "UPDATE", "DELETE"]
    assert history[-1]["old_memory"] == "Works as a carpenter"

    added(api, office["token"], user_id=phone, text="Has a ration card")
    added(api, office["token"], user_id=phone, slot="name", text="Kannan")
    gone = api.request("DELETE", "/api/mem0/memories", office["token"], params={"user_id": phone})
    assert gone.json()["data"]["deleted"] == 2 and memories_of(api, office["token"], phone) == []


def test_infer_queues_an_extraction_whose_event_says_what_it_did(api: Api, office: dict[str, Any], stack: Any) -> None:
    phone = unique_number()
    old = added(api, office["token"], user_id=phone, slot="ward", text="Ward 12")
    root = stack.env["OPENAI_BASE_URL"].removesuffix("/v1")
    httpx.post(f"{root}/local/chat-replies", json=[{"match": "we moved to ward 14", "answer": {"memory": [
        {"event": "UPDATE", "id": old["id"], "slot": "ward", "text": "Ward 14"},
        {"event": "ADD", "slot": "name", "text": "Lakshmi"},
        {"event": "ADD", "text": "Moved house in November"},
        {"event": "DELETE", "id": "00000000-0000-0000-0000-000000000001"},
    ]}}])  # fmt: skip
    messages = [{"role": "user", "content": "I am Lakshmi, we moved to ward 14 in November"},
                {"role": "assistant", "content": "Noted, Lakshmi."}]  # fmt: skip
    queued = api.request(
        "POST", "/api/mem0/memories", office["staff_token"], json={"user_id": phone, "messages": messages}
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["data"]["status"] == "PENDING"
    job = wait_for_event(api, office["token"], queued.json()["data"]["event_id"])
    assert job["status"] == "SUCCEEDED", job
    assert [(r["event"], r["memory"]) for r in job["results"]] == [
        ("UPDATE", "Ward 14"), ("ADD", "Lakshmi"), ("ADD", "Moved house in November")
    ]  # fmt: skip
    assert "not this caller's" in job["error"]  # the unknown id: reported, not applied
    assert sorted(m["memory"] for m in memories_of(api, office["token"], phone)) == [
        "Lakshmi", "Moved house in November", "Ward 14"
    ]  # fmt: skip
    history = api.request("GET", f"/api/mem0/memories/{old['id']}/history", office["token"]).json()["data"]
    assert history[-1]["actor"] == f"job:{job['event_id']}"


def test_another_office_sees_and_touches_nothing_of_ours(
    api: Api, office: dict[str, Any], other_office: dict[str, Any]
) -> None:
    phone = unique_number()
    ours = added(api, office["token"], user_id=phone, slot="name", text="Anbu")
    theirs = other_office["token"]
    assert memories_of(api, theirs, phone) == []
    for route in ROUTES_WITH_IDS:
        method, path = route.split()
        body = {"json": {"text": "changed"}} if method == "PUT" else {}
        refused = api.request(method, path.format(id=ours["id"]), theirs, **body)
        assert refused.status_code == 404, (route, refused.text)
    assert (
        api.request("POST", "/api/mem0/memories/delete", theirs, json={"user_id": phone}).json()["data"]["deleted"] == 0
    )
    searched = api.request(
        "POST", "/api/mem0/memories/search", theirs, json={"query": "Anbu", "filters": {"user_id": phone}}
    )
    assert searched.json()["data"]["results"] == []
    assert [m["memory"] for m in memories_of(api, office["token"], phone)] == ["Anbu"]


def test_every_route_refuses_bad_input_and_changes_nothing(api: Api, office: dict[str, Any], admin_token: str) -> None:
    phone = unique_number()
    token = office["token"]
    for body in (
        {"user_id": phone},  # neither text nor messages
        {"user_id": phone, "text": "x", "messages": [{"role": "user", "content": "y"}]},
        {"user_id": "12345", "text": "x"},
        {"user_id": phone, "text": "x" * 501},
        {"user_id": phone, "text": "x", "slot": "caste"},
        {"user_id": phone, "text": "x", "colour": "red"},
        {"user_id": phone, "text": "x", "infer": True, "slot": "ward"},
        {"user_id": phone, "text": "x", "metadata": {"k": "v" * 5000}},
    ):
        refused = api.request(
            "POST", "/api/mem0/memories", token, json={"infer": False, **body} if "infer" not in body else body
        )
        assert refused.status_code in (400, 422), (body, refused.text)
        assert refused.json()["success"] is False
    assert memories_of(api, token, phone) == []
    assert api.request("GET", "/api/mem0/memories/not-a-uuid", token).status_code in (400, 422)
    assert api.request(
        "PUT", f"/api/mem0/memories/{'0' * 8}-0000-0000-0000-{'0' * 12}", token, json={}
    ).status_code in (400, 422)
    assert api.request(
        "POST", "/api/mem0/memories/search", token, json={"query": "", "filters": {"user_id": phone}}
    ).status_code in (400, 422)
    assert api.request("POST", "/api/mem0/memories/list", admin_token, json={"filters": {}}).status_code == 403
    assert api.request("POST", "/api/mem0/memories/list", None, json={"filters": {}}).status_code == 401


def test_an_extraction_the_model_cannot_answer_fails_with_its_reason_and_keeps_nothing(
    api: Api, office: dict[str, Any], stack: Any
) -> None:
    phone = unique_number()
    root = stack.env["OPENAI_BASE_URL"].removesuffix("/v1")
    httpx.post(f"{root}/local/chat-replies", json=[{"match": "I live in ward 3", "answer": ["not", "an", "object"]}])
    queued = api.request(
        "POST", "/api/mem0/memories", office["token"], json={"user_id": phone, "text": "I live in ward 3"}
    )
    assert queued.status_code == 202, queued.text
    job = wait_for_event(api, office["token"], queued.json()["data"]["event_id"])
    assert job["status"] == "FAILED" and job["error"] == "the model did not answer a JSON object"
    assert job["results"] == [] and memories_of(api, office["token"], phone) == []
    assert api.request("GET", f"/api/mem0/events/{uuid.uuid4()}", office["token"]).status_code == 404
