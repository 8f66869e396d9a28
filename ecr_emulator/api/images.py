"""PutImage, BatchGetImage, ListImages, DescribeImages and BatchDeleteImage."""

from ecr_emulator.api import common
from ecr_emulator.backend.images import Image, Repository, negotiate
from ecr_emulator.backend.registry import ImageLookupFailure
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.protocol.dispatch import handler
from ecr_emulator.storage.base import digest_of


def image_detail(registry, repository: Repository, image: Image) -> dict:
    return {
        "registryId": registry.account_id,
        "repositoryName": repository.name,
        "imageDigest": image.digest,
        "imageTags": list(image.tags) or None,
        "imageSizeInBytes": image.size,
        "imagePushedAt": image.pushed_at,
        "imageManifestMediaType": image.media_type,
        "artifactMediaType": image.parsed.artifact_media_type,
        "lastRecordedPullTime": image.last_pulled_at,
        "subjectManifestDigest": image.subject_digest,
        "imageStatus": image.status,
        "lastArchivedAt": image.last_archived_at,
        "lastActivatedAt": image.last_activated_at,
    }


def _matches_filter(image: Image, image_filter: dict | None) -> bool:
    image_filter = image_filter or {}
    tag_status = image_filter.get("tagStatus", "ANY")
    if tag_status == "TAGGED" and not image.tags:
        return False
    if tag_status == "UNTAGGED" and image.tags:
        return False
    image_status = image_filter.get("imageStatus", "ACTIVE")
    return image_status == "ANY" or image.status == image_status


@handler("PutImage")
def put_image(
    context,
    repository_name,
    image_manifest,
    registry_id=None,
    image_manifest_media_type=None,
    image_tag=None,
    image_digest=None,
    **kwargs,
):
    registry = common.registry(context, registry_id)
    image = registry.put_image(
        repository_name,
        image_manifest.encode(),
        media_type=image_manifest_media_type,
        tag=image_tag,
        expected_digest=image_digest,
    )
    image_id = {"imageDigest": image.digest, "imageTag": image_tag}
    return {
        "image": {
            "registryId": registry.account_id,
            "repositoryName": repository_name,
            "imageId": image_id,
            "imageManifest": image.manifest.decode(),
            "imageManifestMediaType": image.media_type,
        }
    }


@handler("BatchGetImage")
def batch_get_image(context, repository_name, image_ids, registry_id=None, accepted_media_types=None, **kwargs):
    registry = common.registry(context, registry_id)
    repository = registry.get_repository(repository_name)
    found, failures = [], []

    for image_id in image_ids:
        try:
            image = registry.find_image(repository, image_id)
        except ImageLookupFailure as failure:
            failures.append({"imageId": image_id, "failureCode": failure.code, "failureReason": failure.reason})
            continue
        if image.status != "ACTIVE":
            failures.append({"imageId": image_id, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"})
            continue
        manifest, media_type = negotiate(image, accepted_media_types)
        registry.record_pull(repository_name, image)
        found.append(
            {
                "registryId": registry.account_id,
                "repositoryName": repository_name,
                "imageId": {"imageDigest": digest_of(manifest), "imageTag": image_id.get("imageTag")},
                "imageManifest": manifest.decode(),
                "imageManifestMediaType": media_type,
            }
        )
    return {"images": found, "failures": failures}


@handler("ListImages")
def list_images(context, repository_name, registry_id=None, next_token=None, max_results=None, filter=None, **kwargs):
    registry = common.registry(context, registry_id)
    repository = registry.get_repository(repository_name)

    image_ids = []
    with STATE_LOCK:
        for image in repository.images.values():
            if not _matches_filter(image, filter):
                continue
            if image.tags:
                image_ids.extend({"imageDigest": image.digest, "imageTag": tag} for tag in image.tags)
            else:
                image_ids.append({"imageDigest": image.digest})

    page, token = common.paginate(image_ids, max_results, next_token)
    return {"imageIds": page, "nextToken": token}


@handler("DescribeImages")
def describe_images(
    context, repository_name, registry_id=None, image_ids=None, next_token=None, max_results=None, filter=None, **kwargs
):
    common.reject_ids_with_paging("imageIds", image_ids, max_results, next_token)
    registry = common.registry(context, registry_id)
    repository = registry.get_repository(repository_name)

    if image_ids:
        images = [registry.get_image(repository_name, image_id) for image_id in image_ids]
        unique = list({image.digest: image for image in images}.values())
        return {"imageDetails": [image_detail(registry, repository, image) for image in unique]}

    with STATE_LOCK:
        images = [image for image in repository.images.values() if _matches_filter(image, filter)]
    page, token = common.paginate(images, max_results, next_token)
    return {"imageDetails": [image_detail(registry, repository, image) for image in page], "nextToken": token}


@handler("BatchDeleteImage")
def batch_delete_image(context, repository_name, image_ids, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    deleted, failures = registry.delete_image_ids(repository_name, image_ids)
    return {"imageIds": deleted, "failures": failures}


@handler("UpdateImageStorageClass")
def update_image_storage_class(context, repository_name, image_id, target_storage_class, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    image = registry.update_storage_class(repository_name, image_id, target_storage_class)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "imageId": {"imageDigest": image.digest, "imageTag": image_id.get("imageTag")},
        "imageStatus": image.stored_status,
    }


@handler("ListImageReferrers")
def list_image_referrers(
    context, repository_name, subject_id, registry_id=None, filter=None, next_token=None, max_results=None, **kwargs
):
    registry = common.registry(context, registry_id)
    repository = registry.get_repository(repository_name)
    artifact_types = (filter or {}).get("artifactTypes")
    artifact_status = (filter or {}).get("artifactStatus", "ACTIVE")

    referrers = []
    with STATE_LOCK:
        for image in repository.images.values():
            if image.subject_digest != subject_id["imageDigest"]:
                continue
            if artifact_types and image.parsed.artifact_media_type not in artifact_types:
                continue
            if artifact_status != "ANY" and image.status != artifact_status:
                continue
            referrers.append(
                {
                    "digest": image.digest,
                    "mediaType": image.media_type,
                    "artifactType": image.parsed.artifact_media_type,
                    "size": len(image.manifest),
                    "annotations": image.parsed.annotations,
                    "artifactStatus": image.status,
                }
            )
    page, token = common.paginate(referrers, max_results, next_token, default_size=REFERRERS_PAGE_SIZE)
    return {"referrers": page, "nextToken": token}


# ListImageReferrers returns 20 referrers a page unless maxResults (1-50) says otherwise.
REFERRERS_PAGE_SIZE = 20
