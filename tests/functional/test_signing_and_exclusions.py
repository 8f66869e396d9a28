"""Managed signing configuration, image signing status and pull-time update exclusions, in decorator and
server mode.

The emulator does not produce signatures, so a signing job that a push starts stays IN_PROGRESS, as
it is right after the push in AWS.
"""

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from tests.helpers import push_image

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
PROFILE = f"arn:aws:signer:us-east-1:{ACCOUNT}:/signing-profiles/release_signer"
OTHER_PROFILE = f"arn:aws:signer:us-east-1:{OTHER_ACCOUNT}:/signing-profiles/audit_signer"
THIRD_PROFILE = f"arn:aws:signer:us-east-1:{ACCOUNT}:/signing-profiles/nightly"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scanner"


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def unvalidated_client(ecr_mode):
    """A client that sends what botocore would reject itself, so the emulator's own checks are reached."""
    arguments = {"endpoint_url": ecr_mode.endpoint} if hasattr(ecr_mode, "endpoint") else {}
    return boto3.client(
        "ecr",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
        **arguments,
    )


def signing_rule(profile: str, *filters: str) -> dict:
    rule = {"signingProfileArn": profile}
    if filters:
        rule["repositoryFilters"] = [{"filter": item, "filterType": "WILDCARD_MATCH"} for item in filters]
    return rule


def signing_statuses(ecr, repository: str, tag: str) -> list[dict]:
    return ecr.describe_image_signing_status(repositoryName=repository, imageId={"imageTag": tag})["signingStatuses"]


# Signing configuration


def test_get_signing_configuration_missing(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.get_signing_configuration()

    code, message = error_of(raised)
    assert code == "SigningConfigurationNotFoundException"
    assert ACCOUNT in message


def test_delete_signing_configuration_missing(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.delete_signing_configuration()

    assert error_of(raised)[0] == "SigningConfigurationNotFoundException"


def test_put_signing_configuration(ecr):
    # given
    configuration = {"rules": [signing_rule(PROFILE, "myapp/*", "*prod*"), signing_rule(OTHER_PROFILE)]}

    # when
    answer = ecr.put_signing_configuration(signingConfiguration=configuration)

    # then
    assert answer["signingConfiguration"] == configuration
    stored = ecr.get_signing_configuration()
    assert stored["registryId"] == ACCOUNT
    assert stored["signingConfiguration"] == configuration


def test_put_signing_configuration_replaces(ecr):
    ecr.put_signing_configuration(signingConfiguration={"rules": [signing_rule(PROFILE)]})

    ecr.put_signing_configuration(signingConfiguration={"rules": [signing_rule(OTHER_PROFILE, "team/*")]})

    assert ecr.get_signing_configuration()["signingConfiguration"] == {"rules": [signing_rule(OTHER_PROFILE, "team/*")]}


def test_delete_signing_configuration(ecr):
    # given
    configuration = {"rules": [signing_rule(PROFILE)]}
    ecr.put_signing_configuration(signingConfiguration=configuration)

    # when
    deleted = ecr.delete_signing_configuration()

    # then: the deleted configuration is returned, and none remains
    assert deleted["registryId"] == ACCOUNT
    assert deleted["signingConfiguration"] == configuration
    with pytest.raises(ClientError) as raised:
        ecr.get_signing_configuration()
    assert error_of(raised)[0] == "SigningConfigurationNotFoundException"


@pytest.mark.parametrize(
    ("rule", "member"),
    [
        (signing_rule("arn:aws:signer:us-east-1:123:/signing-profiles/short_account"),
         "signingConfiguration.rules.1.member.signingProfileArn"),
        (signing_rule(f"arn:aws:kms:us-east-1:{ACCOUNT}:/signing-profiles/wrong_service"),
         "signingConfiguration.rules.1.member.signingProfileArn"),
        (signing_rule(f"arn:aws:signer:us-east-1:{ACCOUNT}:/signing-profiles/x"),
         "signingConfiguration.rules.1.member.signingProfileArn"),
        (signing_rule(PROFILE, "Prod"), "signingConfiguration.rules.1.member.repositoryFilters.1.member.filter"),
        (signing_rule(PROFILE, "prod-"), "signingConfiguration.rules.1.member.repositoryFilters.1.member.filter"),
        ({"signingProfileArn": PROFILE, "repositoryFilters": [{"filter": "prod", "filterType": "WILDCARD"}]},
         "signingConfiguration.rules.1.member.repositoryFilters.1.member.filterType"),
        ({"signingProfileArn": PROFILE, "repositoryFilters": []},
         "signingConfiguration.rules.1.member.repositoryFilters"),
    ],
)
def test_put_signing_invalid_rule(ecr_mode, rule, member):
    client = unvalidated_client(ecr_mode)

    with pytest.raises(ClientError) as raised:
        client.put_signing_configuration(signingConfiguration={"rules": [rule]})

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith(f"Invalid parameter at '{member}' failed to satisfy constraint: ")
    with pytest.raises(ClientError):
        client.get_signing_configuration()


def test_put_signing_too_many_rules(ecr):
    rules = [signing_rule(PROFILE, f"repo{index}") for index in range(11)]

    with pytest.raises(ClientError) as raised:
        ecr.put_signing_configuration(signingConfiguration={"rules": rules})

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'signingConfiguration.rules' failed to satisfy constraint: "
        "'Member must have length less than or equal to 10'",
    )


def test_signing_configuration_per_region(ecr, ecr_mode):
    ecr.put_signing_configuration(signingConfiguration={"rules": [signing_rule(PROFILE)]})

    with pytest.raises(ClientError) as raised:
        ecr_mode.client(region="us-west-2").get_signing_configuration()

    assert error_of(raised)[0] == "SigningConfigurationNotFoundException"


# DescribeImageSigningStatus


def test_signing_status_per_matching_profile(ecr):
    # given: two profiles whose rules match, one rule that does not, and a profile named twice
    ecr.put_signing_configuration(
        signingConfiguration={
            "rules": [
                signing_rule(PROFILE, "myapp/*"),
                signing_rule(OTHER_PROFILE),
                signing_rule(THIRD_PROFILE, "nightly/*"),
                signing_rule(PROFILE, "*api*"),
            ]
        }
    )
    ecr.create_repository(repositoryName="myapp/api")

    # when
    image = push_image(ecr, "myapp/api", tag="v1")
    answer = ecr.describe_image_signing_status(repositoryName="myapp/api", imageId={"imageTag": "v1"})

    # then: one status per signing profile, started when the image was pushed
    assert answer["registryId"] == ACCOUNT
    assert answer["repositoryName"] == "myapp/api"
    assert answer["imageId"] == {"imageDigest": image["imageId"]["imageDigest"], "imageTag": "v1"}
    assert sorted(status["signingProfileArn"] for status in answer["signingStatuses"]) == sorted([PROFILE, OTHER_PROFILE])
    assert {status["status"] for status in answer["signingStatuses"]} == {"IN_PROGRESS"}


@pytest.mark.parametrize(
    ("filter_value", "repository", "signed"),
    [
        ("myapp/*", "myapp/api", True),
        ("myapp/*", "other/myapp/api", False),
        ("*/production", "web/production", True),
        ("*/production", "web/production-eu", False),
        ("*prod*", "team/reproduce", True),
        ("prod", "prod", True),
        ("prod", "repo-prod", False),
    ],
)
def test_signing_filters_match_whole_name(ecr, filter_value, repository, signed):
    # given: a WILDCARD_MATCH filter, where * matches any sequence of characters
    ecr.put_signing_configuration(signingConfiguration={"rules": [signing_rule(PROFILE, filter_value)]})
    ecr.create_repository(repositoryName=repository)

    # when
    push_image(ecr, repository, tag="v1")

    # then
    expected = [{"signingProfileArn": PROFILE, "status": "IN_PROGRESS"}] if signed else []
    assert signing_statuses(ecr, repository, "v1") == expected


def test_signing_status_without_configuration(ecr):
    ecr.create_repository(repositoryName="app")
    digest = push_image(ecr, "app")["imageId"]["imageDigest"]

    answer = ecr.describe_image_signing_status(repositoryName="app", imageId={"imageDigest": digest})

    assert answer["imageId"] == {"imageDigest": digest}
    assert answer["signingStatuses"] == []


def test_signing_applies_to_later_pushes(ecr):
    # given: an image pushed before the signing configuration existed
    ecr.create_repository(repositoryName="app")
    push_image(ecr, "app", tag="before", seed="before")

    # when
    ecr.put_signing_configuration(signingConfiguration={"rules": [signing_rule(PROFILE)]})
    push_image(ecr, "app", tag="after", seed="after")

    # then: images are signed as they are pushed
    assert signing_statuses(ecr, "app", "before") == []
    assert signing_statuses(ecr, "app", "after") == [{"signingProfileArn": PROFILE, "status": "IN_PROGRESS"}]


def test_delete_signing_keeps_existing_statuses(ecr):
    # given
    ecr.create_repository(repositoryName="app")
    ecr.put_signing_configuration(signingConfiguration={"rules": [signing_rule(PROFILE)]})
    push_image(ecr, "app", tag="signed", seed="signed")

    # when
    ecr.delete_signing_configuration()
    push_image(ecr, "app", tag="unsigned", seed="unsigned")

    # then: images pushed after the deletion are not signed; earlier ones keep their status
    assert signing_statuses(ecr, "app", "signed") == [{"signingProfileArn": PROFILE, "status": "IN_PROGRESS"}]
    assert signing_statuses(ecr, "app", "unsigned") == []


def test_signing_status_missing_repository(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_image_signing_status(repositoryName="missing", imageId={"imageTag": "v1"})

    assert error_of(raised) == (
        "RepositoryNotFoundException",
        f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
    )


def test_signing_status_missing_image(ecr):
    ecr.create_repository(repositoryName="app")

    with pytest.raises(ClientError) as raised:
        ecr.describe_image_signing_status(repositoryName="app", imageId={"imageTag": "v1"})

    assert error_of(raised)[0] == "ImageNotFoundException"


def test_signing_status_gone_with_repository(ecr):
    # given: a signed image whose repository is deleted and created again
    ecr.put_signing_configuration(signingConfiguration={"rules": [signing_rule(PROFILE, "app")]})
    ecr.create_repository(repositoryName="app")
    manifest = push_image(ecr, "app", tag="v1")["imageManifest"]
    ecr.delete_repository(repositoryName="app", force=True)
    ecr.delete_signing_configuration()
    ecr.create_repository(repositoryName="app")

    # when: the same manifest is pushed again without a signing configuration
    push_image(ecr, "app", tag="v1")
    assert ecr.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])["images"][0]["imageManifest"] == manifest

    # then: the old repository's signing status is gone
    assert signing_statuses(ecr, "app", "v1") == []


# Pull-time update exclusions


def test_register_pull_time_update_exclusion(ecr):
    # when
    answer = ecr.register_pull_time_update_exclusion(principalArn=ROLE)

    # then
    assert answer["principalArn"] == ROLE
    assert answer["createdAt"] is not None
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [ROLE]


def test_register_user_with_path(ecr):
    user = f"arn:aws:iam::{ACCOUNT}:user/ci/builds/runner@example.com"

    ecr.register_pull_time_update_exclusion(principalArn=user)

    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [user]


def test_register_exclusion_twice(ecr):
    ecr.register_pull_time_update_exclusion(principalArn=ROLE)

    with pytest.raises(ClientError) as raised:
        ecr.register_pull_time_update_exclusion(principalArn=ROLE)

    code, message = error_of(raised)
    assert code == "ExclusionAlreadyExistsException"
    assert ROLE in message
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [ROLE]


def test_deregister_exclusion(ecr):
    # given
    ecr.register_pull_time_update_exclusion(principalArn=ROLE)

    # when
    answer = ecr.deregister_pull_time_update_exclusion(principalArn=ROLE)

    # then
    assert answer["principalArn"] == ROLE
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []


def test_deregister_unknown_exclusion(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.deregister_pull_time_update_exclusion(principalArn=ROLE)

    code, message = error_of(raised)
    assert code == "ExclusionNotFoundException"
    assert ROLE in message


@pytest.mark.parametrize(
    "principal_arn",
    [
        "arn:aws:iam::123:role/short-account",
        f"arn:aws:iam::{ACCOUNT}:group/developers",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/scanner/session",
        f"arn:aws:iam::{ACCOUNT}:role/",
        f"arn:aws:iam::{ACCOUNT}:role/" + "r" * 200,
    ],
)
def test_register_invalid_principal(ecr, principal_arn):
    with pytest.raises(ClientError) as raised:
        ecr.register_pull_time_update_exclusion(principalArn=principal_arn)

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'principalArn' failed to satisfy constraint: ")
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []


def test_exclusion_limit(ecr):
    # given: 100 exclusions, the most a registry may have
    for index in range(100):
        ecr.register_pull_time_update_exclusion(principalArn=f"arn:aws:iam::{ACCOUNT}:role/scanner-{index}")

    # when
    with pytest.raises(ClientError) as raised:
        ecr.register_pull_time_update_exclusion(principalArn=ROLE)

    # then
    assert error_of(raised)[0] == "LimitExceededException"
    first_page = ecr.list_pull_time_update_exclusions()
    assert len(first_page["pullTimeUpdateExclusions"]) == 100
    assert "nextToken" not in first_page


def test_list_exclusions_paginates(ecr):
    # given
    roles = [f"arn:aws:iam::{ACCOUNT}:role/scanner-{index}" for index in range(5)]
    for role in roles:
        ecr.register_pull_time_update_exclusion(principalArn=role)

    # when
    listed, token = [], None
    while True:
        arguments = {"maxResults": 2} if token is None else {"maxResults": 2, "nextToken": token}
        page = ecr.list_pull_time_update_exclusions(**arguments)
        assert len(page["pullTimeUpdateExclusions"]) <= 2
        listed.extend(page["pullTimeUpdateExclusions"])
        token = page.get("nextToken")
        if token is None:
            break

    # then
    assert listed == roles


@pytest.mark.parametrize(("max_results", "detail"), [
    (0, "Member must have value greater than or equal to 1"),
    (1001, "Member must have value less than or equal to 1000"),
])
def test_list_exclusions_max_results(ecr_mode, max_results, detail):
    client = unvalidated_client(ecr_mode)

    with pytest.raises(ClientError) as raised:
        client.list_pull_time_update_exclusions(maxResults=max_results)

    assert error_of(raised) == (
        "InvalidParameterException",
        f"Invalid parameter at 'maxResults' failed to satisfy constraint: '{detail}'",
    )


def test_list_exclusions_invalid_token(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.list_pull_time_update_exclusions(nextToken="not-a-token")

    assert error_of(raised)[0] == "InvalidParameterException"


def test_exclusions_per_account(ecr, ecr_mode):
    ecr.register_pull_time_update_exclusion(principalArn=ROLE)

    other = ecr_mode.client(access_key_id=OTHER_ACCOUNT).list_pull_time_update_exclusions()

    assert other["pullTimeUpdateExclusions"] == []
