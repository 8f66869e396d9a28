"""The handler table: every operation of the model is routed, with or without a handler.

Handlers register with `@handler("OperationName")` and are called as
`handler(context, **params)` with the top-level members in snake_case (botocore's `xform_name`),
so a member added to the model later cannot break an existing handler that takes `**kwargs`.
"""

import logging
from typing import Callable

from botocore import xform_name

from ecr_emulator.core.context import RequestContext
from ecr_emulator.protocol import parser, serializer, spec
from ecr_emulator.protocol.errors import InternalFailure, NotEmulatedError, ServiceError

LOG = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[..., dict]] = {}


def handler(operation_name: str) -> Callable:
    """Register the decorated function as the handler of `operation_name`."""
    if operation_name not in spec.service_model().operation_names:
        raise ValueError(f"{operation_name} is not an operation of the ECR model")

    def register(function: Callable[..., dict]) -> Callable[..., dict]:
        HANDLERS[operation_name] = function
        return function

    return register


def load_handlers() -> None:
    """Import the api modules, which register the handlers."""
    import ecr_emulator.api.handlers  # noqa: F401


def handle(context: RequestContext, target: str | None, body: bytes) -> tuple[int, dict, bytes]:
    """Handle one API request: return its HTTP status, headers and body."""
    headers = {"Content-Type": serializer.CONTENT_TYPE, "x-amzn-RequestId": context.request_id}
    try:
        operation_model, params = parser.parse_request(target, body)
        context.operation = operation_model.name
        result = invoke(context, operation_model.name, params)
        return 200, headers, serializer.serialize_result(operation_model, result)
    except ServiceError as error:
        if not error.sender_fault:
            LOG.warning("%s failed: %s", context.operation or target, error)
        return error.status, headers, serializer.serialize_error(error)
    except Exception as error:  # a bug of ours: respond in ECR's error format and log the traceback
        LOG.exception("%s raised while handling a valid request", context.operation or target)
        failure = InternalFailure(f"The emulator failed on {context.operation or target}: {error!r}")
        return failure.status, headers, serializer.serialize_error(failure)


# Called as authorizer(context, operation_name, params) before each handler; it raises to deny.
# The api package installs ECR's check of callers from other accounts.
authorizer: Callable[[RequestContext, str, dict], None] | None = None


def invoke(context: RequestContext, operation_name: str, params: dict) -> dict:
    function = HANDLERS.get(operation_name)
    if function is None:
        raise NotEmulatedError(f"ecr-emulator does not emulate the operation {operation_name} yet.")
    if authorizer is not None:
        authorizer(context, operation_name, params)
    return function(context, **{xform_name(name): value for name, value in params.items()})
