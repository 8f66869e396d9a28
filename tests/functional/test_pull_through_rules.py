"""Pull through cache rules: create, describe, update, delete and validate, with their checks.

Rules whose upstream needs a Secrets Manager secret read it from moto's Secrets Manager in the
test's process. In server mode no secret can exist, because the server does not serve Secrets
Manager yet, so the cases that need one run in decorator mode only.
"""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ecr_emulator.backend import pull_through
from ecr_emulator.backend.registry import registry_for
from tests.conftest import advance_clock

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "us-east-1"

DOCKER_HUB = "registry-1.docker.io"
ECR_UPSTREAM_SAME_ACCOUNT = f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com"
ECR_UPSTREAM_OTHER_ACCOUNT = f"{OTHER_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ptc-role"
MISSING_SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/missing-AbCdEf"
DOCKER_HUB_CREDENTIALS = json.dumps({"username": "user", "accessToken": "dckr_pat_example"})


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def prefixes_of(ecr) -> list[str]:
    return [rule["ecrRepositoryPrefix"] for rule in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]]


@pytest.fixture
def secrets(ecr_mode):
    """A Secrets Manager client: on the server's own port, or on moto's mock_aws in decorator mode."""
    if hasattr(ecr_mode, "endpoint"):
        yield boto3.client(
            "secretsmanager",
            region_name=REGION,
            endpoint_url=ecr_mode.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        return
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def create_secret(secrets, name: str = "docker-hub", value: str = DOCKER_HUB_CREDENTIALS, **options) -> str:
    return secrets.create_secret(Name=f"ecr-pullthroughcache/{name}", SecretString=value, **options)["ARN"]


# CreatePullThroughCacheRule


def test_create_rule_ecr_public(ecr):
    # when: the user guide's first example
    rule = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")

    # then: the upstream registry follows from the URL and the upstream prefix defaults to ROOT
    assert rule["ecrRepositoryPrefix"] == "ecr-public"
    assert rule["upstreamRegistryUrl"] == "public.ecr.aws"
    assert rule["upstreamRegistry"] == "ecr-public"
    assert rule["upstreamRepositoryPrefix"] == "ROOT"
    assert rule["registryId"] == ACCOUNT
    assert rule["createdAt"] is not None
    for absent in ("credentialArn", "customRoleArn"):
        assert absent not in rule


@pytest.mark.parametrize(
    ("url", "upstream_registry"),
    [("public.ecr.aws", "ecr-public"), ("registry.k8s.io", "k8s"), ("quay.io", "quay")],
)
def test_create_rule_public_upstreams(ecr, url, upstream_registry):
    derived = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="derived", upstreamRegistryUrl=url)
    named = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="named", upstreamRegistryUrl=url, upstreamRegistry=upstream_registry
    )

    assert derived["upstreamRegistry"] == upstream_registry
    assert named["upstreamRegistry"] == upstream_registry


@pytest.mark.parametrize("url", ["harbor.example.com", "https://public.ecr.aws", "docker.io", "public.ecr.aws/v2"])
def test_create_rule_unsupported_url(ecr, url):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="cache", upstreamRegistryUrl=url)

    assert error_of(raised) == (
        "UnsupportedUpstreamRegistryException",
        f"The upstream registry URL {url} is invalid. Specify a valid upstream registry URL and try again",
    )
    assert prefixes_of(ecr) == []


def test_create_rule_url_of_another_upstream(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="quay", upstreamRegistryUrl="ghcr.io", upstreamRegistry="quay"
        )

    assert error_of(raised)[0] == "UnsupportedUpstreamRegistryException"


def test_create_rule_unknown_upstream_registry(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="cache", upstreamRegistryUrl="quay.io", upstreamRegistry="gcr"
        )

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith(
        "Invalid parameter at 'upstreamRegistry' failed to satisfy constraint: 'Member must satisfy enum"
    )


@pytest.mark.parametrize("url", [DOCKER_HUB, "ghcr.io", "registry.gitlab.com", "myregistry.azurecr.io", "cgr.dev"])
def test_create_rule_requires_secret(ecr, url):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="cache", upstreamRegistryUrl=url)

    assert error_of(raised) == (
        "UnsupportedUpstreamRegistryException",
        "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN and try again",
    )
    assert prefixes_of(ecr) == []


def test_create_rule_secret_not_found(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=MISSING_SECRET_ARN
        )

    code, message = error_of(raised)
    assert code == "SecretNotFoundException"
    assert MISSING_SECRET_ARN in message
    assert prefixes_of(ecr) == []


@pytest.mark.parametrize(
    "credential_arn",
    [
        f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub",
        f"arn:aws:secretsmanager:{REGION}:{OTHER_ACCOUNT}:secret:ecr-pullthroughcache/docker-hub",
    ],
)
def test_create_rule_secret_elsewhere(ecr, credential_arn):
    # given: the secret must be in the rule's own account and Region
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
        )

    assert error_of(raised)[0] == "UnableToAccessSecretException"
    assert prefixes_of(ecr) == []


def test_create_rule_secret_name_without_prefix(ecr):
    # given: a secret whose name lacks the required `ecr-pullthroughcache/` prefix
    credential_arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:dockerhub-credentials-AbCdEf"

    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
        )

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith(
        "Invalid parameter at 'credentialArn' failed to satisfy constraint: 'must satisfy regular expression"
    )


@pytest.mark.parametrize("url", ["public.ecr.aws", "quay.io", ECR_UPSTREAM_SAME_ACCOUNT])
def test_create_rule_secret_refused(ecr, url):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="cache", upstreamRegistryUrl=url, credentialArn=MISSING_SECRET_ARN
        )

    assert error_of(raised)[0] == "UnsupportedUpstreamRegistryException"
    assert prefixes_of(ecr) == []


def test_create_rule_with_secret(ecr, secrets):
    credential_arn = create_secret(secrets)

    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
    )

    assert rule["credentialArn"] == credential_arn
    assert rule["upstreamRegistry"] == "docker-hub"
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]["credentialArn"] == credential_arn


@pytest.mark.parametrize(
    ("url", "upstream_registry"),
    [
        ("ghcr.io", "github-container-registry"),
        ("registry.gitlab.com", "gitlab-container-registry"),
        ("myregistry.azurecr.io", "azure-container-registry"),
        ("cgr.dev", "chainguard"),
    ],
)
def test_create_rule_secret_upstreams(ecr, secrets, url, upstream_registry):
    credential_arn = create_secret(secrets, name=upstream_registry)

    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="cache", upstreamRegistryUrl=url, credentialArn=credential_arn
    )

    assert rule["upstreamRegistry"] == upstream_registry


def test_create_rule_secret_by_partial_arn(ecr, secrets):
    # given: the ARN without the six characters Secrets Manager appends
    full_arn = create_secret(secrets)
    partial_arn = full_arn.rsplit("-", 1)[0]

    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=partial_arn
    )

    assert rule["credentialArn"] == partial_arn


def test_create_rule_secret_content_unchecked(ecr, secrets):
    # given: creation only needs a readable secret, and ValidatePullThroughCacheRule checks its content
    credential_arn = create_secret(secrets, value="test")

    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
    )

    assert rule["credentialArn"] == credential_arn


def test_create_rule_secret_customer_managed_key(ecr, secrets):
    # given: ECR decrypts only secrets encrypted with the aws/secretsmanager key
    credential_arn = create_secret(
        secrets, KmsKeyId=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/a1b2c3d4-5678-90ab-cdef-example11111"
    )

    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
        )

    assert error_of(raised)[0] == "UnableToDecryptSecretValueException"
    assert prefixes_of(ecr) == []


def test_create_rule_secret_default_key_named(ecr, secrets):
    credential_arn = create_secret(secrets, KmsKeyId="alias/aws/secretsmanager")

    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
    )

    assert rule["credentialArn"] == credential_arn


def test_create_rule_secret_scheduled_for_deletion(ecr, secrets):
    credential_arn = create_secret(secrets)
    secrets.delete_secret(SecretId=credential_arn)

    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
        )

    assert error_of(raised)[0] == "UnableToAccessSecretException"


def test_create_rule_twice(ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")

    for prefix in ("ecr-public", "ecr-public/"):
        with pytest.raises(ClientError) as raised:
            ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl="quay.io")
        assert error_of(raised)[0] == "PullThroughCacheRuleAlreadyExistsException"

    assert (
        ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]["upstreamRegistryUrl"] == "public.ecr.aws"
    )


def test_create_rule_limit(ecr):
    # given: the quota of 50 rules per registry
    for index in range(pull_through.MAX_RULES):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=f"cache-{index:02d}", upstreamRegistryUrl="quay.io")

    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="one-more", upstreamRegistryUrl="quay.io")

    assert error_of(raised)[0] == "LimitExceededException"
    assert len(prefixes_of(ecr)) == 50


@pytest.mark.parametrize("prefix", ["Docker", "hub//images", "-hub", "hub/", "a" * 31])
def test_create_rule_prefix_pattern(ecr, prefix):
    request = {"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": "quay.io"}
    if prefix == "hub/":
        # then: a trailing `/` is allowed and names the same namespace as `hub`
        assert ecr.create_pull_through_cache_rule(**request)["ecrRepositoryPrefix"] == "hub/"
        return

    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(**request)

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint:")


def test_create_rule_root_prefix(ecr):
    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ROOT", upstreamRegistryUrl=ECR_UPSTREAM_SAME_ACCOUNT, upstreamRepositoryPrefix="ROOT"
    )

    assert rule["ecrRepositoryPrefix"] == "ROOT"
    assert rule["upstreamRegistry"] == "ecr"


def test_create_rule_root_with_upstream_prefix(ecr):
    # given: the upstream prefix can only be set when the ECR prefix is not ROOT
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="ROOT", upstreamRegistryUrl=ECR_UPSTREAM_SAME_ACCOUNT, upstreamRepositoryPrefix="team-a"
        )

    assert error_of(raised)[0] == "ValidationException"
    assert prefixes_of(ecr) == []


def test_create_rule_upstream_prefix(ecr):
    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="my-app",
        upstreamRegistryUrl=ECR_UPSTREAM_SAME_ACCOUNT,
        upstreamRepositoryPrefix="upstream-app",
    )

    assert rule["upstreamRepositoryPrefix"] == "upstream-app"


def test_create_rule_ecr_same_account_needs_no_role(ecr):
    rule = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_SAME_ACCOUNT)

    assert rule["upstreamRegistryUrl"] == ECR_UPSTREAM_SAME_ACCOUNT
    assert "customRoleArn" not in rule


def test_create_rule_ecr_other_account_needs_role(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_OTHER_ACCOUNT)

    assert error_of(raised)[0] == "ValidationException"
    assert prefixes_of(ecr) == []


def test_create_rule_ecr_other_account_with_role(ecr):
    rule = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_OTHER_ACCOUNT, customRoleArn=ROLE_ARN
    )

    assert rule["customRoleArn"] == ROLE_ARN
    assert rule["upstreamRegistry"] == "ecr"


@pytest.mark.parametrize(
    "role_arn", ["example-role", f"arn:aws:iam::{OTHER_ACCOUNT}:role/ptc-role", f"arn:aws:iam::{ACCOUNT}:user/me"]
)
def test_create_rule_invalid_role(ecr, role_arn):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_OTHER_ACCOUNT, customRoleArn=role_arn
        )

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'customRoleArn' failed to satisfy constraint:")


def test_create_rule_role_for_public_upstream(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io", customRoleArn=ROLE_ARN
        )

    assert error_of(raised)[0] == "ValidationException"
    assert prefixes_of(ecr) == []


def test_rules_belong_to_account_and_region(ecr, ecr_mode):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")

    other_account = ecr_mode.client(access_key_id=OTHER_ACCOUNT)
    other_region = ecr_mode.client(region="eu-west-1")

    assert other_account.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
    assert other_region.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


def test_create_rule_in_named_registry(ecr, ecr_mode):
    other = ecr_mode.client(access_key_id=OTHER_ACCOUNT)

    rule = other.create_pull_through_cache_rule(
        ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io", registryId=OTHER_ACCOUNT
    )

    assert rule["registryId"] == OTHER_ACCOUNT
    assert prefixes_of(other) == ["quay"]
    assert prefixes_of(ecr) == []


def test_create_rule_in_other_account_denied(ecr):
    # No registry policy of the other account allows this caller.
    with pytest.raises(ClientError) as raised:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io", registryId=OTHER_ACCOUNT
        )

    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


# DescribePullThroughCacheRules


def test_describe_rules_empty(ecr):
    response = ecr.describe_pull_through_cache_rules()

    assert response["pullThroughCacheRules"] == []
    assert "nextToken" not in response


def test_describe_rules_fields(ecr):
    created = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")

    rule = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]

    assert rule == {
        "ecrRepositoryPrefix": "quay",
        "upstreamRegistryUrl": "quay.io",
        "createdAt": created["createdAt"],
        "registryId": ACCOUNT,
        "upstreamRepositoryPrefix": "ROOT",
        "upstreamRegistry": "quay",
        "updatedAt": created["createdAt"],
    }


def test_describe_rules_by_prefix(ecr):
    for prefix, url in (("quay", "quay.io"), ("k8s", "registry.k8s.io"), ("ecr-public", "public.ecr.aws")):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url)

    found = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["quay", "ecr-public/"])[
        "pullThroughCacheRules"
    ]

    assert [rule["ecrRepositoryPrefix"] for rule in found] == ["ecr-public", "quay"]


def test_describe_rules_missing_prefix(ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")

    with pytest.raises(ClientError) as raised:
        ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["quay", "missing"])

    code, message = error_of(raised)
    assert code == "PullThroughCacheRuleNotFoundException"
    assert "'missing'" in message


def test_describe_rules_pages(ecr):
    names = [f"cache-{index}" for index in range(5)]
    for name in names:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=name, upstreamRegistryUrl="quay.io")

    first = ecr.describe_pull_through_cache_rules(maxResults=2)
    second = ecr.describe_pull_through_cache_rules(maxResults=2, nextToken=first["nextToken"])
    third = ecr.describe_pull_through_cache_rules(maxResults=2, nextToken=second["nextToken"])

    pages = [first, second, third]
    assert [len(page["pullThroughCacheRules"]) for page in pages] == [2, 2, 1]
    assert "nextToken" not in third
    assert [rule["ecrRepositoryPrefix"] for page in pages for rule in page["pullThroughCacheRules"]] == names


def test_describe_rules_paginator(ecr):
    for index in range(5):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=f"cache-{index}", upstreamRegistryUrl="quay.io")

    pages = list(ecr.get_paginator("describe_pull_through_cache_rules").paginate(PaginationConfig={"PageSize": 2}))

    assert sum(len(page["pullThroughCacheRules"]) for page in pages) == 5


def test_describe_rules_max_results_too_small(ecr_mode):
    unchecked = ecr_mode.client(parameter_validation=False)

    with pytest.raises(ClientError) as raised:
        unchecked.describe_pull_through_cache_rules(maxResults=0)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value greater than or equal to 1'",
    )


# UpdatePullThroughCacheRule


def test_update_rule_role(ecr, ecr_mode):
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_OTHER_ACCOUNT, customRoleArn=ROLE_ARN
    )
    advance_clock(ecr_mode, 60)
    new_role = f"arn:aws:iam::{ACCOUNT}:role/ptc-role-updated"

    updated = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="ecr", customRoleArn=new_role)

    assert updated["ecrRepositoryPrefix"] == "ecr"
    assert updated["registryId"] == ACCOUNT
    assert updated["customRoleArn"] == new_role
    assert updated["upstreamRepositoryPrefix"] == "ROOT"
    described = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert described["customRoleArn"] == new_role
    assert described["updatedAt"] == updated["updatedAt"]
    assert (described["updatedAt"] - described["createdAt"]).total_seconds() >= 60


def test_update_rule_secret(ecr, secrets):
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=create_secret(secrets)
    )
    new_secret = create_secret(secrets, name="docker-hub-rotated")

    updated = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub", credentialArn=new_secret)

    assert updated["credentialArn"] == new_secret
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]["credentialArn"] == new_secret


def test_update_rule_missing_secret(ecr, secrets):
    old_secret = create_secret(secrets)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=old_secret
    )

    with pytest.raises(ClientError) as raised:
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub", credentialArn=MISSING_SECRET_ARN)

    assert error_of(raised)[0] == "SecretNotFoundException"
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]["credentialArn"] == old_secret


def test_update_missing_rule(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="ecr", customRoleArn=ROLE_ARN)

    assert error_of(raised)[0] == "PullThroughCacheRuleNotFoundException"


def test_update_rule_without_changes(ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_SAME_ACCOUNT)

    with pytest.raises(ClientError) as raised:
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="ecr")

    assert error_of(raised)[0] == "ValidationException"


def test_update_public_rule_secret(ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")

    with pytest.raises(ClientError) as raised:
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="quay", credentialArn=MISSING_SECRET_ARN)

    assert error_of(raised)[0] == "UnsupportedUpstreamRegistryException"
    assert "credentialArn" not in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]


def test_update_public_rule_role(ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")

    with pytest.raises(ClientError) as raised:
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="quay", customRoleArn=ROLE_ARN)

    assert error_of(raised)[0] == "ValidationException"
    assert "customRoleArn" not in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]


# DeletePullThroughCacheRule


def test_delete_rule(ecr):
    created = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_OTHER_ACCOUNT, customRoleArn=ROLE_ARN
    )

    deleted = ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="ecr")

    for member in (
        "ecrRepositoryPrefix",
        "upstreamRegistryUrl",
        "createdAt",
        "registryId",
        "customRoleArn",
        "upstreamRepositoryPrefix",
    ):
        assert deleted[member] == created[member], member
    assert prefixes_of(ecr) == []


def test_delete_rule_twice(ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")
    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="quay/")

    with pytest.raises(ClientError) as raised:
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="quay")

    assert error_of(raised)[0] == "PullThroughCacheRuleNotFoundException"


def test_delete_rule_frees_quota(ecr):
    for index in range(pull_through.MAX_RULES):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=f"cache-{index:02d}", upstreamRegistryUrl="quay.io")

    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="cache-00")

    assert ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="one-more", upstreamRegistryUrl="quay.io")


# ValidatePullThroughCacheRule


def test_validate_missing_rule(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")

    assert error_of(raised)[0] == "PullThroughCacheRuleNotFoundException"


def test_validate_rule_without_secret(ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")

    result = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public")

    assert result["isValid"] is True
    assert "failure" not in result
    assert result["ecrRepositoryPrefix"] == "ecr-public"
    assert result["registryId"] == ACCOUNT
    assert result["upstreamRegistryUrl"] == "public.ecr.aws"
    assert result["upstreamRepositoryPrefix"] == "ROOT"


def test_validate_rule_with_role(ecr):
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr", upstreamRegistryUrl=ECR_UPSTREAM_OTHER_ACCOUNT, customRoleArn=ROLE_ARN
    )

    result = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="ecr")

    assert result["isValid"] is True
    assert result["customRoleArn"] == ROLE_ARN


def test_validate_rule_good_secret(ecr, secrets):
    credential_arn = create_secret(secrets)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
    )

    result = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")

    assert result["isValid"] is True
    assert result["credentialArn"] == credential_arn
    assert "failure" not in result


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("test", "is not a JSON object"),
        ('["user", "token"]', "is not a JSON object"),
        (json.dumps({"username": "user"}), "has no accessToken"),
        (json.dumps({"accessToken": "token"}), "has no username"),
        (json.dumps({"username": "", "accessToken": 5}), "has no username and no accessToken"),
    ],
)
def test_validate_rule_bad_secret_content(ecr, secrets, value, reason):
    credential_arn = create_secret(secrets, value=value)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
    )

    result = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")

    assert result["isValid"] is False
    assert reason in result["failure"]


def test_validate_rule_secret_gone(ecr, secrets):
    # given: the secret is deleted for good after the rule was created
    credential_arn = create_secret(secrets)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
    )
    secrets.delete_secret(SecretId=credential_arn, ForceDeleteWithoutRecovery=True)

    result = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")

    assert result["isValid"] is False
    assert "was not found" in result["failure"]


def test_validate_rule_secret_scheduled_for_deletion(ecr, secrets):
    credential_arn = create_secret(secrets)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl=DOCKER_HUB, credentialArn=credential_arn
    )
    secrets.delete_secret(SecretId=credential_arn)

    result = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")

    assert result["isValid"] is False
    assert "scheduled for deletion" in result["failure"]


# The rule that a cache repository name falls under


# The backend functions of these tests run in the test's process, which only decorator mode shares.
DECORATOR_ONLY = pytest.mark.parametrize("ecr_mode", ["decorator"], indirect=True)


def in_process_registry(ecr_mode):
    assert not hasattr(ecr_mode, "endpoint"), "mark the test @DECORATOR_ONLY: a server's state is in its own process"
    return registry_for(ACCOUNT, REGION)


@DECORATOR_ONLY
@pytest.mark.parametrize(
    ("ecr_prefix", "upstream_prefix", "repository_name", "upstream_name"),
    [
        # the mapping table of the user guide's "Customizing repository prefixes" page
        ("ecr-public", "ROOT", "ecr-public/my-app/image1", "my-app/image1"),
        ("ROOT", "ROOT", "my-app/image1", "my-app/image1"),
        ("team-a", "team-a", "team-a/myapp/image1", "team-a/myapp/image1"),
        ("my-app", "upstream-app", "my-app/image1", "upstream-app/image1"),
    ],
)
def test_upstream_repository_name(ecr, ecr_mode, ecr_prefix, upstream_prefix, repository_name, upstream_name):
    registry = in_process_registry(ecr_mode)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix=ecr_prefix,
        upstreamRegistryUrl=ECR_UPSTREAM_SAME_ACCOUNT,
        upstreamRepositoryPrefix=upstream_prefix,
    )

    rule = pull_through.rule_for_repository(registry, repository_name)

    assert rule.ecr_repository_prefix == ecr_prefix
    assert pull_through.upstream_repository_name(rule, repository_name) == upstream_name


@DECORATOR_ONLY
def test_rule_for_repository_longest_prefix(ecr, ecr_mode):
    registry = in_process_registry(ecr_mode)
    for prefix in ("ROOT", "team", "team/a"):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=ECR_UPSTREAM_SAME_ACCOUNT)

    assert pull_through.rule_for_repository(registry, "team/a/app").ecr_repository_prefix == "team/a"
    assert pull_through.rule_for_repository(registry, "team/ab/app").ecr_repository_prefix == "team"
    assert pull_through.rule_for_repository(registry, "teams/app").ecr_repository_prefix == "ROOT"
    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="ROOT")
    assert pull_through.rule_for_repository(registry, "teams/app") is None
