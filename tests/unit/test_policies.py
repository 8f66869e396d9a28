"""The policy grammar, ECR's stored form of a policy, and policy evaluation (ecr_emulator.backend.policies)."""

import datetime
import json

import pytest

from ecr_emulator.api.errors import InvalidParameterException
from ecr_emulator.backend import policies
from ecr_emulator.protocol import spec

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
REPOSITORY = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OTHER_USER = f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob"

INVALID_REPOSITORY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
)
INVALID_REGISTRY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"
)


def statement(effect="Allow", principal="*", action="ecr:BatchGetImage", **extra) -> dict:
    found = {"Effect": effect, "Action": action, **extra}
    if principal is not None:
        found["Principal"] = principal
    return found


def document(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# --- action names ---


def test_actions_cover_model_operations():
    # Every operation of the installed ECR model is an IAM action of the ecr prefix.
    assert set(spec.service_model().operation_names) <= policies.ECR_ACTIONS


def test_permission_only_actions_known():
    assert {"ReplicateImage", "BatchImportUpstreamImage", "GetImageCopyStatus"} <= policies.ECR_ACTIONS


# --- validate_repository_policy ---


def test_validate_returns_document():
    text = json.dumps(document(statement()))

    assert policies.validate_repository_policy(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "null",
        '"text"',
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage", "Condition": {"NumericEquals": {"k": NaN}}}]}',
        json.dumps(document(statement(principal=None))),
        json.dumps(document(statement(action="ecr:Unknown"))),
        json.dumps(document(statement(action=[]))),
        json.dumps(document(statement(Resource=[]))),
        json.dumps(document(statement(Condition={}))),
        json.dumps(document(statement(Condition={"StringEquals": {}}))),
        json.dumps(document(statement(Condition={"StringEquals": {"aws:SourceAccount": []}}))),
        json.dumps(document(statement(Condition={"StringEquals": {"aws:SourceAccount": {"nested": 1}}}))),
        json.dumps(document(statement(Sid=7))),
        json.dumps(document(statement(principal={"Service": "Not A Host"}))),
        json.dumps(document(statement(principal={"AWS": "arn:aws:iam::123456789012:group/admins"}))),
    ],
    ids=[
        "empty",
        "null",
        "string",
        "NaN",
        "no principal",
        "unknown action",
        "empty action list",
        "empty resource list",
        "empty condition",
        "empty condition operator",
        "empty condition values",
        "object condition value",
        "number sid",
        "bad service principal",
        "group principal",
    ],
)
def test_invalid_repository_policy(text):
    with pytest.raises(InvalidParameterException) as raised:
        policies.validate_repository_policy(text)

    assert raised.value.message == INVALID_REPOSITORY_POLICY


def test_policy_length_limit():
    padding = " " * (policies.MAX_POLICY_LENGTH - len(json.dumps(document(statement()))))
    text = json.dumps(document(statement())) + padding

    assert len(text) == policies.MAX_POLICY_LENGTH
    policies.validate_repository_policy(text)
    with pytest.raises(InvalidParameterException):
        policies.validate_repository_policy(text + " ")


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": ACCOUNT},
        {"AWS": ROOT},
        {"AWS": [USER, f"arn:aws:iam::{ACCOUNT}:role/team/builder"]},
        {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/builder/session-1"},
        {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"},
        {"Service": ["codebuild.amazonaws.com", "lambda.amazonaws.com"]},
        {"AWS": ACCOUNT, "Service": "ecs-tasks.amazonaws.com"},
    ],
)
def test_valid_principals(principal):
    policies.validate_repository_policy(json.dumps(document(statement(principal=principal))))


@pytest.mark.parametrize(
    "operator",
    ["StringEquals", "ForAnyValue:StringLike", "ForAllValues:StringEquals", "ArnLikeIfExists", "Null", "NotIpAddress", "Bool"],
)
def test_valid_condition_operators(operator):
    policy = document(statement(Condition={operator: {"aws:SourceArn": ["a", "b"]}}))

    policies.validate_repository_policy(json.dumps(policy))


# --- validate_registry_policy ---


@pytest.mark.parametrize(
    "action",
    [
        "ecr:ReplicateImage",
        ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        "ecr:*",
        "*",
        "ecr:Batch*",
        "ecr:replicateimage",
    ],
)
def test_scope_v1_accepts(action):
    text = json.dumps(document(statement(principal={"AWS": OTHER_ACCOUNT}, action=action)))

    assert policies.validate_registry_policy(text, "V1") == json.loads(text)


@pytest.mark.parametrize(
    "action",
    ["ecr:BatchGetImage", ["ecr:ReplicateImage", "ecr:PutImage"], "ecr:Get*"],
)
def test_scope_v1_rejects(action):
    text = json.dumps(document(statement(principal={"AWS": OTHER_ACCOUNT}, action=action)))

    with pytest.raises(InvalidParameterException) as raised:
        policies.validate_registry_policy(text, "V1")

    assert raised.value.message == INVALID_REGISTRY_POLICY
    assert policies.validate_registry_policy(text, "V2") == json.loads(text)


def test_scope_v1_not_action():
    # NotAction names the actions a statement does not cover; under V1 only V1 actions may remain.
    outside_v1 = sorted(policies.ECR_ACTIONS - policies.V1_REGISTRY_ACTIONS)
    narrow = {"Effect": "Allow", "Principal": "*", "NotAction": [f"ecr:{name}" for name in outside_v1]}
    broad = {"Effect": "Allow", "Principal": "*", "NotAction": "ecr:PutImage"}

    policies.validate_registry_policy(json.dumps(document(narrow)), "V1")
    with pytest.raises(InvalidParameterException):
        policies.validate_registry_policy(json.dumps(document(broad)), "V1")


# --- format_policy ---


def test_format_matches_cli_example():
    policy = {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": "allow public pull",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ],
    }

    assert policies.format_policy(policy) == (
        '{\n  "Version" : "2008-10-17",\n  "Statement" : [ {\n    "Sid" : "allow public pull",\n'
        '    "Effect" : "Allow",\n    "Principal" : "*",\n'
        '    "Action" : [ "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ]\n'
        "  } ]\n}"
    )


def test_format_nested_objects_and_arrays():
    policy = {"a": {"b": {"c": [1, {"d": True}]}, "e": [], "f": {}}, "g": None}

    assert policies.format_policy(policy) == (
        '{\n  "a" : {\n    "b" : {\n      "c" : [ 1, {\n        "d" : true\n      } ]\n    },\n'
        '    "e" : [ ],\n    "f" : { }\n  },\n  "g" : null\n}'
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ('quote " and \\ backslash', '"quote \\" and \\\\ backslash"'),
        ("line\nbreak\ttab\rreturn\bback\fform", '"line\\nbreak\\ttab\\rreturn\\bback\\fform"'),
        ("\x01\x1f", '"\\u0001\\u001F"'),
        ("path/to é ✓", '"path/to é ✓"'),
    ],
    ids=["quote", "short escapes", "other control characters", "slash and non-ascii"],
)
def test_format_string_escapes(text, expected):
    assert policies.format_policy(text) == expected


@pytest.mark.parametrize(
    "number, expected",
    [
        (42, "42"),
        (-7, "-7"),
        (1.5, "1.5"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (1e-4, "1.0E-4"),
        (1.25e10, "1.25E10"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (-2.5e-5, "-2.5E-5"),
    ],
)
def test_format_numbers_as_java(number, expected):
    assert policies.format_policy(number) == expected


def test_format_round_trips():
    policy = document(
        statement(Condition={"NumericLessThan": {"k": 2.5}, "Bool": {"aws:SecureTransport": False}}, Sid="a\u2028b")
    )

    assert json.loads(policies.format_policy(policy)) == policy


# --- evaluate ---


def test_allow_and_no_match():
    policy = document(statement(action="ecr:BatchGetImage"))

    assert policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY) == "Allow"
    assert policies.evaluate(policy, USER, "ecr:PutImage", REPOSITORY) is None


@pytest.mark.parametrize("order", ["deny first", "deny last"])
def test_explicit_deny_wins(order):
    allow_all = statement(action="ecr:*")
    deny_pull = statement(effect="Deny", action="ecr:BatchGetImage")
    statements = [deny_pull, allow_all] if order == "deny first" else [allow_all, deny_pull]

    policy = document(*statements)

    assert policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY) == "Deny"
    assert policies.evaluate(policy, USER, "ecr:PutImage", REPOSITORY) == "Allow"


def test_statement_object():
    policy = {"Version": "2012-10-17", "Statement": statement()}

    assert policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY) == "Allow"


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        ("ecr:*", "ecr:PutImage", True),
        ("*", "ecr:PutImage", True),
        ("ecr:Batch*", "ecr:BatchGetImage", True),
        ("ecr:Batch*", "ecr:PutImage", False),
        ("ecr:Get?ownloadUrlForLayer", "ecr:GetDownloadUrlForLayer", True),
        ("ECR:batchgetimage", "ecr:BatchGetImage", True),
        ("ecr:BatchGetImage", "ecr:BatchGetImages", False),
        ("ecr:*", "s3:GetObject", False),
    ],
)
def test_action_patterns(pattern, action, expected):
    policy = document(statement(action=pattern))

    assert (policies.evaluate(policy, USER, action, REPOSITORY) == "Allow") is expected


@pytest.mark.parametrize(
    "principal, caller, expected",
    [
        ("*", OTHER_USER, True),
        ({"AWS": "*"}, OTHER_USER, True),
        ({"AWS": ACCOUNT}, USER, True),
        ({"AWS": ACCOUNT}, OTHER_USER, False),
        ({"AWS": ROOT}, USER, True),
        ({"AWS": ROOT}, ROOT, True),
        ({"AWS": ROOT}, OTHER_USER, False),
        ({"AWS": USER}, USER, True),
        ({"AWS": USER}, f"arn:aws:iam::{ACCOUNT}:user/mallory", False),
        ({"AWS": [OTHER_USER, USER]}, USER, True),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci/builder"}, f"arn:aws:sts::{ACCOUNT}:assumed-role/builder/run-1", True),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/builder"}, f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/run-1", False),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/builder"}, f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/builder/run-1", False),
        ({"Service": "codebuild.amazonaws.com"}, "codebuild.amazonaws.com", True),
        ({"Service": "codebuild.amazonaws.com"}, "lambda.amazonaws.com", False),
        ({"AWS": ACCOUNT}, "codebuild.amazonaws.com", False),
    ],
)
def test_principal_matching(principal, caller, expected):
    policy = document(statement(principal=principal))

    assert (policies.evaluate(policy, caller, "ecr:BatchGetImage", REPOSITORY) == "Allow") is expected


def test_not_principal():
    policy = document(statement(effect="Deny", principal=None, NotPrincipal={"AWS": ACCOUNT}))

    assert policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY) is None
    assert policies.evaluate(policy, OTHER_USER, "ecr:BatchGetImage", REPOSITORY) == "Deny"


def test_not_action():
    policy = document({"Effect": "Allow", "Principal": "*", "NotAction": ["ecr:Delete*"]})

    assert policies.evaluate(policy, USER, "ecr:PutImage", REPOSITORY) == "Allow"
    assert policies.evaluate(policy, USER, "ecr:DeleteRepository", REPOSITORY) is None


def test_identity_policy_without_principal():
    policy = document(statement(principal=None))

    assert policies.evaluate(policy, OTHER_USER, "ecr:BatchGetImage", REPOSITORY) == "Allow"


@pytest.mark.parametrize(
    "resource, expected",
    [
        (None, True),
        ("*", True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*", True),
        (f"arn:aws:ecr:*:{ACCOUNT}:repository/a?p", True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/other", False),
        ([f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/other", REPOSITORY], True),
    ],
)
def test_resource_matching(resource, expected):
    extra = {} if resource is None else {"Resource": resource}
    policy = document(statement(**extra))

    assert (policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY) == "Allow") is expected


def test_not_resource():
    policy = document(statement(NotResource=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/secret*"))

    assert policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY) == "Allow"
    assert policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY.replace("/app", "/secret-1")) is None


NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

CONDITIONS = [
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {"aws:SourceAccount": ACCOUNT}, True),
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {"aws:sourceaccount": ACCOUNT}, True),
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {"aws:SourceAccount": OTHER_ACCOUNT}, False),
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {}, False),
    ({"StringEquals": {"aws:SourceAccount": [OTHER_ACCOUNT, ACCOUNT]}}, {"aws:SourceAccount": ACCOUNT}, True),
    ({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}, {}, True),
    ({"StringNotEquals": {"aws:SourceAccount": [ACCOUNT, OTHER_ACCOUNT]}}, {"aws:SourceAccount": OTHER_ACCOUNT}, False),
    ({"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}, {}, True),
    ({"StringEqualsIgnoreCase": {"aws:username": "Alice"}}, {"aws:username": "ALICE"}, True),
    ({"StringLike": {"aws:username": "al*"}}, {"aws:username": "alice"}, True),
    ({"StringNotLike": {"aws:username": "al*"}}, {"aws:username": "alice"}, False),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:codebuild:*:*:project/*"}}, {"aws:SourceArn": "arn:aws:codebuild:us-east-1:1:project/p"}, True),
    ({"ArnNotEquals": {"aws:SourceArn": "arn:aws:codebuild:*"}}, {"aws:SourceArn": "arn:aws:s3:::b"}, True),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": 5}, True),
    ({"NumericGreaterThanEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "9"}, False),
    ({"NumericEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "ten"}, False),
    ({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}, {"aws:CurrentTime": NOW}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}, {"aws:CurrentTime": NOW.isoformat()}, False),
    ({"DateEquals": {"aws:EpochTime": 1767225600}}, {"aws:EpochTime": "1767225600"}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True}, True),
    ({"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "true"}, False),
    ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    ({"Null": {"aws:TokenIssueTime": "false"}}, {}, False),
    ({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}, True),
    ({"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}}, {"aws:SourceIp": "54.240.143.7"}, True),
    ({"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}}, {"aws:SourceIp": "54.240.143.7"}, False),
    ({"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}, {"aws:SourceIp": "2001:db8::1"}, False),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "not-an-ip"}, False),
    ({"BinaryEquals": {"k": "aGVsbG8="}}, {"k": b"hello"}, True),
    ({"BinaryEquals": {"k": "aGVsbG8="}}, {"k": "aGVsbG8="}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "stage"]}}, {"aws:TagKeys": ["owner", "team"]}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, {}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "stage"]}}, {"aws:TagKeys": ["owner", "team"]}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "stage"]}}, {"aws:TagKeys": ["stage", "team"]}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {}, True),
    (
        {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SourceAccount": ACCOUNT, "aws:SourceIp": "192.168.0.1"},
        False,
    ),
    (
        {"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:username": "alice"}},
        {"aws:SourceAccount": ACCOUNT, "aws:username": "alice"},
        True,
    ),
]


@pytest.mark.parametrize("condition, context, expected", CONDITIONS)
def test_conditions(condition, context, expected):
    policy = document(statement(Condition=condition))

    decision = policies.evaluate(policy, USER, "ecr:BatchGetImage", REPOSITORY, context=context)

    assert (decision == "Allow") is expected


def test_conditional_deny_needs_its_keys():
    # The user guide's deny outside an IP range, with and without a matching source address.
    policy = document(
        statement(effect="Deny", action="ecr:*", Condition={"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}}),
        statement(action="ecr:*"),
    )

    assert policies.evaluate(policy, USER, "ecr:PutImage", REPOSITORY, {"aws:SourceIp": "54.240.143.9"}) == "Allow"
    assert policies.evaluate(policy, USER, "ecr:PutImage", REPOSITORY, {"aws:SourceIp": "8.8.8.8"}) == "Deny"


# --- locks_out ---


@pytest.mark.parametrize(
    "policy, expected",
    [
        (document(statement(effect="Deny", action="ecr:SetRepositoryPolicy")), True),
        (document(statement(effect="Deny", principal={"AWS": ACCOUNT}, action="ecr:*")), True),
        (document(statement(effect="Deny", principal={"AWS": OTHER_ACCOUNT}, action="ecr:*")), False),
        (document(statement(effect="Deny", action="ecr:PutImage")), False),
        (document(statement(action="ecr:SetRepositoryPolicy")), False),
        (
            document(statement(effect="Deny", action="ecr:*", Condition={"Bool": {"aws:SecureTransport": "false"}})),
            False,
        ),
    ],
    ids=["deny everyone", "deny own account", "deny other account", "deny other action", "allow", "conditional deny"],
)
def test_locks_out(policy, expected):
    assert policies.locks_out(policy, ROOT, REPOSITORY) is expected
