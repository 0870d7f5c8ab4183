"""What local mode needs from `template.yaml`: the functions and the state machines.

Reading the deployed template (rather than a list of our own) keeps local mode honest: the
same handlers and the same `.asl.json` with the same substitutions that SAM deploys.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus CloudFormation's short-form tags (`!GetAtt X.Arn` → {"Fn::GetAtt": ...})."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - safe loader subclass


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str

    @property
    def folder(self) -> Path:
        return ROOT / self.code_uri

    @property
    def module(self) -> str:
        """The handler's module, a top-level name (`admin_api`), as Lambda imports it."""
        return self.handler.rpartition(".")[0]

    def import_module(self) -> ModuleType:
        """Import the handler's module as the Lambda runtime does: the function's folder (its CodeUri,
        `/var/task` on Lambda) at the root of the import path, so its modules are top-level, and the
        layer's `mla_core` beside them. Every function shares this process, so the module names of
        all the folders are distinct (tests/integration/test_lambda_packaging.py checks it)."""
        folder = str(self.folder)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        return importlib.import_module(self.module)

    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        handler: Callable[[dict[str, Any], Any], Any] = getattr(self.import_module(), self.handler.rpartition(".")[2])
        return handler


def function(logical_id: str) -> FunctionSpec:
    """The function `logical_id` of template.yaml (`DashboardFunction`)."""
    for spec in functions():
        if spec.logical_id == logical_id:
            return spec
    raise KeyError(f"template.yaml has no function {logical_id}")


def app_of(logical_id: str) -> Any:
    """The ASGI app behind an HTTP function's handler (its module's `app`), loaded as Lambda loads it."""
    return function(logical_id).import_module().app


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    definition_path: Path
    substitutions: dict[str, str]  # placeholder → logical id of the function whose ARN it takes


def functions(template: dict[str, Any] | None = None) -> list[FunctionSpec]:
    template = template or load_template()
    return [
        FunctionSpec(logical_id, props["CodeUri"], props["Handler"])
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        for props in [resource["Properties"]]
    ]


def state_machines(template: dict[str, Any] | None = None) -> list[StateMachineSpec]:
    template = template or load_template()
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        props = resource["Properties"]
        substitutions = {}
        for placeholder, value in props.get("DefinitionSubstitutions", {}).items():
            target, attribute = value["Fn::GetAtt"]
            if attribute != "Arn":
                raise ValueError(f"{logical_id}: only !GetAtt <Function>.Arn substitutions are supported locally")
            substitutions[placeholder] = target
        found.append(StateMachineSpec(logical_id, ROOT / props["DefinitionUri"], substitutions))
    return found


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source: `function` receives batches from the queue resource `queue`."""

    function: str
    queue: str
    batch_size: int


def queue_sources(template: dict[str, Any] | None = None) -> list[QueueSource]:
    template = template or load_template()
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue, _ = event["Properties"]["Queue"]["Fn::GetAtt"]
                found.append(QueueSource(logical_id, queue, int(event["Properties"].get("BatchSize", 10))))
    return found


@dataclass(frozen=True)
class ScheduleSource:
    """A `Schedule` event: `function` runs every time `expression` (`rate(5 minutes)`) comes round."""

    function: str
    expression: str


def schedule_sources(template: dict[str, Any] | None = None) -> list[ScheduleSource]:
    template = template or load_template()
    return [
        ScheduleSource(logical_id, event["Properties"]["Schedule"])
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Schedule"
    ]
