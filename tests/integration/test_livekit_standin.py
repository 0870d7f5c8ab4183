"""The LiveKit stand-in, driven through the real `livekit-api` SDK over HTTP."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from livekit import api

from local_stack.livekit_standin import create_app
from local_stack.serve import ServedApp, serve_in_thread

KEY = "devkey"
SECRET = "devsecret_devsecret_devsecret_0123"
DID = "+918000000001"
OTHER_DID = "+918000000002"


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "livekit.json"


@pytest.fixture
def livekit(state_path: Path) -> Iterator[ServedApp]:
    with serve_in_thread(create_app(KEY, SECRET, state_path)) as served:
        yield served


def connect(served: ServedApp, secret: str = SECRET) -> api.LiveKitAPI:
    """A client for one test; the SDK needs a running event loop, so it is made inside the test."""
    return api.LiveKitAPI(served.url, KEY, secret)


def individual_rule(prefix: str = "call-", pin: str = "") -> api.SIPDispatchRule:
    return api.SIPDispatchRule(dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix=prefix, pin=pin))


async def make_trunk(lk: api.LiveKitAPI, *numbers: str) -> api.SIPInboundTrunkInfo:
    return await lk.sip.create_inbound_trunk(
        api.CreateSIPInboundTrunkRequest(trunk=api.SIPInboundTrunkInfo(name="inbound", numbers=list(numbers)))
    )


async def make_rule(lk: api.LiveKitAPI, **fields: object) -> api.SIPDispatchRuleInfo:
    fields.setdefault("rule", individual_rule())
    return await lk.sip.create_dispatch_rule(
        api.CreateSIPDispatchRuleRequest(dispatch_rule=api.SIPDispatchRuleInfo(**fields))  # type: ignore[arg-type]
    )


# Rooms


async def test_creating_a_room_twice_returns_the_first_room(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        first = await lk.room.create_room(api.CreateRoomRequest(name="call-1", metadata='{"tenant":"t1"}'))
        again = await lk.room.create_room(api.CreateRoomRequest(name="call-1", metadata="ignored"))

    assert first.sid.startswith("RM_")
    assert again == first
    assert first.metadata == '{"tenant":"t1"}'
    assert (first.empty_timeout, first.departure_timeout) == (300, 20)


async def test_rooms_are_listed_all_or_by_name(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        for name in ("a", "b", "c"):
            await lk.room.create_room(api.CreateRoomRequest(name=name, empty_timeout=30))
        everything = await lk.room.list_rooms(api.ListRoomsRequest())
        some = await lk.room.list_rooms(api.ListRoomsRequest(names=["a", "c", "missing"]))

    assert [room.name for room in everything.rooms] == ["a", "b", "c"]
    assert [room.name for room in some.rooms] == ["a", "c"]
    assert some.rooms[0].empty_timeout == 30


async def test_deleting_a_room_removes_it_and_deleting_it_again_is_not_found(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        await lk.room.create_room(api.CreateRoomRequest(name="call-1"))
        await lk.room.delete_room(api.DeleteRoomRequest(room="call-1"))
        remaining = await lk.room.list_rooms(api.ListRoomsRequest())
        with pytest.raises(api.ServerError) as missing:
            await lk.room.delete_room(api.DeleteRoomRequest(room="call-1"))

    assert list(remaining.rooms) == []
    assert (missing.value.code, missing.value.status, missing.value.message) == ("not_found", 404, "room not found")


# SIP trunks


async def test_inbound_trunks_are_created_and_listed(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        first = await make_trunk(lk, DID)
        second = await make_trunk(lk, OTHER_DID)
        listed = await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())

    assert first.sip_trunk_id.startswith("ST_")
    assert list(first.numbers) == [DID]
    assert list(listed.items) == [first, second]


# SIP dispatch rules


async def test_a_dispatch_rule_in_the_current_form_keeps_every_field(livekit: ServedApp) -> None:
    room_config = api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name="inbound-agent", metadata="m")])
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID)
        rule = await make_rule(
            lk,
            name="hi-line",
            trunk_ids=[trunk.sip_trunk_id],
            numbers=[DID],
            metadata='{"tenant":"t1"}',
            attributes={"tenant": "t1"},
            room_config=room_config,
        )
        listed = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())

    assert rule.sip_dispatch_rule_id.startswith("SDR_")
    assert rule.rule.dispatch_rule_individual.room_prefix == "call-"
    assert (rule.name, rule.metadata, dict(rule.attributes)) == ("hi-line", '{"tenant":"t1"}', {"tenant": "t1"})
    assert list(rule.trunk_ids) == [trunk.sip_trunk_id]
    assert list(rule.numbers) == [DID]
    assert rule.room_config == room_config
    assert list(listed.items) == [rule]


async def test_request_forms_the_product_does_not_send_are_refused_as_unimplemented(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID)
        rule = await make_rule(lk, trunk_ids=[trunk.sip_trunk_id])
        calls = {
            "legacy rule form": lk.sip.create_dispatch_rule(
                api.CreateSIPDispatchRuleRequest(rule=individual_rule(), trunk_ids=[trunk.sip_trunk_id])
            ),
            "field update": lk.sip.update_dispatch_rule_fields(rule.sip_dispatch_rule_id, name="x"),
            "rules by id": lk.sip.list_dispatch_rule(
                api.ListSIPDispatchRuleRequest(dispatch_rule_ids=[rule.sip_dispatch_rule_id])
            ),
            "trunks by number": lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest(numbers=[DID])),
        }
        for name, call in calls.items():
            with pytest.raises(api.ServerError) as refused:
                await call
            assert (refused.value.code, refused.value.status) == ("unimplemented", 501), name
            assert "not modelled" in refused.value.message, name


async def test_a_rule_without_a_rule_or_for_an_unknown_trunk_is_refused(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        with pytest.raises(api.ServerError) as no_rule:
            await lk.sip.create_dispatch_rule(
                api.CreateSIPDispatchRuleRequest(dispatch_rule=api.SIPDispatchRuleInfo(name="x"))
            )
        with pytest.raises(api.ServerError) as unknown_trunk:
            await make_rule(lk, trunk_ids=["ST_doesnotexist"])

    assert (no_rule.value.code, no_rule.value.message) == ("invalid_argument", "missing rule")
    assert (unknown_trunk.value.code, unknown_trunk.value.status) == ("not_found", 404)
    assert "ST_doesnotexist" in unknown_trunk.value.message


async def test_a_rule_for_a_trunk_and_number_already_taken_is_refused_as_conflicting(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID, OTHER_DID)
        first = await make_rule(lk, name="first", trunk_ids=[trunk.sip_trunk_id], numbers=[DID])
        with pytest.raises(api.ServerError) as conflict:
            # The same DID written without its "+": LiveKit normalises numbers before comparing.
            await make_rule(lk, name="second", trunk_ids=[trunk.sip_trunk_id], numbers=[DID.removeprefix("+")])
        listed = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())

    assert (conflict.value.code, conflict.value.status) == ("invalid_argument", 400)
    assert conflict.value.message == (
        "Dispatch rule for the same trunk, inbound number, number, and PIN combination already exists "
        f'in dispatch rule "{first.sip_dispatch_rule_id}" "first"'
    )
    assert [r.sip_dispatch_rule_id for r in listed.items] == [first.sip_dispatch_rule_id]


async def test_rules_that_differ_in_number_pin_or_trunk_coexist(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID, OTHER_DID)
        other_trunk = await make_trunk(lk, "+918000000003")
        await make_rule(lk, trunk_ids=[trunk.sip_trunk_id], numbers=[DID])
        await make_rule(lk, trunk_ids=[trunk.sip_trunk_id], numbers=[OTHER_DID])
        await make_rule(lk, trunk_ids=[trunk.sip_trunk_id], numbers=[DID], rule=individual_rule(pin="4321"))
        await make_rule(lk, trunk_ids=[other_trunk.sip_trunk_id], numbers=[DID])
        await make_rule(lk)  # a wildcard rule collides only with other wildcards
        with pytest.raises(api.ServerError):
            await make_rule(lk)
        listed = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())

    assert len(listed.items) == 5


async def test_rules_are_listed_by_trunk_with_wildcard_rules_included(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID)
        other_trunk = await make_trunk(lk, OTHER_DID)
        mine = await make_rule(lk, trunk_ids=[trunk.sip_trunk_id])
        theirs = await make_rule(lk, trunk_ids=[other_trunk.sip_trunk_id])
        wildcard = await make_rule(lk)
        by_trunk = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest(trunk_ids=[trunk.sip_trunk_id]))
        everything = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())

    assert list(by_trunk.items) == [mine, wildcard]
    assert list(everything.items) == [mine, theirs, wildcard]


async def test_a_rule_is_replaced_whole_keeping_its_id_and_creation_time(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID)
        rule = await make_rule(lk, name="old", trunk_ids=[trunk.sip_trunk_id], attributes={"a": "1"})
        replaced = await lk.sip.update_dispatch_rule(
            rule.sip_dispatch_rule_id,
            api.SIPDispatchRuleInfo(name="replaced", rule=individual_rule("new-"), trunk_ids=[trunk.sip_trunk_id]),
        )
        with pytest.raises(api.ServerError) as missing:
            await lk.sip.update_dispatch_rule("SDR_doesnotexist", api.SIPDispatchRuleInfo(rule=individual_rule()))
        listed = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())

    assert replaced.sip_dispatch_rule_id == rule.sip_dispatch_rule_id
    assert (replaced.name, replaced.rule.dispatch_rule_individual.room_prefix) == ("replaced", "new-")
    assert dict(replaced.attributes) == {}
    assert replaced.created_at == rule.created_at
    assert list(listed.items) == [replaced]
    assert (missing.value.code, missing.value.message) == ("not_found", "requested sip dispatch rule does not exist")


async def test_an_update_that_would_collide_with_another_rule_is_refused(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID, OTHER_DID)
        await make_rule(lk, name="on-did", trunk_ids=[trunk.sip_trunk_id], numbers=[DID])
        other = await make_rule(lk, name="on-other", trunk_ids=[trunk.sip_trunk_id], numbers=[OTHER_DID])
        with pytest.raises(api.ServerError) as conflict:
            await lk.sip.update_dispatch_rule(
                other.sip_dispatch_rule_id,
                api.SIPDispatchRuleInfo(rule=individual_rule(), trunk_ids=[trunk.sip_trunk_id], numbers=[DID]),
            )
        unchanged = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())

    assert conflict.value.code == "invalid_argument"
    assert list(unchanged.items)[1] == other


async def test_deleting_a_rule_returns_it_and_deleting_it_again_is_not_found(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        rule = await make_rule(lk, name="gone")
        deleted = await lk.sip.delete_dispatch_rule(
            api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
        )
        with pytest.raises(api.ServerError) as missing:
            await lk.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
            )

    assert deleted == rule
    assert (missing.value.code, missing.value.status) == ("not_found", 404)


# Persistence, faults, auth, routing


async def test_everything_survives_a_restart_of_the_standin(state_path: Path) -> None:
    with serve_in_thread(create_app(KEY, SECRET, state_path)) as first:
        async with connect(first) as lk:
            room = await lk.room.create_room(api.CreateRoomRequest(name="call-1"))
            trunk = await make_trunk(lk, DID)
            rule = await make_rule(lk, trunk_ids=[trunk.sip_trunk_id], numbers=[DID])

    with serve_in_thread(create_app(KEY, SECRET, state_path)) as second:
        async with connect(second) as lk:
            rooms = await lk.room.list_rooms(api.ListRoomsRequest())
            trunks = await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
            rules = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
            with pytest.raises(api.ServerError) as conflict:
                await make_rule(lk, trunk_ids=[trunk.sip_trunk_id], numbers=[DID])

    assert list(rooms.rooms) == [room]
    assert list(trunks.items) == [trunk]
    assert list(rules.items) == [rule]
    assert conflict.value.code == "invalid_argument"


async def test_an_injected_fault_fails_the_next_calls_of_that_method_without_changing_state(
    livekit: ServedApp,
) -> None:
    fault = {"method": "livekit.SIP/CreateSIPDispatchRule", "status": 503, "times": 2}
    assert httpx.post(f"{livekit.url}/_standin/faults", json=fault).status_code == 201
    async with connect(livekit) as lk:
        trunk = await make_trunk(lk, DID)  # other methods are unaffected
        for _ in range(2):
            with pytest.raises(api.ServerError) as failed:
                await make_rule(lk, trunk_ids=[trunk.sip_trunk_id])
            assert (failed.value.code, failed.value.status) == ("unavailable", 503)
        assert list((await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items) == []
        rule = await make_rule(lk, trunk_ids=[trunk.sip_trunk_id])

    assert rule.sip_dispatch_rule_id.startswith("SDR_")


async def test_cleared_faults_no_longer_fire(livekit: ServedApp) -> None:
    httpx.post(f"{livekit.url}/_standin/faults", json={"method": "*", "status": 500, "times": 5})
    assert httpx.delete(f"{livekit.url}/_standin/faults").status_code == 204
    async with connect(livekit) as lk:
        room = await lk.room.create_room(api.CreateRoomRequest(name="call-1"))

    assert room.name == "call-1"


def test_a_malformed_fault_is_rejected(livekit: ServedApp) -> None:
    response = httpx.post(f"{livekit.url}/_standin/faults", json={"method": "x", "status": 200})

    assert response.status_code == 422


async def test_a_token_signed_with_another_secret_is_unauthenticated(livekit: ServedApp) -> None:
    async with connect(livekit, secret="another_secret_another_secret_0123") as lk:
        with pytest.raises(api.ServerError) as refused:
            await lk.room.list_rooms(api.ListRoomsRequest())

    assert (refused.value.code, refused.value.status) == ("unauthenticated", 401)


async def test_a_token_without_the_grant_the_method_needs_is_refused(livekit: ServedApp) -> None:
    def token(grants: api.VideoGrants) -> str:
        return api.AccessToken(KEY, SECRET).with_grants(grants).with_ttl(datetime.timedelta(minutes=5)).to_jwt()

    async with api.LiveKitAPI.with_token(token(api.VideoGrants(room_list=True)), livekit.url) as lister:
        await lister.room.list_rooms(api.ListRoomsRequest())
        with pytest.raises(api.ServerError) as cannot_create:
            await lister.room.create_room(api.CreateRoomRequest(name="x"))
        with pytest.raises(api.ServerError) as not_sip_admin:
            await lister.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
    for refused in (cannot_create, not_sip_admin):
        assert (refused.value.code, refused.value.status, refused.value.message) == (
            "unauthenticated",
            401,
            "permissions denied",
        )


# Meetings: a room with its recording, egress, metadata and participants


def recorded_room(name: str) -> api.CreateRoomRequest:
    upload = api.S3Upload(bucket="recordings", region="ap-south-1", assume_role_arn="arn:aws:iam::1:role/egress")
    output = api.EncodedFileOutput(file_type=api.EncodedFileType.OGG, filepath="m/{room_name}-{time}", s3=upload)
    return api.CreateRoomRequest(
        name=name,
        agents=[api.RoomAgentDispatch(agent_name="mla-notetaker", metadata='{"meeting_id":"m1"}')],
        egress=api.RoomEgress(room=api.RoomCompositeEgressRequest(audio_only=True, file_outputs=[output])),
    )


async def test_a_room_with_an_egress_in_its_configuration_records_until_stopped(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        await lk.room.create_room(recorded_room("meet-1"))
        [active] = (await lk.egress.list_egress(api.ListEgressRequest(room_name="meet-1", active=True))).items
        stopped = await lk.egress.stop_egress(api.StopEgressRequest(egress_id=active.egress_id))
        with pytest.raises(api.TwirpError) as again:
            await lk.egress.stop_egress(api.StopEgressRequest(egress_id=active.egress_id))
        still_active = await lk.egress.list_egress(api.ListEgressRequest(room_name="meet-1", active=True))

    assert active.egress_id.startswith("EG_") and active.room_composite.audio_only
    assert stopped.status == api.EgressStatus.EGRESS_COMPLETE
    [file] = stopped.file_results
    assert file.location.startswith("s3://recordings/m/meet-1-") and file.location.endswith(".ogg")
    assert (again.value.code, again.value.status) == ("failed_precondition", 412)
    assert list(still_active.items) == []
    shown = httpx.get(f"{livekit.url}/local/rooms/meet-1").json()
    assert shown["request"]["agents"][0]["agentName"] == "mla-notetaker"


async def test_egress_is_started_for_rooms_that_exist_and_ends_with_its_room(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        with pytest.raises(api.TwirpError) as unknown:
            await lk.egress.start_room_composite_egress(api.RoomCompositeEgressRequest(room_name="nowhere"))
        await lk.room.create_room(api.CreateRoomRequest(name="meet-2"))
        started = await lk.egress.start_room_composite_egress(
            api.RoomCompositeEgressRequest(room_name="meet-2", audio_only=True)
        )
        await lk.room.delete_room(api.DeleteRoomRequest(room="meet-2"))
        [ended] = (await lk.egress.list_egress(api.ListEgressRequest(egress_id=started.egress_id))).items

    assert unknown.value.code == "not_found"
    assert ended.status == api.EgressStatus.EGRESS_COMPLETE


async def test_a_room_admin_changes_its_own_room_only(livekit: ServedApp) -> None:
    async with connect(livekit) as lk:
        await lk.room.create_room(api.CreateRoomRequest(name="meet-3"))
        room = await lk.room.update_room_metadata(api.UpdateRoomMetadataRequest(room="meet-3", metadata='{"t":0}'))
        permission = api.ParticipantPermission(can_publish=False, can_subscribe=True)
        await lk.room.update_participant(
            api.UpdateParticipantRequest(room="meet-3", identity="c1", permission=permission)
        )
        await lk.room.remove_participant(api.RoomParticipantIdentity(room="meet-3", identity="c1"))
        with pytest.raises(api.TwirpError) as gone:
            await lk.room.remove_participant(api.RoomParticipantIdentity(room="meet-9", identity="c1"))
    other_room = api.AccessToken(KEY, SECRET).with_grants(api.VideoGrants(room_admin=True, room="meet-x")).to_jwt()
    refused = httpx.post(
        f"{livekit.url}/twirp/livekit.RoomService/RemoveParticipant",
        content=api.RoomParticipantIdentity(room="meet-3", identity="c1").SerializeToString(),
        headers={"Content-Type": "application/protobuf", "Authorization": f"Bearer {other_room}"},
    )

    assert room.metadata == '{"t":0}'
    assert gone.value.code == "not_found"
    assert refused.status_code == 401
    updates = httpx.get(f"{livekit.url}/local/participants", params={"room": "meet-3"}).json()
    assert [u["method"] for u in updates] == ["UpdateParticipant", "RemoveParticipant"]


def test_methods_not_modelled_are_bad_routes_and_health_answers(livekit: ServedApp) -> None:
    response = httpx.post(
        f"{livekit.url}/twirp/livekit.AgentDispatchService/CreateDispatch",
        content=b"",
        headers={"Content-Type": "application/protobuf"},
    )

    assert response.status_code == 404
    assert response.json()["code"] == "bad_route"
    assert httpx.get(f"{livekit.url}/_standin/health").status_code == 200
