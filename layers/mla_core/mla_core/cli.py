"""Operator commands: `python -m mla_core.cli <command>` (settings from the environment).

migrate                  apply pending control-plane and tenant migrations (tenants in parallel)
rebuild-redis            rewrite every active tenant's agent config, numbers and reference counter into Redis
retry-sms                send again the SMS that failed (what the notification-retry function does)
create-superadmin        create the first super admin in Supabase Auth (--email, --password)
superadmin-access        disable or enable a super admin's login (--email, then `disable` or `enable`)
export                   everything an office holds about a constituent's number, as JSON on stdout
                         (--tenant ID --phone +91… --by EMAIL, a super admin's; recorded as an export)
erase                    erase a constituent's personal data in an office (--tenant, --phone, --by): without
                         --confirm LAST4 it prints what would happen and exits 2; with the number's last 4
                         digits it previews and erases at once (refused while a complaint of theirs is open)
retention                apply every office's retention (what the daily retention function does): --tenant ID
                         for one office, --dry-run to report without changing anything, --now ISO to apply it
                         as of another moment
invitation-link EMAIL    the newest invitation link emailed to EMAIL, read from the local outbox of `make dev`
                         (local stack only: a real account's mail leaves through SES and is not kept); --api URL,
                         default $API_URL, else the one in .local/dev.env (`make invitation EMAIL=…`)
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from mla_core.adapters import Services, get_services
from mla_core.agents.routing import active_agent_configs
from mla_core.complaints import sms
from mla_core.complaints.store import highest_reference
from mla_core.core.errors import AppError, InvalidInputError, NotFoundError
from mla_core.db.migrate import migrate_all_tenants, migrate_control_plane
from mla_core.identity import invitations
from mla_core.privacy import requests as privacy
from mla_core.privacy.retention import apply_retention
from mla_core.provisioning.reconcile import reconcile


def migrate(services: Services, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    control = migrate_control_plane(services.db)
    report = migrate_all_tenants(services.db, workers=workers)
    return {
        "control_applied": control,
        "tenant_schemas": report.schemas,
        "tenant_schemas_migrated": report.migrated,
        "failed": report.failed,
        "seconds": round(time.perf_counter() - started, 2),
    }


def rebuild_redis(services: Services) -> dict[str, Any]:
    """Postgres holds the durable copy; Redis is a cache of it and can be rebuilt at any time."""
    configs = active_agent_configs(services, main_only=False)
    for config in configs:
        services.agent_configs.put(config)
    offices = {config.tenant_id for config in configs}
    for tenant_id in offices:
        with services.db.transaction() as conn:
            highest = highest_reference(conn, tenant_id)
        services.references.raise_floor(tenant_id, highest)
    return {"tenants_written": len(offices), "agents_written": len(configs)}


def create_superadmin(services: Services, email: str, password: str) -> dict[str, Any]:
    """Idempotent: an existing user with that email is promoted instead of created again."""
    app_metadata = {"role": "super_admin"}
    user_id = services.auth.find_user_by_email(email)
    if user_id is None:
        user_id = services.auth.create_user(
            email, password, app_metadata=app_metadata, user_metadata={"full_name": "Super admin"}
        )
    else:
        services.auth.update_user(user_id, {"app_metadata": app_metadata, "password": password})
    with services.db.transaction() as conn:
        conn.execute(
            "INSERT INTO platform.users (user_id, email, role, full_name) VALUES (%s, %s, 'super_admin', 'Super admin')"
            " ON CONFLICT (user_id) DO UPDATE SET role = 'super_admin', disabled = false",
            (user_id, email),
        )
    return {"user_id": user_id, "email": email}


def set_superadmin_disabled(services: Services, email: str, disabled: bool) -> dict[str, Any]:
    """Disable a super admin's login (or enable it again): from their next request on, as for an office's
    member, since every request reads `platform.users` back; Supabase Auth bans the login too."""
    with services.db.transaction() as conn:
        row = conn.execute(
            "UPDATE platform.users SET disabled = %s, updated_at = now()"
            " WHERE lower(email) = lower(%s) AND role = 'super_admin' RETURNING user_id::text",
            (disabled, email),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no super admin has the email {email}")
        services.auth.set_disabled(row["user_id"], disabled)
    return {"user_id": row["user_id"], "email": email, "disabled": disabled}


PREVIEWED = 2  # `erase` without --confirm: what would happen was printed, nothing was erased


def erase(services: Services, tenant_id: str, phone: str, by: str, confirm: str | None) -> tuple[dict[str, Any], int]:
    """A super admin's erasure: the preview alone (exit 2), or, confirmed by the number's last 4 digits,
    the preview's token spent at once."""
    preview = privacy.preview_as_operator(services, tenant_id, phone, by=by)
    if confirm is None:
        return preview.model_dump(mode="json", exclude={"confirmation"}), PREVIEWED
    if confirm.strip() != privacy.e164_of(phone)[-4:]:
        raise InvalidInputError("--confirm is not the number's last 4 digits: nothing was erased")
    result = privacy.erase_as_operator(services, tenant_id, phone, preview.confirmation, by=by)
    return result.model_dump(mode="json"), 0


# The invitation link as `identity.invitations` writes it, found in an email's HTML or text.
_INVITATION_LINK = re.compile(
    r"https?://[^\s\"'<>]*" + re.escape(invitations.invitation_link("", "")) + r"[A-Za-z0-9_.~%-]+"
)
DEFAULT_LOCAL_API = "http://127.0.0.1:8000"


def invitation_link_in(outbox: Sequence[Mapping[str, Any]], email: str) -> str | None:
    """The invitation link in the newest email to `email` that holds one (`outbox` newest first, as
    the local stack's `/local/outbox` lists it); a resent invitation voids the earlier links."""
    wanted = email.strip().lower()
    for message in outbox:
        recipients = {address.strip().lower() for address in str(message.get("to", "")).split(",")}
        if message.get("channel") != "email" or wanted not in recipients:
            continue
        found = _INVITATION_LINK.search(html.unescape(str(message.get("body", ""))))
        if found:
            return found.group(0)
    return None


def local_api_url(environ: Mapping[str, str]) -> str:
    """The local stack's address: $API_URL, else what `make dev` wrote to its dev.env, else its default."""
    if environ.get("API_URL"):
        return environ["API_URL"]
    env_file = Path(environ.get("MLA_LOCAL_DIR", ".local")) / "dev.env"
    if env_file.exists():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "API_URL" and value.strip():
                return value.strip()
    return DEFAULT_LOCAL_API


def print_invitation_link(api_url: str, email: str) -> int:
    """Print the link alone on stdout (exit 0), or say in one line on stderr why there is none (exit 1)."""
    outbox_url = f"{api_url.rstrip('/')}/local/outbox"
    try:
        response = httpx.get(outbox_url, timeout=10)
    except httpx.TransportError:
        print(
            f"nothing answers at {api_url}: is `make dev` running? (only the local stack keeps sent mail)",
            file=sys.stderr,
        )
        return 1
    if response.status_code == 404:
        print(f"{outbox_url} does not exist: only the local stack (`make dev`) keeps sent mail", file=sys.stderr)
        return 1
    response.raise_for_status()
    link = invitation_link_in(response.json()["data"], email)
    if link is None:
        print(f"no invitation to {email} in {outbox_url}", file=sys.stderr)
        return 1
    print(link)
    return 0


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mla_core.cli", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_migrate = commands.add_parser("migrate", help="apply pending migrations")
    run_migrate.add_argument("--workers", type=int, default=8, help="tenant schemas migrated at once")
    commands.add_parser("rebuild-redis", help="rebuild Redis from Postgres")
    commands.add_parser("retry-sms", help="send failed SMS again")
    commands.add_parser("reconcile", help="settle tenants a fault left behind their workflow")
    superadmin = commands.add_parser("create-superadmin", help="create the first super admin")
    superadmin.add_argument("--email", required=True)
    superadmin.add_argument("--password", required=True)
    access = commands.add_parser("superadmin-access", help="disable or enable a super admin's login")
    access.add_argument("--email", required=True)
    access.add_argument("state", choices=["disable", "enable"])
    for name, help_ in (
        ("export", "export a constituent's personal data"),
        ("erase", "erase a constituent's personal data"),
    ):
        person = commands.add_parser(name, help=help_)
        person.add_argument("--tenant", required=True, help="the office's tenant id")
        person.add_argument("--phone", required=True, help="the constituent's number, e.g. +919876543210")
        person.add_argument("--by", required=True, help="your email: a super admin's")
        if name == "erase":
            person.add_argument("--confirm", metavar="LAST4", help="the number's last 4 digits: erase for real")
    run_retention = commands.add_parser("retention", help="apply every office's retention")
    run_retention.add_argument("--tenant", help="only this office")
    run_retention.add_argument("--dry-run", action="store_true", help="report what would go; change nothing")
    run_retention.add_argument("--now", type=_moment, help="apply it as of this ISO time (default: now)")
    invitation = commands.add_parser("invitation-link", help="print an invitation's link from the local outbox")
    invitation.add_argument("email", help="the invited person's email")
    invitation.add_argument(
        "--api", help=f"the local stack's address (default: $API_URL, .local/dev.env, {DEFAULT_LOCAL_API})"
    )
    args = parser.parse_args(argv)

    if args.command == "invitation-link":  # the local stack's HTTP only: no settings, no database
        return print_invitation_link(args.api or local_api_url(os.environ), args.email)
    services = get_services()
    try:
        if args.command == "migrate":
            result = migrate(services, args.workers)
        elif args.command == "rebuild-redis":
            result = rebuild_redis(services)
        elif args.command == "retry-sms":
            result = sms.retry_all_failed(services)
        elif args.command == "reconcile":
            result = reconcile(services).summary()
        elif args.command == "export":
            result = privacy.export_as_operator(services, args.tenant, args.phone, by=args.by)
        elif args.command == "erase":
            result, code = erase(services, args.tenant, args.phone, args.by, args.confirm)
            print(json.dumps(result, indent=2, ensure_ascii=False))
            return code
        elif args.command == "retention":
            now = args.now or datetime.now(UTC)
            result = apply_retention(services, now=now, dry_run=args.dry_run, tenant_id=args.tenant).summary()
        elif args.command == "superadmin-access":
            result = set_superadmin_disabled(services, args.email, args.state == "disable")
        else:
            migrate_control_plane(services.db)
            result = create_superadmin(services, args.email, args.password)
    except AppError as exc:
        print(json.dumps({"error": exc.code, "message": exc.message}), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    return 1 if result.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
