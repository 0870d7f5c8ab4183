"""Step Functions task handlers: one Lambda per provisioning step, plus compensation; and the
reconciler, on a schedule.

Each handler takes `{"tenant_id": ...}` (the execution input, passed through) and returns it, so
the next state gets the same input. A raised exception's class name is the error name the state
machine's Retry/Catch match (`TransientError` is retried).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from mla_core.adapters import get_services
from mla_core.core.observability import function_logger
from mla_core.provisioning import deprovision as deprovisioning
from mla_core.provisioning import reconcile as reconciler
from mla_core.provisioning.workflow import compensate as compensate_tenant
from mla_core.provisioning.workflow import run_step

logger = function_logger("provisioning")
metrics = Metrics(namespace="MlaVoice", service="provisioning")

Event = dict[str, Any]


def _step(name: str) -> Callable[[Event, Any], Event]:
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: Event, context: object) -> Event:
        logger.append_keys(tenant_id=event["tenant_id"], step=name)
        run_step(get_services(), name, event["tenant_id"])
        return {"tenant_id": event["tenant_id"]}

    handler.__name__ = name
    return handler


create_schema = _step("create_schema")
create_room = _step("create_room")
configure_sip_dispatch = _step("configure_sip_dispatch")
store_agent_config = _step("store_agent_config")
create_dashboard_login = _step("create_dashboard_login")
send_welcome_email = _step("send_welcome_email")
activate = _step("activate")


@logger.inject_lambda_context(clear_state=True)
def compensate(event: Event, context: object) -> Event:
    """Input: the execution input plus `failed_step` and `error` ({Error, Cause}) from the Catch."""
    logger.append_keys(tenant_id=event["tenant_id"], failed_step=event.get("failed_step"))
    return compensate_tenant(get_services(), event["tenant_id"], event.get("failed_step"), event.get("error") or {})


@logger.inject_lambda_context(clear_state=True)
def deprovision(event: Event, context: object) -> Event:
    logger.append_keys(tenant_id=event["tenant_id"])
    return deprovisioning.deprovision(get_services(), event["tenant_id"])


@logger.inject_lambda_context(clear_state=True)
def record_deprovision_failure(event: Event, context: object) -> Event:
    logger.append_keys(tenant_id=event["tenant_id"])
    return deprovisioning.record_failure(get_services(), event["tenant_id"], event.get("error") or {})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def reconcile(event: Event, context: object) -> Event:
    """Every few minutes (EventBridge): settle the tenants a fault left behind their workflow."""
    report = reconciler.reconcile(get_services())
    for action in reconciler.ACTIONS:
        metrics.add_metric(name=f"TenantsRepaired_{action}", unit=MetricUnit.Count, value=report.count(action))
    logger.info("reconcile pass", extra={"examined": report.examined, "repairs": len(report.repairs)})
    return report.summary()
