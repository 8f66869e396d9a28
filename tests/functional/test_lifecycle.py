"""Lifecycle policies through the API: storage, validation, preview, and runs that expire images."""

import datetime
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from freezegun import freeze_time

from ecr_emulator import mock_ecr
from tests.conftest import advance_clock
from tests.helpers import push_image

ACCOUNT = "123456789012"
DAY = 24 * 3600

# The user guide's "Filtering on image count" example: keep one untagged image.
KEEP_ONE_UNTAGGED = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Keep only one untagged image, expire all others",
                "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
                "action": {"type": "expire"},
            }
        ]
    }
)

# The user guide's "Filtering on image age" example, with a prod prefix and 14 days.
EXPIRE_OLD_PROD = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire prod images older than 14 days",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["prod*"],
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="app")
    return "app"


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def digests(ecr, repo) -> set[str]:
    return {detail["imageDigest"] for detail in ecr.describe_images(repositoryName=repo)["imageDetails"]}


def test_put_and_get_policy(ecr, repo):
    put = ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    got = ecr.get_lifecycle_policy(repositoryName=repo)

    assert put == {**put, "registryId": ACCOUNT, "repositoryName": repo, "lifecyclePolicyText": KEEP_ONE_UNTAGGED}
    assert got["lifecyclePolicyText"] == KEEP_ONE_UNTAGGED
    # A policy that never ran reports the epoch as lastEvaluatedAt.
    assert got["lastEvaluatedAt"].timestamp() == 0


def test_get_missing_policy(ecr, repo):
    with pytest.raises(ClientError) as raised:
        ecr.get_lifecycle_policy(repositoryName=repo)

    assert error_of(raised) == (
        "LifecyclePolicyNotFoundException",
        f"Lifecycle policy does not exist for the repository with name '{repo}' in the registry with id '{ACCOUNT}'",
    )


def test_delete_policy(ecr, repo):
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=KEEP_ONE_UNTAGGED)

    deleted = ecr.delete_lifecycle_policy(repositoryName=repo)

    assert deleted["lifecyclePolicyText"] == KEEP_ONE_UNTAGGED
    with pytest.raises(ClientError) as raised:
        ecr.delete_lifecycle_policy(repositoryName=repo)
    assert error_of(raised)[0] == "LifecyclePolicyNotFoundException"


def test_invalid_policy_rejected(ecr, repo):
    text = KEEP_ONE_UNTAGGED.replace('"untagged"', '"bogus"')

    with pytest.raises(ClientError) as raised:
        ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=text)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation "
        'failure: instance value (bogus) not found in enum :(possible values: ["any","tagged","untagged"])\'',
    )
    with pytest.raises(ClientError):
        ecr.get_lifecycle_policy(repositoryName=repo)


def test_policy_too_short(ecr_mode, repo):
    # given: a client with botocore's own parameter validation turned off
    unchecked = ecr_mode.client(parameter_validation=False)

    with pytest.raises(ClientError) as raised:
        unchecked.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText='{"rules": []}')

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: "
        "'Member must have length greater than or equal to 100'",
    )


def test_preview_keep_one_untagged(ecr, repo):
    # given: three untagged images, oldest first
    pushed = [push_image(ecr, repo, seed=f"image-{index}")["imageId"]["imageDigest"] for index in range(3)]

    # when
    started = ecr.start_lifecycle_policy_preview(repositoryName=repo, lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    ecr.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName=repo, WaiterConfig={"Delay": 1, "MaxAttempts": 3}
    )
    preview = ecr.get_lifecycle_policy_preview(repositoryName=repo)

    # then: the newest is kept, the two others would expire; nothing was deleted
    assert started["status"] == "IN_PROGRESS"
    assert preview["status"] == "COMPLETE"
    assert {result["imageDigest"] for result in preview["previewResults"]} == set(pushed[:2])
    assert all(result["action"] == {"type": "EXPIRE"} for result in preview["previewResults"])
    assert all(result["appliedRulePriority"] == 1 for result in preview["previewResults"])
    assert preview["summary"] == {"expiringImageTotalCount": 2}
    assert digests(ecr, repo) == set(pushed)


def test_preview_uses_stored_policy(ecr, repo):
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=KEEP_ONE_UNTAGGED)

    started = ecr.start_lifecycle_policy_preview(repositoryName=repo)

    assert started["lifecyclePolicyText"] == KEEP_ONE_UNTAGGED


def test_preview_without_policy(ecr, repo):
    with pytest.raises(ClientError) as no_policy:
        ecr.start_lifecycle_policy_preview(repositoryName=repo)
    with pytest.raises(ClientError) as no_preview:
        ecr.get_lifecycle_policy_preview(repositoryName=repo)

    assert error_of(no_policy)[0] == "LifecyclePolicyNotFoundException"
    assert error_of(no_preview)[0] == "LifecyclePolicyPreviewNotFoundException"


def test_preview_pages(ecr, repo):
    for index in range(5):
        push_image(ecr, repo, seed=f"page-{index}")
    ecr.start_lifecycle_policy_preview(repositoryName=repo, lifecyclePolicyText=KEEP_ONE_UNTAGGED)

    pages = list(
        ecr.get_paginator("get_lifecycle_policy_preview").paginate(repositoryName=repo, PaginationConfig={"PageSize": 2})
    )

    assert [len(page["previewResults"]) for page in pages] == [2, 2]


def test_policy_runs_within_a_day(ecr, ecr_mode, repo):
    # given: three untagged images and a policy that keeps one
    pushed = [push_image(ecr, repo, seed=f"run-{index}")["imageId"]["imageDigest"] for index in range(3)]
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=KEEP_ONE_UNTAGGED)

    # then: nothing happens at once, as in ECR
    assert digests(ecr, repo) == set(pushed)

    # when: a day passes on the emulator's clock
    advance_clock(ecr_mode, DAY)

    # then: the rule has expired the two oldest, and lastEvaluatedAt tells when
    assert digests(ecr, repo) == {pushed[2]}
    assert ecr.get_lifecycle_policy(repositoryName=repo)["lastEvaluatedAt"].timestamp() > 0


def test_age_rule_expires_old_prod_images(ecr, ecr_mode, repo):
    old = push_image(ecr, repo, tag="prod-1", seed="old")["imageId"]["imageDigest"]
    advance_clock(ecr_mode, 10 * DAY)
    recent = push_image(ecr, repo, tag="prod-2", seed="recent")["imageId"]["imageDigest"]
    other = push_image(ecr, repo, tag="dev-1", seed="dev")["imageId"]["imageDigest"]
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=EXPIRE_OLD_PROD)

    # when: 5 more days pass, so the first image is 15 days old and the others 5
    advance_clock(ecr_mode, 5 * DAY)

    assert digests(ecr, repo) == {recent, other}
    assert old not in digests(ecr, repo)


def test_freezegun_moves_decorator_clock():
    with freeze_time("2026-03-01T00:00:00Z") as frozen, mock_ecr():
        ecr = boto3.client("ecr", region_name="us-east-1")
        ecr.create_repository(repositoryName="frozen")
        pushed = [push_image(ecr, "frozen", seed=f"f-{index}")["imageId"]["imageDigest"] for index in range(2)]
        ecr.put_lifecycle_policy(repositoryName="frozen", lifecyclePolicyText=KEEP_ONE_UNTAGGED)

        frozen.tick(datetime.timedelta(hours=25))

        remaining = {d["imageDigest"] for d in ecr.describe_images(repositoryName="frozen")["imageDetails"]}
        assert len(remaining) == 1
        assert remaining <= set(pushed)
        evaluated = ecr.get_lifecycle_policy(repositoryName="frozen")["lastEvaluatedAt"]
        assert evaluated == datetime.datetime(2026, 3, 2, 1, tzinfo=datetime.timezone.utc)


def test_zero_interval_acts_at_next_request():
    with mock_ecr(lifecycle_interval=0):
        ecr = boto3.client("ecr", region_name="us-east-1")
        ecr.create_repository(repositoryName="now")
        for index in range(3):
            push_image(ecr, "now", seed=f"n-{index}")
        ecr.put_lifecycle_policy(repositoryName="now", lifecyclePolicyText=KEEP_ONE_UNTAGGED)

        assert len(ecr.describe_images(repositoryName="now")["imageDetails"]) == 1


def test_transition_archives(ecr, ecr_mode, repo):
    policy = json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Archive images not pulled for 90 days",
                    "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 90},
                    "action": {"type": "transition", "targetStorageClass": "archive"},
                }
            ]
        }
    )
    digest = push_image(ecr, repo, tag="v1")["imageId"]["imageDigest"]
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=policy)

    advance_clock(ecr_mode, 91 * DAY)

    archived = ecr.describe_images(repositoryName=repo, filter={"imageStatus": "ARCHIVED"})["imageDetails"]
    assert [detail["imageDigest"] for detail in archived] == [digest]
