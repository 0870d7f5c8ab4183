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
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from mla_core.adapters import Services, get_services
from mla_core.agents.routing import active_agent_configs
from mla_core.complaints import sms
from mla_core.complaints.store import highest_reference
from mla_core.core.errors import AppError, InvalidInputError, NotFoundError
from mla_core.db.migrate import migrate_all_tenants, migrate_control_plane
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
    args = parser.parse_args(argv)

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
