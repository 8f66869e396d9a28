"""Layer uploads through the API, availability checks and download URLs."""

import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.helpers import push_image, sha256, upload_blob

MIB = 1024 * 1024


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="layers")
    return "layers"


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_upload_in_parts(ecr, repo):
    # given: a 5 MiB first part, as ECR's minimum part size requires, and a short last part
    data = bytes(range(256)) * (5 * MIB // 256) + b"tail"
    upload = ecr.initiate_layer_upload(repositoryName=repo)

    # when
    first = ecr.upload_layer_part(
        repositoryName=repo, uploadId=upload["uploadId"], partFirstByte=0, partLastByte=5 * MIB - 1,
        layerPartBlob=data[: 5 * MIB],
    )
    last = ecr.upload_layer_part(
        repositoryName=repo, uploadId=upload["uploadId"], partFirstByte=5 * MIB, partLastByte=len(data) - 1,
        layerPartBlob=data[5 * MIB:],
    )
    done = ecr.complete_layer_upload(repositoryName=repo, uploadId=upload["uploadId"], layerDigests=[sha256(data)])

    # then
    assert upload["partSize"] > 0
    assert first["lastByteReceived"] == 5 * MIB - 1
    assert last["lastByteReceived"] == len(data) - 1
    assert done["layerDigest"] == sha256(data)
    available = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[sha256(data)])["layers"]
    assert available == [
        {"layerDigest": sha256(data), "layerAvailability": "AVAILABLE", "layerSize": len(data)}
    ]


def test_part_not_contiguous(ecr, repo):
    upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=0, partLastByte=3, layerPartBlob=b"abcd")

    with pytest.raises(ClientError) as raised:
        ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=10, partLastByte=13, layerPartBlob=b"efgh")

    assert raised.value.response["Error"]["Code"] == "InvalidLayerPartException"
    assert raised.value.response["lastValidByteReceived"] == 3


def test_small_part_before_last(ecr, repo):
    upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=0, partLastByte=3, layerPartBlob=b"abcd")
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=4, partLastByte=7, layerPartBlob=b"efgh")

    with pytest.raises(ClientError) as raised:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[sha256(b"abcdefgh")])

    assert error_of(raised)[0] == "LayerPartTooSmallException"


def test_complete_empty_upload(ecr, repo):
    upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]

    with pytest.raises(ClientError) as raised:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[sha256(b"")])

    assert error_of(raised)[0] == "EmptyUploadException"


def test_complete_with_wrong_digest(ecr, repo):
    upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=0, partLastByte=3, layerPartBlob=b"abcd")

    with pytest.raises(ClientError) as raised:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[sha256(b"other")])

    assert error_of(raised)[0] == "InvalidLayerException"
    missing = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[sha256(b"other")])
    assert missing["failures"][0]["failureCode"] == "MissingLayerDigest"


def test_layer_already_exists(ecr, repo):
    upload_blob(ecr, repo, b"same bytes")
    upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=0, partLastByte=9, layerPartBlob=b"same bytes")

    with pytest.raises(ClientError) as raised:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[sha256(b"same bytes")])

    assert error_of(raised)[0] == "LayerAlreadyExistsException"


def test_unknown_upload(ecr, repo):
    with pytest.raises(ClientError) as raised:
        ecr.upload_layer_part(
            repositoryName=repo, uploadId="00000000-0000-0000-0000-000000000000", partFirstByte=0, partLastByte=0,
            layerPartBlob=b"a",
        )

    assert error_of(raised)[0] == "UploadNotFoundException"


def test_check_availability_invalid_digest(ecr, repo):
    result = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=["sha256:xyz"])

    assert result["failures"][0]["failureCode"] == "InvalidLayerDigest"


def test_download_url_serves_layer(ecr, ecr_mode, repo):
    image = push_image(ecr, repo, tag="v1", layer_sizes=(64,))
    import json

    layer_digest = json.loads(image["imageManifest"])["layers"][0]["digest"]

    result = ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=layer_digest)

    assert result["layerDigest"] == layer_digest
    if hasattr(ecr_mode, "endpoint"):
        with urllib.request.urlopen(result["downloadUrl"], timeout=5) as response:
            assert sha256(response.read()) == layer_digest


def test_download_url_unreferenced_layer(ecr, repo):
    blob = upload_blob(ecr, repo, b"loose layer")

    with pytest.raises(ClientError) as raised:
        ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=blob["digest"])

    assert error_of(raised)[0] == "LayerInaccessibleException"


def test_download_url_missing_layer(ecr, repo):
    with pytest.raises(ClientError) as raised:
        ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=sha256(b"nothing"))

    assert error_of(raised)[0] == "LayersNotFoundException"
