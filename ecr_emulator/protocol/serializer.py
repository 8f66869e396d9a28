"""Serialize handler results and errors as AWS JSON 1.1 responses.

A handler returns a dict keyed by the output shape's member names. Timestamps may be `datetime`
objects and become epoch seconds with a fractional part, as ECR sends them; blobs become base64.
Keys the output shape does not declare are a bug in a handler: with `STRICT` set (the test suite
sets it) they raise, as do missing required members, wrong JSON types and values outside an
enum; otherwise unknown keys are logged and dropped.
"""

import base64
import datetime
import json
import logging

from botocore.model import OperationModel, Shape

from ecr_emulator.protocol.errors import ServiceError

LOG = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
STRICT = False


def serialize_result(operation_model: OperationModel, result: dict | None) -> bytes:
    shape = operation_model.output_shape
    body = _value(shape, result or {}, operation_model.name) if shape is not None else {}
    return json.dumps(body, separators=(",", ":")).encode()


def serialize_error(error: ServiceError) -> bytes:
    body = {"__type": error.code, "message": error.message}
    body.update(_plain(error.fields))
    return json.dumps(body, separators=(",", ":")).encode()


def _value(shape: Shape, value, path: str):
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, value, path)
    if kind == "list":
        return [_value(shape.member, item, f"{path}[]") for item in value]
    if kind == "map":
        return {key: _value(shape.value, item, f"{path}.{key}") for key, item in value.items()}
    if kind == "timestamp":
        return _epoch(value)
    if kind == "blob":
        data = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(data).decode()
    return value


def _structure(shape: Shape, value: dict, path: str) -> dict:
    unknown = set(value) - set(shape.members)
    if unknown:
        if STRICT:
            raise TypeError(f"{path}: keys {sorted(unknown)} are not members of {shape.name}")
        LOG.warning("dropping keys %s that %s does not declare", sorted(unknown), shape.name)
    result = {}
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            result[name] = _value(member, value[name], f"{path}.{name}")
    if STRICT:
        check_structure(shape, result, path)
    return result


_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float),
    "blob": (str,),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


def check_structure(shape: Shape, body: dict, path: str) -> None:
    """Raise TypeError unless a serialized structure has the output shape's required members, types and enums."""
    missing = [name for name in shape.required_members if name not in body]
    if missing:
        raise TypeError(f"{path}: required members {missing} of {shape.name} are missing")
    for name, item in body.items():
        member = shape.members[name]
        expected = _JSON_TYPES.get(member.type_name, (object,))
        if not isinstance(item, expected) or (member.type_name in ("integer", "long") and isinstance(item, bool)):
            raise TypeError(f"{path}.{name}: {type(item).__name__} is not a {member.type_name}")
        enum = getattr(member, "enum", None)
        if enum and item not in enum:
            raise TypeError(f"{path}.{name}: {item!r} is not one of {enum}")
        if member.type_name == "list" and member.member.type_name not in ("structure",):
            item_enum = getattr(member.member, "enum", None)
            for element in item:
                if not isinstance(element, _JSON_TYPES.get(member.member.type_name, (object,))):
                    raise TypeError(f"{path}.{name}[]: {type(element).__name__} is not a {member.member.type_name}")
                if item_enum and element not in item_enum:
                    raise TypeError(f"{path}.{name}[]: {element!r} is not one of {item_enum}")


def _epoch(value) -> float:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return round(value.timestamp(), 3)
    return value


def _plain(fields: dict) -> dict:
    return {key: _epoch(value) for key, value in fields.items() if value is not None}
