"""What local mode needs from `template.yaml`: the functions and the state machines.

Reading the deployed template (rather than a list of our own) keeps local mode honest: the
same handlers and the same `.asl.json` with the same substitutions that SAM deploys.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
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
    def module(self) -> str:
        """The handler's module as imported from the repository root (`functions.admin.app`)."""
        module, _, _ = self.handler.rpartition(".")
        return ".".join([*Path(self.code_uri).parts, module])

    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        return getattr(importlib.import_module(self.module), self.handler.rpartition(".")[2])


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
