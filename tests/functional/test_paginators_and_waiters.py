"""Every paginator and waiter that botocore's ECR model defines terminates against the emulator."""

import json

import pytest
from botocore import xform_name
from botocore.exceptions import WaiterError

from tests.helpers import push_image

REPO = "pages/app"
ACCOUNT = "123456789012"
KEEP_ONE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "keep one image of any kind, expire the others",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1},
                "action": {"type": "expire"},
            }
        ]
    }
)


@pytest.fixture
def seeded(ecr):
    """Five images in one repository, three more repositories, rules, templates, a preview, a scan and a backfill."""
    ecr.create_repository(repositoryName=REPO)
    digests = [push_image(ecr, REPO, tag=f"v{index}", seed=str(index))["imageId"]["imageDigest"] for index in range(5)]
    for index in range(3):
        ecr.create_repository(repositoryName=f"pages/extra-{index}")
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=f"quay-{index}", upstreamRegistryUrl="quay.io")
        ecr.create_repository_creation_template(prefix=f"team-{index}", appliedFor=["CREATE_ON_PUSH"])
    ecr.start_lifecycle_policy_preview(repositoryName=REPO, lifecyclePolicyText=KEEP_ONE)
    ecr.start_image_scan(repositoryName=REPO, imageId={"imageDigest": digests[0]})
    destination = {"region": "eu-west-1", "registryId": ACCOUNT}
    ecr.put_replication_configuration(replicationConfiguration={"rules": [{"destinations": [destination]}]})
    backfill_id = ecr.start_replication_backfill(destination=destination)["replicationBackfillId"]
    return {"digests": digests, "backfill_id": backfill_id}


def collect(ecr, operation: str, key: str, **params) -> tuple[int, list]:
    """Page through `operation` two items at a time; return the number of pages and the items."""
    pages = list(ecr.get_paginator(operation).paginate(**params, PaginationConfig={"PageSize": 2}))
    return len(pages), [item for page in pages for item in page.get(key, [])]


def test_every_paginator_is_covered(ecr):
    tested = {
        "list_images", "describe_images", "describe_repositories", "describe_image_scan_findings",
        "get_lifecycle_policy_preview", "describe_pull_through_cache_rules",
        "describe_repository_creation_templates", "describe_replication_backfill_results",
        "list_replication_backfills",
    }
    names = {xform_name(operation) for operation in ecr.meta.service_model.operation_names}
    assert {name for name in names if ecr.can_paginate(name)} == tested
    assert set(ecr.waiter_names) == {"image_scan_complete", "lifecycle_policy_preview_complete"}


def test_paginators_terminate(ecr, seeded):
    pages, image_ids = collect(ecr, "list_images", "imageIds", repositoryName=REPO)
    assert (pages, len(image_ids)) == (3, 5)
    assert len(collect(ecr, "describe_images", "imageDetails", repositoryName=REPO)[1]) == 5
    assert len(collect(ecr, "describe_repositories", "repositories")[1]) == 4
    assert len(collect(ecr, "describe_pull_through_cache_rules", "pullThroughCacheRules")[1]) == 3
    assert len(collect(ecr, "describe_repository_creation_templates", "repositoryCreationTemplates")[1]) == 3
    # keep one of five: four would expire
    assert len(collect(ecr, "get_lifecycle_policy_preview", "previewResults", repositoryName=REPO)[1]) == 4
    collect(ecr, "describe_image_scan_findings", "imageScanFindings", repositoryName=REPO,
            imageId={"imageDigest": seeded["digests"][0]})
    assert len(collect(ecr, "list_replication_backfills", "backfills")[1]) == 1
    collect(ecr, "describe_replication_backfill_results", "results", replicationBackfillId=seeded["backfill_id"])


def test_waiters_terminate(ecr, seeded):
    # Both waiters poll every 5 s by default; the emulator completes scans and previews at once.
    fast = {"Delay": 1, "MaxAttempts": 2}

    ecr.get_waiter("lifecycle_policy_preview_complete").wait(repositoryName=REPO, WaiterConfig=fast)
    # The test images hold no operating system, so their scan ends FAILED, the waiter's failure state.
    scanned = {"imageDigest": seeded["digests"][0]}
    with pytest.raises(WaiterError) as failed:
        ecr.get_waiter("image_scan_complete").wait(repositoryName=REPO, imageId=scanned, WaiterConfig=fast)
    assert "FAILED" in str(failed.value)
    assert failed.value.last_response["imageScanStatus"]["status"] == "FAILED"
