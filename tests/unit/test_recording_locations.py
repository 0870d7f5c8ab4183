"""Where a meeting's recording is, as LiveKit's egress names it: the recordings bucket deletes only its own
objects under `recordings/` (a call's recording, or another bucket's object, is not its to delete)."""

from __future__ import annotations

import pytest

from mla_core.adapters.aws import Recordings, s3_object

KEY = "recordings/abcde12345/6f1c/mla-abcde12345-meet-6f1c-2026-12-05T043000.ogg"


@pytest.mark.parametrize(
    "location",
    [
        f"s3://meet-rec/{KEY}",
        f"https://meet-rec.s3.amazonaws.com/{KEY}",
        f"https://meet-rec.s3.ap-south-1.amazonaws.com/{KEY}",
        f"https://s3.ap-south-1.amazonaws.com/meet-rec/{KEY}",
    ],
)
def test_every_form_of_an_egress_location_names_the_bucket_and_key(location: str) -> None:
    assert s3_object(location) == ("meet-rec", KEY)
    assert Recordings("ap-south-1", "meet-rec").owns(location)


@pytest.mark.parametrize(
    "location",
    ["recordings/room.ogg", f"s3://another-bucket/{KEY}", "s3://meet-rec/elsewhere/x.ogg", "https://x.example/a"],
)
def test_a_location_elsewhere_is_not_the_buckets_to_delete(location: str) -> None:
    assert not Recordings("ap-south-1", "meet-rec").owns(location)
    assert not Recordings("ap-south-1", "").owns(f"s3://meet-rec/{KEY}")


def test_an_escaped_key_is_read_as_stored() -> None:
    assert s3_object("https://meet-rec.s3.amazonaws.com/recordings/a%20b.ogg") == ("meet-rec", "recordings/a b.ogg")
