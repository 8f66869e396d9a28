"""CreateRepository, DescribeRepositories and DeleteRepository, in decorator and server mode."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import push_image

ACCOUNT = "123456789012"


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_create_repository_defaults(ecr, ecr_mode):
    # when
    repository = ecr.create_repository(repositoryName="team/app")["repository"]

    # then: the fields and defaults of the CreateRepository API reference
    assert repository["repositoryName"] == "team/app"
    assert repository["registryId"] == ACCOUNT
    assert repository["repositoryArn"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/app"
    assert repository["imageTagMutability"] == "MUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": False}
    assert repository["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert repository["createdAt"] is not None


def test_repository_uri_names_registry(ecr, ecr_mode):
    repository = ecr.create_repository(repositoryName="team/app")["repository"]

    if hasattr(ecr_mode, "host"):
        assert repository["repositoryUri"] == f"{ecr_mode.host}/team/app"
    else:
        assert repository["repositoryUri"] == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/app"


def test_create_repository_twice(ecr):
    ecr.create_repository(repositoryName="app")

    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="app")

    assert error_of(raised) == (
        "RepositoryAlreadyExistsException",
        f"The repository with name 'app' already exists in the registry with id '{ACCOUNT}'",
    )


@pytest.mark.parametrize("name", ["Upper", "trailing-", "double//slash", "-leading", "a" * 257])
def test_create_repository_invalid_name(ecr, name):
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName=name)

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'repositoryName' failed to satisfy constraint: ")


@pytest.mark.parametrize("name", ["a1", "team/app", "a.b_c__d---e/f", "0digit/first"])
def test_create_repository_valid_names(ecr, name):
    assert ecr.create_repository(repositoryName=name)["repository"]["repositoryName"] == name


def test_describe_repositories_by_name(ecr):
    ecr.create_repository(repositoryName="one")
    ecr.create_repository(repositoryName="two")

    found = ecr.describe_repositories(repositoryNames=["two"])["repositories"]

    assert [repository["repositoryName"] for repository in found] == ["two"]


def test_describe_repositories_missing_name(ecr):
    ecr.create_repository(repositoryName="one")

    with pytest.raises(ClientError) as raised:
        ecr.describe_repositories(repositoryNames=["one", "missing"])

    assert error_of(raised) == (
        "RepositoryNotFoundException",
        f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
    )


def test_describe_repositories_pages(ecr):
    names = [f"repo-{index:02d}" for index in range(5)]
    for name in names:
        ecr.create_repository(repositoryName=name)

    first = ecr.describe_repositories(maxResults=2)
    pages = list(ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}))

    assert len(first["repositories"]) == 2
    assert "nextToken" in first
    assert [len(page["repositories"]) for page in pages] == [2, 2, 1]
    assert sorted(r["repositoryName"] for page in pages for r in page["repositories"]) == names


def test_describe_repositories_names_with_max_results(ecr):
    ecr.create_repository(repositoryName="one")

    with pytest.raises(ClientError) as raised:
        ecr.describe_repositories(repositoryNames=["one"], maxResults=1)

    assert error_of(raised)[0] == "InvalidParameterException"


def test_describe_repositories_max_results_range(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_repositories(maxResults=1001)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'",
    )


def test_describe_repositories_bad_token(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_repositories(nextToken="not-a-token")

    assert error_of(raised)[0] == "InvalidParameterException"


def test_delete_repository_not_empty(ecr):
    ecr.create_repository(repositoryName="app")
    push_image(ecr, "app", tag="v1")

    with pytest.raises(ClientError) as raised:
        ecr.delete_repository(repositoryName="app")

    assert error_of(raised) == (
        "RepositoryNotEmptyException",
        f"The repository with name 'app' in registry with id '{ACCOUNT}' cannot be deleted because it still contains images",
    )
    assert ecr.describe_images(repositoryName="app")["imageDetails"]


def test_delete_repository_force(ecr):
    ecr.create_repository(repositoryName="app")
    push_image(ecr, "app", tag="v1")

    deleted = ecr.delete_repository(repositoryName="app", force=True)["repository"]

    assert deleted["repositoryName"] == "app"
    assert ecr.describe_repositories()["repositories"] == []


def test_delete_missing_repository(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.delete_repository(repositoryName="missing")

    assert error_of(raised)[0] == "RepositoryNotFoundException"


def test_accounts_are_separate(ecr_mode):
    # given: an access key id of 12 digits names its account
    first = ecr_mode.client(access_key_id="111111111111")
    second = ecr_mode.client(access_key_id="222222222222")

    # when
    first.create_repository(repositoryName="shared-name")
    second.create_repository(repositoryName="shared-name")

    # then
    assert first.describe_repositories()["repositories"][0]["registryId"] == "111111111111"
    assert second.describe_repositories()["repositories"][0]["registryId"] == "222222222222"


def test_regions_are_separate(ecr_mode):
    east = ecr_mode.client(region="us-east-1")
    west = ecr_mode.client(region="eu-west-1")

    west.create_repository(repositoryName="app")

    assert east.describe_repositories()["repositories"] == []
    assert west.describe_repositories()["repositories"][0]["repositoryArn"].startswith("arn:aws:ecr:eu-west-1:")
