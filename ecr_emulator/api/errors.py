"""One exception class per error shape of the ECR model, named exactly as AWS names it.

The classes are built from the installed model when this module is imported, so an error shape
that a newer botocore adds exists here too. The backend raises them; `protocol/` serializes them
as `{"__type", "message"}` and `registry/errors.py` maps them to OCI error codes.
"""

from ecr_emulator.protocol import spec
from ecr_emulator.protocol.errors import ServiceError

# ServerException is the model's only fault; every other ECR error is the caller's, with HTTP 400.
_FAULTS = {"ServerException": 500}


class ECRError(ServiceError):
    """Base of the errors the ECR model declares."""


def _build_error_classes() -> dict[str, type[ECRError]]:
    classes = {}
    for name, shape in spec.error_shapes().items():
        status = shape.metadata.get("error", {}).get("httpStatusCode") or _FAULTS.get(name, 400)
        classes[name] = type(
            name,
            (ECRError,),
            {
                "code": name,
                "status": status,
                "sender_fault": status < 500,
                "__doc__": f"ECR's {name}.",
                "__module__": __name__,
            },
        )
    return classes


ERROR_CLASSES = _build_error_classes()
globals().update(ERROR_CLASSES)


def error_class(name: str) -> type[ECRError]:
    """Return the class of the error shape `name`; a name the model lacks is a bug of ours."""
    return ERROR_CLASSES[name]
