"""structlog JSON logs on stdout, one object per line, for our own loggers and for the
standard-library loggers of the libraries beneath (aiokafka, uvicorn, asyncio) alike;
nothing secret goes in them."""

import logging
import sys

import structlog

from shared.tracing import log_trace_ids

SHARED = [structlog.contextvars.merge_contextvars, log_trace_ids, structlog.processors.add_log_level,
          structlog.processors.TimeStamper(fmt="iso")]


def configure(level: str = "INFO") -> None:
    level = level.upper()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.configure(
        processors=[*SHARED, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def get(name: str):
    return structlog.get_logger(name)
