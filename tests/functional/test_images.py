"""PutImage, BatchGetImage, ListImages, DescribeImages and BatchDeleteImage."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import DOCKER_MANIFEST, image_manifest, manifest_list, push_image, sha256, upload_blob

ACCOUNT = "123456789012"


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="team/app")
    return "team/app"


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_put_image_digest_is_manifest_hash(ecr, repo):
    image = push_image(ecr, repo, tag="v1")

    assert image["imageId"]["imageDigest"] == sha256(image["imageManifest"].encode())
    assert image["imageId"]["imageTag"] == "v1"
    assert image["imageManifestMediaType"] == DOCKER_MANIFEST


def test_describe_images_fields(ecr, repo):
    # given: two layers of 100 and 250 bytes
    image = push_image(ecr, repo, tag="v1", layer_sizes=(100, 250))

    # when
    detail = ecr.describe_images(repositoryName=repo)["imageDetails"][0]

    # then: imageSizeInBytes is the layers' size, as pushed
    assert detail["imageDigest"] == image["imageId"]["imageDigest"]
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == 350
    assert detail["registryId"] == ACCOUNT
    assert detail["repositoryName"] == repo
    assert detail["imageManifestMediaType"] == DOCKER_MANIFEST
    assert detail["artifactMediaType"] == "application/vnd.docker.container.image.v1+json"
    assert detail["imageStatus"] == "ACTIVE"
    assert "lastRecordedPullTime" not in detail


def test_image_carries_several_tags(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    manifest = image["imageManifest"]

    ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="latest")

    detail = ecr.describe_images(repositoryName=repo)["imageDetails"]
    assert len(detail) == 1
    assert sorted(detail[0]["imageTags"]) == ["latest", "v1"]
    listed = ecr.list_images(repositoryName=repo)["imageIds"]
    assert sorted(item["imageTag"] for item in listed) == ["latest", "v1"]


def test_moving_tag_leaves_old_image_untagged(ecr, repo):
    old = push_image(ecr, repo, tag="latest", seed="old")
    new = push_image(ecr, repo, tag="latest", seed="new")

    details = {d["imageDigest"]: d for d in ecr.describe_images(repositoryName=repo)["imageDetails"]}

    assert details[new["imageId"]["imageDigest"]]["imageTags"] == ["latest"]
    assert "imageTags" not in details[old["imageId"]["imageDigest"]]
    untagged = ecr.list_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageIds"]
    assert untagged == [{"imageDigest": old["imageId"]["imageDigest"]}]


def test_put_same_image_and_tag_again(ecr, repo):
    image = push_image(ecr, repo, tag="v1")

    with pytest.raises(ClientError) as raised:
        ecr.put_image(repositoryName=repo, imageManifest=image["imageManifest"], imageTag="v1")

    assert error_of(raised)[0] == "ImageAlreadyExistsException"


def test_put_image_missing_layer(ecr, repo):
    config = upload_blob(ecr, repo, b'{"os":"linux"}')
    missing = {"digest": sha256(b"never uploaded"), "size": 14}
    manifest = image_manifest(config, [missing])

    with pytest.raises(ClientError) as raised:
        ecr.put_image(repositoryName=repo, imageManifest=manifest.decode(), imageTag="v1")

    assert error_of(raised) == (
        "LayersNotFoundException",
        f"The layer with digest {missing['digest']} does not exist within the repository with name '{repo}' "
        f"in the registry with id '{ACCOUNT}'",
    )
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []


def test_put_image_wrong_digest(ecr, repo):
    image = push_image(ecr, repo, tag="v1")

    with pytest.raises(ClientError) as raised:
        ecr.put_image(
            repositoryName=repo, imageManifest=image["imageManifest"], imageTag="v2", imageDigest=sha256(b"other")
        )

    assert error_of(raised)[0] == "ImageDigestDoesNotMatchException"


def test_put_image_invalid_json(ecr, repo):
    with pytest.raises(ClientError) as raised:
        ecr.put_image(repositoryName=repo, imageManifest="{not json", imageTag="v1")

    assert error_of(raised)[0] == "InvalidParameterException"


def test_put_image_missing_repository(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.put_image(repositoryName="missing", imageManifest="{}", imageTag="v1")

    assert error_of(raised)[0] == "RepositoryNotFoundException"


def test_immutable_tag_cannot_move(ecr):
    ecr.create_repository(repositoryName="locked", imageTagMutability="IMMUTABLE")
    first = push_image(ecr, "locked", tag="v1", seed="one")

    with pytest.raises(ClientError) as raised:
        push_image(ecr, "locked", tag="v1", seed="two")

    assert error_of(raised) == (
        "ImageTagAlreadyExistsException",
        "The image tag 'v1' already exists in the 'locked' repository and cannot be overwritten because the "
        "repository is immutable.",
    )
    tagged = ecr.describe_images(repositoryName="locked", imageIds=[{"imageTag": "v1"}])["imageDetails"][0]
    assert tagged["imageDigest"] == first["imageId"]["imageDigest"]


def test_manifest_list_needs_children(ecr, repo):
    child = push_image(ecr, repo, seed="amd64")
    missing = sha256(b"no such manifest")
    children = [(child["imageId"]["imageDigest"], len(child["imageManifest"])), (missing, 10)]

    with pytest.raises(ClientError) as raised:
        ecr.put_image(repositoryName=repo, imageManifest=manifest_list(children).decode(), imageTag="multi")

    assert error_of(raised)[0] == "ReferencedImagesNotFoundException"


def test_manifest_list_size_is_largest_child(ecr, repo):
    small = push_image(ecr, repo, seed="small", layer_sizes=(10,))
    large = push_image(ecr, repo, seed="large", layer_sizes=(300,))
    children = [(image["imageId"]["imageDigest"], len(image["imageManifest"])) for image in (small, large)]

    listing = ecr.put_image(repositoryName=repo, imageManifest=manifest_list(children).decode(), imageTag="multi")

    detail = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "multi"}])["imageDetails"][0]
    assert listing["image"]["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert detail["imageSizeInBytes"] == 300


def test_child_of_manifest_list_not_deletable(ecr, repo):
    child = push_image(ecr, repo, seed="amd64")
    child_digest = child["imageId"]["imageDigest"]
    ecr.put_image(
        repositoryName=repo,
        imageManifest=manifest_list([(child_digest, len(child["imageManifest"]))]).decode(),
        imageTag="multi",
    )

    result = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": child_digest}])

    assert result["imageIds"] == []
    assert result["failures"][0]["failureCode"] == "ImageReferencedByManifestList"
    assert ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": child_digest}])["imageDetails"]


def test_batch_get_image_by_tag_and_digest(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    digest = image["imageId"]["imageDigest"]

    result = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}, {"imageDigest": digest}])

    assert [found["imageManifest"] for found in result["images"]] == [image["imageManifest"]] * 2
    assert result["failures"] == []


def test_batch_get_image_failures(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    push_image(ecr, repo, tag="v2", seed="other")

    result = ecr.batch_get_image(
        repositoryName=repo,
        imageIds=[
            {"imageTag": "missing"},
            {"imageDigest": "not-a-digest"},
            {"imageTag": "v2", "imageDigest": image["imageId"]["imageDigest"]},
            {},
        ],
    )

    codes = [failure["failureCode"] for failure in result["failures"]]
    assert codes == ["ImageNotFound", "InvalidImageDigest", "ImageTagDoesNotMatchDigest", "MissingDigestAndTag"]
    assert result["failures"][0]["failureReason"] == "Requested image not found"
    assert result["images"] == []


def test_batch_get_image_records_pull(ecr, repo):
    push_image(ecr, repo, tag="v1")

    ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])

    detail = ecr.describe_images(repositoryName=repo)["imageDetails"][0]
    assert detail["lastRecordedPullTime"] >= detail["imagePushedAt"]


def test_describe_images_missing_tag(ecr, repo):
    with pytest.raises(ClientError) as raised:
        ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "nope"}])

    assert error_of(raised) == (
        "ImageNotFoundException",
        f"The image with imageId {{imageDigest:'null', imageTag:'nope'}} does not exist within the repository "
        f"with name '{repo}' in the registry with id '{ACCOUNT}'",
    )


def test_list_images_pages(ecr, repo):
    for index in range(5):
        push_image(ecr, repo, tag=f"v{index}", seed=str(index))

    pages = list(ecr.get_paginator("list_images").paginate(repositoryName=repo, PaginationConfig={"PageSize": 2}))

    assert [len(page["imageIds"]) for page in pages] == [2, 2, 1]


def test_describe_images_filter_tagged(ecr, repo):
    push_image(ecr, repo, tag="v1", seed="tagged")
    push_image(ecr, repo, seed="untagged")

    tagged = ecr.describe_images(repositoryName=repo, filter={"tagStatus": "TAGGED"})["imageDetails"]
    untagged = ecr.describe_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageDetails"]

    assert [d["imageTags"] for d in tagged] == [["v1"]]
    assert len(untagged) == 1 and "imageTags" not in untagged[0]


def test_delete_by_tag_keeps_other_tags(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    ecr.put_image(repositoryName=repo, imageManifest=image["imageManifest"], imageTag="latest")

    result = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])

    assert result["imageIds"] == [{"imageDigest": image["imageId"]["imageDigest"], "imageTag": "v1"}]
    assert ecr.describe_images(repositoryName=repo)["imageDetails"][0]["imageTags"] == ["latest"]


def test_delete_last_tag_deletes_image(ecr, repo):
    push_image(ecr, repo, tag="v1")

    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])

    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []


def test_delete_by_digest_removes_all_tags(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    digest = image["imageId"]["imageDigest"]
    ecr.put_image(repositoryName=repo, imageManifest=image["imageManifest"], imageTag="latest")

    result = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])

    assert sorted(item["imageTag"] for item in result["imageIds"]) == ["latest", "v1"]
    assert ecr.list_images(repositoryName=repo)["imageIds"] == []


def test_delete_missing_image(ecr, repo):
    result = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "ghost"}])

    assert result["failures"] == [
        {"imageId": {"imageTag": "ghost"}, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"}
    ]


def test_oci_manifest_with_subject(ecr, repo):
    subject = push_image(ecr, repo, tag="v1")
    config = upload_blob(ecr, repo, b"{}")
    body = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.sbom",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config["digest"], "size": 2},
        "layers": [],
        "subject": {
            "mediaType": DOCKER_MANIFEST,
            "digest": subject["imageId"]["imageDigest"],
            "size": len(subject["imageManifest"]),
        },
    }
    ecr.put_image(repositoryName=repo, imageManifest=json.dumps(body))

    untagged = ecr.describe_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageDetails"][0]
    assert untagged["subjectManifestDigest"] == subject["imageId"]["imageDigest"]
    assert untagged["artifactMediaType"] == "application/vnd.example.sbom"


def test_archive_and_restore(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    image_id = {"imageDigest": image["imageId"]["imageDigest"]}

    archived = ecr.update_image_storage_class(repositoryName=repo, imageId=image_id, targetStorageClass="ARCHIVE")

    # then: an archived image is described only when asked for, and cannot be pulled
    assert archived["imageStatus"] == "ARCHIVED"
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []
    described = ecr.describe_images(repositoryName=repo, filter={"imageStatus": "ARCHIVED"})["imageDetails"][0]
    assert described["imageStatus"] == "ARCHIVED"
    assert "lastArchivedAt" in described
    failures = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])["failures"]
    assert failures[0]["failureCode"] == "ImageNotFound"

    # when: restored
    restored = ecr.update_image_storage_class(repositoryName=repo, imageId=image_id, targetStorageClass="STANDARD")

    # then
    assert restored["imageStatus"] in ("ACTIVATING", "ACTIVE")
    detail = ecr.describe_images(repositoryName=repo, filter={"imageStatus": "ANY"})["imageDetails"][0]
    assert detail["imageStatus"] == "ACTIVE"
    assert "lastActivatedAt" in detail
    assert ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])["images"]


def test_archive_twice_not_supported(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    image_id = {"imageTag": "v1"}
    ecr.update_image_storage_class(repositoryName=repo, imageId=image_id, targetStorageClass="ARCHIVE")

    with pytest.raises(ClientError) as raised:
        ecr.update_image_storage_class(repositoryName=repo, imageId=image_id, targetStorageClass="ARCHIVE")
    with pytest.raises(ClientError) as restore_active:
        ecr.update_image_storage_class(
            repositoryName=repo, imageId={"imageDigest": push_image(ecr, repo, seed="x")["imageId"]["imageDigest"]},
            targetStorageClass="STANDARD",
        )

    assert image["imageId"]["imageTag"] == "v1"
    assert error_of(raised)[0] == "ImageStorageClassUpdateNotSupportedException"
    assert error_of(restore_active)[0] == "ImageStorageClassUpdateNotSupportedException"


def test_pushing_archived_image_restores_it(ecr, repo):
    image = push_image(ecr, repo, tag="v1")
    ecr.update_image_storage_class(repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE")

    ecr.put_image(repositoryName=repo, imageManifest=image["imageManifest"], imageTag="v1")

    assert ecr.describe_images(repositoryName=repo)["imageDetails"][0]["imageStatus"] == "ACTIVE"


def test_list_image_referrers(ecr, repo):
    subject = push_image(ecr, repo, tag="v1")
    subject_digest = subject["imageId"]["imageDigest"]
    config = upload_blob(ecr, repo, b"{}")
    for artifact_type in ("application/vnd.example.sbom", "application/vnd.example.signature"):
        body = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config["digest"], "size": 2},
            "layers": [],
            "subject": {"mediaType": DOCKER_MANIFEST, "digest": subject_digest, "size": len(subject["imageManifest"])},
        }
        ecr.put_image(repositoryName=repo, imageManifest=json.dumps(body))

    everything = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject_digest})["referrers"]
    sboms = ecr.list_image_referrers(
        repositoryName=repo, subjectId={"imageDigest": subject_digest},
        filter={"artifactTypes": ["application/vnd.example.sbom"]},
    )["referrers"]
    unknown = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": sha256(b"none")})["referrers"]

    assert sorted(r["artifactType"] for r in everything) == ["application/vnd.example.sbom", "application/vnd.example.signature"]
    assert [r["artifactType"] for r in sboms] == ["application/vnd.example.sbom"]
    assert sboms[0]["artifactStatus"] == "ACTIVE"
    assert unknown == []


def test_batch_get_image_converts_to_oci(ecr, repo):
    push_image(ecr, repo, tag="v1")

    result = ecr.batch_get_image(
        repositoryName=repo, imageIds=[{"imageTag": "v1"}], acceptedMediaTypes=["application/vnd.oci.image.manifest.v1+json"]
    )

    image = result["images"][0]
    manifest = json.loads(image["imageManifest"])
    assert image["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert image["imageId"]["imageDigest"] == sha256(image["imageManifest"].encode())


@pytest.mark.parametrize("tag", ["bad tag", "a:b", "tag/with/slash"])
def test_put_image_invalid_tag(ecr, repo, tag):
    image = push_image(ecr, repo, tag="v1")

    with pytest.raises(ClientError) as raised:
        ecr.put_image(repositoryName=repo, imageManifest=image["imageManifest"], imageTag=tag)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '[a-zA-Z0-9-_.]+''",
    )
