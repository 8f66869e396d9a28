"""The layer operations of the API: uploads in parts, availability checks and download URLs."""

from ecr_emulator.api import common
from ecr_emulator.api.errors import LayerInaccessibleException, LayersNotFoundException
from ecr_emulator.backend import manifests, runtime
from ecr_emulator.backend.registry import LAYER_PART_SIZE
from ecr_emulator.protocol.dispatch import handler


@handler("InitiateLayerUpload")
def initiate_layer_upload(context, repository_name, registry_id=None, **kwargs):
    session = common.registry(context, registry_id).start_upload(repository_name)
    return {"uploadId": session.id, "partSize": LAYER_PART_SIZE}


@handler("UploadLayerPart")
def upload_layer_part(
    context, repository_name, upload_id, part_first_byte, part_last_byte, layer_part_blob, registry_id=None, **kwargs
):
    registry = common.registry(context, registry_id)
    last_byte = registry.upload_layer_part(repository_name, upload_id, part_first_byte, part_last_byte, layer_part_blob)
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "uploadId": upload_id,
        "lastByteReceived": last_byte,
    }


@handler("CompleteLayerUpload")
def complete_layer_upload(context, repository_name, upload_id, layer_digests, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    digest = registry.complete_layer_upload(repository_name, upload_id, layer_digests[0])
    return {
        "registryId": registry.account_id,
        "repositoryName": repository_name,
        "uploadId": upload_id,
        "layerDigest": digest,
    }


@handler("BatchCheckLayerAvailability")
def batch_check_layer_availability(context, repository_name, layer_digests, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    registry.get_repository(repository_name)
    layers, failures = [], []

    for digest in layer_digests:
        if not manifests.API_DIGEST_PATTERN.fullmatch(digest):
            failures.append(
                {"layerDigest": digest, "failureCode": "InvalidLayerDigest", "failureReason": "Invalid layer digest"}
            )
            continue
        layer = registry.layer(repository_name, digest)
        if layer is None:
            failures.append(
                {"layerDigest": digest, "failureCode": "MissingLayerDigest", "failureReason": "Could not find layer"}
            )
            continue
        layers.append(
            {"layerDigest": digest, "layerAvailability": "AVAILABLE", "layerSize": layer.size, "mediaType": layer.media_type}
        )
    return {"layers": layers, "failures": failures}


@handler("GetDownloadUrlForLayer")
def get_download_url_for_layer(context, repository_name, layer_digest, registry_id=None, **kwargs):
    registry = common.registry(context, registry_id)
    repository = registry.get_repository(repository_name)

    if registry.layer(repository_name, layer_digest) is None:
        raise LayersNotFoundException(
            f"The layer with digest {layer_digest} does not exist within the repository with name "
            f"'{repository_name}' in the registry with id '{registry.account_id}'"
        )
    referenced = any(layer_digest in image.parsed.blob_digests for image in repository.images.values())
    if not referenced:
        raise LayerInaccessibleException(
            f"The layer with digest {layer_digest} in the repository with name '{repository_name}' in the registry "
            f"with id '{registry.account_id}' is not referenced by any image"
        )
    url = runtime.current().tokens.layer_url(registry.account_id, context.region, repository_name, layer_digest)
    return {"downloadUrl": url, "layerDigest": layer_digest}
