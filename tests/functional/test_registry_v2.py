"""The /v2/ registry over real HTTP: login challenge, uploads, manifests, tags, errors."""

import base64
import json
import os

import pytest
import requests

from ecr_emulator.backend import persistence
from tests.helpers import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, image_manifest, sha256

REPO = "team/app"


@pytest.fixture
def server(live_server):
    live_server.reset()
    return live_server


@pytest.fixture
def api(server):
    client = server.client()
    client.create_repository(repositoryName=REPO)
    return client


@pytest.fixture
def http(server, api):
    """A requests session logged in with a token of GetAuthorizationToken."""
    token = api.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    session = requests.Session()
    session.headers["Authorization"] = f"Basic {token}"
    session.base = server.endpoint
    return session


def url(http, path: str) -> str:
    return http.base + path


def upload(http, data: bytes, name: str = REPO) -> str:
    started = http.post(url(http, f"/v2/{name}/blobs/uploads/"))
    assert started.status_code == 202
    location = started.headers["Location"]
    patched = http.patch(url(http, location), data=data, headers={"Content-Type": "application/octet-stream"})
    assert patched.status_code in (201, 202)  # 201 with ECR's quirks
    digest = sha256(data)
    finished = http.put(url(http, location), params={"digest": digest})
    assert finished.status_code == 201
    return digest


def push_manifest(http, tag: str, seed: bytes = b"layer") -> tuple[str, bytes]:
    config = {"digest": upload(http, b'{"os":"linux"}'), "size": 14}
    layer = {"digest": upload(http, seed), "size": len(seed)}
    manifest = image_manifest(config, [layer])
    response = http.put(url(http, f"/v2/{REPO}/manifests/{tag}"), data=manifest, headers={"Content-Type": DOCKER_MANIFEST})
    assert response.status_code == 201, response.text
    return response.headers["Docker-Content-Digest"], manifest


def test_challenge_without_credentials(server):
    response = requests.get(server.endpoint + "/v2/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="')
    assert 'service="ecr.amazonaws.com"' in response.headers["WWW-Authenticate"]
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert response.text == "Not Authorized"


@pytest.mark.parametrize(
    "credentials",
    ["AWS:not-a-token", "someone:password", "AWS:" + base64.b64encode(b'{"payload":"x","datakey":"y"}').decode()],
)
def test_forged_credentials_refused(server, credentials):
    header = "Basic " + base64.b64encode(credentials.encode()).decode()

    response = requests.get(server.endpoint + "/v2/", headers={"Authorization": header})

    assert response.status_code == 401


def test_token_bound_to_region(server, api):
    # given: a token of us-east-1 and a repository of eu-west-1
    server.client(region="eu-west-1").create_repository(repositoryName="west-only")
    token = api.get_authorization_token()["authorizationData"][0]["authorizationToken"]

    response = requests.get(server.endpoint + "/v2/west-only/tags/list", headers={"Authorization": f"Basic {token}"})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_version_check(http):
    response = http.get(url(http, "/v2/"))

    assert response.status_code == 200
    assert response.json() == {}


def test_push_shows_in_api(http, api):
    digest, manifest = push_manifest(http, "v1")

    detail = api.describe_images(repositoryName=REPO)["imageDetails"][0]
    assert digest == sha256(manifest)
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["v1"]


def test_manifest_get_and_head(http):
    digest, manifest = push_manifest(http, "v1")

    by_tag = http.get(url(http, f"/v2/{REPO}/manifests/v1"), headers={"Accept": DOCKER_MANIFEST})
    by_digest = http.get(url(http, f"/v2/{REPO}/manifests/{digest}"))
    head = http.head(url(http, f"/v2/{REPO}/manifests/v1"))

    assert by_tag.content == manifest
    assert by_digest.content == manifest
    assert by_tag.headers["Content-Type"] == DOCKER_MANIFEST
    assert by_tag.headers["Docker-Content-Digest"] == digest
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(manifest))
    assert head.headers["Docker-Content-Digest"] == digest


def test_unknown_manifest(http):
    response = http.get(url(http, f"/v2/{REPO}/manifests/nope"))

    assert response.status_code == 404
    assert response.json()["errors"][0] == {"code": "MANIFEST_UNKNOWN", "message": "Requested image not found"}


def test_push_to_missing_repository(http):
    response = http.post(url(http, "/v2/missing/blobs/uploads/"))

    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["code"] == "NAME_UNKNOWN"
    assert error["message"] == "The repository with name 'missing' does not exist in the registry with id '123456789012'"


def test_invalid_repository_name(http):
    response = http.get(url(http, "/v2/Upper/tags/list"))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NAME_INVALID"


def test_blob_head_and_get(http):
    digest = upload(http, b"blob bytes")

    head = http.head(url(http, f"/v2/{REPO}/blobs/{digest}"))
    get = http.get(url(http, f"/v2/{REPO}/blobs/{digest}"))

    assert head.status_code == 200
    assert head.headers["Content-Length"] == "10"
    assert head.headers["Docker-Content-Digest"] == digest
    assert get.content == b"blob bytes"


def test_blob_range(http):
    digest = upload(http, b"0123456789")

    partial = http.get(url(http, f"/v2/{REPO}/blobs/{digest}"), headers={"Range": "bytes=2-5"})
    beyond = http.get(url(http, f"/v2/{REPO}/blobs/{digest}"), headers={"Range": "bytes=20-30"})

    assert partial.status_code == 206
    assert partial.content == b"2345"
    assert partial.headers["Content-Range"] == "bytes 2-5/10"
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == "bytes */10"


@pytest.mark.parametrize(
    ("header", "status", "content", "content_range"),
    [
        # RFC 9110 section 14: a suffix longer than the blob selects all of it
        ("bytes=-4", 206, b"6789", "bytes 6-9/10"),
        ("bytes=-2000", 206, b"0123456789", "bytes 0-9/10"),
        ("bytes=7-", 206, b"789", "bytes 7-9/10"),
        ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
        # a zero-length suffix selects nothing, so it cannot be satisfied
        ("bytes=-0", 416, b"", "bytes */10"),
        # a server may ignore what it does not support or cannot parse: several ranges, another unit
        ("bytes=0-1,5-6", 200, b"0123456789", None),
        ("items=0-5", 200, b"0123456789", None),
        ("bytes=5-2", 200, b"0123456789", None),
        ("bytes=abc", 200, b"0123456789", None),
        # the unit is case-insensitive, and empty list elements are allowed (RFC 9110 14.1, 5.6.1)
        ("Bytes=0-1", 206, b"01", "bytes 0-1/10"),
        ("bytes=2-3,", 206, b"23", "bytes 2-3/10"),
        ("bytes= , 4-5", 206, b"45", "bytes 4-5/10"),
    ],
)
def test_blob_range_forms(http, header, status, content, content_range):
    digest = upload(http, b"0123456789")

    response = http.get(url(http, f"/v2/{REPO}/blobs/{digest}"), headers={"Range": header})

    assert response.status_code == status
    if status != 416:
        assert response.content == content
    assert response.headers.get("Content-Range") == content_range


@pytest.mark.parametrize(
    ("validator", "status"),
    [('"{digest}"', 206), ('"sha256:other"', 200), ("Wed, 21 Oct 2015 07:28:00 GMT", 200)],
)
def test_blob_if_range(http, validator, status):
    # RFC 9110 section 13.1.5: the range is served only if the validator is the current entity tag
    digest = upload(http, b"0123456789")

    response = http.get(
        url(http, f"/v2/{REPO}/blobs/{digest}"), headers={"Range": "bytes=0-1", "If-Range": validator.format(digest=digest)}
    )

    assert response.status_code == status
    assert response.headers["ETag"] == f'"{digest}"'


def test_unknown_blob(http):
    response = http.get(url(http, f"/v2/{REPO}/blobs/{sha256(b'none')}"))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_monolithic_upload(http):
    data = b"in one request"

    response = http.post(url(http, f"/v2/{REPO}/blobs/uploads/"), params={"digest": sha256(data)}, data=data)

    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == sha256(data)
    assert http.get(url(http, f"/v2/{REPO}/blobs/{sha256(data)}")).content == data


def test_chunked_upload_with_ranges(http):
    location = http.post(url(http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]

    first = http.patch(url(http, location), data=b"abc", headers={"Content-Range": "0-2"})
    repeated = http.patch(url(http, location), data=b"abc", headers={"Content-Range": "0-2"})
    second = http.patch(url(http, location), data=b"def", headers={"Content-Range": "3-5"})
    status = http.get(url(http, location))
    done = http.put(url(http, location), params={"digest": sha256(b"abcdef")})

    assert first.headers["Range"] == "0-2"
    assert repeated.status_code == 416
    assert repeated.headers["Range"] == "0-2"
    assert second.headers["Range"] == "0-5"
    assert status.status_code == 204
    assert status.headers["Range"] == "0-5"
    assert done.status_code == 201


def test_finished_uploads_leave_no_state(server, http):
    # given: the saved state after an image was pushed
    push_manifest(http, "v1")
    journal = os.path.join(server.data_dir, persistence.FILE_NAME)
    first_size = len(persistence._last_record(journal))

    # when: its blobs are pushed again and again, then its manifest, which saves the state
    for _ in range(20):
        upload(http, b"layer")
    push_manifest(http, "v1")

    # then: nothing of the finished uploads remains in the saved state
    assert len(persistence._last_record(journal)) == first_size


def journal_size(server) -> int:
    return os.path.getsize(os.path.join(server.data_dir, persistence.FILE_NAME))


def test_blob_uploads_saved_with_manifest(server, http):
    # given
    before = journal_size(server)

    # when: the blobs of an image are uploaded, then its manifest is pushed
    push_config = upload(http, b'{"os":"linux"}')
    after_blobs = journal_size(server)
    layer = upload(http, b"layer")
    manifest = image_manifest({"digest": push_config, "size": 14}, [{"digest": layer, "size": 5}])
    pushed = http.put(url(http, f"/v2/{REPO}/manifests/v1"), data=manifest, headers={"Content-Type": DOCKER_MANIFEST})

    # then: the uploads wrote no state, and the manifest push saved it all
    assert pushed.status_code == 201
    assert after_blobs == before
    assert journal_size(server) > before


def test_create_on_push_saved_at_once(server, http, api):
    # given: a CREATE_ON_PUSH template
    api.create_repository_creation_template(prefix="saved", appliedFor=["CREATE_ON_PUSH"])
    before = journal_size(server)

    # when: an upload to a repository that does not exist creates it
    started = http.post(url(http, "/v2/saved/app/blobs/uploads/"))

    # then: the new repository is saved before the response
    assert started.status_code == 202
    assert journal_size(server) > before


def test_failed_final_put_keeps_upload(http):
    # given: an upload of 10 bytes
    location = http.post(url(http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]
    http.patch(url(http, location), data=b"0123456789")

    # when: the final PUT sends the last bytes with a wrong digest, then an invalid one, then retries
    wrong = http.put(url(http, location), params={"digest": sha256(b"claimed")}, data=b"abcde")
    after_wrong = http.get(url(http, location))
    invalid = http.put(url(http, location), params={"digest": "nocolon"}, data=b"abcde")
    short = http.put(url(http, location), params={"digest": "sha256:abc"}, data=b"abcde")
    sha512 = http.put(url(http, location), params={"digest": "sha512:" + "0" * 128}, data=b"abcde")
    after_invalid = http.get(url(http, location))
    retried = http.put(url(http, location), params={"digest": sha256(b"0123456789abcde")}, data=b"abcde")

    # then: each failure left the upload as it was, so the retry stores the intended blob
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert after_wrong.headers["Range"] == "0-9"
    assert invalid.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert short.json()["errors"][0] == {
        "code": "DIGEST_INVALID", "message": "Invalid digest 'sha256:abc': a sha256 digest has 64 lower-case hex digits"
    }
    assert sha512.json()["errors"][0] == {
        "code": "DIGEST_INVALID", "message": "Unsupported digest algorithm 'sha512': uploads are verified with sha256"
    }
    assert after_invalid.headers["Range"] == "0-9"
    assert retried.status_code == 201
    assert http.get(url(http, f"/v2/{REPO}/blobs/{sha256(b'0123456789abcde')}")).content == b"0123456789abcde"


def test_failed_monolithic_upload_cancelled(server, http):
    # given
    uploads = os.path.join(server.data_dir, "uploads")
    before = set(os.listdir(uploads))

    # when: a monolithic POST's bytes do not match its digest
    response = http.post(url(http, f"/v2/{REPO}/blobs/uploads/"), params={"digest": sha256(b"claimed")}, data=b"actual")

    # then: no session is left, as the client never learned its location
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert set(os.listdir(uploads)) == before


@pytest.mark.parametrize("content_range", ["0-4", "0-20", "bytes 0-9/5", "5-3", "0-999999999999999999999"])
def test_content_range_mismatch_rejected(http, content_range):
    # given
    location = http.post(url(http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]

    # when: a 10-byte chunk comes with a Content-Range of another length or total
    response = http.patch(url(http, location), data=b"0123456789", headers={"Content-Range": content_range})

    # then: 416 with the upload's Range, and nothing was appended
    assert response.status_code == 416
    assert response.json()["errors"][0]["code"] == "RANGE_INVALID"
    assert response.headers["Range"] == "0-0"
    assert http.get(url(http, location)).headers["Range"] == "0-0"


def test_empty_chunk_claiming_bytes_rejected(http):
    location = http.post(url(http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]

    response = http.patch(url(http, location), data=b"", headers={"Content-Range": "0-9"})

    assert response.status_code == 416
    assert response.json()["errors"][0]["code"] == "RANGE_INVALID"


def test_wrong_digest_stores_nothing(http):
    location = http.post(url(http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]
    http.patch(url(http, location), data=b"actual")

    response = http.put(url(http, location), params={"digest": sha256(b"claimed")})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert http.head(url(http, f"/v2/{REPO}/blobs/{sha256(b'actual')}")).status_code == 404
    assert http.head(url(http, f"/v2/{REPO}/blobs/{sha256(b'claimed')}")).status_code == 404


def test_cancel_upload(http):
    location = http.post(url(http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]

    cancelled = http.delete(url(http, location))
    after = http.get(url(http, location))

    assert cancelled.status_code == 204
    assert after.status_code == 404
    assert after.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


def test_manifest_with_missing_layer(http):
    config = {"digest": upload(http, b"{}"), "size": 2}
    manifest = image_manifest(config, [{"digest": sha256(b"absent"), "size": 6}])

    response = http.put(url(http, f"/v2/{REPO}/manifests/v1"), data=manifest, headers={"Content-Type": DOCKER_MANIFEST})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_invalid_manifest(http):
    response = http.put(url(http, f"/v2/{REPO}/manifests/v1"), data=b"{broken", headers={"Content-Type": DOCKER_MANIFEST})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


def test_push_by_digest_must_match(http):
    _, manifest = push_manifest(http, "v1")

    response = http.put(
        url(http, f"/v2/{REPO}/manifests/{sha256(b'other')}"), data=manifest, headers={"Content-Type": DOCKER_MANIFEST}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


def test_oci_index_and_children(http, api):
    child_digest, child = push_manifest(http, "amd64")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": DOCKER_MANIFEST, "digest": child_digest, "size": len(child),
                           "platform": {"architecture": "amd64", "os": "linux"}}],
        }
    ).encode()

    pushed = http.put(url(http, f"/v2/{REPO}/manifests/multi"), data=index, headers={"Content-Type": OCI_INDEX})
    fetched = http.get(url(http, f"/v2/{REPO}/manifests/multi"), headers={"Accept": OCI_INDEX})
    delete_child = http.delete(url(http, f"/v2/{REPO}/manifests/{child_digest}"))

    assert pushed.status_code == 201
    assert fetched.content == index
    assert fetched.headers["Content-Type"] == OCI_INDEX
    assert delete_child.status_code == 400
    assert delete_child.json()["errors"][0]["code"] == "UNSUPPORTED"
    assert "referenced by manifest list" in delete_child.json()["errors"][0]["message"]


def test_index_with_missing_child(http):
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX,
         "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha256(b"none"), "size": 4}]}
    ).encode()

    response = http.put(url(http, f"/v2/{REPO}/manifests/multi"), data=index, headers={"Content-Type": OCI_INDEX})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_tags_list(http):
    push_manifest(http, "v2", seed=b"two")
    push_manifest(http, "v1", seed=b"one")

    response = http.get(url(http, f"/v2/{REPO}/tags/list"))

    assert response.json() == {"name": REPO, "tags": ["v1", "v2"]}


def test_delete_manifest(http, api):
    digest, _ = push_manifest(http, "v1")

    deleted = http.delete(url(http, f"/v2/{REPO}/manifests/{digest}"))
    again = http.delete(url(http, f"/v2/{REPO}/manifests/{digest}"))

    assert deleted.status_code == 202
    assert again.status_code == 404
    assert api.describe_images(repositoryName=REPO)["imageDetails"] == []


def test_repush_same_tag_is_accepted(http, api):
    # A /v2/ push is idempotent; only the API's PutImage reports ImageAlreadyExistsException.
    digest, manifest = push_manifest(http, "v1")

    again = http.put(url(http, f"/v2/{REPO}/manifests/v1"), data=manifest, headers={"Content-Type": DOCKER_MANIFEST})

    assert again.status_code == 201
    assert again.headers["Docker-Content-Digest"] == digest


def test_put_image_then_pull(http, api):
    config = {"digest": upload(http, b'{"from":"api"}'), "size": 14}
    manifest = image_manifest(config, [])
    api.put_image(repositoryName=REPO, imageManifest=manifest.decode(), imageTag="api")

    response = http.get(url(http, f"/v2/{REPO}/manifests/api"))

    assert response.content == manifest


def mount(http, digest: str, source: str, target: str = "team/copy"):
    return http.post(url(http, f"/v2/{target}/blobs/uploads/"), params={"mount": digest, "from": source})


def test_mount_needs_blob_mounting_setting(http, api):
    digest = upload(http, b"mountable")
    api.create_repository(repositoryName="team/copy")

    refused = mount(http, digest, REPO)
    api.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")
    mounted = mount(http, digest, REPO)

    # then: disabled, the client gets an upload session instead; enabled, the blob is mounted
    assert refused.status_code == 202
    assert mounted.status_code == 201
    assert mounted.headers["Docker-Content-Digest"] == digest
    assert http.get(url(http, f"/v2/team/copy/blobs/{digest}")).content == b"mountable"


def test_mount_unknown_blob_falls_back(http, api):
    api.create_repository(repositoryName="team/copy")
    api.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")

    response = mount(http, sha256(b"nowhere"), REPO)

    assert response.status_code == 202
    assert "Docker-Upload-UUID" in response.headers


def test_mount_needs_same_encryption(http, api):
    digest = upload(http, b"encrypted differently")
    api.create_repository(repositoryName="team/copy", encryptionConfiguration={"encryptionType": "KMS"})
    api.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")

    assert mount(http, digest, REPO).status_code == 202


def test_registry_host_names_account_and_region(server, api):
    # given: a repository of another region, and a token of that region
    west = server.client(region="eu-west-1")
    west.create_repository(repositoryName="west/app")
    east_token = api.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    west_token = west.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

    def get(token):
        return requests.get(
            server.endpoint + "/v2/west/app/tags/list", headers={"Authorization": f"Basic {token}", "Host": host}
        )

    # then: the host picks the registry, and a token of another region is refused there
    assert get(west_token).status_code == 200
    assert get(east_token).status_code == 401


def test_other_account_needs_repository_policy(server, api):
    # given: a repository of account 123456789012, and a token of account 111122223333
    other = server.client(access_key_id="111122223333")
    token = other.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    headers = {"Authorization": f"Basic {token}", "Host": host}

    denied = requests.get(server.endpoint + f"/v2/{REPO}/tags/list", headers=headers)
    api.set_repository_policy(
        repositoryName=REPO,
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AllowPull",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:ListImages"],
                    }
                ],
            }
        ),
    )
    allowed = requests.get(server.endpoint + f"/v2/{REPO}/tags/list", headers=headers)
    push = requests.post(server.endpoint + f"/v2/{REPO}/blobs/uploads/", headers=headers)

    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "DENIED"
    assert denied.json()["errors"][0]["message"] == (
        "User: arn:aws:iam::111122223333:root is not authorized to perform: ecr:ListImages on resource: "
        f"arn:aws:ecr:us-east-1:123456789012:repository/{REPO}"
    )
    assert allowed.status_code == 200
    assert push.status_code == 403


def test_upload_session_expires(server, api, http):
    location = http.post(url(http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]
    advanced = requests.post(server.endpoint + "/_emulator/clock", json={"advanceSeconds": 25 * 3600})
    assert advanced.status_code == 200
    # The 12-hour token expired too: log in again.
    fresh = api.get_authorization_token()["authorizationData"][0]["authorizationToken"]

    response = http.patch(url(http, location), data=b"late", headers={"Authorization": f"Basic {fresh}"})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


@pytest.fixture(scope="module")
def quirks_server(tmp_path_factory):
    from tests.conftest import LiveServer

    server = LiveServer(str(tmp_path_factory.mktemp("quirks")), extra_args=("--ecr-quirks",))
    yield server
    server.stop()


@pytest.fixture
def quirks_http(quirks_server):
    quirks_server.reset()
    client = quirks_server.client()
    client.create_repository(repositoryName=REPO)
    session = requests.Session()
    session.headers["Authorization"] = f"Basic {client.get_authorization_token()['authorizationData'][0]['authorizationToken']}"
    session.base = quirks_server.endpoint
    session.api = client
    return session


def test_quirk_patch_answers_201(quirks_http):
    location = quirks_http.post(url(quirks_http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]

    response = quirks_http.patch(url(quirks_http, location), data=b"chunk")

    assert response.status_code == 201


def test_quirk_small_chunk_before_last_refused(quirks_http):
    location = quirks_http.post(url(quirks_http, f"/v2/{REPO}/blobs/uploads/")).headers["Location"]
    quirks_http.patch(url(quirks_http, location), data=b"small")

    response = quirks_http.patch(url(quirks_http, location), data=b"more")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_INVALID"


def test_quirk_tags_unsorted(quirks_http):
    for tag, seed in (("zeta", b"z"), ("alpha", b"a")):
        config = {"digest": upload(quirks_http, b'{"os":"linux"}'), "size": 14}
        manifest = image_manifest(config, [{"digest": upload(quirks_http, seed), "size": 1}])
        quirks_http.put(url(quirks_http, f"/v2/{REPO}/manifests/{tag}"), data=manifest, headers={"Content-Type": DOCKER_MANIFEST})

    assert quirks_http.get(url(quirks_http, f"/v2/{REPO}/tags/list")).json()["tags"] == ["zeta", "alpha"]


def test_quirk_mount_needs_referenced_blob(quirks_http):
    digest = upload(quirks_http, b"loose blob")
    quirks_http.api.create_repository(repositoryName="team/copy")
    quirks_http.api.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")

    assert mount(quirks_http, digest, REPO).status_code == 202


def test_tags_list_pages(http):
    for index in range(5):
        push_manifest(http, f"t{index}", seed=f"page-{index}".encode())

    first = http.get(url(http, f"/v2/{REPO}/tags/list"), params={"n": 2})
    second = http.get(url(http, f"/v2/{REPO}/tags/list"), params={"n": 2, "last": "t1"})
    too_many = http.get(url(http, f"/v2/{REPO}/tags/list"), params={"n": 1001})

    assert first.json()["tags"] == ["t0", "t1"]
    assert first.headers["Link"] == f'</v2/{REPO}/tags/list?n=2&last=t1>; rel="next"'
    assert second.json()["tags"] == ["t2", "t3"]
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_tags_list_default_page_links(http, api):
    # given: 1001 tags on two images (ECR allows 1000 tags per image)
    for first_index, seed in ((0, b"first"), (600, b"second")):
        _, manifest = push_manifest(http, f"t{first_index:04}", seed=seed)
        for index in range(first_index + 1, min(first_index + 600, 1001)):
            api.put_image(repositoryName=REPO, imageManifest=manifest.decode(), imageTag=f"t{index:04}")

    # when
    first = http.get(url(http, f"/v2/{REPO}/tags/list"))
    second = http.get(url(http, first.headers["Link"].split(">")[0].lstrip("<")))

    # then: ECR's page of 1000, and a Link to the rest
    assert len(first.json()["tags"]) == 1000
    assert first.headers["Link"] == f'</v2/{REPO}/tags/list?n=1000&last=t0999>; rel="next"'
    assert second.json()["tags"] == ["t1000"]
    assert "Link" not in second.headers


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value greater than or equal to 1'"),
        ("-1", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value greater than or equal to 1'"),
        ("1001", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'"),
        ("ten", "Invalid parameter at 'maxResults': 'ten' is not a number"),
    ],
)
def test_page_size_out_of_range(http, count, message):
    response = http.get(url(http, "/v2/_catalog"), params={"n": count})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {"code": "UNSUPPORTED", "message": message}


def test_empty_name_segment_invalid(http):
    response = http.get(url(http, "/v2/team//app/tags/list"), allow_redirects=False)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NAME_INVALID"


def test_catalog(http, api):
    api.create_repository(repositoryName="another")

    response = http.get(url(http, "/v2/_catalog"))

    assert response.json() == {"repositories": ["another", REPO]}


def test_referrers_api(http):
    subject_digest, subject = push_manifest(http, "v1")
    config = {"digest": upload(http, b"{}"), "size": 2}
    referrer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.sig",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", **config},
            "layers": [],
            "subject": {"mediaType": DOCKER_MANIFEST, "digest": subject_digest, "size": len(subject)},
        }
    ).encode()

    pushed = http.put(url(http, f"/v2/{REPO}/manifests/{sha256(referrer)}"), data=referrer, headers={"Content-Type": OCI_MANIFEST})
    listed = http.get(url(http, f"/v2/{REPO}/referrers/{subject_digest}"))
    filtered = http.get(url(http, f"/v2/{REPO}/referrers/{subject_digest}"), params={"artifactType": "other/type"})
    unknown = http.get(url(http, f"/v2/{REPO}/referrers/{sha256(b'nothing')}"))

    assert pushed.status_code == 201
    assert pushed.headers["OCI-Subject"] == subject_digest
    assert listed.headers["Content-Type"] == OCI_INDEX
    assert [(m["digest"], m["artifactType"]) for m in listed.json()["manifests"]] == [(sha256(referrer), "application/vnd.example.sig")]
    assert filtered.json()["manifests"] == []
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert unknown.status_code == 200
    assert unknown.json()["manifests"] == []


def test_manifest_by_tag_converted_for_oci_only_client(http):
    digest, manifest = push_manifest(http, "v1")

    by_tag = http.get(url(http, f"/v2/{REPO}/manifests/v1"), headers={"Accept": OCI_MANIFEST})
    by_digest = http.get(url(http, f"/v2/{REPO}/manifests/{digest}"), headers={"Accept": OCI_MANIFEST})

    assert by_tag.headers["Content-Type"] == OCI_MANIFEST
    assert json.loads(by_tag.content)["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert by_tag.headers["Docker-Content-Digest"] == sha256(by_tag.content)
    assert by_digest.content == manifest


def test_expired_token_denied(server, http):
    advanced = requests.post(server.endpoint + "/_emulator/clock", json={"advanceSeconds": 13 * 3600})
    assert advanced.status_code == 200

    response = http.get(url(http, "/v2/"))

    assert response.status_code == 403
    assert response.json()["errors"][0] == {
        "code": "DENIED",
        "message": "Your authorization token has expired. Reauthenticate and try again.",
    }


def test_create_on_push_template(http, api):
    # given: a CREATE_ON_PUSH template for the prefix "auto", with immutable tags
    api.create_repository_creation_template(
        prefix="auto", appliedFor=["CREATE_ON_PUSH"], imageTagMutability="IMMUTABLE"
    )

    # when: an image is pushed to a repository under it that does not exist
    started = http.post(url(http, "/v2/auto/new-app/blobs/uploads/"))
    missing = http.post(url(http, "/v2/other/new-app/blobs/uploads/"))

    # then: the repository was created with the template's settings; other names still get NAME_UNKNOWN
    assert started.status_code == 202
    created = api.describe_repositories(repositoryNames=["auto/new-app"])["repositories"][0]
    assert created["imageTagMutability"] == "IMMUTABLE"
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_https_port_serves_same_state(server, api):
    token = api.get_authorization_token()["authorizationData"][0]["authorizationToken"]

    challenge = requests.get(f"https://{server.tls_host}/v2/", verify=False)  # self-signed
    tags = requests.get(
        f"https://{server.tls_host}/v2/{REPO}/tags/list", headers={"Authorization": f"Basic {token}"}, verify=False
    )

    assert challenge.status_code == 401
    assert tags.json() == {"name": REPO, "tags": []}


@pytest.mark.parametrize(
    ("mutability", "filters", "tag", "refused"),
    [
        ("IMMUTABLE", [], "v1", True),
        ("IMMUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "latest"}], "latest", False),
        ("IMMUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "latest"}], "v1", True),
        ("MUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "release-*"}], "release-1", True),
        ("MUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "release-*"}], "dev", False),
    ],
)
def test_tag_mutability_on_push(http, api, mutability, filters, tag, refused):
    # given: the repository's mutability setting and an image under the tag
    arguments = {"repositoryName": REPO, "imageTagMutability": mutability}
    if filters:
        arguments["imageTagMutabilityExclusionFilters"] = filters
    api.put_image_tag_mutability(**arguments)
    first, _ = push_manifest(http, tag, seed=b"first")

    # when: another image is pushed under the same tag
    config = {"digest": upload(http, b'{"os":"linux"}'), "size": 14}
    second = image_manifest(config, [{"digest": upload(http, b"second"), "size": 6}])
    response = http.put(url(http, f"/v2/{REPO}/manifests/{tag}"), data=second, headers={"Content-Type": DOCKER_MANIFEST})

    # then: an immutable tag stays on the first image, with ECR's TAG_INVALID message
    if refused:
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "TAG_INVALID"
        assert "cannot be overwritten because the repository is immutable" in response.json()["errors"][0]["message"]
        assert api.describe_images(repositoryName=REPO, imageIds=[{"imageTag": tag}])["imageDetails"][0]["imageDigest"] == first
    else:
        assert response.status_code == 201
        assert api.describe_images(repositoryName=REPO, imageIds=[{"imageTag": tag}])["imageDetails"][0]["imageDigest"] == sha256(second)


@pytest.mark.parametrize(
    "config_media_type",
    ["application/vnd.cncf.helm.config.v1+json", "application/vnd.buildkit.cacheconfig.v0"],
)
def test_artifact_manifests_show_artifact_media_type(http, api, config_media_type):
    # given: a Helm chart or a BuildKit cache pushed as an OCI manifest with its own config type
    config = {"digest": upload(http, b'{"name":"chart"}'), "size": 16}
    layer = {"digest": upload(http, b"chart archive"), "size": 13}
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": config_media_type, **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
        }
    ).encode()

    pushed = http.put(url(http, f"/v2/{REPO}/manifests/artifact"), data=manifest, headers={"Content-Type": OCI_MANIFEST})

    # then: DescribeImages shows the config's media type as artifactMediaType, as ECR does
    assert pushed.status_code == 201
    detail = api.describe_images(repositoryName=REPO, imageIds=[{"imageTag": "artifact"}])["imageDetails"][0]
    assert detail["artifactMediaType"] == config_media_type
    assert detail["imageManifestMediaType"] == OCI_MANIFEST


def test_quirk_tag_pages_follow_creation_order(quirks_http):
    for tag in ("t1", "zeta", "alpha", "mid"):
        config = {"digest": upload(quirks_http, b'{"os":"linux"}'), "size": 14}
        manifest = image_manifest(config, [{"digest": upload(quirks_http, tag.encode()), "size": len(tag)}])
        quirks_http.put(url(quirks_http, f"/v2/{REPO}/manifests/{tag}"), data=manifest, headers={"Content-Type": DOCKER_MANIFEST})

    first = quirks_http.get(url(quirks_http, f"/v2/{REPO}/tags/list"), params={"n": 2}).json()["tags"]
    second = quirks_http.get(url(quirks_http, f"/v2/{REPO}/tags/list"), params={"n": 2, "last": first[-1]}).json()["tags"]

    assert first + second == ["t1", "zeta", "alpha", "mid"]


def test_api_tag_pullable_on_v2(http, api):
    # given: a tag the API accepts although the OCI tag grammar does not (it starts with '-')
    _, manifest = push_manifest(http, "v1")
    api.put_image(repositoryName=REPO, imageManifest=manifest.decode(), imageTag="-lead")

    response = http.get(url(http, f"/v2/{REPO}/manifests/-lead"))

    assert response.status_code == 200
    assert response.content == manifest


def test_layer_url_only_reads(http, api, server):
    _, manifest = push_manifest(http, "v1")
    layer = json.loads(manifest)["layers"][0]["digest"]
    download = api.get_download_url_for_layer(repositoryName=REPO, layerDigest=layer)["downloadUrl"]

    assert requests.get(download).status_code == 200
    assert requests.delete(download).status_code == 405


def test_registry_host_ignores_case(server, api):
    token = api.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    other = server.client(access_key_id="111122223333")
    other.create_repository(repositoryName="theirs/app")

    response = requests.get(
        server.endpoint + "/v2/theirs/app/tags/list",
        headers={"Authorization": f"Basic {token}", "Host": "111122223333.DKR.ECR.US-EAST-1.localhost"},
    )

    # then: the upper-case host still names account 111122223333, which has no policy for the caller
    assert response.status_code == 403
