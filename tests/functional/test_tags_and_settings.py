"""Resource tags, image tag mutability, scan on push and encryption of repositories, in both modes.

Expected values come from the ECR API reference (CreateRepository, TagResource, UntagResource,
ListTagsForResource, PutImageTagMutability, PutImageScanningConfiguration, EncryptionConfiguration),
the user guide pages on tagging, tag mutability and encryption at rest, and the AWS CLI examples.
"""

import re

import pytest
from botocore.exceptions import ClientError

from tests.helpers import push_image

ACCOUNT = "123456789012"
REGION = "us-east-1"
ARN_PREFIX = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/"

KEY_ID = "b8d9ae76-080c-4043-9237-c815bfc21dfc"
KEY_ARN = re.compile(rf"^arn:aws:kms:{REGION}:{ACCOUNT}:key/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$")

TAG_LENGTH_MESSAGE = (
    "Tag keys can have a maximum character length of 128 characters, and tag values can have a "
    "maximum length of 256 characters."
)
TOO_MANY_TAGS_MESSAGE = (
    "The list of tags on the repository is over the limit. The maximum number of tags that can be "
    "applied to a repository is 50."
)
INVALID_ARN = "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def tags_of(ecr, name: str) -> list[dict]:
    return ecr.list_tags_for_resource(resourceArn=ARN_PREFIX + name)["tags"]


def numbered_tags(count: int, prefix: str = "key") -> list[dict]:
    return [{"Key": f"{prefix}-{index}", "Value": str(index)} for index in range(count)]


def assert_no_repositories(ecr) -> None:
    assert ecr.describe_repositories()["repositories"] == []


# --- resource tags ---


def test_create_with_tags_lists_them(ecr):
    # when
    arn = ecr.create_repository(repositoryName="hello-world", tags=[{"Key": "Stage", "Value": "Integ"}])["repository"][
        "repositoryArn"
    ]

    # then: the output of the AWS CLI example for list-tags-for-resource
    assert ecr.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "Stage", "Value": "Integ"}]


def test_repository_without_tags(ecr):
    ecr.create_repository(repositoryName="app")

    assert tags_of(ecr, "app") == []


def test_tag_resource_adds_and_overwrites(ecr):
    # given
    ecr.create_repository(repositoryName="app", tags=[{"Key": "team", "Value": "a"}, {"Key": "stage", "Value": "dev"}])

    # when: one key exists already and one is new
    ecr.tag_resource(resourceArn=ARN_PREFIX + "app", tags=[{"Key": "stage", "Value": "prod"}, {"Key": "owner", "Value": "me"}])

    # then: the new value overwrites the old, and the key not named is unchanged
    assert sorted((tag["Key"], tag["Value"]) for tag in tags_of(ecr, "app")) == [
        ("owner", "me"),
        ("stage", "prod"),
        ("team", "a"),
    ]


def test_empty_tag_value_allowed(ecr):
    ecr.create_repository(repositoryName="app")

    ecr.tag_resource(resourceArn=ARN_PREFIX + "app", tags=[{"Key": "empty", "Value": ""}])

    assert tags_of(ecr, "app") == [{"Key": "empty", "Value": ""}]


def test_untag_resource(ecr):
    # given
    ecr.create_repository(repositoryName="app", tags=[{"Key": "team", "Value": "a"}, {"Key": "stage", "Value": "dev"}])

    # when: one key exists and one does not
    ecr.untag_resource(resourceArn=ARN_PREFIX + "app", tagKeys=["stage", "absent"])

    # then
    assert tags_of(ecr, "app") == [{"Key": "team", "Value": "a"}]


def test_tag_limits_at_bounds(ecr):
    tags = [{"Key": "k" * 128, "Value": "v" * 256}, *numbered_tags(49)]

    ecr.create_repository(repositoryName="app", tags=tags)

    assert len(tags_of(ecr, "app")) == 50


def test_create_with_too_many_tags(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="app", tags=numbered_tags(51))

    assert error_of(raised) == ("TooManyTagsException", TOO_MANY_TAGS_MESSAGE)
    assert_no_repositories(ecr)


def test_tag_resource_past_limit(ecr):
    # given: a repository with 50 tags
    ecr.create_repository(repositoryName="app", tags=numbered_tags(50))

    # when
    with pytest.raises(ClientError) as raised:
        ecr.tag_resource(resourceArn=ARN_PREFIX + "app", tags=[{"Key": "one-more", "Value": "x"}])

    # then
    assert error_of(raised) == ("TooManyTagsException", TOO_MANY_TAGS_MESSAGE)
    assert len(tags_of(ecr, "app")) == 50


def test_tag_resource_overwrite_at_limit(ecr):
    ecr.create_repository(repositoryName="app", tags=numbered_tags(50))

    ecr.tag_resource(resourceArn=ARN_PREFIX + "app", tags=[{"Key": "key-0", "Value": "new"}])

    assert {"Key": "key-0", "Value": "new"} in tags_of(ecr, "app")
    assert len(tags_of(ecr, "app")) == 50


BAD_TAGS = {
    "key too long": {"Key": "k" * 129, "Value": "v"},
    "value too long": {"Key": "k", "Value": "v" * 257},
    "empty key": {"Key": "", "Value": "v"},
}


@pytest.mark.parametrize("tag", BAD_TAGS.values(), ids=BAD_TAGS.keys())
def test_create_with_bad_tag(ecr, tag):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="app", tags=[tag])

    assert error_of(raised) == ("InvalidTagParameterException", TAG_LENGTH_MESSAGE)
    assert_no_repositories(ecr)


@pytest.mark.parametrize("tag", BAD_TAGS.values(), ids=BAD_TAGS.keys())
def test_tag_resource_bad_tag(ecr, tag):
    ecr.create_repository(repositoryName="app", tags=[{"Key": "team", "Value": "a"}])

    with pytest.raises(ClientError) as raised:
        ecr.tag_resource(resourceArn=ARN_PREFIX + "app", tags=[{"Key": "good", "Value": "v"}, tag])

    assert error_of(raised) == ("InvalidTagParameterException", TAG_LENGTH_MESSAGE)
    assert tags_of(ecr, "app") == [{"Key": "team", "Value": "a"}]


@pytest.mark.parametrize("key", ["aws:created-by", "AWS:team", "Aws:x"])
def test_reserved_tag_prefix(ecr, key):
    # given
    ecr.create_repository(repositoryName="app")

    # when / then: create, tag and untag all refuse a key in the reserved aws: space
    with pytest.raises(ClientError) as created:
        ecr.create_repository(repositoryName="other", tags=[{"Key": key, "Value": "v"}])
    with pytest.raises(ClientError) as tagged:
        ecr.tag_resource(resourceArn=ARN_PREFIX + "app", tags=[{"Key": key, "Value": "v"}])
    with pytest.raises(ClientError) as untagged:
        ecr.untag_resource(resourceArn=ARN_PREFIX + "app", tagKeys=[key])

    assert error_of(created)[0] == "InvalidTagParameterException"
    assert error_of(tagged)[0] == "InvalidTagParameterException"
    assert error_of(untagged)[0] == "InvalidTagParameterException"
    assert [repository["repositoryName"] for repository in ecr.describe_repositories()["repositories"]] == ["app"]


BAD_ARNS = {
    "not an arn": "app",
    "other service": "arn:aws:s3:::app",
    "not a repository": f"arn:aws:ecr:{REGION}:{ACCOUNT}:app",
    "other region": f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app",
    "other account": "arn:aws:ecr:us-east-1:111122223333:repository/app",
    "other partition": f"arn:aws-cn:ecr:{REGION}:{ACCOUNT}:repository/app",
    "bad repository name": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/App",
}


@pytest.mark.parametrize("arn", BAD_ARNS.values(), ids=BAD_ARNS.keys())
def test_invalid_resource_arn(ecr, arn):
    ecr.create_repository(repositoryName="app")

    calls = {
        "list": lambda: ecr.list_tags_for_resource(resourceArn=arn),
        "tag": lambda: ecr.tag_resource(resourceArn=arn, tags=[{"Key": "k", "Value": "v"}]),
        "untag": lambda: ecr.untag_resource(resourceArn=arn, tagKeys=["k"]),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("InvalidParameterException", INVALID_ARN), name


def test_tags_of_missing_repository(ecr):
    arn = ARN_PREFIX + "missing"
    calls = [
        lambda: ecr.list_tags_for_resource(resourceArn=arn),
        lambda: ecr.tag_resource(resourceArn=arn, tags=[{"Key": "k", "Value": "v"}]),
        lambda: ecr.untag_resource(resourceArn=arn, tagKeys=["k"]),
    ]

    for call in calls:
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == (
            "RepositoryNotFoundException",
            f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
        )


def test_tags_go_with_repository(ecr):
    ecr.create_repository(repositoryName="app", tags=[{"Key": "team", "Value": "a"}])
    ecr.delete_repository(repositoryName="app")

    ecr.create_repository(repositoryName="app")

    assert tags_of(ecr, "app") == []


def test_tags_in_other_region(ecr_mode):
    west = ecr_mode.client(region="eu-west-1")
    arn = west.create_repository(repositoryName="team/app", tags=[{"Key": "team", "Value": "a"}])["repository"]["repositoryArn"]

    assert west.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "team", "Value": "a"}]


# --- image tag mutability ---


def test_put_image_tag_mutability(ecr):
    # given
    ecr.create_repository(repositoryName="hello-world")

    # when
    response = ecr.put_image_tag_mutability(repositoryName="hello-world", imageTagMutability="IMMUTABLE")

    # then: the output of the AWS CLI example, and the setting holds for pushes
    assert response["registryId"] == ACCOUNT
    assert response["repositoryName"] == "hello-world"
    assert response["imageTagMutability"] == "IMMUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in response
    assert ecr.describe_repositories()["repositories"][0]["imageTagMutability"] == "IMMUTABLE"


def test_immutable_tag_cannot_move(ecr):
    ecr.create_repository(repositoryName="app")
    push_image(ecr, "app", tag="v1", seed="a")
    ecr.put_image_tag_mutability(repositoryName="app", imageTagMutability="IMMUTABLE")

    with pytest.raises(ClientError) as raised:
        push_image(ecr, "app", tag="v1", seed="b")

    assert error_of(raised)[0] == "ImageTagAlreadyExistsException"


def test_mutability_with_exclusion(ecr):
    # given
    ecr.create_repository(repositoryName="app")
    filters = [{"filterType": "WILDCARD", "filter": "latest"}]

    # when
    response = ecr.put_image_tag_mutability(
        repositoryName="app", imageTagMutability="IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters=filters
    )

    # then: matching tags stay mutable and the others are immutable
    assert response["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert response["imageTagMutabilityExclusionFilters"] == filters
    assert ecr.describe_repositories()["repositories"][0]["imageTagMutabilityExclusionFilters"] == filters
    push_image(ecr, "app", tag="latest", seed="a")
    push_image(ecr, "app", tag="latest", seed="b")
    push_image(ecr, "app", tag="v1", seed="c")
    with pytest.raises(ClientError) as raised:
        push_image(ecr, "app", tag="v1", seed="d")
    assert error_of(raised)[0] == "ImageTagAlreadyExistsException"


def test_mutability_back_to_mutable_drops_filters(ecr):
    filters = [{"filterType": "WILDCARD", "filter": "release-*"}]
    ecr.create_repository(
        repositoryName="app", imageTagMutability="MUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters=filters
    )

    response = ecr.put_image_tag_mutability(repositoryName="app", imageTagMutability="MUTABLE")

    assert "imageTagMutabilityExclusionFilters" not in response
    described = ecr.describe_repositories()["repositories"][0]
    assert described["imageTagMutability"] == "MUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in described


@pytest.mark.parametrize("mutability", ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"])
def test_exclusion_mode_needs_filters(ecr, mutability):
    # given
    ecr.create_repository(repositoryName="app")
    expected = (
        "InvalidParameterException",
        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
        f"'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as {mutability}'",
    )

    # when / then: on PutImageTagMutability and on CreateRepository
    with pytest.raises(ClientError) as put:
        ecr.put_image_tag_mutability(repositoryName="app", imageTagMutability=mutability)
    with pytest.raises(ClientError) as created:
        ecr.create_repository(repositoryName="other", imageTagMutability=mutability)

    assert error_of(put) == expected
    assert error_of(created) == expected
    repositories = ecr.describe_repositories()["repositories"]
    assert [(repository["repositoryName"], repository["imageTagMutability"]) for repository in repositories] == [("app", "MUTABLE")]


@pytest.mark.parametrize("mutability", ["MUTABLE", "IMMUTABLE"])
def test_filters_need_exclusion_mode(ecr, mutability):
    ecr.create_repository(repositoryName="app")
    filters = [{"filterType": "WILDCARD", "filter": "latest"}]

    with pytest.raises(ClientError) as put:
        ecr.put_image_tag_mutability(
            repositoryName="app", imageTagMutability=mutability, imageTagMutabilityExclusionFilters=filters
        )
    with pytest.raises(ClientError) as created:
        ecr.create_repository(repositoryName="other", imageTagMutability=mutability, imageTagMutabilityExclusionFilters=filters)

    for raised in (put, created):
        code, message = error_of(raised)
        assert code == "InvalidParameterException"
        assert message.startswith("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: ")
    assert len(ecr.describe_repositories()["repositories"]) == 1


def test_filters_without_mutability(ecr):
    # given: no imageTagMutability means MUTABLE, which takes no filters
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="app", imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "x"}])

    assert error_of(raised)[0] == "InvalidParameterException"
    assert_no_repositories(ecr)


def test_exclusion_filter_pattern(ecr):
    ecr.create_repository(repositoryName="app")

    with pytest.raises(ClientError) as raised:
        ecr.put_image_tag_mutability(
            repositoryName="app",
            imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "bad/tag"}],
        )

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'imageTagMutabilityExclusionFilters.1.member.filter' failed to satisfy constraint: "
        "'must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$''",
    )


def test_mutability_of_missing_repository(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.put_image_tag_mutability(repositoryName="missing", imageTagMutability="IMMUTABLE")

    assert error_of(raised) == (
        "RepositoryNotFoundException",
        f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
    )


# --- scan on push ---


def test_put_image_scanning_configuration(ecr):
    # given
    ecr.create_repository(repositoryName="app")

    # when
    response = ecr.put_image_scanning_configuration(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})

    # then
    assert response["registryId"] == ACCOUNT
    assert response["repositoryName"] == "app"
    assert response["imageScanningConfiguration"] == {"scanOnPush": True}
    assert ecr.describe_repositories()["repositories"][0]["imageScanningConfiguration"] == {"scanOnPush": True}


def test_scan_on_push_turned_off(ecr):
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})

    response = ecr.put_image_scanning_configuration(repositoryName="app", imageScanningConfiguration={"scanOnPush": False})

    assert response["imageScanningConfiguration"] == {"scanOnPush": False}
    assert ecr.describe_repositories()["repositories"][0]["imageScanningConfiguration"] == {"scanOnPush": False}


def test_scanning_of_missing_repository(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.put_image_scanning_configuration(repositoryName="missing", imageScanningConfiguration={"scanOnPush": True})

    assert error_of(raised)[0] == "RepositoryNotFoundException"


# --- encryption ---


def encryption_of(ecr, name: str, configuration: dict) -> dict:
    return ecr.create_repository(repositoryName=name, encryptionConfiguration=configuration)["repository"][
        "encryptionConfiguration"
    ]


def test_aes256_encryption(ecr):
    assert encryption_of(ecr, "app", {"encryptionType": "AES256"}) == {"encryptionType": "AES256"}


@pytest.mark.parametrize("encryption_type", ["KMS", "KMS_DSSE"])
def test_kms_default_key(ecr, encryption_type):
    # when: KMS encryption that names no key
    first = encryption_of(ecr, "first", {"encryptionType": encryption_type})
    second = encryption_of(ecr, "second", {"encryptionType": encryption_type})

    # then: the account's AWS managed key for ECR, a key ARN that stays the same
    assert first["encryptionType"] == encryption_type
    assert KEY_ARN.match(first["kmsKey"])
    assert second == first
    described = ecr.describe_repositories(repositoryNames=["first"])["repositories"][0]
    assert described["encryptionConfiguration"] == first


def test_default_key_per_account_and_region(ecr_mode):
    clients = [
        ecr_mode.client(),
        ecr_mode.client(access_key_id="111122223333"),
        ecr_mode.client(region="eu-west-1"),
    ]

    keys = [
        client.create_repository(repositoryName="app", encryptionConfiguration={"encryptionType": "KMS"})["repository"][
            "encryptionConfiguration"
        ]["kmsKey"]
        for client in clients
    ]

    assert keys[0].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    assert keys[1].startswith("arn:aws:kms:us-east-1:111122223333:key/")
    assert keys[2].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    assert len({key.rsplit("/", 1)[1] for key in keys}) == 3


def test_kms_key_forms_reported_as_key_arn(ecr):
    # given: the alias, key id and ARN forms that the API reference allows for kmsKey
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"

    # when
    by_id = encryption_of(ecr, "by-id", {"encryptionType": "KMS", "kmsKey": KEY_ID})
    by_arn = encryption_of(ecr, "by-arn", {"encryptionType": "KMS", "kmsKey": key_arn})
    by_alias = encryption_of(ecr, "by-alias", {"encryptionType": "KMS", "kmsKey": "alias/my-key"})
    by_alias_arn = encryption_of(
        ecr, "by-alias-arn", {"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/my-key"}
    )
    managed = encryption_of(ecr, "managed", {"encryptionType": "KMS", "kmsKey": "alias/aws/ecr"})
    default = encryption_of(ecr, "default", {"encryptionType": "KMS"})

    # then
    assert by_id == {"encryptionType": "KMS", "kmsKey": key_arn}
    assert by_arn == {"encryptionType": "KMS", "kmsKey": key_arn}
    assert KEY_ARN.match(by_alias["kmsKey"])
    assert by_alias_arn == by_alias
    assert by_alias["kmsKey"] != default["kmsKey"]
    assert managed == default


def test_kms_key_with_aes256(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="app", encryptionConfiguration={"encryptionType": "AES256", "kmsKey": KEY_ID})

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: ")
    assert_no_repositories(ecr)


@pytest.mark.parametrize(
    "kms_key",
    ["not-a-key", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/not-a-uuid"],
    ids=["malformed", "other region", "malformed key arn"],
)
def test_unusable_kms_key(ecr, kms_key):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="app", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": kms_key})

    assert error_of(raised)[0] == "KmsException"
    assert raised.value.response.get("kmsError") == "NotFoundException"
    assert_no_repositories(ecr)

