"""Repositories and the images, tags and layers they hold."""

import dataclasses
import datetime
import fnmatch

from ecr_emulator.backend import manifests
from ecr_emulator.backend.manifests import ParsedManifest
from ecr_emulator.core import clock

ACTIVE = "ACTIVE"
ARCHIVED = "ARCHIVED"
ACTIVATING = "ACTIVATING"


@dataclasses.dataclass
class Image:
    digest: str
    manifest: bytes
    media_type: str
    parsed: ParsedManifest
    pushed_at: datetime.datetime
    size: int
    tags: list[str] = dataclasses.field(default_factory=list)
    last_pulled_at: datetime.datetime | None = None
    stored_status: str = ACTIVE
    last_archived_at: datetime.datetime | None = None
    last_activated_at: datetime.datetime | None = None

    @property
    def status(self) -> str:
        """ACTIVE, ARCHIVED, or ACTIVATING until a restore's `last_activated_at` has come."""
        if self.stored_status == ACTIVATING and self.last_activated_at and clock.now() >= self.last_activated_at:
            self.stored_status = ACTIVE
        return self.stored_status

    def archive(self) -> None:
        self.stored_status = ARCHIVED
        self.last_archived_at = clock.now()

    def restore(self, delay: datetime.timedelta) -> None:
        """Start bringing an archived image back; it is ACTIVE once `delay` has passed on the clock."""
        self.stored_status = ACTIVATING if delay else ACTIVE
        self.last_activated_at = clock.now() + delay

    @property
    def child_digests(self) -> list[str]:
        return [child.digest for child in self.parsed.manifests]

    @property
    def subject_digest(self) -> str | None:
        return self.parsed.subject.digest if self.parsed.subject else None


@dataclasses.dataclass(frozen=True)
class Layer:
    size: int
    media_type: str | None = None
    # When the layer was uploaded to (or first referenced in) the repository; garbage collection
    # leaves unreferenced layers alone for a while after this, so a push in progress keeps them.
    added_at: datetime.datetime = dataclasses.field(default_factory=lambda: clock.now())


@dataclasses.dataclass
class Repository:
    name: str
    account_id: str
    region: str
    partition: str
    created_at: datetime.datetime
    image_tag_mutability: str = "MUTABLE"
    image_tag_mutability_exclusion_filters: list[dict] = dataclasses.field(default_factory=list)
    scan_on_push: bool = False
    encryption_configuration: dict = dataclasses.field(default_factory=lambda: {"encryptionType": "AES256"})
    resource_tags: dict[str, str] = dataclasses.field(default_factory=dict)
    policy_text: str | None = None
    images: dict[str, Image] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    layers: dict[str, Layer] = dataclasses.field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.account_id}:repository/{self.name}"

    def image_for_tag(self, tag: str) -> Image | None:
        digest = self.tags.get(tag)
        return self.images.get(digest) if digest else None

    def parents_of(self, digest: str) -> list[Image]:
        """Return the manifest lists and indexes of this repository that reference `digest`."""
        return [image for image in self.images.values() if digest in image.child_digests]

    def tag_is_immutable(self, tag: str) -> bool:
        """Tell whether an existing `tag` may not move, under the repository's mutability setting."""
        excluded = any(
            fnmatch.fnmatchcase(tag, item["filter"]) for item in self.image_tag_mutability_exclusion_filters
        )
        if self.image_tag_mutability == "IMMUTABLE":
            return True
        if self.image_tag_mutability == "IMMUTABLE_WITH_EXCLUSION":
            return not excluded
        if self.image_tag_mutability == "MUTABLE_WITH_EXCLUSION":
            return excluded
        return False

    def image_size(self, parsed: ParsedManifest) -> int:
        """Size as DescribeImages reports it: the layers' compressed bytes, or for an index, its largest child."""
        if parsed.is_index:
            sizes = [self.images[child.digest].size for child in parsed.manifests if child.digest in self.images]
            return max(sizes, default=0)
        if parsed.media_type in manifests.SCHEMA1_TYPES:
            return sum(self.layers[layer.digest].size for layer in parsed.layers if layer.digest in self.layers)
        return parsed.layers_size


def negotiate(image: Image, accepted_media_types: list[str] | None) -> tuple[bytes, str]:
    """Return the manifest in a media type the client accepts, converting as ECR does when it can.

    When no accepted type can be produced, the stored manifest is returned as it is.
    """
    if not accepted_media_types or image.media_type in accepted_media_types:
        return image.manifest, image.media_type
    for media_type in accepted_media_types:
        converted = manifests.convert(image.manifest, image.parsed, media_type)
        if converted is not None:
            return converted, media_type
    return image.manifest, image.media_type
