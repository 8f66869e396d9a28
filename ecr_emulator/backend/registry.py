"""The registry of one account in one region: its repositories, images and layer uploads.

Both faces of the emulator call the public methods here, so a `docker push` shows up in
DescribeImages and an image stored with PutImage can be pulled. Errors are the classes of
`ecr_emulator.api.errors`, with ECR's messages.
"""

import dataclasses
import datetime
import logging
import re
from typing import Callable, TypeVar

from moto.core.base_backend import BaseBackend

from ecr_emulator.api.errors import (
    EmptyUploadException,
    InvalidLayerException,
    InvalidLayerPartException,
    LayerAlreadyExistsException,
    LayerPartTooSmallException,
    UploadNotFoundException,
    ImageAlreadyExistsException,
    ImageDigestDoesNotMatchException,
    ImageNotFoundException,
    ImageStorageClassUpdateNotSupportedException,
    ImageTagAlreadyExistsException,
    InvalidParameterException,
    LayersNotFoundException,
    LimitExceededException,
    ReferencedImagesNotFoundException,
    RepositoryAlreadyExistsException,
    RepositoryNotEmptyException,
    RepositoryNotFoundException,
)
from ecr_emulator.backend import manifests, runtime
from ecr_emulator.backend.images import ACTIVE, ARCHIVED, Image, Layer, Repository
from ecr_emulator.backend.runtime import STATE_LOCK
from ecr_emulator.core import clock, events
from ecr_emulator.core.backends import RegionalState
from ecr_emulator.storage.base import DigestMismatch, digest_of

LOG = logging.getLogger(__name__)

FeatureState = TypeVar("FeatureState")

MAX_IMAGES_PER_REPOSITORY = 100_000
MAX_TAGS_PER_IMAGE = 1000
# ECR's quotas: every layer part but the last is at least 5 MiB; InitiateLayerUpload suggests 10 MiB.
MIN_LAYER_PART_SIZE = 5 * 1024 * 1024
LAYER_PART_SIZE = 10 * 1024 * 1024

# The tags ECR's API accepts, as its error messages quote the rule.
API_TAG_PATTERN = re.compile(r"[a-zA-Z0-9-_.]+")

# ImageFailureCode values of the model, with the reasons ECR gives.
IMAGE_NOT_FOUND = ("ImageNotFound", "Requested image not found")
MISSING_DIGEST_AND_TAG = ("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null")
INVALID_IMAGE_DIGEST = (
    "InvalidImageDigest",
    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
)
TAG_DOES_NOT_MATCH_DIGEST = ("ImageTagDoesNotMatchDigest", "Invalid request parameters: image tag does not match digest")
REFERENCED_BY_MANIFEST_LIST = ("ImageReferencedByManifestList", "Requested image referenced by manifest list: [{}]")


@dataclasses.dataclass
class ImageLookupFailure(Exception):
    code: str
    reason: str


class Registry(BaseBackend):
    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.repositories: dict[str, Repository] = {}
        # upload id -> repository name, for the uploads this registry started
        self.uploads: dict[str, str] = {}
        # upload id -> sizes of the parts that UploadLayerPart appended
        self.part_sizes: dict[str, list[int]] = {}
        self._feature_states: dict[str, object] = {}
        self.upload_started_at: dict[str, datetime.datetime] = {}

    def feature_state(self, name: str, factory: Callable[[], FeatureState]) -> FeatureState:
        """Return the state that a feature module (scanning, replication, ...) keeps in this registry.

        The state is created with `factory()` on first use and dropped with the registry, so feature
        modules keep their own state without adding fields here.
        """
        with STATE_LOCK:
            if name not in self._feature_states:
                self._feature_states[name] = factory()
            return self._feature_states[name]

    # Repositories

    def create_repository(self, name: str, **settings) -> Repository:
        with STATE_LOCK:
            if name in self.repositories:
                raise RepositoryAlreadyExistsException(
                    f"The repository with name '{name}' already exists in the registry with id '{self.account_id}'"
                )
            repository = Repository(
                name=name,
                account_id=self.account_id,
                region=self.region_name,
                partition=self.partition,
                created_at=clock.now(),
                **settings,
            )
            self.repositories[name] = repository
        events.publish(events.RepositoryCreated(self.account_id, self.region_name, name))
        return repository

    def get_repository(self, name: str) -> Repository:
        repository = self.repositories.get(name)
        if repository is None:
            raise RepositoryNotFoundException(
                f"The repository with name '{name}' does not exist in the registry with id '{self.account_id}'"
            )
        return repository

    def delete_repository(self, name: str, force: bool = False) -> Repository:
        with STATE_LOCK:
            repository = self.get_repository(name)
            if repository.images and not force:
                raise RepositoryNotEmptyException(
                    f"The repository with name '{name}' in registry with id '{self.account_id}' "
                    "cannot be deleted because it still contains images"
                )
            del self.repositories[name]
            for upload_id, repository_name in list(self.uploads.items()):
                if repository_name == name:
                    self._drop_upload(upload_id)
        events.publish(events.RepositoryDeleted(self.account_id, self.region_name, name, tuple(repository.layers)))
        return repository

    def repository_uri(self, repository: Repository) -> str:
        return f"{runtime.registry_host(self.account_id, self.region_name)}/{repository.name}"

    # Images

    def put_image(
        self,
        repository_name: str,
        manifest: bytes,
        media_type: str | None = None,
        tag: str | None = None,
        expected_digest: str | None = None,
        idempotent: bool = False,
    ) -> Image:
        """Store a manifest, optionally under a tag, and return its image.

        With `idempotent` (a /v2/ push), storing a manifest and tag that are already there succeeds;
        the API's PutImage raises ImageAlreadyExistsException instead, as ECR does.
        """
        self.get_repository(repository_name)
        if tag is not None and not API_TAG_PATTERN.fullmatch(tag):
            raise InvalidParameterException(
                f"Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression "
                f"'{API_TAG_PATTERN.pattern}''"
            )
        digest = digest_of(manifest)
        if expected_digest is not None and expected_digest != digest:
            raise ImageDigestDoesNotMatchException(
                f"Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The digest {expected_digest} "
                f"does not match the digest {digest} of the image manifest'"
            )
        try:
            parsed = manifests.parse(manifest, media_type)
        except manifests.InvalidManifest as error:
            detail = f"Invalid JSON syntax: {error}" if error.syntax else str(error)
            raise InvalidParameterException(
                f"Invalid parameter at 'imageManifest' failed to satisfy constraint: '{detail}'"
            ) from None

        with STATE_LOCK:
            repository = self.get_repository(repository_name)
            self._check_references(repository, parsed)
            existing = repository.images.get(digest)
            if tag is not None:
                self._check_tag_move(repository, tag, digest)
            if existing is not None and (tag is None or tag in existing.tags) and existing.status == ACTIVE:
                if idempotent:
                    return existing
                raise ImageAlreadyExistsException(
                    f"Image with digest '{digest}' and tag '{tag or 'null'}' already exists in the repository with name "
                    f"'{repository_name}' in registry with id '{self.account_id}'"
                )
            image = existing or self._add_image(repository, digest, manifest, parsed)
            if image.status != ACTIVE:
                # Pushing an archived image again restores it at once.
                image.restore(datetime.timedelta(0))
            if tag is not None:
                self._move_tag(repository, tag, image)

        LOG.info("image %s pushed to %s/%s/%s with tag %s", digest, self.account_id, self.region_name, repository_name, tag)
        events.publish(events.ImagePushed(self.account_id, self.region_name, repository_name, digest, tag))
        return image

    def _check_references(self, repository: Repository, parsed: manifests.ParsedManifest) -> None:
        if parsed.is_index:
            missing = [child.digest for child in parsed.manifests if child.digest not in repository.images]
            if missing:
                raise ReferencedImagesNotFoundException(
                    f"Images with digests [{', '.join(missing)}] required for pushing image into repository with "
                    f"name '{repository.name}' in the registry with id '{self.account_id}' do not exist"
                )
            return
        for digest in parsed.blob_digests:
            if digest not in repository.layers:
                raise LayersNotFoundException(
                    f"The layer with digest {digest} does not exist within the repository with name "
                    f"'{repository.name}' in the registry with id '{self.account_id}'"
                )

    def _check_tag_move(self, repository: Repository, tag: str, digest: str) -> None:
        current = repository.tags.get(tag)
        if current is not None and current != digest and repository.tag_is_immutable(tag):
            raise ImageTagAlreadyExistsException(
                f"The image tag '{tag}' already exists in the '{repository.name}' repository and cannot be "
                "overwritten because the repository is immutable."
            )
        image = repository.images.get(digest)
        if image is not None and tag not in image.tags and len(image.tags) >= MAX_TAGS_PER_IMAGE:
            raise LimitExceededException(
                f"Adding tag '{tag}' to an image in the repository with name '{repository.name}' in registry with id "
                f"'{self.account_id}' exceeds the maximum allowed number of tags per image which is "
                f"'{MAX_TAGS_PER_IMAGE}'"
            )

    def _add_image(self, repository: Repository, digest: str, manifest: bytes, parsed) -> Image:
        if len(repository.images) >= MAX_IMAGES_PER_REPOSITORY:
            raise LimitExceededException(
                f"The maximum number of images ({MAX_IMAGES_PER_REPOSITORY}) in the repository with name "
                f"'{repository.name}' in the registry with id '{self.account_id}' has been reached."
            )
        image = Image(
            digest=digest,
            manifest=manifest,
            media_type=parsed.media_type,
            parsed=parsed,
            pushed_at=clock.now(),
            size=repository.image_size(parsed),
        )
        repository.images[digest] = image
        return image

    def _move_tag(self, repository: Repository, tag: str, image: Image) -> None:
        previous = repository.image_for_tag(tag)
        if previous is not None and previous is not image:
            previous.tags.remove(tag)
        if tag not in image.tags:
            image.tags.append(tag)
        repository.tags[tag] = image.digest

    def find_image(self, repository: Repository, image_id: dict) -> Image:
        """Resolve an ImageIdentifier; raise ImageLookupFailure with ECR's failure code and reason."""
        digest, tag = image_id.get("imageDigest"), image_id.get("imageTag")
        if digest is None and tag is None:
            raise ImageLookupFailure(*MISSING_DIGEST_AND_TAG)
        if digest is not None and not manifests.API_DIGEST_PATTERN.fullmatch(digest):
            raise ImageLookupFailure(*INVALID_IMAGE_DIGEST)
        image = repository.images.get(digest) if digest is not None else repository.image_for_tag(tag)
        if image is None:
            raise ImageLookupFailure(*IMAGE_NOT_FOUND)
        if tag is not None and tag not in image.tags:
            if repository.image_for_tag(tag) is None:
                raise ImageLookupFailure(*IMAGE_NOT_FOUND)
            raise ImageLookupFailure(*TAG_DOES_NOT_MATCH_DIGEST)
        return image

    def get_image(self, repository_name: str, image_id: dict) -> Image:
        """Return one image, raising ImageNotFoundException with ECR's message when absent."""
        repository = self.get_repository(repository_name)
        try:
            return self.find_image(repository, image_id)
        except ImageLookupFailure:
            raise ImageNotFoundException(
                f"The image with imageId {{imageDigest:'{image_id.get('imageDigest') or 'null'}', "
                f"imageTag:'{image_id.get('imageTag') or 'null'}'}} does not exist within the repository with "
                f"name '{repository_name}' in the registry with id '{self.account_id}'"
            ) from None

    def update_storage_class(self, repository_name: str, image_id: dict, target: str) -> Image:
        """Archive an active image, or start restoring an archived one (UpdateImageStorageClass)."""
        with STATE_LOCK:
            image = self.get_image(repository_name, image_id)
            status = image.status
            if target == "ARCHIVE" and status == ACTIVE:
                image.archive()
            elif target == "STANDARD" and status == ARCHIVED:
                image.restore(runtime.current().restore_delay)
            else:
                raise ImageStorageClassUpdateNotSupportedException(
                    f"The image with digest '{image.digest}' is {status} and cannot be transitioned to {target}"
                )
        LOG.info("image %s in %s moved to storage class %s", image.digest, repository_name, target)
        if target == "STANDARD":
            # A restored image behaves like a fresh push for scanning, replication and lifecycle.
            events.publish(events.ImagePushed(self.account_id, self.region_name, repository_name, image.digest, None))
        return image

    def record_pull(self, repository_name: str, image: Image) -> None:
        image.last_pulled_at = clock.now()
        events.publish(events.ImagePulled(self.account_id, self.region_name, repository_name, image.digest))

    def delete_image_ids(self, repository_name: str, image_ids: list[dict]) -> tuple[list[dict], list[dict]]:
        """Delete images by tag or digest as BatchDeleteImage does; return (deleted ids, failures).

        Deleting by tag removes that tag, and the image with it when it was its last tag. Deleting by
        digest removes the image and all its tags. An image that a manifest list or index of the
        repository references is not deleted.
        """
        deleted, failures, removed = [], [], []
        with STATE_LOCK:
            repository = self.get_repository(repository_name)
            for image_id in image_ids:
                try:
                    image = self.find_image(repository, image_id)
                except ImageLookupFailure as failure:
                    failures.append({"imageId": image_id, "failureCode": failure.code, "failureReason": failure.reason})
                    continue
                tag = image_id.get("imageTag")
                if tag is not None and image_id.get("imageDigest") is None and len(image.tags) > 1:
                    image.tags.remove(tag)
                    del repository.tags[tag]
                    deleted.append({"imageDigest": image.digest, "imageTag": tag})
                    continue
                parents = [parent.digest for parent in repository.parents_of(image.digest)]
                if parents:
                    code, reason = REFERENCED_BY_MANIFEST_LIST
                    failures.append({"imageId": image_id, "failureCode": code, "failureReason": reason.format(", ".join(parents))})
                    continue
                deleted.extend(self._remove_image(repository, image))
                removed.append(image.digest)
        for digest in removed:
            events.publish(events.ImageDeleted(self.account_id, self.region_name, repository_name, digest))
        return deleted, failures

    def expire_images(self, repository_name: str, digests: list[str]) -> set[str]:
        """Remove images that a lifecycle policy expired, parents before the images they reference.

        Unlike BatchDeleteImage, an index and its children expired together are all removed.
        Returns the digests removed.
        """
        removed = set()
        with STATE_LOCK:
            repository = self.get_repository(repository_name)

            def is_parent(digest: str) -> bool:
                image = repository.images.get(digest)
                return image is not None and bool(image.child_digests)

            ordered = sorted(digests, key=lambda digest: not is_parent(digest))
            for digest in ordered:
                image = repository.images.get(digest)
                if image is None:
                    continue
                self._remove_image(repository, image)
                removed.add(digest)
        for digest in removed:
            events.publish(events.ImageDeleted(self.account_id, self.region_name, repository_name, digest))
        return removed

    def _remove_image(self, repository: Repository, image: Image) -> list[dict]:
        del repository.images[image.digest]
        for tag in image.tags:
            repository.tags.pop(tag, None)
        if not image.tags:
            return [{"imageDigest": image.digest}]
        return [{"imageDigest": image.digest, "imageTag": tag} for tag in image.tags]

    # Layers and uploads

    def add_layer(self, repository_name: str, digest: str, size: int, media_type: str | None = None) -> None:
        with STATE_LOCK:
            self.get_repository(repository_name).layers[digest] = Layer(size, media_type)

    def layer(self, repository_name: str, digest: str) -> Layer | None:
        """Return the layer if the repository contains it and its bytes are stored."""
        repository = self.get_repository(repository_name)
        layer = repository.layers.get(digest)
        if layer is None or runtime.current().blob_store.stat(digest) is None:
            return None
        return layer

    def mount_blob(self, repository_name: str, digest: str, source_name: str) -> bool:
        """Make a blob of another repository of this registry a layer of `repository_name` without upload.

        As ECR does, this needs the BLOB_MOUNTING account setting ENABLED and the same encryption
        configuration on both repositories. The OCI specification lets any blob the source contains be
        mounted. With ECR's quirks on, only blobs that an image of the source references can be, as
        in ECR. Returns False when the blob cannot be mounted, and the client then uploads it.
        """
        from ecr_emulator.backend.settings import get_account_setting

        with STATE_LOCK:
            target = self.get_repository(repository_name)
            source = self.repositories.get(source_name)
            if source is None or get_account_setting(self, "BLOB_MOUNTING") != "ENABLED":
                return False
            if source.encryption_configuration != target.encryption_configuration:
                return False
            layer = source.layers.get(digest)
            if layer is None or runtime.current().blob_store.stat(digest) is None:
                return False
            if runtime.current().ecr_quirks and not any(digest in image.parsed.blob_digests for image in source.images.values()):
                return False
            target.layers[digest] = Layer(layer.size, layer.media_type)
        return True

    def start_upload(self, repository_name: str):
        with STATE_LOCK:
            self.get_repository(repository_name)
            session = runtime.current().blob_store.start_upload()
            self.uploads[session.id] = repository_name
            self.upload_started_at[session.id] = clock.now()
        return session

    def get_upload(self, repository_name: str, upload_id: str):
        """Return the open upload session `upload_id` of the repository, or None.

        A session older than the runtime's upload expiry is cancelled and reported as None.
        """
        if self.uploads.get(upload_id) != repository_name:
            return None
        started_at = self.upload_started_at.get(upload_id)
        if started_at is not None and clock.now() - started_at > runtime.current().upload_expiry:
            LOG.info("upload %s to %s expired", upload_id, repository_name)
            self.cancel_upload(upload_id)
            return None
        try:
            return runtime.current().blob_store.get_upload(upload_id)
        except KeyError:
            self.uploads.pop(upload_id, None)
            return None

    def finish_upload(self, repository_name: str, session, expected_digest: str) -> str:
        """Commit an upload session as a layer of the repository; return its digest.

        Raises storage.DigestMismatch, storing nothing, when the bytes do not hash to `expected_digest`.
        """
        # The commit and the layer record happen under one lock, so garbage collection never sees
        # the new blob without the repository that contains it.
        with STATE_LOCK:
            digest = session.commit(expected_digest)
            self.uploads.pop(session.id, None)
            self.upload_started_at.pop(session.id, None)
            self.part_sizes.pop(session.id, None)
            repository = self.repositories.get(repository_name)
            if repository is not None:
                repository.layers[digest] = Layer(session.size)
        return digest

    def upload_layer_part(self, repository_name: str, upload_id: str, first_byte: int, last_byte: int, data: bytes) -> int:
        """Append one part of an API upload (UploadLayerPart); return the last byte received."""
        with STATE_LOCK:
            self.get_repository(repository_name)
            session = self.get_upload(repository_name, upload_id)
            if session is None:
                raise UploadNotFoundException(
                    f"The upload with id '{upload_id}' does not exist in the repository with name "
                    f"'{repository_name}' in the registry with id '{self.account_id}'"
                )
            if first_byte != session.size or last_byte - first_byte + 1 != len(data):
                raise InvalidLayerPartException(
                    f"The layer part with first byte {first_byte} and last byte {last_byte} is not contiguous with "
                    f"the {session.size} bytes received, or does not match the part's length of {len(data)} bytes",
                    registryId=self.account_id,
                    repositoryName=repository_name,
                    uploadId=upload_id,
                    lastValidByteReceived=session.size - 1,
                )
            session.append(data)
            self.part_sizes.setdefault(upload_id, []).append(len(data))
            return session.size - 1

    def complete_layer_upload(self, repository_name: str, upload_id: str, digest: str) -> str:
        """Commit an API upload (CompleteLayerUpload) under `digest`; return the digest."""
        with STATE_LOCK:
            repository = self.get_repository(repository_name)
            session = self.get_upload(repository_name, upload_id)
            if session is None:
                raise UploadNotFoundException(
                    f"The upload with id '{upload_id}' does not exist in the repository with name "
                    f"'{repository_name}' in the registry with id '{self.account_id}'"
                )
            parts = self.part_sizes.get(upload_id, [])
            if not parts:
                raise EmptyUploadException(f"The upload with id '{upload_id}' has no layer parts")
            if any(size < MIN_LAYER_PART_SIZE for size in parts[:-1]):
                raise LayerPartTooSmallException(
                    f"Every layer part but the last must be at least {MIN_LAYER_PART_SIZE} bytes"
                )
            if digest in repository.layers and runtime.current().blob_store.stat(digest) is not None:
                raise LayerAlreadyExistsException(
                    f"The layer with digest {digest} already exists in the repository with name '{repository_name}' "
                    f"in the registry with id '{self.account_id}'"
                )
            try:
                committed = self.finish_upload(repository_name, session, digest)
            except DigestMismatch as mismatch:
                raise InvalidLayerException(
                    f"The digest {digest} does not match the digest {mismatch.actual} of the uploaded layer"
                ) from None
            self.part_sizes.pop(upload_id, None)
            return committed

    def cancel_upload(self, upload_id: str) -> None:
        with STATE_LOCK:
            self._drop_upload(upload_id)

    def _drop_upload(self, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)
        self.upload_started_at.pop(upload_id, None)
        self.part_sizes.pop(upload_id, None)
        try:
            runtime.current().blob_store.get_upload(upload_id).cancel()
        except KeyError:
            pass


registries: RegionalState[Registry] = RegionalState(Registry, "ecr")


def registry_for(account_id: str, region: str) -> Registry:
    return registries.get(account_id, region)
