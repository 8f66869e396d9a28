"""Read image manifests and indexes: media type, referenced blobs and child manifests, subject.

A manifest is stored byte for byte and its digest is the sha256 of those bytes; this module only
reads what the backend needs to check references and to describe the image.
"""

import dataclasses
import json
import re

DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

IMAGE_MANIFEST_TYPES = (DOCKER_SCHEMA2, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
SCHEMA1_TYPES = (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED)
SUPPORTED_TYPES = IMAGE_MANIFEST_TYPES + INDEX_TYPES + SCHEMA1_TYPES

# A Docker image's configuration; any other config media type marks an artifact (Helm chart,
# BuildKit cache, signature), which DescribeImages shows as artifactMediaType.
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

DIGEST_PATTERN = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
# The stricter form ECR requires of digests in API requests: an algorithm, a colon and hex digits.
API_DIGEST_PATTERN = re.compile(r"[a-zA-Z0-9_+.-]+:[a-fA-F0-9]+")


class InvalidManifest(ValueError):
    """The bytes are not a manifest of a supported media type; `syntax` when they are not even JSON."""

    def __init__(self, message: str, syntax: bool = False):
        super().__init__(message)
        self.syntax = syntax


@dataclasses.dataclass(frozen=True)
class Descriptor:
    media_type: str | None
    digest: str
    size: int
    platform: dict | None = None
    artifact_type: str | None = None
    annotations: dict | None = None


@dataclasses.dataclass(frozen=True)
class ParsedManifest:
    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...]
    manifests: tuple[Descriptor, ...]
    subject: Descriptor | None
    artifact_type: str | None
    annotations: dict | None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def blob_digests(self) -> list[str]:
        """Digests of the blobs (config and layers) the manifest needs in its repository."""
        blobs = [self.config.digest] if self.config else []
        return blobs + [layer.digest for layer in self.layers]

    @property
    def artifact_media_type(self) -> str | None:
        """The configuration's media type, as ECR reports it for images and artifacts alike."""
        if self.artifact_type:
            return self.artifact_type
        return self.config.media_type if self.config else None

    @property
    def layers_size(self) -> int:
        return sum(layer.size for layer in self.layers)


def parse(data: bytes, media_type: str | None = None) -> ParsedManifest:
    """Read `data` as a manifest of `media_type`, or of the media type its body declares."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidManifest(f"the manifest is not valid JSON: {error}", syntax=True) from None
    if not isinstance(body, dict):
        raise InvalidManifest("the manifest must be a JSON object")

    declared = body.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise InvalidManifest("the manifest's mediaType must be a string")
    kind = declared or media_type or _guess_media_type(body)
    if kind not in SUPPORTED_TYPES:
        raise InvalidManifest(f"unsupported manifest media type {kind!r}")
    if declared and media_type and declared != media_type and media_type not in SCHEMA1_TYPES:
        raise InvalidManifest(f"the manifest declares mediaType {declared!r}, not {media_type!r}")

    if kind in SCHEMA1_TYPES:
        return _parse_schema1(body, kind)
    if body.get("schemaVersion") != 2:
        raise InvalidManifest("the manifest's schemaVersion must be 2")
    if kind in INDEX_TYPES:
        return _parse_index(body, kind)
    return _parse_image_manifest(body, kind)


def _guess_media_type(body: dict) -> str | None:
    if body.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1_SIGNED if "signatures" in body else DOCKER_SCHEMA1
    if "manifests" in body:
        return OCI_INDEX
    if "config" in body or "layers" in body:
        return OCI_MANIFEST
    return None


def _parse_image_manifest(body: dict, kind: str) -> ParsedManifest:
    if "config" not in body:
        raise InvalidManifest("the manifest has no config")
    layers = body.get("layers", [])
    if not isinstance(layers, list):
        raise InvalidManifest("the manifest's layers must be a list")
    return ParsedManifest(
        media_type=kind,
        config=_descriptor(body["config"], "config"),
        layers=tuple(_descriptor(layer, f"layers[{index}]") for index, layer in enumerate(layers)),
        manifests=(),
        subject=_descriptor(body["subject"], "subject") if body.get("subject") else None,
        artifact_type=_optional_string(body, "artifactType"),
        annotations=body.get("annotations") if isinstance(body.get("annotations"), dict) else None,
    )


def _parse_index(body: dict, kind: str) -> ParsedManifest:
    manifests = body.get("manifests")
    if not isinstance(manifests, list):
        raise InvalidManifest("the index's manifests must be a list")
    return ParsedManifest(
        media_type=kind,
        config=None,
        layers=(),
        manifests=tuple(_descriptor(item, f"manifests[{index}]") for index, item in enumerate(manifests)),
        subject=_descriptor(body["subject"], "subject") if body.get("subject") else None,
        artifact_type=_optional_string(body, "artifactType"),
        annotations=body.get("annotations") if isinstance(body.get("annotations"), dict) else None,
    )


def _parse_schema1(body: dict, kind: str) -> ParsedManifest:
    layers = body.get("fsLayers")
    if not isinstance(layers, list):
        raise InvalidManifest("the schema 1 manifest has no fsLayers list")
    descriptors = []
    for index, layer in enumerate(layers):
        digest = layer.get("blobSum") if isinstance(layer, dict) else None
        if not isinstance(digest, str) or not DIGEST_PATTERN.match(digest):
            raise InvalidManifest(f"fsLayers[{index}].blobSum is not a digest")
        descriptors.append(Descriptor(media_type=None, digest=digest, size=0))
    return ParsedManifest(kind, None, tuple(descriptors), (), None, None, None)


def _descriptor(value, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise InvalidManifest(f"{where} must be a descriptor object")
    digest = value.get("digest")
    size = value.get("size")
    if not isinstance(digest, str) or not DIGEST_PATTERN.match(digest):
        raise InvalidManifest(f"{where}.digest is not a digest")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidManifest(f"{where}.size must be a non-negative integer")
    media_type = value.get("mediaType")
    if media_type is not None and not isinstance(media_type, str):
        raise InvalidManifest(f"{where}.mediaType must be a string")
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        platform=value.get("platform") if isinstance(value.get("platform"), dict) else None,
        artifact_type=_optional_string(value, "artifactType"),
        annotations=value.get("annotations") if isinstance(value.get("annotations"), dict) else None,
    )


def _optional_string(body: dict, key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) else None


# Media types that change when a manifest moves between the Docker and OCI formats.
_DOCKER_TO_OCI = {
    DOCKER_SCHEMA2: OCI_MANIFEST,
    DOCKER_CONFIG: OCI_CONFIG,
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
}
_OCI_TO_DOCKER = {oci: docker for docker, oci in _DOCKER_TO_OCI.items()}


def convert(data: bytes, parsed: ParsedManifest, target: str) -> bytes | None:
    """Return the manifest rewritten as `target`, or None when ECR would not convert it.

    ECR converts Docker schema 2 image manifests to OCI and OCI to Docker schema 2 when a client
    accepts only the other format. An OCI artifact (another config type, or artifactType) has no
    Docker form. Not emulated: the down-conversion to Docker schema 1.
    """
    if parsed.media_type == target:
        return data
    if parsed.media_type == DOCKER_SCHEMA2 and target == OCI_MANIFEST:
        table = _DOCKER_TO_OCI
    elif parsed.media_type == OCI_MANIFEST and target == DOCKER_SCHEMA2:
        if parsed.artifact_type or parsed.subject or (parsed.config and parsed.config.media_type != OCI_CONFIG):
            return None
        table = _OCI_TO_DOCKER
    else:
        return None
    body = json.loads(data)
    body["mediaType"] = target
    for descriptor in [body.get("config", {}), *body.get("layers", [])]:
        if descriptor.get("mediaType") in table:
            descriptor["mediaType"] = table[descriptor["mediaType"]]
        elif descriptor.get("mediaType") is not None:
            return None
    return json.dumps(body, indent=3).encode()
