"""Garbage collection: blobs of deleted images go, blobs of a push in progress stay."""

import datetime

import boto3

from ecr_emulator import mock_ecr
from ecr_emulator.backend import runtime
from ecr_emulator.backend.garbage import DEFAULT_GRACE, collect_garbage
from ecr_emulator.core import clock
from tests.helpers import push_image, upload_blob


def layer_digests(image) -> list[str]:
    import json

    manifest = json.loads(image["imageManifest"])
    return [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]


@mock_ecr
def test_deleted_image_blobs_collected():
    # given: an image pushed more than the grace period ago, then deleted
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="gc")
    image = push_image(ecr, "gc", tag="v1")
    clock.advance(DEFAULT_GRACE + datetime.timedelta(minutes=1))

    # when: the delete request ends, garbage is collected
    ecr.batch_delete_image(repositoryName="gc", imageIds=[{"imageTag": "v1"}])

    # then
    store = runtime.current().blob_store
    assert [store.stat(digest) for digest in layer_digests(image)] == [None, None]


@mock_ecr
def test_push_in_progress_kept():
    # given: a layer uploaded moments ago that no manifest references yet
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="gc")
    blob = upload_blob(ecr, "gc", b"not yet in a manifest")

    # when
    deleted = collect_garbage()

    # then: the manifest can still be put
    assert deleted == 0
    assert runtime.current().blob_store.stat(blob["digest"]) == len(b"not yet in a manifest")


@mock_ecr
def test_blob_shared_by_repositories_kept():
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="one")
    ecr.create_repository(repositoryName="two")
    first = push_image(ecr, "one", tag="v1", seed="shared")
    push_image(ecr, "two", tag="v1", seed="shared")
    clock.advance(DEFAULT_GRACE * 2)

    ecr.delete_repository(repositoryName="one", force=True)

    store = runtime.current().blob_store
    assert all(store.stat(digest) is not None for digest in layer_digests(first))


@mock_ecr
def test_abandoned_upload_layer_collected():
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="gc")
    blob = upload_blob(ecr, "gc", b"abandoned")
    clock.advance(DEFAULT_GRACE + datetime.timedelta(seconds=1))

    deleted = collect_garbage()

    assert deleted == 1
    assert runtime.current().blob_store.stat(blob["digest"]) is None
    available = ecr.batch_check_layer_availability(repositoryName="gc", layerDigests=[blob["digest"]])
    assert available["failures"][0]["failureCode"] == "MissingLayerDigest"


def test_expired_image_blobs_collected():
    keep_one = (
        '{"rules": [{"rulePriority": 1, "description": "keep the newest untagged image only", '
        '"selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}, '
        '"action": {"type": "expire"}}]}'
    )
    with mock_ecr(lifecycle_interval=0):
        ecr = boto3.client("ecr", region_name="us-east-1")
        ecr.create_repository(repositoryName="gc")
        old = push_image(ecr, "gc", seed="old")
        push_image(ecr, "gc", seed="new")
        clock.advance(DEFAULT_GRACE * 2)

        ecr.put_lifecycle_policy(repositoryName="gc", lifecyclePolicyText=keep_one)
        ecr.describe_images(repositoryName="gc")

        store = runtime.current().blob_store
        assert [store.stat(digest) for digest in layer_digests(old)] == [None, None]
