"""The server's own endpoints under /_emulator/, and requests without credentials."""

import pytest
import requests

from tests.helpers import push_image


@pytest.fixture
def server(live_server):
    live_server.reset()
    return live_server


@pytest.mark.parametrize("body", [{"advanceSeconds": -1}, {"advanceSeconds": 1e15}, {"advanceSeconds": True}, {"advanceSeconds": "ten"}, {}, None])
def test_clock_rejects_bad_advance(server, body):
    before = requests.get(server.endpoint + "/_emulator/clock").json()

    response = requests.post(server.endpoint + "/_emulator/clock", json=body)

    assert response.status_code == 400
    assert "advanceSeconds" in response.json()["message"]
    assert requests.get(server.endpoint + "/_emulator/clock").json()["offsetSeconds"] == before["offsetSeconds"]


def test_clock_advances(server):
    response = requests.post(server.endpoint + "/_emulator/clock", json={"advanceSeconds": 3600})

    assert response.status_code == 200
    assert response.json()["offsetSeconds"] == 3600


def test_unknown_endpoint_and_method(server):
    unknown = requests.get(server.endpoint + "/_emulator/nope")
    wrong_method = requests.get(server.endpoint + "/_emulator/reset")

    assert unknown.status_code == 404
    assert wrong_method.status_code == 405


def test_reset_removes_blobs(server):
    ecr = server.client()
    ecr.create_repository(repositoryName="reset/app")
    push_image(ecr, "reset/app", tag="v1")

    requests.post(server.endpoint + "/_emulator/reset")

    import os

    blob_files = [name for _, _, names in os.walk(os.path.join(server.data_dir, "blobs")) for name in names]
    assert blob_files == []


def test_unsigned_api_request(server):
    response = requests.post(
        server.endpoint + "/",
        headers={"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
                 "Content-Type": "application/x-amz-json-1.1"},
        data=b"{}",
    )

    assert response.status_code == 400
    assert response.json()["__type"] == "MissingAuthenticationTokenException"
