"""The simulator's verdict on a call, and its reference placeholders, without a call."""

from __future__ import annotations

from agent_pool.simulate import EXIT_AGENT_FAILED, EXIT_NO_TENANT, EXIT_OK, References, Report, ToolResult
from agent_pool.testing import CallTool, Say

REFUSED = ToolResult("log_complaint", ok=False, output="The complaint was not registered:\nunknown category.")
LOGGED = ToolResult("log_complaint", ok=True, output="Complaint registered. Reference number 1002.")


def test_a_call_without_tool_errors_ends_well() -> None:
    report = Report(tool_results=[LOGGED], outcome="complaint_logged")
    assert report.verdict is None and report.exit_code == EXIT_OK


def test_a_tool_that_failed_once_and_then_succeeded_is_recovered() -> None:
    report = Report(tool_results=[REFUSED, LOGGED], outcome="complaint_logged")
    assert report.recovered(REFUSED) and report.exit_code == EXIT_OK


def test_a_tool_error_is_recovered_when_the_call_logged_a_complaint_or_gave_a_status() -> None:
    status_refused = ToolResult("check_complaint_status", ok=False, output="No complaint 1 2 was registered.")
    for outcome in ("complaint_logged", "status_checked"):
        assert Report(tool_results=[status_refused], outcome=outcome).exit_code == EXIT_OK


def test_a_tool_error_never_recovered_from_fails_with_one_line() -> None:
    report = Report(tool_results=[LOGGED, REFUSED], outcome="no_complaint")
    assert report.exit_code == EXIT_AGENT_FAILED
    assert report.verdict == (
        "log_complaint failed and the call never recovered: The complaint was not registered: unknown category."
    )


def test_a_failure_is_the_verdict_before_any_tool_error_and_a_rejected_call_exits_2() -> None:
    report = Report(tool_results=[REFUSED], failure="the call ended before the caller said: thanks")
    assert report.verdict == "the call ended before the caller said: thanks"
    assert Report(rejected=True).exit_code == EXIT_NO_TENANT


def test_the_reference_placeholders_are_the_reference_and_its_digits() -> None:
    references = References(newest_open="1002")
    assert references.fill("{reference}, that is {reference_digits}") == "1002, that is 1 0 0 2"

    decided = references.step(CallTool("check_complaint_status", {"reference": "{reference_digits}"}))
    assert callable(decided) and decided(None) == CallTool("check_complaint_status", {"reference": "1 0 0 2"})  # type: ignore[arg-type]
    assert references.step(Say("நன்றி")) == Say("நன்றி")  # decided now: no placeholder in it


def test_the_placeholders_stay_as_written_while_no_reference_is_known() -> None:
    assert References().fill("{reference_digits}") == "{reference_digits}"
