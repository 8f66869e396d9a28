"""Parse an AWS JSON 1.1 request into an operation and its parameters, and validate them.

Validation follows the operation's input shape: required members, JSON types, lengths, ranges,
patterns and enums. A value of the wrong JSON type is a `SerializationException`; a constraint
violation is reported the way ECR reports it:

    Invalid parameter at 'maxResults' failed to satisfy constraint:
    'Member must have value less than or equal to 1000'

as `InvalidParameterException` when the operation models it, else as `ValidationException`.
Members the model does not know are dropped, as AWS's JSON services ignore them.
"""

import base64
import binascii
import functools
import json
import re

from botocore.model import OperationModel, Shape

from ecr_emulator.protocol import spec
from ecr_emulator.protocol.errors import (
    MissingTargetError,
    SerializationException,
    ServiceError,
    UnknownOperationException,
)


class ConstraintViolation(ServiceError):
    """A member breaks a constraint of the model; `code` is chosen per operation."""

    def __init__(self, path: str, detail: str, code: str):
        super().__init__(f"Invalid parameter at '{path}' failed to satisfy constraint: '{detail}'")
        self.code = code


def parse_request(target: str | None, body: bytes) -> tuple[OperationModel, dict]:
    """Return the operation named by the X-Amz-Target header and its validated parameters."""
    operation_model = operation_for_target(target)
    params = parse_body(body)
    return operation_model, validate_input(operation_model, params)


def operation_for_target(target: str | None) -> OperationModel:
    if not target:
        raise MissingTargetError("Missing Authentication Token")
    prefix, _, operation_name = target.partition(".")
    if prefix != spec.TARGET_PREFIX or operation_name not in spec.service_model().operation_names:
        raise UnknownOperationException(f"The operation {target!r} is not an operation of ECR.")
    return spec.service_model().operation_model(operation_name)


def parse_body(body: bytes) -> dict:
    if not body or not body.strip():
        return {}
    try:
        params = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from None
    if not isinstance(params, dict):
        raise SerializationException("The request body must be a JSON object.")
    return params


def validate_input(operation_model: OperationModel, params: dict) -> dict:
    """Return `params` checked against the input shape, without members the model does not know."""
    shape = operation_model.input_shape
    if shape is None:
        return {}
    return _Validator(_violation_code(operation_model)).structure(shape, params, "")


@functools.lru_cache(maxsize=None)
def _violation_code(operation_model: OperationModel) -> str:
    names = {error.name for error in operation_model.error_shapes}
    return "InvalidParameterException" if "InvalidParameterException" in names else "ValidationException"


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


class _Validator:
    def __init__(self, violation_code: str):
        self.violation_code = violation_code

    def fail(self, path: str, detail: str) -> None:
        raise ConstraintViolation(path, detail, self.violation_code)

    def value(self, shape: Shape, value, path: str):
        if value is None:
            return None
        checker = getattr(self, shape.type_name, None)
        if checker is None:
            return value
        return checker(shape, value, path)

    def structure(self, shape: Shape, value, path: str) -> dict:
        if not isinstance(value, dict):
            raise SerializationException(f"Expected an object at '{path or '/'}', got {_json_type(value)}.")
        result = {}
        for name, member in shape.members.items():
            member_path = f"{path}.{name}" if path else name
            member_value = value.get(name)
            if member_value is None:
                if name in shape.required_members:
                    self.fail(member_path, "Member must not be null")
                continue
            result[name] = self.value(member, member_value, member_path)
        return result

    def list(self, shape: Shape, value, path: str) -> list:
        if not isinstance(value, list):
            raise SerializationException(f"Expected an array at '{path}', got {_json_type(value)}.")
        self._length(shape, len(value), path)
        return [
            self.value(shape.member, item, f"{path}.{index}.member")
            for index, item in enumerate(value, start=1)
        ]

    def map(self, shape: Shape, value, path: str) -> dict:
        if not isinstance(value, dict):
            raise SerializationException(f"Expected an object at '{path}', got {_json_type(value)}.")
        self._length(shape, len(value), path)
        return {
            self.value(shape.key, key, f"{path}.key"): self.value(shape.value, item, f"{path}.{key}")
            for key, item in value.items()
        }

    def string(self, shape: Shape, value, path: str) -> str:
        if not isinstance(value, str):
            raise SerializationException(f"Expected a string at '{path}', got {_json_type(value)}.")
        self._length(shape, len(value), path)
        if shape.enum and value not in shape.enum:
            self.fail(path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = shape.metadata.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            self.fail(path, f"must satisfy regular expression '{pattern}'")
        return value

    def integer(self, shape: Shape, value, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SerializationException(f"Expected an integer at '{path}', got {_json_type(value)}.")
        if "min" in shape.metadata and value < shape.metadata["min"]:
            self.fail(path, f"Member must have value greater than or equal to {shape.metadata['min']}")
        if "max" in shape.metadata and value > shape.metadata["max"]:
            self.fail(path, f"Member must have value less than or equal to {shape.metadata['max']}")
        return value

    long = integer

    def boolean(self, shape: Shape, value, path: str) -> bool:
        if not isinstance(value, bool):
            raise SerializationException(f"Expected a boolean at '{path}', got {_json_type(value)}.")
        return value

    def float(self, shape: Shape, value, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SerializationException(f"Expected a number at '{path}', got {_json_type(value)}.")
        return value

    double = float

    def timestamp(self, shape: Shape, value, path: str):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SerializationException(f"Expected epoch seconds at '{path}', got {_json_type(value)}.")
        return value

    def blob(self, shape: Shape, value, path: str) -> bytes:
        if not isinstance(value, str):
            raise SerializationException(f"Expected base64 text at '{path}', got {_json_type(value)}.")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException(f"The value at '{path}' is not valid base64.") from None
        self._length(shape, len(data), path)
        return data

    def _length(self, shape: Shape, length: int, path: str) -> None:
        if "min" in shape.metadata and length < shape.metadata["min"]:
            self.fail(path, f"Member must have length greater than or equal to {shape.metadata['min']}")
        if "max" in shape.metadata and length > shape.metadata["max"]:
            self.fail(path, f"Member must have length less than or equal to {shape.metadata['max']}")


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"
