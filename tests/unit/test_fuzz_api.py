"""Model-driven fuzzing of every operation: malformed and boundary inputs get modelled 4xx errors.

Hypothesis builds a valid request from each operation's input shape (values within the model's
types, lengths, ranges, patterns and enums, naming the seeded repository and image), then
breaks it at most once: one member gets a value of another JSON type, an empty or oversized
value, or is dropped. Every answer must be a success or a 400 whose code the operation models
(or one of AWS's common errors: SerializationException for a wrong JSON type,
AccessDeniedException for a caller of another account), never a 5xx; and a rejected
request must leave the state as it was.
"""

import base64
import json
import pickle
import string

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_emulator.backend.registry import registries
from ecr_emulator.core.context import RequestContext
from ecr_emulator.mock import MockECR
from ecr_emulator.protocol import dispatch, spec
from tests.helpers import push_image

MODEL = spec.service_model()
REPO = "fuzz/app"
SEED_TAG = "v1"
ACCOUNT = "123456789012"
# Errors every AWS JSON service may return that ECR's model does not list: a wrong JSON type, and
# a caller of another account whom no resource policy allows.
PROTOCOL_ERRORS = {"SerializationException", "AccessDeniedException"}
JUNK = st.one_of(
    st.none(), st.integers(-10, 10**12), st.booleans(), st.text(max_size=3), st.text(min_size=300, max_size=400),
    st.lists(st.integers(), max_size=2), st.just({}), st.just([]), st.just(""),
)
ALPHABET = string.ascii_letters + string.digits + "-_./:*{}\"'"
# Valid values that name the seeded state, so that requests get past validation to the handlers.
KNOWN_VALUES = {
    "RepositoryName": st.sampled_from([REPO, REPO, REPO, "fuzz/missing"]),
    "ImageTag": st.sampled_from([SEED_TAG, SEED_TAG, "latest"]),
    "RegistryId": st.sampled_from([ACCOUNT, ACCOUNT, ACCOUNT, "111122223333"]),
}


def valid(shape, depth: int = 0):
    """A strategy for values that satisfy `shape`'s type and constraints."""
    kind = shape.type_name
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if kind == "structure":
        if depth > 5:
            return st.just({})
        members = {name: valid(member, depth + 1) for name, member in shape.members.items()}
        required = {name: members[name] for name in shape.required_members}
        optional = {name: value for name, value in members.items() if name not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        low = minimum or 0
        return st.lists(valid(shape.member, depth + 1), min_size=low, max_size=max(low, min(maximum or 3, 3)))
    if kind == "map":
        return st.dictionaries(st.text(min_size=1, max_size=8), valid(shape.value, depth + 1), max_size=2)
    if kind == "string":
        return _valid_string(shape, minimum, maximum)
    if kind in ("integer", "long"):
        low = minimum if minimum is not None else 0
        return st.integers(min_value=low, max_value=maximum if maximum is not None else low + 1000)
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(min_size=minimum or 1, max_size=16).map(lambda data: base64.b64encode(data).decode())
    return st.floats(min_value=0, max_value=2e9, allow_nan=False)


def _valid_string(shape, minimum, maximum):
    if shape.name in KNOWN_VALUES:
        return KNOWN_VALUES[shape.name]
    if getattr(shape, "enum", None):
        return st.sampled_from(shape.enum)
    low, high = minimum or 0, maximum or 40
    pattern = shape.metadata.get("pattern")
    if pattern:
        try:
            return st.from_regex(pattern, fullmatch=True).filter(lambda text: low <= len(text) <= high)
        except Exception:  # a Java pattern Python cannot compile
            pass
    return st.text(alphabet=ALPHABET, min_size=low, max_size=min(high, low + 40))


def requests(shape):
    """A valid request, broken at one top-level member or not at all."""
    if shape is None or not shape.members:
        return st.just({})
    names = sorted(shape.members)

    def break_once(params):
        mutation = st.one_of(
            st.just(None),
            st.tuples(st.sampled_from(names), JUNK),
            st.tuples(st.sampled_from(names), st.just(DROP)),
        )
        return mutation.map(lambda change: _apply(params, change))

    return valid(shape).flatmap(break_once)


DROP = object()


def _apply(params: dict, change) -> dict:
    if change is None:
        return params
    name, value = change
    broken = dict(params)
    if value is DROP:
        broken.pop(name, None)
    else:
        broken[name] = value
    return broken


def fingerprint() -> dict:
    """The state that requests can change, without registries and feature states still at their defaults."""
    state = {}
    for account_id, region, registry in registries.items():
        features = {}
        for name, value in registry._feature_states.items():
            blob = pickle.dumps(value)
            try:
                if blob == pickle.dumps(type(value)()):
                    continue
            except TypeError:
                pass
            features[name] = blob
        entry = {"repositories": pickle.dumps(registry.repositories), "uploads": dict(registry.uploads), "features": features}
        if registry.repositories or registry.uploads or features:
            state[(account_id, region)] = entry
    return state


@pytest.fixture(scope="module")
def seeded():
    with MockECR():
        ecr = boto3.client("ecr", region_name="us-east-1")
        ecr.create_repository(repositoryName=REPO)
        image = push_image(ecr, REPO, tag=SEED_TAG)
        layers = [layer["digest"] for layer in json.loads(image["imageManifest"])["layers"]]
        digests = st.sampled_from([image["imageId"]["imageDigest"], *layers, "sha256:" + "0" * 64])
        for name in ("ImageDigest", "LayerDigest", "BatchedOperationLayerDigest"):
            KNOWN_VALUES[name] = digests
        yield


@pytest.mark.parametrize("operation_name", MODEL.operation_names)
def test_fuzz_operation(seeded, operation_name):
    operation_model = MODEL.operation_model(operation_name)
    modelled = {shape.name for shape in operation_model.error_shapes} | PROTOCOL_ERRORS
    target = f"{spec.TARGET_PREFIX}.{operation_name}"

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    @given(params=requests(operation_model.input_shape))
    def check(params):
        before = fingerprint()
        status, _, body = dispatch.handle(RequestContext(), target, json.dumps(params).encode())
        answer = json.loads(body)

        assert status in (200, 400), f"{operation_name} answered {status}: {answer} for {params!r}"
        if status == 400:
            assert answer["__type"] in modelled, f"{operation_name} answered unmodelled {answer} for {params!r}"
            assert fingerprint() == before, f"{operation_name} changed state although it answered {answer}"

    check()


def test_body_not_an_object(seeded):
    for body in (b"[]", b"42", b"{bad json", b'"text"'):
        status, _, payload = dispatch.handle(RequestContext(), f"{spec.TARGET_PREFIX}.DescribeRepositories", body)

        assert status == 400
        assert json.loads(payload)["__type"] == "SerializationException"


def test_unknown_target(seeded):
    status, _, payload = dispatch.handle(RequestContext(), f"{spec.TARGET_PREFIX}.Nope", b"{}")

    assert status == 400
    assert json.loads(payload)["__type"] == "UnknownOperationException"
