"""The parser recovers the parameters of requests that botocore's own serializer builds."""

import json

import botocore.session
import botocore.validate
import pytest
from botocore.serialize import create_serializer

from ecr_emulator.protocol import parser, spec
from ecr_emulator.protocol.errors import SerializationException, UnknownOperationException

MODEL = spec.service_model()
SERIALIZER = create_serializer("json")


def build_request(operation_name: str, params: dict) -> tuple[str, bytes]:
    operation_model = MODEL.operation_model(operation_name)
    request = SERIALIZER.serialize_to_request(params, operation_model)
    return request["headers"]["X-Amz-Target"], request["body"]


CASES = [
    ("CreateRepository", {
        "repositoryName": "team/app",
        "tags": [{"Key": "team", "Value": "platform"}],
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "dev-*"}],
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "alias/mine"},
    }),
    ("DescribeImages", {"repositoryName": "app", "filter": {"tagStatus": "TAGGED"}, "maxResults": 10}),
    ("UploadLayerPart", {
        "repositoryName": "app",
        "uploadId": "0f0e0d0c-0b0a-0908-0706-050403020100",
        "partFirstByte": 0,
        "partLastByte": 3,
        "layerPartBlob": b"\x00\x01\x02\xff",
    }),
    ("BatchDeleteImage", {"repositoryName": "app", "imageIds": [{"imageTag": "v1"}, {"imageDigest": "sha256:ab"}]}),
]


@pytest.mark.parametrize("operation_name,params", CASES, ids=[case[0] for case in CASES])
def test_parser_recovers_parameters(operation_name, params):
    target, body = build_request(operation_name, params)

    operation_model, parsed = parser.parse_request(target, body)

    assert operation_model.name == operation_name
    assert parsed == params


def test_every_operation_is_routed():
    for operation_name in MODEL.operation_names:
        target = f"{spec.TARGET_PREFIX}.{operation_name}"
        assert parser.operation_for_target(target).name == operation_name


def test_unknown_operation():
    with pytest.raises(UnknownOperationException):
        parser.operation_for_target(f"{spec.TARGET_PREFIX}.MakeCoffee")


def test_body_not_json():
    with pytest.raises(SerializationException):
        parser.parse_request(f"{spec.TARGET_PREFIX}.DescribeRepositories", b"{nope")


def test_wrong_member_type():
    with pytest.raises(SerializationException):
        parser.parse_request(f"{spec.TARGET_PREFIX}.DescribeRepositories", json.dumps({"maxResults": "ten"}).encode())


@pytest.mark.parametrize(
    "operation_name,params,message",
    [
        ("DescribeImages", {}, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'"),
        (
            "DescribeRepositories",
            {"maxResults": 0},
            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value greater than or equal to 1'",
        ),
        (
            "ListImages",
            {"repositoryName": "app", "filter": {"tagStatus": "SOME"}},
            "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: "
            "'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'",
        ),
        (
            "BatchGetImage",
            {"repositoryName": "app", "imageIds": []},
            "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length greater than or equal to 1'",
        ),
    ],
)
def test_constraint_messages(operation_name, params, message):
    with pytest.raises(parser.ConstraintViolation) as raised:
        parser.parse_request(f"{spec.TARGET_PREFIX}.{operation_name}", json.dumps(params).encode())

    assert raised.value.code == "InvalidParameterException"
    assert raised.value.message == message


def test_validation_exception_where_modelled():
    # DeleteSigningConfiguration models ValidationException and not InvalidParameterException.
    operation_model = MODEL.operation_model("DeleteSigningConfiguration")
    names = {error.name for error in operation_model.error_shapes}
    assert "InvalidParameterException" not in names

    assert parser._violation_code(operation_model) == "ValidationException"


def test_unknown_members_are_dropped():
    _, parsed = parser.parse_request(
        f"{spec.TARGET_PREFIX}.DescribeRepositories", json.dumps({"maxResults": 5, "surprise": 1}).encode()
    )

    assert parsed == {"maxResults": 5}


def test_botocore_accepts_what_we_accept():
    # botocore's client-side validator and ours agree on a valid request
    params = {"repositoryName": "a/b", "imageIds": [{"imageTag": "v1"}]}
    report = botocore.validate.ParamValidator().validate(params, MODEL.operation_model("BatchGetImage").input_shape)
    assert not report.has_errors()

    _, parsed = parser.parse_request(*build_request("BatchGetImage", params))
    assert parsed == params


def test_model_is_new_enough():
    # The replication backfill operations arrived in botocore 1.44.
    assert "StartReplicationBackfill" in MODEL.operation_names
    assert botocore.session.get_session().get_service_model("ecr").metadata["targetPrefix"] == spec.TARGET_PREFIX
