"""What `make dev` prints last, and where the services' logs go."""

from __future__ import annotations

from pathlib import Path

from local_stack.__main__ import LOG_FILE, PREVIOUS_LOG_FILE, banner, logs_on_terminal, open_log

ENV = {
    "API_URL": "http://127.0.0.1:8000",
    "SUPERADMIN_EMAIL": "superadmin@mlavoice.example",
    "SUPERADMIN_PASSWORD": "s3cret-Pass",
}


def test_the_banner_names_every_site_and_ends_with_the_super_admins_sign_in(tmp_path: Path) -> None:
    text = banner(ENV, tmp_path, 4.2, tmp_path / LOG_FILE)

    assert text.startswith("\nReady in 4.2 s.")
    for address in ("/admin/panel", "/app", "/docs", "/admin/docs", "/health", "/local/outbox"):
        assert f"http://127.0.0.1:8000{address}" in text
    assert str(tmp_path / "logs" / "services.log") in text and "make dev LOGS=1" in text
    last = text.splitlines()[-4:]
    assert last == [
        "  Super admin    superadmin@mlavoice.example",
        "       password  s3cret-Pass",
        "",
        "Press Ctrl+C to stop.",
    ]


def test_logs_go_to_the_terminal_only_when_asked() -> None:
    assert logs_on_terminal({"MLA_DEV_LOGS": "1"}) and logs_on_terminal({"MLA_DEV_LOGS": "yes"})
    assert not logs_on_terminal({}) and not logs_on_terminal({"MLA_DEV_LOGS": "0"})
    assert "on this terminal" in banner(ENV, Path("/x"), 1.0, None)


def test_each_run_logs_to_a_new_file_and_keeps_the_previous_runs(tmp_path: Path) -> None:
    first = open_log(tmp_path)
    first.write_text('{"message": "provisioning step started"}\n')

    second = open_log(tmp_path)

    assert second == tmp_path / LOG_FILE and second.read_text() == ""
    assert (tmp_path / PREVIOUS_LOG_FILE).read_text() == '{"message": "provisioning step started"}\n'
