"""Repository policies and the registry policy, in decorator and server mode.

Expected texts come from the AWS CLI examples for set-repository-policy, get-repository-policy
and delete-repository-policy, which show the policy re-serialized by ECR, and from the ECR user
guide's repository and registry policy examples.
"""

import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"

INVALID_REPOSITORY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
)
INVALID_REGISTRY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"
)

# my-policy.json of the AWS CLI example for set-repository-policy, and the policyText it returns.
CLI_POLICY = """{
    "Version" : "2008-10-17",
    "Statement" : [
        {
            "Sid" : "allow public pull",
            "Effect" : "Allow",
            "Principal" : "*",
            "Action" : [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer"
            ]
        }
    ]
}"""
CLI_POLICY_STORED = (
    '{\n  "Version" : "2008-10-17",\n  "Statement" : [ {\n    "Sid" : "allow public pull",\n'
    '    "Effect" : "Allow",\n    "Principal" : "*",\n'
    '    "Action" : [ "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ]\n'
    "  } ]\n}"
)

REPLICATION_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReplicationAccessCrossAccount",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
            "Resource": [f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*"],
        }
    ],
}


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def policy(*statements, version="2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(action="ecr:BatchGetImage", principal="*", **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


# --- SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy ---


def test_set_policy_returns_stored_text(ecr):
    # given
    ecr.create_repository(repositoryName="cluster-autoscaler")

    # when
    response = ecr.set_repository_policy(repositoryName="cluster-autoscaler", policyText=CLI_POLICY)

    # then: the output of the AWS CLI example
    assert response["registryId"] == ACCOUNT
    assert response["repositoryName"] == "cluster-autoscaler"
    assert response["policyText"] == CLI_POLICY_STORED


def test_get_policy_returns_stored_text(ecr):
    ecr.create_repository(repositoryName="cluster-autoscaler")
    ecr.set_repository_policy(repositoryName="cluster-autoscaler", policyText=CLI_POLICY)

    response = ecr.get_repository_policy(repositoryName="cluster-autoscaler")

    assert response["registryId"] == ACCOUNT
    assert response["repositoryName"] == "cluster-autoscaler"
    assert response["policyText"] == CLI_POLICY_STORED


def test_stored_text_nests_objects(ecr):
    # given: a compact policy with a service principal
    ecr.create_repository(repositoryName="hello-world")
    text = (
        '{"Version":"2012-10-17","Statement":[{"Sid":"LambdaECRImageRetrievalPolicy","Effect":"Allow",'
        '"Principal":{"Service":"lambda.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}'
    )

    # when
    stored = ecr.set_repository_policy(repositoryName="hello-world", policyText=text)["policyText"]

    # then: nested objects indent by two more spaces, arrays stay on one line
    assert stored == (
        '{\n  "Version" : "2012-10-17",\n  "Statement" : [ {\n    "Sid" : "LambdaECRImageRetrievalPolicy",\n'
        '    "Effect" : "Allow",\n    "Principal" : {\n      "Service" : "lambda.amazonaws.com"\n    },\n'
        '    "Action" : [ "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ]\n  } ]\n}'
    )
    assert json.loads(stored) == json.loads(text)


def test_set_policy_replaces_previous(ecr):
    ecr.create_repository(repositoryName="app")
    ecr.set_repository_policy(repositoryName="app", policyText=policy(allow("ecr:BatchGetImage")))

    ecr.set_repository_policy(repositoryName="app", policyText=policy(allow("ecr:PutImage")))

    stored = json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"])
    assert stored["Statement"][0]["Action"] == "ecr:PutImage"


def test_delete_policy_returns_text(ecr):
    # given
    ecr.create_repository(repositoryName="cluster-autoscaler")
    ecr.set_repository_policy(repositoryName="cluster-autoscaler", policyText=CLI_POLICY)

    # when
    response = ecr.delete_repository_policy(repositoryName="cluster-autoscaler")

    # then: the output of the AWS CLI example, and the policy is gone
    assert response["registryId"] == ACCOUNT
    assert response["repositoryName"] == "cluster-autoscaler"
    assert response["policyText"] == CLI_POLICY_STORED
    with pytest.raises(ClientError) as raised:
        ecr.get_repository_policy(repositoryName="cluster-autoscaler")
    assert error_of(raised)[0] == "RepositoryPolicyNotFoundException"


@pytest.mark.parametrize("operation", ["get_repository_policy", "delete_repository_policy"])
def test_missing_repository_policy(ecr, operation):
    ecr.create_repository(repositoryName="app")

    with pytest.raises(ClientError) as raised:
        getattr(ecr, operation)(repositoryName="app")

    assert error_of(raised) == (
        "RepositoryPolicyNotFoundException",
        f"Repository policy does not exist for the repository with name 'app' in the registry with id '{ACCOUNT}'",
    )


@pytest.mark.parametrize(
    "operation, arguments",
    [
        ("set_repository_policy", {"policyText": CLI_POLICY}),
        ("get_repository_policy", {}),
        ("delete_repository_policy", {}),
    ],
)
def test_policy_of_missing_repository(ecr, operation, arguments):
    with pytest.raises(ClientError) as raised:
        getattr(ecr, operation)(repositoryName="missing", **arguments)

    assert error_of(raised) == (
        "RepositoryNotFoundException",
        f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
    )


def test_policy_goes_with_repository(ecr):
    # given: a repository with a policy, deleted and created again
    ecr.create_repository(repositoryName="app")
    ecr.set_repository_policy(repositoryName="app", policyText=CLI_POLICY)
    ecr.delete_repository(repositoryName="app")
    ecr.create_repository(repositoryName="app")

    # when / then
    with pytest.raises(ClientError) as raised:
        ecr.get_repository_policy(repositoryName="app")
    assert error_of(raised)[0] == "RepositoryPolicyNotFoundException"


# The user guide's repository policy examples and other valid forms, each accepted unchanged.
GUIDE_POLICIES = {
    "allow users": policy(
        {
            "Sid": "AllowPushPull",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{OTHER_ACCOUNT}:user/push-pull-user-1", f"arn:aws:iam::{OTHER_ACCOUNT}:user/push-pull-user-2"]},
            "Action": ["ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload",
                       "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"],
            "Resource": "*",
        }
    ),
    "allow all to admin": policy(
        {"Sid": "AllowAll", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:user/admin-user"}, "Action": ["ecr:*"], "Resource": "*"}
    ),
    "deny pull": policy(
        {"Sid": "DenyPull", "Effect": "Deny", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}
    ),
    "deny outside ip range": json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "ECRPolicyId1",
            "Statement": [
                {
                    "Sid": "IPAllow",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "ecr:*",
                    "Resource": "*",
                    "Condition": {"NotIpAddress": {"aws:SourceIp": "54.240.143.0/24"}},
                }
            ],
        }
    ),
    "allow codebuild": policy(
        {
            "Sid": "CodeBuildAccess",
            "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:codebuild:us-east-1:{ACCOUNT}:project/project-name"},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            },
        }
    ),
    "account id principal": policy(allow(["ecr:BatchGetImage"], {"AWS": OTHER_ACCOUNT})),
    "statement object": json.dumps({"Version": "2012-10-17", "Statement": allow()}),
    "no version": json.dumps({"Statement": [allow()]}),
    "action wildcard": policy(allow("ecr:Batch*")),
    "lower-case action": policy(allow("ecr:batchgetimage")),
    "not action": policy({"Effect": "Allow", "Principal": "*", "NotAction": "ecr:DeleteRepository"}),
    "not principal deny": policy(
        {"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "ecr:PutImage"}
    ),
    "role principal": policy(allow("ecr:BatchGetImage", {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/path/puller"})),
    "org condition": policy(
        allow(["ecr:BatchGetImage"], "*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-8b6wknm0ed"}})
    ),
}


@pytest.mark.parametrize("text", GUIDE_POLICIES.values(), ids=GUIDE_POLICIES.keys())
def test_valid_policy_accepted(ecr, text):
    ecr.create_repository(repositoryName="app")

    stored = ecr.set_repository_policy(repositoryName="app", policyText=text)["policyText"]

    assert json.loads(stored) == json.loads(text)


INVALID_POLICIES = {
    "empty text": "",
    "not json": "{not json",
    "json array": "[]",
    "no statement": json.dumps({"Version": "2012-10-17"}),
    "empty statement list": policy(),
    "unknown version": policy(allow(), version="2020-01-01"),
    "unknown top-level member": json.dumps({"Version": "2012-10-17", "Statement": [allow()], "Extra": 1}),
    "lower-case effect": policy({**allow(), "Effect": "allow"}),
    "no effect": policy({"Principal": "*", "Action": "ecr:BatchGetImage"}),
    "no principal": policy({"Effect": "Allow", "Action": "ecr:BatchGetImage"}),
    "principal and not principal": policy({**allow(), "NotPrincipal": {"AWS": OTHER_ACCOUNT}}),
    "short account id": policy(allow(principal={"AWS": "arn:aws:iam::123:user/sampleuser"})),
    "unknown principal kind": policy(allow(principal={"Federated": "cognito-identity.amazonaws.com"})),
    "empty principal list": policy(allow(principal={"AWS": []})),
    "no action": policy({"Effect": "Allow", "Principal": "*"}),
    "action and not action": policy({**allow(), "NotAction": "ecr:PutImage"}),
    "other service action": policy(allow("s3:GetObject")),
    "unknown ecr action": policy(allow("ecr:PullImage")),
    "wildcard matching nothing": policy(allow("ecr:Fetch*")),
    "resource and not resource": policy({**allow(), "Resource": "*", "NotResource": "*"}),
    "unknown condition operator": policy(allow(Condition={"StringMatches": {"aws:SourceAccount": ACCOUNT}})),
    "unknown statement member": policy({**allow(), "Comment": "x"}),
}


@pytest.mark.parametrize("text", INVALID_POLICIES.values(), ids=INVALID_POLICIES.keys())
def test_invalid_policy_rejected(ecr, text):
    # given: a repository with a policy already
    ecr.create_repository(repositoryName="app")
    ecr.set_repository_policy(repositoryName="app", policyText=CLI_POLICY)

    # when
    with pytest.raises(ClientError) as raised:
        ecr.set_repository_policy(repositoryName="app", policyText=text)

    # then: ECR's message, and the stored policy is unchanged
    assert error_of(raised) == ("InvalidParameterException", INVALID_REPOSITORY_POLICY)
    assert ecr.get_repository_policy(repositoryName="app")["policyText"] == CLI_POLICY_STORED


def test_policy_text_too_long(ecr):
    ecr.create_repository(repositoryName="app")
    statement = allow(Sid="x" * 10240)

    with pytest.raises(ClientError) as raised:
        ecr.set_repository_policy(repositoryName="app", policyText=policy(statement))

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'policyText' failed to satisfy constraint: 'Member must have length less than or equal to 10240'",
    )


# --- the lockout guard of SetRepositoryPolicy ---

LOCKOUT_POLICIES = {
    "deny everyone": policy({"Effect": "Deny", "Principal": "*", "Action": "ecr:SetRepositoryPolicy"}),
    "deny everyone all ecr": policy({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "ecr:*"}),
    "deny own account": policy({"Effect": "Deny", "Principal": {"AWS": ACCOUNT}, "Action": "ecr:Set*"}),
    "deny own root": policy(
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "ecr:SetRepositoryPolicy"}
    ),
    "deny by not action": policy({"Effect": "Deny", "Principal": "*", "NotAction": "ecr:BatchGetImage"}),
}


@pytest.mark.parametrize("text", LOCKOUT_POLICIES.values(), ids=LOCKOUT_POLICIES.keys())
def test_lockout_needs_force(ecr, text):
    # given
    ecr.create_repository(repositoryName="app")
    ecr.set_repository_policy(repositoryName="app", policyText=CLI_POLICY)

    # when: the new policy would deny the caller ecr:SetRepositoryPolicy
    with pytest.raises(ClientError) as raised:
        ecr.set_repository_policy(repositoryName="app", policyText=text)

    # then
    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'PolicyText' failed to satisfy constraint: ")
    assert "force" in message
    assert ecr.get_repository_policy(repositoryName="app")["policyText"] == CLI_POLICY_STORED


@pytest.mark.parametrize("text", LOCKOUT_POLICIES.values(), ids=LOCKOUT_POLICIES.keys())
def test_lockout_with_force(ecr, text):
    ecr.create_repository(repositoryName="app")

    stored = ecr.set_repository_policy(repositoryName="app", policyText=text, force=True)["policyText"]

    assert json.loads(stored) == json.loads(text)
    assert ecr.get_repository_policy(repositoryName="app")["policyText"] == stored


NOT_LOCKOUT_POLICIES = {
    "deny other account": policy({"Effect": "Deny", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "ecr:*"}),
    "deny other action": policy({"Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage"}),
    "deny other repository": policy(
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/other"}
    ),
    "deny except own account": policy(
        {"Effect": "Deny", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "ecr:SetRepositoryPolicy"}
    ),
    "conditional deny": GUIDE_POLICIES["deny outside ip range"],
}


@pytest.mark.parametrize("text", NOT_LOCKOUT_POLICIES.values(), ids=NOT_LOCKOUT_POLICIES.keys())
def test_no_lockout_without_force(ecr, text):
    ecr.create_repository(repositoryName="app")

    stored = ecr.set_repository_policy(repositoryName="app", policyText=text)["policyText"]

    assert json.loads(stored) == json.loads(text)


# --- PutRegistryPolicy, GetRegistryPolicy, DeleteRegistryPolicy ---


def test_put_registry_policy(ecr):
    # when
    response = ecr.put_registry_policy(policyText=json.dumps(REPLICATION_POLICY))

    # then: the stored form, as for repository policies
    assert response["registryId"] == ACCOUNT
    assert json.loads(response["policyText"]) == REPLICATION_POLICY
    assert response["policyText"].startswith('{\n  "Version" : "2012-10-17",\n  "Statement" : [ {\n')


def test_get_registry_policy(ecr):
    stored = ecr.put_registry_policy(policyText=json.dumps(REPLICATION_POLICY))["policyText"]

    response = ecr.get_registry_policy()

    assert response["registryId"] == ACCOUNT
    assert response["policyText"] == stored


def test_delete_registry_policy(ecr):
    # given
    stored = ecr.put_registry_policy(policyText=json.dumps(REPLICATION_POLICY))["policyText"]

    # when
    response = ecr.delete_registry_policy()

    # then
    assert response == {"registryId": ACCOUNT, "policyText": stored, "ResponseMetadata": response["ResponseMetadata"]}
    with pytest.raises(ClientError) as raised:
        ecr.get_registry_policy()
    assert error_of(raised)[0] == "RegistryPolicyNotFoundException"


@pytest.mark.parametrize("operation", ["get_registry_policy", "delete_registry_policy"])
def test_missing_registry_policy(ecr, operation):
    with pytest.raises(ClientError) as raised:
        getattr(ecr, operation)()

    assert error_of(raised) == (
        "RegistryPolicyNotFoundException",
        f"Registry policy does not exist in the registry with id '{ACCOUNT}'",
    )


def test_registry_policies_per_account(ecr_mode):
    first = ecr_mode.client(access_key_id="111111111111")
    second = ecr_mode.client(access_key_id="222222222222")

    first.put_registry_policy(policyText=json.dumps(REPLICATION_POLICY))

    assert first.get_registry_policy()["registryId"] == "111111111111"
    with pytest.raises(ClientError) as raised:
        second.get_registry_policy()
    assert error_of(raised)[0] == "RegistryPolicyNotFoundException"


def test_scope_v2_allows_all_actions(ecr):
    # given: V2, the default scope, allows every ECR action in a registry policy
    text = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImageTagMutability"],
            "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*",
        }
    )

    # when
    stored = ecr.put_registry_policy(policyText=text)["policyText"]

    # then
    assert json.loads(stored) == json.loads(text)


def test_scope_v1_rejects_other_actions(ecr):
    # given
    ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V1")
    text = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": ["ecr:BatchGetImage", "ecr:ReplicateImage"],
        }
    )

    # when
    with pytest.raises(ClientError) as raised:
        ecr.put_registry_policy(policyText=text)

    # then
    assert error_of(raised) == ("InvalidParameterException", INVALID_REGISTRY_POLICY)
    with pytest.raises(ClientError):
        ecr.get_registry_policy()


@pytest.mark.parametrize(
    "actions",
    [
        ["ecr:CreateRepository", "ecr:ReplicateImage"],
        ["ecr:BatchImportUpstreamImage"],
        "ecr:*",
    ],
)
def test_scope_v1_allows_its_actions(ecr, actions):
    ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V1")
    text = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, "Action": actions})

    stored = ecr.put_registry_policy(policyText=text)["policyText"]

    assert json.loads(stored) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        policy({"Effect": "Allow", "Action": "ecr:ReplicateImage"}),
        policy(allow("ecr:NotAnAction")),
    ],
    ids=["empty text", "empty object", "no principal", "unknown action"],
)
def test_invalid_registry_policy(ecr, text):
    with pytest.raises(ClientError) as raised:
        ecr.put_registry_policy(policyText=text)

    assert error_of(raised) == ("InvalidParameterException", INVALID_REGISTRY_POLICY)


def test_other_account_needs_repository_policy(ecr_mode):
    # given: a repository of account 123456789012 and a caller of account 111122223333
    owner = ecr_mode.client()
    owner.create_repository(repositoryName="shared/app")
    other = ecr_mode.client(access_key_id="111122223333")

    # when: the other account reads it before and after a policy allows it
    with pytest.raises(ClientError) as denied:
        other.describe_images(registryId="123456789012", repositoryName="shared/app")
    owner.set_repository_policy(
        repositoryName="shared/app",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AllowRead",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                        "Action": ["ecr:DescribeImages"],
                    }
                ],
            }
        ),
    )
    allowed = other.describe_images(registryId="123456789012", repositoryName="shared/app")

    # then
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "ecr:DescribeImages" in denied.value.response["Error"]["Message"]
    assert allowed["imageDetails"] == []
    with pytest.raises(ClientError) as still_denied:
        other.delete_repository(registryId="123456789012", repositoryName="shared/app")
    assert still_denied.value.response["Error"]["Code"] == "AccessDeniedException"


def _policy(effect: str, actions: list[str], resource: str | None = None) -> str:
    statement = {"Sid": f"{effect}Other", "Effect": effect, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": actions}
    if resource:
        statement["Resource"] = resource
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_registry_policy_applies_to_existing_repositories(ecr_mode):
    # given: a registry policy (scope V2) that allows another account to describe images
    owner = ecr_mode.client()
    owner.create_repository(repositoryName="shared/app")
    owner.put_registry_policy(policyText=_policy("Allow", ["ecr:DescribeImages"], "arn:aws:ecr:us-east-1:123456789012:repository/shared/*"))
    other = ecr_mode.client(access_key_id="111122223333")

    # then: it may, on a repository without a policy of its own, and nothing more
    assert other.describe_images(registryId="123456789012", repositoryName="shared/app")["imageDetails"] == []
    with pytest.raises(ClientError) as denied:
        other.list_images(registryId="123456789012", repositoryName="shared/app")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_explicit_deny_in_registry_policy_wins(ecr_mode):
    owner = ecr_mode.client()
    owner.create_repository(repositoryName="shared/app")
    owner.set_repository_policy(repositoryName="shared/app", policyText=_policy("Allow", ["ecr:ListImages"]))
    owner.put_registry_policy(policyText=_policy("Deny", ["ecr:ListImages"], "*"))
    other = ecr_mode.client(access_key_id="111122223333")

    with pytest.raises(ClientError) as denied:
        other.list_images(registryId="123456789012", repositoryName="shared/app")

    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denied.value.response["Error"]["Message"].endswith("with an explicit deny in a resource-based policy")


def test_named_repositories_checked_one_by_one(ecr_mode):
    owner = ecr_mode.client()
    owner.create_repository(repositoryName="shared/app")
    owner.create_repository(repositoryName="private/app")
    owner.set_repository_policy(repositoryName="shared/app", policyText=_policy("Allow", ["ecr:DescribeRepositories"]))
    other = ecr_mode.client(access_key_id="111122223333")

    allowed = other.describe_repositories(registryId="123456789012", repositoryNames=["shared/app"])
    with pytest.raises(ClientError) as denied:
        other.describe_repositories(registryId="123456789012", repositoryNames=["shared/app", "private/app"])

    assert [r["repositoryName"] for r in allowed["repositories"]] == ["shared/app"]
    assert "repository/private/app" in denied.value.response["Error"]["Message"]
