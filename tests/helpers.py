"""Builders of real image content for tests: blobs uploaded through the API, and manifests."""

import hashlib
import json

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_blob(client, repository_name: str, data: bytes) -> dict:
    """Upload `data` with InitiateLayerUpload, UploadLayerPart and CompleteLayerUpload; return its descriptor."""
    upload_id = client.initiate_layer_upload(repositoryName=repository_name)["uploadId"]
    client.upload_layer_part(
        repositoryName=repository_name,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(data) - 1,
        layerPartBlob=data,
    )
    digest = sha256(data)
    client.complete_layer_upload(repositoryName=repository_name, uploadId=upload_id, layerDigests=[digest])
    return {"digest": digest, "size": len(data)}


def image_manifest(config: dict, layers: list[dict], media_type: str = DOCKER_MANIFEST) -> bytes:
    layer_type = DOCKER_LAYER if media_type == DOCKER_MANIFEST else "application/vnd.oci.image.layer.v1.tar+gzip"
    config_type = DOCKER_CONFIG if media_type == DOCKER_MANIFEST else "application/vnd.oci.image.config.v1+json"
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": config["digest"], "size": config["size"]},
        "layers": [{"mediaType": layer_type, "digest": layer["digest"], "size": layer["size"]} for layer in layers],
    }
    return json.dumps(body, indent=3).encode()


def push_image(client, repository_name: str, tag: str | None = None, seed: str = "a", layer_sizes=(100,)) -> dict:
    """Upload a config and layers made from `seed`, then PutImage; return the PutImage image."""
    config = upload_blob(client, repository_name, json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode())
    layers = [
        upload_blob(client, repository_name, (f"{seed}-{index}-".encode() * size)[:size])
        for index, size in enumerate(layer_sizes)
    ]
    manifest = image_manifest(config, layers)
    arguments = {"repositoryName": repository_name, "imageManifest": manifest.decode()}
    if tag is not None:
        arguments["imageTag"] = tag
    return client.put_image(**arguments)["image"]


def manifest_list(children: list[tuple[str, int]], media_type: str = DOCKER_MANIFEST_LIST) -> bytes:
    child_type = DOCKER_MANIFEST if media_type == DOCKER_MANIFEST_LIST else OCI_MANIFEST
    body = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {"mediaType": child_type, "digest": digest, "size": size, "platform": {"architecture": arch, "os": "linux"}}
            for (digest, size), arch in zip(children, ["amd64", "arm64", "s390x", "ppc64le"])
        ],
    }
    return json.dumps(body).encode()
