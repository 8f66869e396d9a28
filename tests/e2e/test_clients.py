"""Every registry client this machine has, against `ecr-emulator serve` on 127.0.0.1.

docker builds and pushes a multi-platform manifest list, and skopeo copies an OCI index in and
out. podman builds, pushes and pulls. The ORAS Python SDK pushes an artifact and attaches a
referrer, and python-dxf pushes blobs and a manifest. The last tests show what each client
reports for bad input. Each test gets a fresh repository and logs in with the password from
GetAuthorizationToken. What a client pushed is checked through the ECR API (boto3), and what the
API reports is checked against what the client pulls back.

A client that is not installed skips its test on a developer's machine and fails it in CI.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.conftest import advance_clock
from tests.e2e.conftest import build_scratch_image, fail_or_skip, read_image_file, run
from tests.helpers import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, sha256

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
SPDX = "application/spdx+json"
# ECR's lifetime of an authorization token is 12 hours; the tests move the clock past it.
TOKEN_LIFETIME_SECONDS = 12 * 3600


@pytest.fixture
def server(live_server):
    """The session's live server, emptied before the test and its clock put back afterwards."""
    live_server.reset()
    yield live_server
    live_server.reset()


@pytest.fixture
def ecr(server):
    return server.client()


@pytest.fixture
def password(ecr) -> str:
    """The password of `aws ecr get-login-password`: GetAuthorizationToken's token without `AWS:`."""
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    username, _, secret = base64.b64decode(token).decode().partition(":")
    assert username == "AWS"
    return secret


@pytest.fixture
def docker_cli(docker_env, tmp_path) -> dict[str, str]:
    """The docker environment with credentials and manifest lists of this test only.

    `docker login` in one test must not leave credentials for the next, which may check that a
    push without login is refused.
    """
    config = tmp_path / "docker-config"
    config.mkdir()
    return dict(docker_env, DOCKER_CONFIG=str(config), REGISTRY_AUTH_FILE=str(config / "containers-auth.json"))


@pytest.fixture
def repository(ecr, request) -> str:
    """A new repository named after the test, e.g. `clients/test_skopeo_copy_index`."""
    name = f"clients/{request.node.name}"
    ecr.create_repository(repositoryName=name)
    return name


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        fail_or_skip(f"{name} not found on PATH; install it with: bash scripts/setup.sh --test")
    return path


def require_module(module: str, package: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        fail_or_skip(f"the Python package {package} is not installed; install it with: pip install {package}")


def describe(ecr, repository: str, **image_id) -> dict:
    return ecr.describe_images(repositoryName=repository, imageIds=[image_id])["imageDetails"][0]


def manifest_of(ecr, repository: str, **image_id) -> dict:
    image = ecr.batch_get_image(repositoryName=repository, imageIds=[image_id])["images"][0]
    return json.loads(image["imageManifest"])


def docker_login(server, env, password: str) -> None:
    run(["docker", "login", "--username", "AWS", "--password-stdin", server.host], env, input=password)


def v2_url(server, repository: str, path: str) -> str:
    return f"{server.endpoint}/v2/{repository}/{path}"


def write_blob(layout: Path, content: bytes) -> dict:
    """Store `content` in an OCI layout's blobs folder; return its digest and size."""
    digest = sha256(content)
    (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(content)
    return {"digest": digest, "size": len(content)}


def read_archive_file(archive: Path, path: str) -> bytes:
    """Return `path` from the top-most layer of a docker-archive that contains it."""
    content = None
    with tarfile.open(archive) as image:
        manifest = json.load(image.extractfile("manifest.json"))
        for layer_name in manifest[0]["Layers"]:
            with tarfile.open(fileobj=image.extractfile(layer_name)) as layer:
                for member in layer.getmembers():
                    if member.isfile() and member.name.removeprefix("./").lstrip("/") == path:
                        content = layer.extractfile(member).read()
    if content is None:
        raise AssertionError(f"file {path!r} not found in any layer of {archive}")
    return content


# 1. docker: a manifest list of two FROM scratch images


def test_docker_manifest_list(server, ecr, password, repository, docker_cli):
    # given: two images of different sizes, pushed with docker
    uri = f"{server.host}/{repository}"
    build_scratch_image(docker_cli, f"{uri}:amd64", {"arch.txt": b"amd64\n"})
    build_scratch_image(docker_cli, f"{uri}:arm64", {"arch.txt": b"arm64\n", "data.bin": os.urandom(64 * 1024)})
    docker_login(server, docker_cli, password)
    run(["docker", "push", f"{uri}:amd64"], docker_cli)
    run(["docker", "push", f"{uri}:arm64"], docker_cli)
    children = {arch: describe(ecr, repository, imageTag=arch) for arch in ("amd64", "arm64")}

    # when: docker makes a manifest list of both, annotated with their platforms, and pushes it
    run(["docker", "manifest", "create", "--insecure", "--amend", f"{uri}:list", f"{uri}:amd64", f"{uri}:arm64"], docker_cli)
    for arch in ("amd64", "arm64"):
        run(["docker", "manifest", "annotate", "--os", "linux", "--arch", arch, f"{uri}:list", f"{uri}:{arch}"], docker_cli)
    pushed = run(["docker", "manifest", "push", "--insecure", f"{uri}:list"], docker_cli).stdout.split()[-1]

    # then: DescribeImages shows a manifest list as large as its larger child
    listed = describe(ecr, repository, imageTag="list")
    assert listed["imageDigest"] == pushed
    assert listed["imageManifestMediaType"] == DOCKER_MANIFEST_LIST
    assert listed["imageSizeInBytes"] == max(child["imageSizeInBytes"] for child in children.values())
    assert children["arm64"]["imageSizeInBytes"] > children["amd64"]["imageSizeInBytes"]
    platforms = {entry["digest"]: entry["platform"] for entry in manifest_of(ecr, repository, imageTag="list")["manifests"]}
    assert platforms == {
        children["amd64"]["imageDigest"]: {"architecture": "amd64", "os": "linux"},
        children["arm64"]["imageDigest"]: {"architecture": "arm64", "os": "linux"},
    }

    # then: docker pulls each child by digest, and the list by tag for a chosen platform
    run(["docker", "rmi", f"{uri}:amd64", f"{uri}:arm64"], docker_cli)
    for arch, child in children.items():
        reference = f"{uri}@{child['imageDigest']}"
        run(["docker", "pull", reference], docker_cli)
        assert read_image_file(docker_cli, reference, "arch.txt") == f"{arch}\n".encode()
    run(["docker", "pull", "--platform", "linux/arm64", f"{uri}:list"], docker_cli)
    assert read_image_file(docker_cli, f"{uri}:list", "arch.txt") == b"arm64\n"

    # then: a child cannot be deleted while the list refers to it, and can once the list is gone
    child_id = {"imageDigest": children["amd64"]["imageDigest"]}
    refused = ecr.batch_delete_image(repositoryName=repository, imageIds=[child_id])
    assert refused["imageIds"] == []
    assert refused["failures"][0]["failureCode"] == "ImageReferencedByManifestList"
    assert describe(ecr, repository, **child_id)["imageTags"] == ["amd64"]
    ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": pushed}])
    deleted = ecr.batch_delete_image(repositoryName=repository, imageIds=[child_id])
    assert deleted["failures"] == []
    assert deleted["imageIds"][0]["imageDigest"] == child_id["imageDigest"]


# 2. skopeo: an OCI index copied in and out


def make_oci_index(layout: Path, env: dict, platforms: dict[str, bytes]) -> dict:
    """Build one image per platform with umoci in `layout`, and an OCI index of them tagged `multi`.

    Returns the index's digest and size, and each platform's manifest descriptor.
    """
    run(["umoci", "init", "--layout", str(layout)], env)
    for arch, content in platforms.items():
        source = layout.parent / f"{arch}.txt"
        source.write_bytes(content)
        image = f"{layout}:{arch}"
        run(["umoci", "new", "--image", image], env)
        run(["umoci", "config", "--image", image, "--os", "linux", "--architecture", arch], env)
        run(["umoci", "insert", "--image", image, str(source), "/arch.txt"], env)

    layout_index = json.loads((layout / "index.json").read_text())
    children = {}
    for descriptor in layout_index["manifests"]:
        arch = descriptor["annotations"]["org.opencontainers.image.ref.name"]
        children[arch] = {key: descriptor[key] for key in ("mediaType", "digest", "size")}
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [dict(child, platform={"architecture": arch, "os": "linux"}) for arch, child in children.items()],
    }
    stored = write_blob(layout, json.dumps(index).encode())
    layout_index["manifests"].append(
        dict(stored, mediaType=OCI_INDEX, annotations={"org.opencontainers.image.ref.name": "multi"})
    )
    (layout / "index.json").write_text(json.dumps(layout_index))
    return {"index": stored, "children": children}


def test_skopeo_copy_index(server, ecr, password, repository, skopeo_available, tmp_path):
    # given: an OCI layout holding an index of two single-layer images of different sizes
    require_binary("umoci")
    env = dict(os.environ)
    built = make_oci_index(tmp_path / "source", env, {"amd64": b"amd64\n", "arm64": os.urandom(32 * 1024)})
    uri = f"{server.host}/{repository}"
    credentials = f"AWS:{password}"

    # when: skopeo copies the whole index in, keeping its digests
    run(
        ["skopeo", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", credentials,
         f"oci:{tmp_path / 'source'}:multi", f"docker://{uri}:multi"],
        env,
    )

    # then: the API shows the index with the digest skopeo computed, and both children untagged
    index = describe(ecr, repository, imageTag="multi")
    assert index["imageDigest"] == built["index"]["digest"]
    assert index["imageManifestMediaType"] == OCI_INDEX
    raw = run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", credentials, f"docker://{uri}:multi"], env)
    assert sha256(raw.stdout.encode()) == index["imageDigest"]
    sizes = []
    for child in built["children"].values():
        detail = describe(ecr, repository, imageDigest=child["digest"])
        assert detail["imageManifestMediaType"] == OCI_MANIFEST
        assert "imageTags" not in detail
        sizes.append(detail["imageSizeInBytes"])
    assert index["imageSizeInBytes"] == max(sizes)

    # when: skopeo copies it out to a new layout, then back in under another tag
    run(
        ["skopeo", "copy", "--all", "--src-tls-verify=false", "--src-creds", credentials,
         f"docker://{uri}:multi", f"oci:{tmp_path / 'copy'}:copied"],
        env,
    )
    run(
        ["skopeo", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", credentials,
         f"oci:{tmp_path / 'copy'}:copied", f"docker://{uri}:roundtrip"],
        env,
    )

    # then: the copy contains the same index and children, and the round trip tagged the same image
    copied = json.loads((tmp_path / "copy" / "index.json").read_text())["manifests"]
    assert [descriptor["digest"] for descriptor in copied] == [index["imageDigest"]]
    for child in built["children"].values():
        blob = tmp_path / "copy" / "blobs" / "sha256" / child["digest"].removeprefix("sha256:")
        assert sha256(blob.read_bytes()) == child["digest"]
    assert sorted(describe(ecr, repository, imageTag="roundtrip")["imageTags"]) == ["multi", "roundtrip"]
    assert len(ecr.describe_images(repositoryName=repository)["imageDetails"]) == 3


# 3. podman: build, push and pull


@pytest.fixture
def podman_root():
    """A folder for podman's storage and run state; podman rejects a --runroot over 50 characters."""
    with tempfile.TemporaryDirectory(prefix="ecr-podman-") as root:
        yield Path(root)


def test_podman_push_and_pull(server, ecr, password, repository, podman_root, tmp_path):
    # given: podman with storage of its own, and a FROM scratch image it built
    require_binary("podman")
    env = dict(os.environ, REGISTRY_AUTH_FILE=str(tmp_path / "auth.json"))
    podman = [
        "podman", "--storage-driver", "vfs", "--root", str(podman_root / "root"), "--runroot", str(podman_root / "run"),
        "--tmpdir", str(podman_root / "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "none",
    ]
    context = tmp_path / "context"
    context.mkdir()
    (context / "podman.txt").write_bytes(b"built by podman\n")
    (context / "Containerfile").write_text('FROM scratch\nCOPY ["podman.txt", "/podman.txt"]\n')
    image = f"{server.host}/{repository}:v1"
    run([*podman, "build", "--tag", image, str(context)], env)

    # when: podman logs in with the password of get-login-password and pushes
    run([*podman, "login", "--tls-verify=false", "--username", "AWS", "--password-stdin", server.host], env, input=password)
    digest_file = tmp_path / "digest"
    run([*podman, "push", "--tls-verify=false", "--digestfile", str(digest_file), image], env)

    # then: DescribeImages shows the digest podman pushed
    pushed = digest_file.read_text().strip()
    detail = describe(ecr, repository, imageTag="v1")
    assert detail["imageDigest"] == pushed
    assert detail["imageManifestMediaType"] == OCI_MANIFEST

    # then: podman pulls it back by tag and by digest, with the same digest and file
    run([*podman, "rmi", image], env)
    run([*podman, "pull", "--tls-verify=false", image], env)
    assert run([*podman, "image", "inspect", "--format", "{{.Digest}}", image], env).stdout.strip() == pushed
    run([*podman, "rmi", image], env)
    run([*podman, "pull", "--tls-verify=false", f"{server.host}/{repository}@{pushed}"], env)
    archive = tmp_path / "image.tar"
    run([*podman, "save", "--format", "docker-archive", "--output", str(archive), f"{server.host}/{repository}@{pushed}"], env)
    assert read_archive_file(archive, "podman.txt") == b"built by podman\n"
    assert "lastRecordedPullTime" in describe(ecr, repository, imageTag="v1")


# 4. The ORAS Python SDK: an artifact, an image and a referrer


def oras_client(server, password: str, tmp_path: Path):
    client_module = require_module("oras.client", "oras")
    client = client_module.OrasClient(hostname=server.host, insecure=True, auth_backend="basic")
    assert client.login(username="AWS", password=password, hostname=server.host, config_path=str(tmp_path / "oras.json"))
    return client


def test_oras_artifact_and_referrer(server, ecr, password, repository, tmp_path):
    # given: an ORAS client logged in with the password of GetAuthorizationToken
    client = oras_client(server, password, tmp_path)
    oci = require_module("oras.oci", "oras")
    target = f"{server.host}/{repository}"

    # when: it pushes an artifact whose type is its config's media type
    (tmp_path / "payload.txt").write_bytes(b"artifact payload\n")
    (tmp_path / "thing.json").write_bytes(b"{}")
    artifact_type = "application/vnd.example.thing.config.v1+json"
    client.push(
        f"{target}:artifact", files=[f"{tmp_path / 'payload.txt'}:text/plain"],
        manifest_config=f"{tmp_path / 'thing.json'}:{artifact_type}", disable_path_validation=True,
    )

    # then: DescribeImages shows its artifact media type, and ORAS pulls the file back
    assert describe(ecr, repository, imageTag="artifact")["artifactMediaType"] == artifact_type
    pulled = client.pull(f"{target}:artifact", outdir=str(tmp_path / "pulled"))
    assert [Path(path).read_bytes() for path in pulled] == [b"artifact payload\n"]

    # given: an OCI image of one layer, pushed with ORAS
    (tmp_path / "layer.tar").write_bytes(os.urandom(2048))
    image_config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    (tmp_path / "config.json").write_text(json.dumps(image_config))
    response = client.push(
        f"{target}:image", files=[f"{tmp_path / 'layer.tar'}:{OCI_LAYER}"],
        manifest_config=f"{tmp_path / 'config.json'}:{OCI_CONFIG}", disable_path_validation=True,
    )
    image_digest = response.headers["Docker-Content-Digest"]
    manifest_url = v2_url(server, repository, f"manifests/{image_digest}")
    image_manifest = client.do_request(manifest_url, "GET", headers={"Accept": OCI_MANIFEST})
    subject = oci.Subject(mediaType=OCI_MANIFEST, digest=image_digest, size=len(image_manifest.content))

    # when: an SBOM with an artifactType, an empty config and the image as subject is pushed by digest
    (tmp_path / "empty.json").write_bytes(b"{}")
    (tmp_path / "sbom.spdx.json").write_bytes(json.dumps({"spdxVersion": "SPDX-2.3", "name": "image"}).encode())
    empty = {"mediaType": OCI_EMPTY, "digest": sha256(b"{}"), "size": 2}
    sbom_data = (tmp_path / "sbom.spdx.json").read_bytes()
    sbom_layer = {"mediaType": SPDX, "digest": sha256(sbom_data), "size": len(sbom_data)}
    container = client.get_container(f"{target}:sbom")
    client.upload_blob(str(tmp_path / "empty.json"), container, empty)
    client.upload_blob(str(tmp_path / "sbom.spdx.json"), container, sbom_layer)
    sbom = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": SPDX, "config": empty, "layers": [sbom_layer],
        "subject": {"mediaType": subject.mediaType, "digest": subject.digest, "size": subject.size},
        "annotations": {"org.opencontainers.image.created": "2024-06-01T00:00:00Z"},
    }
    # upload_manifest sends json.dumps(manifest) as the body, so the SBOM's digest is that of these bytes.
    sbom_digest = sha256(json.dumps(sbom).encode())
    pushed = client.upload_manifest(sbom, client.get_container(f"{target}@{sbom_digest}"))

    # then: the registry accepted it by digest and named its subject
    assert pushed.status_code == 201
    assert pushed.headers["Docker-Content-Digest"] == sbom_digest
    assert pushed.headers.get("OCI-Subject") == image_digest

    # then: the referrers API lists the SBOM with its artifactType, and filters by it
    url = v2_url(server, repository, f"referrers/{image_digest}")
    listed = client.do_request(url, "GET")
    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == OCI_INDEX
    referrers = listed.json()["manifests"]
    assert [(entry["digest"], entry["artifactType"], entry["mediaType"]) for entry in referrers] == [
        (sbom_digest, SPDX, OCI_MANIFEST)
    ]
    assert referrers[0]["annotations"] == sbom["annotations"]
    filtered = client.do_request(f"{url}?{urllib.parse.urlencode({'artifactType': SPDX})}", "GET")
    assert filtered.headers.get("OCI-Filters-Applied") == "artifactType"
    assert [entry["digest"] for entry in filtered.json()["manifests"]] == [sbom_digest]
    other = client.do_request(f"{url}?{urllib.parse.urlencode({'artifactType': 'application/vnd.example.other'})}", "GET")
    assert other.json()["manifests"] == []

    # then: ListImageReferrers and DescribeImages agree with the registry
    api_referrers = ecr.list_image_referrers(repositoryName=repository, subjectId={"imageDigest": image_digest})["referrers"]
    assert [(entry["digest"], entry["artifactType"], entry["mediaType"]) for entry in api_referrers] == [
        (sbom_digest, SPDX, OCI_MANIFEST)
    ]
    assert api_referrers[0]["size"] == len(json.dumps(sbom).encode())
    assert api_referrers[0]["artifactStatus"] == "ACTIVE"
    detail = describe(ecr, repository, imageDigest=sbom_digest)
    assert detail["artifactMediaType"] == SPDX
    assert detail["subjectManifestDigest"] == image_digest
    assert "imageTags" not in detail
    assert describe(ecr, repository, imageTag="image")["artifactMediaType"] == OCI_CONFIG


# 5. python-dxf: blobs, a manifest and tags


def test_dxf_blobs_manifest_and_tags(server, ecr, password, repository):
    # given: a python-dxf client over the server's HTTPS port without certificate checks, which
    # responds to the registry's 401 by logging in with the password
    dxf_module = require_module("dxf", "python-dxf")

    def authenticate(client, response):
        client.authenticate("AWS", password, response=response)

    client = dxf_module.DXF(server.tls_host, repository, auth=authenticate, tlsverify=False)

    # when: it pushes a config, a layer and a manifest that names them, under tag v1
    layer = os.urandom(4096)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    for blob in (config, layer):
        assert client.push_blob(data=iter([blob]), digest=sha256(blob)) == sha256(blob)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": sha256(config), "size": len(config)},
        "layers": [
            {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": sha256(layer), "size": len(layer)}
        ],
    })
    client.set_manifest("v1", manifest)

    # then: it pulls the blobs and the manifest back, and lists the tag
    assert b"".join(client.pull_blob(sha256(layer))) == layer
    assert client.blob_size(sha256(config)) == len(config)
    pulled, response = client.get_manifest_and_response("v1")
    assert pulled == manifest
    assert response.headers["Docker-Content-Digest"] == sha256(manifest.encode())
    assert client.list_aliases() == ["v1"]

    # then: the API shows the same image
    detail = describe(ecr, repository, imageTag="v1")
    assert detail["imageDigest"] == sha256(manifest.encode())
    assert detail["imageSizeInBytes"] == len(layer)

    # when: a blob is uploaded under a digest that is not its content's
    wrong = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(requests.HTTPError) as refused:
        client.push_blob(data=iter([b"the real content"]), digest=wrong, check_exists=False)

    # then: the registry refuses it with DIGEST_INVALID and stores nothing under either digest
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["errors"][0]["code"] == "DIGEST_INVALID"
    for digest in (wrong, sha256(b"the real content")):
        with pytest.raises(requests.HTTPError):
            client.blob_size(digest)


# 6. Bad input as each client sees it


def test_docker_pull_missing_tag(server, password, repository, docker_cli, skopeo_available):
    # given
    docker_login(server, docker_cli, password)
    uri = f"{server.host}/{repository}"

    # when
    docker = run(["docker", "pull", f"{uri}:missing"], docker_cli, check=False)
    skopeo = run(["skopeo", "inspect", "--tls-verify=false", "--creds", f"AWS:{password}", f"docker://{uri}:missing"],
                 docker_cli, check=False)
    missing_repository = run(["docker", "pull", f"{server.host}/clients/no-such-repository:v1"], docker_cli, check=False)

    # then: ECR's MANIFEST_UNKNOWN and NAME_UNKNOWN, in each client's words
    assert docker.returncode != 0
    assert "manifest unknown" in docker.stderr
    assert "Requested image not found" in docker.stderr
    assert skopeo.returncode != 0
    assert "manifest unknown" in skopeo.stderr
    assert missing_repository.returncode != 0
    assert "name unknown" in missing_repository.stderr
    assert "The repository with name 'clients/no-such-repository' does not exist" in missing_repository.stderr


def test_docker_login_forged_password(server, ecr, password, repository, docker_cli, skopeo_available):
    # given: a password whose signature was replaced, as if made up by hand
    envelope = json.loads(base64.b64decode(password))
    envelope["datakey"] = base64.b64encode(b"not the emulator's signature").decode()
    forged = base64.b64encode(json.dumps(envelope).encode()).decode()
    uri = f"{server.host}/{repository}"
    build_scratch_image(docker_cli, f"{uri}:v1", {"forged.txt": b"forged\n"})

    # when
    login = run(["docker", "login", "--username", "AWS", "--password-stdin", server.host], docker_cli, input=forged, check=False)
    skopeo = run(["skopeo", "login", "--tls-verify=false", "--username", "AWS", "--password-stdin", server.host],
                 docker_cli, input=forged, check=False)
    push = run(["docker", "push", f"{uri}:v1"], docker_cli, check=False)

    # then: both logins fail with 401, the push has no credentials, and nothing was stored
    assert login.returncode != 0
    assert "401 Unauthorized" in login.stderr
    assert skopeo.returncode != 0
    assert "invalid username/password" in skopeo.stderr
    assert push.returncode != 0
    assert ecr.describe_images(repositoryName=repository)["imageDetails"] == []


def test_docker_login_expired_password(server, password, docker_cli):
    # given: a password 12 hours and a minute old
    advance_clock(server, TOKEN_LIFETIME_SECONDS + 60)

    # when
    login = run(
        ["docker", "login", "--username", "AWS", "--password-stdin", server.host], docker_cli, input=password, check=False
    )

    # then: the login fails because the registry returned 403, as ECR does for an expired token
    assert login.returncode != 0
    assert "403" in login.stderr


def test_docker_push_after_token_expiry(server, ecr, password, repository, docker_cli):
    # given: docker logged in, then the token's 12 hours pass
    uri = f"{server.host}/{repository}"
    build_scratch_image(docker_cli, f"{uri}:v1", {"late.txt": b"late\n"})
    docker_login(server, docker_cli, password)
    advance_clock(server, TOKEN_LIFETIME_SECONDS + 60)

    # when
    push = run(["docker", "push", f"{uri}:v1"], docker_cli, check=False)

    # then: ECR's words tell the user to log in again, and nothing was stored
    assert push.returncode != 0
    assert ecr.describe_images(repositoryName=repository)["imageDetails"] == []
    assert "Your authorization token has expired. Reauthenticate and try again." in push.stderr


def test_push_to_upper_case_name(server, ecr, password, docker_cli, tmp_path):
    # given
    docker_login(server, docker_cli, password)
    client = oras_client(server, password, tmp_path)
    (tmp_path / "upper.txt").write_bytes(b"upper\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY upper.txt /upper.txt\n")

    # when: docker checks the name itself, and ORAS sends it to the registry
    tag = run(["docker", "build", "--tag", f"{server.host}/Team/App:v1", str(tmp_path)], docker_cli, check=False)
    with pytest.raises(ValueError) as oras_refused:
        client.push(f"{server.host}/Team/App:v1", files=[str(tmp_path / "upper.txt")], disable_path_validation=True)
    direct = requests.get(f"{server.endpoint}/v2/Team/App/tags/list", auth=("AWS", password), timeout=10)

    # then: docker rejects the reference, and the registry returns NAME_INVALID and creates nothing
    assert tag.returncode != 0
    assert "must be lowercase" in tag.stderr
    assert "NAME_INVALID" in str(oras_refused.value)
    assert direct.status_code == 400
    assert direct.json()["errors"][0]["code"] == "NAME_INVALID"
    assert ecr.describe_repositories()["repositories"] == []
