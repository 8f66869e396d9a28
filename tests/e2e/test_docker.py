"""The README's quick start with the real docker and skopeo clients against `ecr-emulator serve`."""

import json
import os
import subprocess

import pytest

from tests.e2e.conftest import build_scratch_image, read_image_file, run

REPOSITORY = "team/app"


@pytest.fixture
def server(live_server):
    live_server.reset()
    return live_server


@pytest.fixture
def aws_env(server):
    """Environment for the aws CLI: fake credentials and the emulator's endpoint."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    env.pop("AWS_PROFILE", None)
    return env


def aws(server, env, *arguments) -> dict | str:
    output = run(["aws", "--endpoint-url", server.endpoint, "ecr", *arguments], env).stdout
    try:
        return json.loads(output)
    except ValueError:
        return output.strip()


def login(server, aws_env, docker_env) -> None:
    password = aws(server, aws_env, "get-login-password")
    run(["docker", "login", "--username", "AWS", "--password-stdin", server.host], docker_env, input=password)


def pushed_digest(push_output: str) -> str:
    """Return the digest that `docker push` printed on its last line: `<tag>: digest: sha256:... size: N`."""
    for line in reversed(push_output.splitlines()):
        if "digest: " in line:
            return line.split("digest: ", 1)[1].split()[0]
    raise AssertionError(f"docker push printed no digest:\n{push_output}")


def test_docker_push_and_pull(server, aws_env, docker_env):
    # given: a repository and a FROM scratch image of two layers, one of several MiB whose size is
    # not a multiple of 4096, so the server writes whole blocks past the page cache and a tail through it
    uri = aws(server, aws_env, "create-repository", "--repository-name", REPOSITORY)["repository"]["repositoryUri"]
    assert uri == f"{server.host}/{REPOSITORY}"
    large = os.urandom(6 * 1024 * 1024 + 123)
    build_scratch_image(docker_env, f"{uri}:v1", {"hello.txt": b"hello\n", "data/blob.bin": large})

    # when: pushing before login is refused
    refused = run(["docker", "push", f"{uri}:v1"], docker_env, check=False)
    assert refused.returncode != 0
    assert "no basic auth credentials" in refused.stderr + refused.stdout

    # when: logged in with get-login-password, the push succeeds
    login(server, aws_env, docker_env)
    digest = pushed_digest(run(["docker", "push", f"{uri}:v1"], docker_env).stdout)

    # then: DescribeImages shows what docker pushed
    detail = aws(server, aws_env, "describe-images", "--repository-name", REPOSITORY)["imageDetails"]
    assert len(detail) == 1
    assert detail[0]["imageDigest"] == digest
    assert detail[0]["imageTags"] == ["v1"]
    manifest_text = aws(
        server, aws_env, "batch-get-image", "--repository-name", REPOSITORY, "--image-ids", "imageTag=v1",
    )["images"][0]["imageManifest"]
    manifest = json.loads(manifest_text)
    assert detail[0]["imageSizeInBytes"] == sum(layer["size"] for layer in manifest["layers"])
    local = json.loads(run(["docker", "image", "inspect", f"{uri}:v1"], docker_env).stdout)[0]
    assert f"{uri}@{digest}" in local["RepoDigests"]

    # then: a pull by tag and by digest brings the same bytes back
    run(["docker", "rmi", f"{uri}:v1", f"{uri}@{digest}"], docker_env, check=False)
    run(["docker", "pull", f"{uri}:v1"], docker_env)
    assert read_image_file(docker_env, f"{uri}:v1", "hello.txt") == b"hello\n"
    run(["docker", "rmi", f"{uri}:v1"], docker_env)
    run(["docker", "pull", f"{uri}@{digest}"], docker_env)
    assert read_image_file(docker_env, f"{uri}@{digest}", "hello.txt") == b"hello\n"
    assert read_image_file(docker_env, f"{uri}@{digest}", "data/blob.bin") == large

    # then: the pull is recorded
    pulled = aws(server, aws_env, "describe-images", "--repository-name", REPOSITORY)["imageDetails"][0]
    assert "lastRecordedPullTime" in pulled


def test_push_to_missing_repository(server, aws_env, docker_env):
    login(server, aws_env, docker_env)
    build_scratch_image(docker_env, f"{server.host}/missing/app:v1", {"a.txt": b"a"})

    result = run(["docker", "push", f"{server.host}/missing/app:v1"], docker_env, check=False)

    assert result.returncode != 0
    assert "name unknown" in (result.stdout + result.stderr).lower()


def test_put_image_pulls_with_docker(server, aws_env, docker_env):
    # given: an image pushed with docker, then tagged again through PutImage
    uri = aws(server, aws_env, "create-repository", "--repository-name", REPOSITORY)["repository"]["repositoryUri"]
    build_scratch_image(docker_env, f"{uri}:v1", {"put.txt": b"put-image\n"})
    login(server, aws_env, docker_env)
    run(["docker", "push", f"{uri}:v1"], docker_env)
    manifest = aws(server, aws_env, "batch-get-image", "--repository-name", REPOSITORY, "--image-ids", "imageTag=v1")
    aws(
        server, aws_env, "put-image", "--repository-name", REPOSITORY, "--image-tag", "from-api",
        "--image-manifest", manifest["images"][0]["imageManifest"],
    )

    # when
    run(["docker", "pull", f"{uri}:from-api"], docker_env)

    # then
    assert read_image_file(docker_env, f"{uri}:from-api", "put.txt") == b"put-image\n"


def test_skopeo_copy_in_and_out(server, aws_env, docker_env, skopeo_available, tmp_path):
    # given: an image in an OCI layout folder, made by skopeo from a docker-archive
    uri = aws(server, aws_env, "create-repository", "--repository-name", REPOSITORY)["repository"]["repositoryUri"]
    build_scratch_image(docker_env, "local/skopeo-source:v1", {"skopeo.txt": b"from skopeo\n"})
    archive = tmp_path / "image.tar"
    run(["docker", "save", "--output", str(archive), "local/skopeo-source:v1"], docker_env)
    credentials = f"AWS:{aws(server, aws_env, 'get-login-password')}"

    # when: skopeo copies it in, and back out into an OCI layout
    run(
        ["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", credentials,
         f"docker-archive:{archive}", f"docker://{uri}:skopeo"],
        docker_env,
    )
    inspected = json.loads(
        run(["skopeo", "inspect", "--tls-verify=false", "--creds", credentials, f"docker://{uri}:skopeo"], docker_env).stdout
    )
    run(
        ["skopeo", "copy", "--src-tls-verify=false", "--src-creds", credentials,
         f"docker://{uri}:skopeo", f"oci:{tmp_path / 'layout'}:out"],
        docker_env,
    )

    # then: the API and skopeo agree on the digest, and the copied layer contains the file
    detail = aws(server, aws_env, "describe-images", "--repository-name", REPOSITORY, "--image-ids", "imageTag=skopeo")
    assert detail["imageDetails"][0]["imageDigest"] == inspected["Digest"]
    got = aws(server, aws_env, "batch-get-image", "--repository-name", REPOSITORY, "--image-ids", "imageTag=skopeo")
    layer_digests = [layer["digest"] for layer in json.loads(got["images"][0]["imageManifest"])["layers"]]
    assert inspected["Layers"] == layer_digests
    for digest in layer_digests:
        blob = tmp_path / "layout" / "blobs" / "sha256" / digest.split(":", 1)[1]
        assert blob.exists()
        assert subprocess.run(["sha256sum", str(blob)], capture_output=True, text=True).stdout.split()[0] == digest.split(":", 1)[1]
