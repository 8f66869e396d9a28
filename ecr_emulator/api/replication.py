"""Replication: the registry's replication configuration, image replication statuses and replication
backfills."""

from ecr_emulator.api import common
from ecr_emulator.backend import replication
from ecr_emulator.protocol.dispatch import handler

# ListReplicationBackfills returns up to 25 backfills a page unless maxResults sets another size.
BACKFILL_PAGE_SIZE = 25


@handler("DescribeRegistry")
def describe_registry(context, **kwargs):
    registry = common.registry(context)
    return {"registryId": registry.account_id, "replicationConfiguration": replication.replication_configuration(registry)}


@handler("PutReplicationConfiguration")
def put_replication_configuration(context, replication_configuration, **kwargs):
    """Not emulated: the replication service-linked role that the first call creates in AWS."""
    registry = common.registry(context)
    configuration = replication.put_replication_configuration(registry, replication_configuration)
    return {"replicationConfiguration": configuration}


@handler("DescribeImageReplicationStatus")
def describe_image_replication_status(context, repository_name, image_id, registry_id=None, **kwargs):
    """Return the replication statuses recorded for the image, an empty list before any replication.

    Not emulated: replication itself, so no status is recorded yet.
    """
    registry = common.registry(context, registry_id)
    image = registry.get_image(repository_name, image_id)
    resolved = {"imageDigest": image.digest}
    if image_id.get("imageTag") is not None:
        resolved["imageTag"] = image_id["imageTag"]
    return {
        "repositoryName": repository_name,
        "imageId": resolved,
        "replicationStatuses": replication.image_replication_statuses(registry, repository_name, image.digest),
    }


@handler("StartReplicationBackfill")
def start_replication_backfill(context, destination, registry_id=None, **kwargs):
    """Start a backfill that plans one replication per image and tag that the destination's rules select.

    A backfill with nothing to replicate is COMPLETE at once.
    Not emulated: copying the images, so a backfill with images to copy stays IN_PROGRESS until stopped.
    """
    registry = common.registry(context, registry_id)
    backfill = replication.start_backfill(registry, destination)
    return {
        "replicationBackfillId": backfill.id,
        "registryId": registry.account_id,
        "destination": backfill.destination,
        "status": backfill.status,
        "startedAt": backfill.started_at,
    }


@handler("StopReplicationBackfill")
def stop_replication_backfill(context, replication_backfill_id, registry_id=None, **kwargs):
    """Stop a PREPARING or IN_PROGRESS backfill.

    Not emulated: the STOPPING status, because no replication is in flight; the backfill is STOPPED at once.
    """
    registry = common.registry(context, registry_id)
    backfill = replication.stop_backfill(registry, replication_backfill_id)
    return {
        "registryId": registry.account_id,
        "replicationBackfillId": backfill.id,
        "destination": backfill.destination,
        "status": backfill.status,
        "startedAt": backfill.started_at,
    }


@handler("ListReplicationBackfills")
def list_replication_backfills(context, registry_id=None, max_results=None, next_token=None, **kwargs):
    registry = common.registry(context, registry_id)
    backfills = replication.list_backfills(registry)
    page, token = common.paginate(backfills, max_results, next_token, BACKFILL_PAGE_SIZE)
    return {"registryId": registry.account_id, "backfills": [backfill.summary() for backfill in page], "nextToken": token}


@handler("DescribeReplicationBackfillResults")
def describe_replication_backfill_results(
    context, replication_backfill_id, registry_id=None, result_status_filter=None, max_results=None, next_token=None, **kwargs
):
    registry = common.registry(context, registry_id)
    backfill = replication.get_backfill(registry, replication_backfill_id)

    answer = {"registryId": registry.account_id, **backfill.summary()}
    # Per-image results exist only once the backfill has reached a terminal status.
    if backfill.status in replication.BACKFILL_TERMINAL:
        results = [
            result for result in backfill.results if result_status_filter in (None, result["status"])
        ]
        answer["results"], answer["nextToken"] = common.paginate(results, max_results, next_token)
    return answer
