"""Structured logs for Lambda functions: one Powertools logger per function, shared by our modules.

Domain modules log with `logging.getLogger(__name__)` and `extra={...}` fields; this makes those
records come out as the same JSON lines as the function's own, with the Lambda context attached, and
with every long run of digits masked (`core.privacy.RedactNumbers`).
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from mla_core.core.privacy import RedactNumbers


def function_logger(service: str) -> Logger:
    logger = Logger(service=service)
    # Ours mask numbers where they log them; this catches what slips through (an SDK's error text).
    RedactNumbers.on_handlers(logger.registered_handler)
    logging.getLogger("mla_core")  # make sure the package logger exists to receive the config
    copy_config_to_registered_loggers(source_logger=logger, include={"mla_core"})
    return logger
