"""PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy and the lifecycle policy preview."""

from ecr_emulator.api import common
from ecr_emulator.backend import lifecycle_policies
from ecr_emulator.protocol.dispatch import handler

# GetLifecyclePolicyPreview pages hold 100 results unless maxResults (1-100) says otherwise.
PREVIEW_PAGE_SIZE = 100


@handler("PutLifecyclePolicy")
def put_lifecycle_policy(context, repository_name, lifecycle_policy_text, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    lifecycle_policies.put_policy(registry, repository_name, lifecycle_policy_text)
    return {"registryId": registry.account_id, "repositoryName": repository_name, "lifecyclePolicyText": lifecycle_policy_text}


@handler("GetLifecyclePolicy")
def get_lifecycle_policy(context, repository_name, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    stored = lifecycle_policies.get_policy(registry, repository_name)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "lifecyclePolicyText": stored.text,
        "lastEvaluatedAt": stored.last_evaluated_at,
    }


@handler("DeleteLifecyclePolicy")
def delete_lifecycle_policy(context, repository_name, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    stored = lifecycle_policies.delete_policy(registry, repository_name)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "lifecyclePolicyText": stored.text,
        "lastEvaluatedAt": stored.last_evaluated_at,
    }


@handler("StartLifecyclePolicyPreview")
def start_lifecycle_policy_preview(context, repository_name, registry_id=None, lifecycle_policy_text=None, **kwargs):
    """Not emulated: LifecyclePolicyPreviewInProgressException, because a preview completes before the call returns."""
    registry = common.registry(context, registry_id)
    preview = lifecycle_policies.start_preview(registry, repository_name, lifecycle_policy_text)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "lifecyclePolicyText": preview.text,
        "status": "IN_PROGRESS",
    }


@handler("GetLifecyclePolicyPreview")
def get_lifecycle_policy_preview(
    context, repository_name, registry_id=None, image_ids=None, next_token=None, max_results=None, filter=None, **kwargs
):
    common.reject_ids_with_paging("imageIds", image_ids, max_results, next_token)
    registry = common.registry(context, registry_id)
    preview = lifecycle_policies.get_preview(registry, repository_name)

    actions = preview.actions
    if image_ids:
        actions = [action for action in actions if any(_identifies(image_id, action) for image_id in image_ids)]
    tag_status = (filter or {}).get("tagStatus", "ANY")
    if tag_status == "TAGGED":
        actions = [action for action in actions if action.tags]
    elif tag_status == "UNTAGGED":
        actions = [action for action in actions if not action.tags]

    page, token = common.paginate(actions, max_results, next_token, default_size=PREVIEW_PAGE_SIZE)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "lifecyclePolicyText": preview.text,
        "status": preview.status,
        "nextToken": token,
        "previewResults": [_preview_result(action) for action in page],
        "summary": _summary(preview),
    }


def _identifies(image_id: dict, action) -> bool:
    if image_id.get("imageDigest") and image_id["imageDigest"] != action.digest:
        return False
    if image_id.get("imageTag") and image_id["imageTag"] not in action.tags:
        return False
    return bool(image_id.get("imageDigest") or image_id.get("imageTag"))


def _preview_result(action) -> dict:
    result = {
        "imageDigest": action.digest,
        "imagePushedAt": action.pushed_at,
        "action": {"type": action.action},
        "appliedRulePriority": action.rule_priority,
        "storageClass": action.storage_class,
    }
    if action.tags:
        result["imageTags"] = list(action.tags)
    if action.target_storage_class:
        result["action"]["targetStorageClass"] = action.target_storage_class
    return result


def _summary(preview) -> dict:
    summary = {"expiringImageTotalCount": preview.expiring_count}
    if preview.transitioning_counts:
        summary["transitioningImageTotalCounts"] = [
            {"targetStorageClass": target, "imageTotalCount": count}
            for target, count in sorted(preview.transitioning_counts.items())
        ]
    return summary
