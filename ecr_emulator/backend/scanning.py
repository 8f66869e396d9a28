"""Basic image scanning in one registry: the scans of each image, their quotas, and scan on push.

A scan runs to its end inside the call that starts it: StartImageScan, or the push of an image to
a repository whose scan frequency is SCAN_ON_PUSH. So DescribeImageScanFindings reports COMPLETE
or FAILED straight away, and boto3's `image_scan_complete` waiter returns on its first poll. What
a scan finds comes from `ecr_emulator.scanning`: the image's layers against the advisory database.

Quotas, from the StartImageScan API reference: one basic scan per image per 24 hours, counting
the scan on push, and 100,000 basic scans per registry per 24 hours.

Scans are kept per scanner: the basic scanner that BASIC_SCAN_TYPE_VERSION names (AWS_NATIVE or
CLAIR). As the user guide describes, switching scanners or to enhanced scanning hides the scans
made before, and switching back shows them again.

Not emulated: enhanced scanning (Amazon Inspector), whose scans and findings live in Inspector.
"""

import collections
import dataclasses
import datetime
import logging

from ecr_emulator.api.errors import (
    ImageArchivedException,
    LimitExceededException,
    ScanNotFoundException,
    UnsupportedImageTypeException,
    ValidationException,
)
from ecr_emulator.backend import manifests, settings
from ecr_emulator.backend.images import ACTIVE, Image
from ecr_emulator.backend.registry import Registry, registry_for
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock, events
from ecr_emulator.scanning import advisories, findings, inventory

LOG = logging.getLogger(__name__)

IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
COMPLETE_DESCRIPTION = "The scan was completed successfully."

QUOTA_PERIOD = datetime.timedelta(hours=24)
MAX_SCANS_PER_REGISTRY = 100_000

# The configuration media types of images; any other marks an artifact, which is not scanned.
IMAGE_CONFIG_TYPES = (manifests.DOCKER_CONFIG, manifests.OCI_CONFIG)


@dataclasses.dataclass
class ImageScan:
    image_digest: str
    # The basic scanner that made the scan: AWS_NATIVE or CLAIR
    scanner: str
    status: str
    description: str
    completed_at: datetime.datetime
    vulnerability_source_updated_at: datetime.datetime | None
    findings: list[findings.Finding]
    severity_counts: dict[str, int]


@dataclasses.dataclass
class ScanningState:
    # (repository name, image digest) -> scanner -> the image's latest scan by that scanner
    scans: dict[tuple[str, str], dict[str, ImageScan]] = dataclasses.field(default_factory=dict)
    # (repository name, image digest) -> when the image's latest scan started
    last_started: dict[tuple[str, str], datetime.datetime] = dataclasses.field(default_factory=dict)
    # When the registry's scans of the last 24 hours started, oldest first
    recent_starts: collections.deque = dataclasses.field(default_factory=collections.deque)


def state_of(registry: Registry) -> ScanningState:
    return registry.feature_state("scanning", ScanningState)


def current_scanner(registry: Registry) -> str | None:
    """Return the basic scanner in use (AWS_NATIVE or CLAIR), or None under enhanced scanning."""
    if settings.scanning_configuration(registry)["scanType"] != settings.BASIC:
        return None
    return settings.get_account_setting(registry, "BASIC_SCAN_TYPE_VERSION")


def _describe_image_id(image_id: dict) -> str:
    return f"{{imageDigest:'{image_id.get('imageDigest') or 'null'}', imageTag:'{image_id.get('imageTag') or 'null'}'}}"


def start_image_scan(registry: Registry, repository_name: str, image_id: dict) -> Image:
    """Scan one image now (StartImageScan) and return it; the scan's result is stored for its image.

    Raises, in this order: RepositoryNotFoundException, ValidationException under enhanced
    scanning, ImageNotFoundException, ImageArchivedException, UnsupportedImageTypeException for
    manifest lists, image indexes and artifacts, LimitExceededException past a quota.
    """
    registry.get_repository(repository_name)
    scanner = current_scanner(registry)
    if scanner is None:
        # NOTE: AWS documents that StartImageScan starts basic scans only, but no error text for it.
        # This text is the one a user reported from StartImageScan, with its cause unconfirmed.
        raise ValidationException("This feature is disabled")
    image = registry.get_image(repository_name, image_id)
    if image.status != ACTIVE:
        # Archived, or still being restored. NOTE: AWS documents the exception (archived images must
        # be restored before they can be scanned), not its text.
        raise ImageArchivedException(
            f"The image with imageId {_describe_image_id(image_id)} in the repository with name '{repository_name}' "
            f"in the registry with id '{registry.account_id}' is archived and cannot be scanned. Restore the image "
            "before scanning it."
        )
    media_type = unscannable_media_type(image)
    if media_type is not None:
        raise UnsupportedImageTypeException(
            f"An artifact with media type '{media_type}' cannot be scanned. For more information, see the Amazon ECR "
            "documentation."
        )

    _claim_quota(registry, repository_name, image.digest)
    _scan(registry, repository_name, image, scanner)
    return image


def unscannable_media_type(image: Image) -> str | None:
    """Return the media type that makes an image unscannable (an index, an artifact), or None."""
    if image.parsed.is_index:
        return image.media_type
    artifact_type = image.parsed.artifact_media_type
    if artifact_type is not None and artifact_type not in IMAGE_CONFIG_TYPES:
        return artifact_type
    return None


def _claim_quota(registry: Registry, repository_name: str, digest: str) -> None:
    """Count one scan of the image against both quotas, or raise LimitExceededException."""
    now = clock.now()
    with STATE_LOCK:
        state = state_of(registry)
        started = state.last_started.get((repository_name, digest))
        if started is not None and now - started < QUOTA_PERIOD:
            raise LimitExceededException("The scan quota per image has been exceeded. Wait and try again.")
        while state.recent_starts and now - state.recent_starts[0] >= QUOTA_PERIOD:
            state.recent_starts.popleft()
        if len(state.recent_starts) >= MAX_SCANS_PER_REGISTRY:
            # NOTE: AWS documents this quota but not the error's text.
            raise LimitExceededException(
                f"The scan quota of {MAX_SCANS_PER_REGISTRY} basic scans per registry in 24 hours has been exceeded. "
                "Wait and try again."
            )
        state.last_started[(repository_name, digest)] = now
        state.recent_starts.append(now)


def _scan(registry: Registry, repository_name: str, image: Image, scanner: str) -> ImageScan:
    """Scan an image's layers, store the result for the image and return it."""
    database = advisories.current()
    try:
        image_inventory = inventory.read_layers(_layers_of(image))
        found = findings.find_vulnerabilities(image_inventory, database)
    except findings.UnsupportedImage as reason:
        LOG.info("scan of %s in %s failed: unsupported image (%s)", image.digest, repository_name, reason)
        scan = ImageScan(image.digest, scanner, FAILED, findings.UNSUPPORTED_IMAGE_DESCRIPTION, clock.now(), None, [], {})
    except Exception as error:  # a bug of ours: the scan fails, so waiters still end
        LOG.exception("scan of %s in %s raised", image.digest, repository_name)
        scan = ImageScan(
            image.digest, scanner, FAILED, f"ScanError: the emulator failed to scan the image: {error!r}", clock.now(), None, [], {}
        )
    else:
        scan = ImageScan(
            image.digest,
            scanner,
            COMPLETE,
            COMPLETE_DESCRIPTION,
            clock.now(),
            database.updated_at,
            found,
            findings.severity_counts(found),
        )
        LOG.info(
            "scan of %s in %s/%s/%s complete: %d packages, %d findings %s",
            image.digest,
            registry.account_id,
            registry.region_name,
            repository_name,
            len(image_inventory.packages),
            len(found),
            scan.severity_counts,
        )

    with STATE_LOCK:
        repository = registry.repositories.get(repository_name)
        if repository is not None and image.digest in repository.images:
            state_of(registry).scans.setdefault((repository_name, image.digest), {})[scanner] = scan
    return scan


def _layers_of(image: Image) -> list[inventory.LayerReference]:
    layers = [inventory.LayerReference(layer.digest, layer.media_type) for layer in image.parsed.layers]
    if image.media_type in manifests.SCHEMA1_TYPES:
        # Schema 1 lists fsLayers newest first.
        layers.reverse()
    return layers


def get_image_scan(registry: Registry, repository_name: str, image_id: dict) -> tuple[Image, ImageScan]:
    """Return an image and its latest scan by the scanner in use; raise ScanNotFoundException."""
    image = registry.get_image(repository_name, image_id)
    scanner = current_scanner(registry)
    with STATE_LOCK:
        scans = state_of(registry).scans.get((repository_name, image.digest), {})
        scan = scans.get(scanner) if scanner is not None else None
    if scan is None:
        raise ScanNotFoundException(
            f"Image scan does not exist for the image with '{_describe_image_id(image_id)}' in the repository with "
            f"name '{repository_name}' in the registry with id '{registry.account_id}'"
        )
    return image, scan


# Scan on push and clean-up


def _on_image_pushed(event: events.ImagePushed) -> None:
    registry = registry_for(event.account_id, event.region)
    repository = registry.repositories.get(event.repository_name)
    image = repository.images.get(event.image_digest) if repository is not None else None
    if image is None:
        return
    scanner = current_scanner(registry)
    frequency, _ = settings.scan_frequency_for(registry, repository)
    if scanner is None or frequency != settings.SCAN_ON_PUSH:
        return
    if image.status != ACTIVE or unscannable_media_type(image) is not None:
        return
    try:
        _claim_quota(registry, event.repository_name, image.digest)
    except LimitExceededException:
        LOG.debug("no scan on push of %s in %s: scanned in the last 24 hours", image.digest, event.repository_name)
        return
    _scan(registry, event.repository_name, image, scanner)


def _on_image_deleted(event: events.ImageDeleted) -> None:
    registry = registry_for(event.account_id, event.region)
    with STATE_LOCK:
        state = state_of(registry)
        state.scans.pop((event.repository_name, event.image_digest), None)
        state.last_started.pop((event.repository_name, event.image_digest), None)


def _on_repository_deleted(event: events.RepositoryDeleted) -> None:
    registry = registry_for(event.account_id, event.region)
    with STATE_LOCK:
        state = state_of(registry)
        for mapping in (state.scans, state.last_started):
            for key in [key for key in mapping if key[0] == event.repository_name]:
                del mapping[key]


events.subscribe(events.ImagePushed, _on_image_pushed)
events.subscribe(events.ImageDeleted, _on_image_deleted)
events.subscribe(events.RepositoryDeleted, _on_repository_deleted)
