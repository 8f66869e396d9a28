"""StartImageScan and DescribeImageScanFindings: basic scanning of images for OS vulnerabilities."""

from ecr_emulator.api import common
from ecr_emulator.backend import scanning
from ecr_emulator.protocol.dispatch import handler


def _response_image_id(digest: str, image_id: dict) -> dict:
    """Return the image id as ECR echoes it: the digest, and the tag when the request named one."""
    return {"imageDigest": digest, "imageTag": image_id.get("imageTag")}


@handler("StartImageScan")
def start_image_scan(context, repository_name, image_id, registry_id=None, **kwargs):
    """Scan the image at once; the response still reports IN_PROGRESS, as ECR's does.

    Not emulated: enhanced scanning (Amazon Inspector); under it StartImageScan raises ValidationException.
    """
    registry = common.registry(context, registry_id)
    image = scanning.start_image_scan(registry, repository_name, image_id)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "imageId": _response_image_id(image.digest, image_id),
        "imageScanStatus": {"status": scanning.IN_PROGRESS},
    }


@handler("DescribeImageScanFindings")
def describe_image_scan_findings(
    context, repository_name, image_id, registry_id=None, next_token=None, max_results=None, **kwargs
):
    """Return the latest basic scan of the image, its findings a page at a time, most severe first.

    Not emulated: enhancedFindings; under enhanced scanning no basic scan is shown (ScanNotFoundException).
    """
    registry = common.registry(context, registry_id)
    image, scan = scanning.get_image_scan(registry, repository_name, image_id)
    response = {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "imageId": _response_image_id(image.digest, image_id),
        "imageScanStatus": {"status": scan.status, "description": scan.description},
    }
    if scan.status != scanning.COMPLETE:
        return response

    page, token = common.paginate(scan.findings, max_results, next_token)
    response["imageScanFindings"] = {
        "imageScanCompletedAt": scan.completed_at,
        "vulnerabilitySourceUpdatedAt": scan.vulnerability_source_updated_at,
        "findingSeverityCounts": scan.severity_counts,
        "findings": [
            {
                "name": finding.name,
                "description": finding.description,
                "uri": finding.uri,
                "severity": finding.severity,
                "attributes": finding.attributes(),
            }
            for finding in page
        ],
    }
    response["nextToken"] = token
    return response
