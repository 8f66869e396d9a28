"""State in --data-dir survives a restart and a kill -9 in the middle of pushes."""

import hashlib
import json
import os
import pathlib
import threading

import pytest
import requests

from tests.conftest import LiveServer
from tests.helpers import DOCKER_MANIFEST, image_manifest, sha256

REPO = "durable/app"


def login(server) -> requests.Session:
    token = server.client().get_authorization_token()["authorizationData"][0]["authorizationToken"]
    session = requests.Session()
    session.headers["Authorization"] = f"Basic {token}"
    return session


def push(server, session, tag: str, payload: bytes) -> str:
    """Push one image of one layer through /v2/; return its digest once the manifest PUT returned 201."""
    digests = []
    for blob in (json.dumps({"os": "linux", "tag": tag}).encode(), payload):
        location = session.post(f"{server.endpoint}/v2/{REPO}/blobs/uploads/").headers["Location"]
        session.patch(server.endpoint + location, data=blob)
        response = session.put(server.endpoint + location, params={"digest": sha256(blob)})
        assert response.status_code == 201
        digests.append({"digest": sha256(blob), "size": len(blob)})
    manifest = image_manifest(digests[0], digests[1:])
    response = session.put(
        f"{server.endpoint}/v2/{REPO}/manifests/{tag}", data=manifest, headers={"Content-Type": DOCKER_MANIFEST}
    )
    assert response.status_code == 201
    return response.headers["Docker-Content-Digest"]


def start_upload(server, session, data: bytes) -> str:
    """Start an upload of REPO, send `data` as one chunk, and return the upload's location."""
    location = session.post(f"{server.endpoint}/v2/{REPO}/blobs/uploads/").headers["Location"]
    assert session.patch(server.endpoint + location, data=data).status_code == 202
    return location


def start_server(data_dir: str) -> tuple[LiveServer, requests.Session]:
    """Start a server on a new `data_dir` with the repository REPO; return it and a logged-in session."""
    os.makedirs(data_dir)
    server = LiveServer(data_dir)
    server.client().create_repository(repositoryName=REPO)
    return server, login(server)


@pytest.fixture
def data_dir(tmp_path):
    return str(tmp_path / "data")


def test_state_survives_restart(data_dir):
    # given: a repository with an image, settings and a lifecycle policy
    os.makedirs(data_dir)
    server = LiveServer(data_dir)
    try:
        api = server.client()
        api.create_repository(repositoryName=REPO, imageTagMutability="IMMUTABLE")
        digest = push(server, login(server), "v1", b"layer bytes")
        api.put_lifecycle_policy(
            repositoryName=REPO,
            lifecyclePolicyText=json.dumps({"rules": [{"rulePriority": 1, "description": "keep ten images at most",
                                                       "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                                                     "countNumber": 10},
                                                       "action": {"type": "expire"}}]}),
        )
        password = api.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    finally:
        server.stop()

    # when: a new server starts on the same folder
    restarted = LiveServer(data_dir)
    try:
        api = restarted.client()

        # then: everything is there, and the old token still works
        repository = api.describe_repositories()["repositories"][0]
        assert repository["imageTagMutability"] == "IMMUTABLE"
        assert api.describe_images(repositoryName=REPO)["imageDetails"][0]["imageDigest"] == digest
        assert api.get_lifecycle_policy(repositoryName=REPO)["lifecyclePolicyText"].startswith('{"rules"')
        pulled = requests.get(
            f"{restarted.endpoint}/v2/{REPO}/manifests/v1", headers={"Authorization": f"Basic {password}"}
        )
        assert pulled.status_code == 200
        assert sha256(pulled.content) == digest
    finally:
        restarted.stop()


def test_kill_before_manifest_leaves_nothing(data_dir):
    # given: a push killed after one blob was uploaded and while a second one was uploading
    server, session = start_server(data_dir)
    location = start_upload(server, session, b"uploaded blob")
    assert session.put(server.endpoint + location, params={"digest": sha256(b"uploaded blob")}).status_code == 201
    start_upload(server, session, b"half of a blob")
    server.process.kill()
    server.process.wait()
    server._log.close()

    # when: the server starts again on the folder
    restarted = LiveServer(data_dir)
    try:
        # then: the repository is there, and neither the blob nor the upload file is left
        assert restarted.client().describe_repositories()["repositories"][0]["repositoryName"] == REPO
        assert [path for path in pathlib.Path(data_dir, "blobs").rglob("*") if path.is_file()] == []
        assert os.listdir(os.path.join(data_dir, "uploads")) == []
    finally:
        restarted.stop()


def test_start_removes_expired_uploads(data_dir):
    # given: an upload left open when the server stopped, and the clock moved past its 24 hours
    server, session = start_server(data_dir)
    location = start_upload(server, session, b"never finished")
    assert requests.post(f"{server.endpoint}/_emulator/clock", json={"advanceSeconds": 25 * 3600}).status_code == 200
    server.stop()

    # when
    restarted = LiveServer(data_dir)
    try:
        # then: the file is gone before any request for the session, and so is the session
        assert os.listdir(os.path.join(data_dir, "uploads")) == []
        response = login(restarted).get(restarted.endpoint + location)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    finally:
        restarted.stop()


def test_kill_during_pushes_loses_no_acknowledged_image(data_dir):
    # given: four clients pushing images as fast as they can
    os.makedirs(data_dir)
    server = LiveServer(data_dir)
    server.client().create_repository(repositoryName=REPO)
    acknowledged: dict[str, str] = {}
    stop = threading.Event()

    def pusher(worker: int) -> None:
        session = login(server)
        for index in range(200):
            if stop.is_set():
                return
            tag = f"w{worker}-{index}"
            try:
                acknowledged[tag] = push(server, session, tag, os.urandom(64 * 1024))
            except (requests.RequestException, AssertionError, KeyError):
                return

    threads = [threading.Thread(target=pusher, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()

    # when: the server is killed with SIGKILL while they push
    while len(acknowledged) < 20 and all(thread.is_alive() for thread in threads):
        threading.Event().wait(0.05)
    server.process.kill()
    server.process.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    server._log.close()

    # then: every image acknowledged with 201 is there after a restart, with its blobs intact
    restarted = LiveServer(data_dir)
    try:
        api = restarted.client()
        stored = {
            detail["imageTags"][0]: detail["imageDigest"]
            for page in api.get_paginator("describe_images").paginate(repositoryName=REPO)
            for detail in page["imageDetails"]
        }
        assert len(acknowledged) >= 20
        for tag, digest in acknowledged.items():
            assert stored.get(tag) == digest, f"image {tag} was answered 201 but is missing after the crash"
        session = login(restarted)
        for tag in list(acknowledged)[:10]:
            response = session.get(f"{restarted.endpoint}/v2/{REPO}/manifests/{tag}")
            for layer in json.loads(response.content)["layers"]:
                blob = session.get(f"{restarted.endpoint}/v2/{REPO}/blobs/{layer['digest']}").content
                assert sha256(blob) == layer["digest"]

        # and: the start removed what the unfinished pushes left: every upload file left is a
        # session the server has open, and every blob left is one the repository keeps
        for upload_id in os.listdir(os.path.join(data_dir, "uploads")):
            status = session.get(f"{restarted.endpoint}/v2/{REPO}/blobs/uploads/{upload_id}").status_code
            assert status == 204, f"upload {upload_id} was left on disk, but the server has no such session"
        for path in pathlib.Path(data_dir, "blobs").rglob("*"):
            if path.is_file():
                status = session.head(f"{restarted.endpoint}/v2/{REPO}/blobs/sha256:{path.name}").status_code
                assert status == 200, f"blob {path.name} was left in the store, but no repository keeps it"
    finally:
        restarted.stop()

    # and: no blob in the store is half-written (each file's content hashes to its name)
    for path in pathlib.Path(data_dir, "blobs").rglob("*"):
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
