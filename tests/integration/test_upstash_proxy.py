"""The Upstash REST proxy in front of a real redis-server, driven through the `upstash-redis` client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from local_stack.redis_server import RedisProcess, start_redis
from local_stack.serve import ServedApp, serve_in_thread
from local_stack.upstash_proxy import create_app

TOKEN = "upstash-token-for-tests"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    with start_redis() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(redis_server: RedisProcess) -> Iterator[ServedApp]:
    with serve_in_thread(create_app(redis_server.host, redis_server.port, TOKEN)) as served:
        yield served


@pytest.fixture
def redis(proxy: ServedApp) -> Iterator[Redis]:
    client = Redis(url=proxy.url, token=TOKEN, rest_retries=0)
    client.flushall()
    yield client
    httpx.delete(f"{proxy.url}/_standin/faults")
    client.close()


def rest(proxy: ServedApp, path: str, body: object, *, base64_encoded: bool = True) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", **({"Upstash-Encoding": "base64"} if base64_encoded else {})}
    return httpx.post(f"{proxy.url}{path}", json=body, headers=headers)


# Commands


def test_strings_round_trip_with_expiry_and_non_ascii_text(redis: Redis) -> None:
    assert redis.set("greeting", "வணக்கம் नमस्ते", ex=100) is True

    assert redis.get("greeting") == "வணக்கம் नमस्ते"
    assert 0 < redis.ttl("greeting") <= 100
    assert redis.incr("counter") == 1
    assert redis.get("missing") is None


def test_hashes_lists_sets_and_sorted_sets_come_back_as_python_values(redis: Redis) -> None:
    redis.hset("call:1", values={"state": "ringing", "lang": "ta"})
    redis.rpush("queue", "a", "b", "c")
    redis.sadd("tags", "x", "y")
    redis.zadd("scores", {"p": 1.5, "q": 2})

    assert redis.hgetall("call:1") == {"state": "ringing", "lang": "ta"}
    assert redis.lrange("queue", 0, -1) == ["a", "b", "c"]
    assert sorted(redis.smembers("tags")) == ["x", "y"]
    assert redis.zrange("scores", 0, -1, withscores=True) == [("p", 1.5), ("q", 2.0)]


def test_nested_arrays_are_decoded_all_the_way_down(redis: Redis) -> None:
    redis.set("a", "1")
    redis.set("b", "2")

    cursor, keys = redis.scan(0)

    assert cursor == 0
    assert sorted(keys) == ["a", "b"]


def test_redis_errors_reach_the_client_with_their_verbatim_text(redis: Redis) -> None:
    redis.set("text", "hello")

    with pytest.raises(UpstashError) as wrong_type:
        redis.lpush("text", "x")
    with pytest.raises(UpstashError) as unknown:
        redis.execute(["NOSUCHCOMMAND", "x"])

    assert str(wrong_type.value) == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert str(unknown.value).startswith("ERR unknown command `NOSUCHCOMMAND`")


def test_a_single_command_error_is_http_400_on_the_wire(proxy: ServedApp, redis: Redis) -> None:
    redis.set("text", "hello")

    response = rest(proxy, "/", ["INCR", "text"])

    assert response.status_code == 400
    assert response.json() == {"error": "ERR value is not an integer or out of range"}


# Encoding


def test_base64_encodes_every_string_except_ok_and_passes_ints_and_null(proxy: ServedApp, redis: Redis) -> None:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    assert rest(proxy, "/", ["SET", "k", "välue"]).json() == {"result": "OK"}
    assert rest(proxy, "/", ["GET", "k"]).json() == {"result": b64("välue")}
    assert rest(proxy, "/", ["GET", "nothing"]).json() == {"result": None}
    assert rest(proxy, "/", ["STRLEN", "k"]).json() == {"result": 6}
    assert rest(proxy, "/", ["PING"]).json() == {"result": b64("PONG")}
    assert rest(proxy, "/", ["SCAN", "0"]).json() == {"result": [b64("0"), [b64("k")]]}


def test_without_base64_encoding_strings_come_back_as_text(proxy: ServedApp, redis: Redis) -> None:
    plain = Redis(url=proxy.url, token=TOKEN, rest_retries=0, rest_encoding=None)

    plain.set("k", "välue")

    assert rest(proxy, "/", ["GET", "k"], base64_encoded=False).json() == {"result": "välue"}
    assert plain.get("k") == "välue"


# Pipelines and transactions


def test_a_pipeline_returns_one_result_per_command(redis: Redis) -> None:
    pipeline = redis.pipeline()
    pipeline.set("n", 1)
    pipeline.incr("n")
    pipeline.get("n")

    assert pipeline.exec() == [True, 2, "2"]


def test_a_failing_command_fails_the_pipeline_but_the_others_still_ran(proxy: ServedApp, redis: Redis) -> None:
    redis.set("text", "hello")
    pipeline = redis.pipeline()
    pipeline.set("before", "1")
    pipeline.incr("text")
    pipeline.set("after", "2")

    with pytest.raises(UpstashError) as failed:
        pipeline.exec()
    items = rest(proxy, "/pipeline", [["GET", "before"], ["INCR", "text"]]).json()

    assert str(failed.value) == "ERR value is not an integer or out of range"
    assert redis.get("after") == "2"
    assert items == [{"result": base64.b64encode(b"1").decode()}, {"error": str(failed.value)}]


def test_a_transaction_runs_its_commands_together(redis: Redis) -> None:
    transaction = redis.multi()
    transaction.set("balance", 10)
    transaction.decrby("balance", 3)

    assert transaction.exec() == [True, 7]


def test_a_transaction_with_a_command_redis_cannot_queue_runs_nothing(proxy: ServedApp, redis: Redis) -> None:
    items = rest(proxy, "/multi-exec", [["SET", "x", "1"], ["NOSUCHCOMMAND"]]).json()

    assert items[0] == {"error": "EXECABORT Transaction discarded because of previous errors."}
    assert items[1]["error"].startswith("ERR unknown command `NOSUCHCOMMAND`")
    assert redis.exists("x") == 0


def test_a_runtime_error_inside_a_transaction_fails_only_that_command(proxy: ServedApp, redis: Redis) -> None:
    redis.set("text", "hello")

    items = rest(proxy, "/multi-exec", [["SET", "x", "1"], ["INCR", "text"]]).json()

    assert items == [{"result": "OK"}, {"error": "ERR value is not an integer or out of range"}]
    assert redis.get("x") == "1"


# Auth, refusals, faults


def test_a_script_with_upstashs_flags_line_runs_and_runs_again_by_its_sha(redis: Redis) -> None:
    """What `upstash-ratelimit` sends: `EVAL` of a script whose first line is `#!lua flags=...`."""
    import hashlib

    script = '#!lua flags=allow-key-locking\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])'

    assert redis.eval(script, ["counter"], [2]) == 2
    assert redis.evalsha(hashlib.sha1(script.encode()).hexdigest(), ["counter"], [3]) == 5  # noqa: S324


def test_the_sign_in_limits_count_through_the_proxy(redis: Redis) -> None:
    from upstash_ratelimit import FixedWindow, Ratelimit

    limiter = Ratelimit(redis, FixedWindow(max_requests=2, window=60), prefix="test")

    assert [limiter.limit("someone").allowed for _ in range(3)] == [True, True, False]
    assert limiter.get_remaining("someone") == 0 and limiter.get_remaining("someone else") == 2


def test_a_request_without_the_right_token_is_unauthorized(proxy: ServedApp) -> None:
    missing = httpx.post(f"{proxy.url}/", json=["PING"])
    wrong = Redis(url=proxy.url, token="wrong", rest_retries=0)

    assert (missing.status_code, missing.json()) == (401, {"error": "Unauthorized"})
    with pytest.raises(UpstashError, match="Unauthorized"):
        wrong.ping()


def test_commands_that_change_the_connection_are_refused(redis: Redis) -> None:
    with pytest.raises(UpstashError, match="SELECT is not supported"):
        redis.execute(["SELECT", "1"])


def test_an_injected_fault_fails_the_matching_command_without_reaching_redis(proxy: ServedApp, redis: Redis) -> None:
    added = httpx.post(f"{proxy.url}/_standin/faults", json={"method": "set", "status": 500, "times": 1})

    with pytest.raises(UpstashError, match="injected fault"):
        redis.set("k", "v")
    assert redis.get("k") is None  # other commands pass
    assert redis.set("k", "v") is True  # the fault was used up

    assert added.status_code == 201


def test_a_wildcard_fault_fails_whole_pipelines_with_its_status(proxy: ServedApp, redis: Redis) -> None:
    httpx.post(f"{proxy.url}/_standin/faults", json={"method": "*", "status": 503, "times": 1})

    response = rest(proxy, "/pipeline", [["SET", "a", "1"], ["GET", "a"]])

    assert (response.status_code, response.json()) == (503, {"error": "ERR injected fault"})
    assert redis.exists("a") == 0


# The Redis process


def test_data_survives_a_restart_on_the_same_data_dir(tmp_path: Path) -> None:
    with start_redis(data_dir=tmp_path) as first, serve_in_thread(create_app(first.host, first.port, TOKEN)) as app:
        Redis(url=app.url, token=TOKEN, rest_retries=0).set("kept", "yes")

    with start_redis(data_dir=tmp_path) as second, serve_in_thread(create_app(second.host, second.port, TOKEN)) as app:
        kept = Redis(url=app.url, token=TOKEN, rest_retries=0).get("kept")

    assert kept == "yes"
    assert (tmp_path / "appendonly.aof").exists()


def test_a_throwaway_server_stops_and_stopping_again_is_harmless() -> None:
    server = start_redis()
    assert server.is_running()

    server.stop()
    server.stop()

    assert not server.is_running()
