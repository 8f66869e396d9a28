"""StartImageScan, DescribeImageScanFindings and scan on push, in decorator and server mode.

The images are real: gzip tar layers with os-release and a dpkg or apk database, uploaded through
the API. The advisories are OSV files that this module writes to a folder, which both modes read
(the server through ECR_EMULATOR_ADVISORY_DB, decorator mode through `configure`).
"""

import datetime
import gzip
import io
import json
import os
import tarfile
import tempfile

import pytest
from botocore.exceptions import ClientError, WaiterError

from ecr_emulator.backend import scanning as backend_scanning
from ecr_emulator.mock import MockECR
from ecr_emulator.scanning import advisories
from tests.conftest import DecoratorMode, LiveServer, advance_clock
from tests.helpers import image_manifest, manifest_list, sha256, upload_blob

ACCOUNT = "123456789012"
DAY = 24 * 60 * 60
# Allowed difference between the test's clock and a live server's, which runs on the same machine
CLOCK_TOLERANCE = datetime.timedelta(seconds=5)
UNSUPPORTED = "UnsupportedImageError: The operating system and/or package manager are not supported."
COMPLETE = "The scan was completed successfully."

DEBIAN_OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
ALPINE_OS_RELEASE = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'


def dpkg_entry(name: str, version: str, source: str | None = None) -> str:
    source_line = f"Source: {source}\n" if source else ""
    return f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\n{source_line}Version: {version}\n"


DEBIAN_PACKAGES = {
    "libssl3": ("3.0.11-1~deb12u2", "openssl"),
    "openssl": ("3.0.11-1~deb12u2", None),
    "bash": ("5.2.15-2+b2", None),
    "zlib1g": ("1:1.2.13.dfsg-1", "zlib"),
    "curl": ("7.88.1-10+deb12u5", None),
}


def dpkg_status(packages: dict[str, tuple[str, str | None]]) -> bytes:
    return "\n".join(dpkg_entry(name, version, source) for name, (version, source) in packages.items()).encode()


APK_INSTALLED = b"P:busybox\nV:1.36.1-r15\nA:x86_64\no:busybox\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n"

CVSS_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
CVSS_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"


def osv(identifier, ecosystem, package, fixed=None, modified="2024-02-01T00:00:00Z", **fields) -> dict:
    events = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
    affected = {"package": {"ecosystem": ecosystem, "name": package}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}
    affected.update(fields.pop("affected_fields", {}))
    return {"schema_version": "1.6.0", "id": identifier, "modified": modified, "affected": [affected], **fields}


ADVISORIES = [
    osv(
        "DEBIAN-CVE-2024-0727",
        "Debian:12",
        "openssl",
        fixed="3.0.13-1~deb12u1",
        upstream=["CVE-2024-0727"],
        details="Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
        severity=[{"type": "CVSS_V3", "score": CVSS_MEDIUM}],
        references=[{"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2024-0727"}],
    ),
    osv(
        "DEBIAN-CVE-2022-3715",
        "Debian:12",
        "bash",
        upstream=["CVE-2022-3715"],
        details="A flaw was found in the bash package, where a heap-buffer overflow can occur in valid parameter_transform.",
        affected_fields={"ecosystem_specific": {"urgency": "low"}},
        modified="2024-06-30T12:00:00Z",
    ),
    osv(
        "DEBIAN-CVE-2023-45853",
        "Debian:12",
        "zlib",
        fixed="1:1.2.13.dfsg-3",
        upstream=["CVE-2023-45853"],
        details="MiniZip in zlib through 1.3 has an integer overflow.",
        severity=[{"type": "CVSS_V3", "score": CVSS_CRITICAL}],
    ),
    osv("DEBIAN-CVE-2023-38545", "Debian:12", "curl", fixed="7.88.1-10+deb12u4", upstream=["CVE-2023-38545"]),
    osv("DEBIAN-CVE-2024-9999", "Debian:11", "bash", upstream=["CVE-2024-9999"]),
    osv("ALPINE-CVE-2024-0727", "Alpine:v3.19", "openssl", fixed="3.1.4-r6", upstream=["CVE-2024-0727"]),
    osv(
        "ALPINE-CVE-2023-42363",
        "Alpine:v3.19",
        "busybox",
        fixed="1.36.1-r16",
        upstream=["CVE-2023-42363"],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H"}],
    ),
]

# The findings the Debian image has against ADVISORIES, most severe first.
DEBIAN_FINDINGS = [
    {
        "name": "CVE-2023-45853",
        "description": "MiniZip in zlib through 1.3 has an integer overflow.",
        "severity": "CRITICAL",
        "attributes": [
            {"key": "package_version", "value": "1:1.2.13.dfsg-1"},
            {"key": "package_name", "value": "zlib"},
            {"key": "CVSS3_VECTOR", "value": CVSS_CRITICAL},
            {"key": "CVSS3_SCORE", "value": "9.8"},
        ],
    },
    {
        "name": "CVE-2024-0727",
        "description": "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
        "uri": "https://security-tracker.debian.org/tracker/CVE-2024-0727",
        "severity": "MEDIUM",
        "attributes": [
            {"key": "package_version", "value": "3.0.11-1~deb12u2"},
            {"key": "package_name", "value": "openssl"},
            {"key": "CVSS3_VECTOR", "value": CVSS_MEDIUM},
            {"key": "CVSS3_SCORE", "value": "6.5"},
        ],
    },
    {
        "name": "CVE-2022-3715",
        "description": "A flaw was found in the bash package, where a heap-buffer overflow can occur in valid parameter_transform.",
        "severity": "LOW",
        "attributes": [{"key": "package_version", "value": "5.2.15-2+b2"}, {"key": "package_name", "value": "bash"}],
    },
]


@pytest.fixture(scope="module")
def advisory_folder():
    with tempfile.TemporaryDirectory(prefix="ecr-emulator-advisories-") as folder:
        for record in ADVISORIES:
            with open(os.path.join(folder, f"{record['id']}.json"), "w") as stream:
                json.dump(record, stream)
        yield folder


@pytest.fixture(scope="module")
def scanning_server(advisory_folder):
    """A live server that reads the module's advisory folder."""
    saved = os.environ.get(advisories.ENVIRONMENT_VARIABLE)
    os.environ[advisories.ENVIRONMENT_VARIABLE] = advisory_folder
    try:
        with tempfile.TemporaryDirectory(prefix="ecr-emulator-server-") as data_dir:
            server = LiveServer(data_dir)
            try:
                yield server
            finally:
                server.stop()
    finally:
        if saved is None:
            os.environ.pop(advisories.ENVIRONMENT_VARIABLE, None)
        else:
            os.environ[advisories.ENVIRONMENT_VARIABLE] = saved


@pytest.fixture(params=["decorator", "server"])
def ecr_mode(request, advisory_folder):
    """The emulator with the module's advisories, in decorator mode or as a live server."""
    if request.param == "decorator":
        advisories.configure(advisory_folder)
        try:
            with MockECR():
                yield DecoratorMode()
        finally:
            advisories.configure(None)
    else:
        server = request.getfixturevalue("scanning_server")
        server.reset()
        yield server


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def gzip_layer(files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return gzip.compress(buffer.getvalue())


def debian_layer(packages=DEBIAN_PACKAGES) -> bytes:
    return gzip_layer(
        {"usr/lib/os-release": DEBIAN_OS_RELEASE, "var/lib/dpkg/status": dpkg_status(packages)},
        symlinks={"etc/os-release": "../usr/lib/os-release"},
    )


def alpine_layer() -> bytes:
    return gzip_layer({"etc/os-release": ALPINE_OS_RELEASE, "lib/apk/db/installed": APK_INSTALLED})


def upload(ecr, repository_name: str, data: bytes) -> dict:
    """Upload a blob unless the repository already has it; return its descriptor."""
    try:
        return upload_blob(ecr, repository_name, data)
    except ecr.exceptions.LayerAlreadyExistsException:
        return {"digest": sha256(data), "size": len(data)}


def push(ecr, repository_name: str, layers: list[bytes], tag: str | None = "v1", config_media_type: str | None = None) -> str:
    """Upload the layers and a config, put the image, and return its digest."""
    diff_ids = [sha256(gzip.decompress(layer)) for layer in layers]
    config = upload(ecr, repository_name, json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())
    descriptors = [upload(ecr, repository_name, layer) for layer in layers]
    manifest = json.loads(image_manifest(config, descriptors))
    if config_media_type:
        manifest["config"]["mediaType"] = config_media_type
    arguments = {"repositoryName": repository_name, "imageManifest": json.dumps(manifest)}
    if tag is not None:
        arguments["imageTag"] = tag
    return ecr.put_image(**arguments)["image"]["imageId"]["imageDigest"]


def findings_of(ecr, repository_name: str = "app", image_id=None) -> dict:
    response = ecr.describe_image_scan_findings(repositoryName=repository_name, imageId=image_id or {"imageTag": "v1"})
    response.pop("ResponseMetadata")
    return response


# Scanning and findings


def test_start_image_scan_response(ecr):
    ecr.create_repository(repositoryName="app")
    digest = push(ecr, "app", [debian_layer()])

    response = ecr.start_image_scan(repositoryName="app", imageId={"imageDigest": digest})

    # then: the start-image-scan example of the AWS CLI
    response.pop("ResponseMetadata")
    assert response == {
        "registryId": ACCOUNT,
        "repositoryName": "app",
        "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "IN_PROGRESS"},
    }


def test_start_image_scan_by_tag(ecr):
    ecr.create_repository(repositoryName="app")
    digest = push(ecr, "app", [debian_layer()])

    response = ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    assert response["imageId"] == {"imageDigest": digest, "imageTag": "v1"}


def test_debian_image_findings(ecr):
    # given
    ecr.create_repository(repositoryName="app")
    digest = push(ecr, "app", [debian_layer()])
    before = datetime.datetime.now(datetime.timezone.utc) - CLOCK_TOLERANCE
    ecr.start_image_scan(repositoryName="app", imageId={"imageDigest": digest})
    after = datetime.datetime.now(datetime.timezone.utc) + CLOCK_TOLERANCE

    # when
    response = findings_of(ecr, image_id={"imageDigest": digest})

    # then
    assert response["registryId"] == ACCOUNT
    assert response["repositoryName"] == "app"
    assert response["imageId"] == {"imageDigest": digest}
    assert response["imageScanStatus"] == {"status": "COMPLETE", "description": COMPLETE}
    scan = response["imageScanFindings"]
    assert scan["findings"] == DEBIAN_FINDINGS
    assert scan["findingSeverityCounts"] == {"CRITICAL": 1, "MEDIUM": 1, "LOW": 1}
    assert before <= scan["imageScanCompletedAt"] <= after
    assert "nextToken" not in response


def test_vulnerability_source_updated_at(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    scan = findings_of(ecr)["imageScanFindings"]

    # then: the newest `modified` time among the advisories
    assert scan["vulnerabilitySourceUpdatedAt"] == datetime.datetime(2024, 6, 30, 12, tzinfo=datetime.timezone.utc)


def test_alpine_image_findings(ecr):
    ecr.create_repository(repositoryName="alpine")
    push(ecr, "alpine", [alpine_layer()])
    ecr.start_image_scan(repositoryName="alpine", imageId={"imageTag": "v1"})

    scan = findings_of(ecr, "alpine")["imageScanFindings"]

    assert [(finding["name"], finding["severity"], finding["attributes"][:2]) for finding in scan["findings"]] == [
        (
            "CVE-2023-42363",
            "MEDIUM",
            [{"key": "package_version", "value": "1.36.1-r15"}, {"key": "package_name", "value": "busybox"}],
        ),
        (
            "CVE-2024-0727",
            "UNDEFINED",
            [{"key": "package_version", "value": "3.1.4-r5"}, {"key": "package_name", "value": "openssl"}],
        ),
    ]
    assert scan["findingSeverityCounts"] == {"MEDIUM": 1, "UNDEFINED": 1}


def test_patched_image_has_no_findings(ecr):
    # given: every package at or past its fixed version, and bash not installed
    ecr.create_repository(repositoryName="app")
    patched = {
        "libssl3": ("3.0.13-1~deb12u1", "openssl"),
        "zlib1g": ("1:1.2.13.dfsg-3", "zlib"),
        "curl": ("7.88.1-10+deb12u5", None),
    }
    push(ecr, "app", [debian_layer(patched)])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    response = findings_of(ecr)

    assert response["imageScanStatus"]["status"] == "COMPLETE"
    assert response["imageScanFindings"]["findings"] == []
    assert response["imageScanFindings"]["findingSeverityCounts"] == {}


def test_upper_layer_upgrades_package(ecr):
    # given: the second layer rewrites the dpkg database with zlib upgraded
    ecr.create_repository(repositoryName="app")
    upgraded = dict(DEBIAN_PACKAGES, zlib1g=("1:1.2.13.dfsg-3", "zlib"))
    push(ecr, "app", [debian_layer(), gzip_layer({"var/lib/dpkg/status": dpkg_status(upgraded)})])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    scan = findings_of(ecr)["imageScanFindings"]

    assert [finding["name"] for finding in scan["findings"]] == ["CVE-2024-0727", "CVE-2022-3715"]


def test_whiteout_removes_database(ecr):
    # given: the second layer deletes the dpkg status file
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer(), gzip_layer({"var/lib/dpkg/.wh.status": b""})])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    response = findings_of(ecr)

    # then: a Debian image without a package database cannot be scanned
    assert response["imageScanStatus"] == {"status": "FAILED", "description": UNSUPPORTED}


def test_waiter_ends_on_complete(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    ecr.get_waiter("image_scan_complete").wait(
        repositoryName="app", imageId={"imageTag": "v1"}, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )


def test_scratch_image_scan_fails(ecr):
    # given: a FROM scratch image, one static binary and no os-release
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [gzip_layer({"app": b"\x7fELF static binary"})])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    response = findings_of(ecr)

    assert response["imageScanStatus"] == {"status": "FAILED", "description": UNSUPPORTED}
    assert "imageScanFindings" not in response
    with pytest.raises(WaiterError) as raised:
        ecr.get_waiter("image_scan_complete").wait(
            repositoryName="app", imageId={"imageTag": "v1"}, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
        )
    assert "terminal failure state" in str(raised.value)


def test_derivative_distribution_unsupported(ecr):
    # given: a Debian derivative that names Debian only in ID_LIKE
    ecr.create_repository(repositoryName="app")
    os_release = b'ID=elxr\nID_LIKE=debian\nVERSION_ID="12"\n'
    push(ecr, "app", [gzip_layer({"etc/os-release": os_release, "var/lib/dpkg/status": dpkg_status(DEBIAN_PACKAGES)})])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    assert findings_of(ecr)["imageScanStatus"] == {"status": "FAILED", "description": UNSUPPORTED}


def test_advisory_added_while_running(ecr, advisory_folder):
    # given: an advisory written after the emulator started
    path = os.path.join(advisory_folder, "DEBIAN-CVE-2024-7777.json")
    with open(path, "w") as stream:
        json.dump(osv("DEBIAN-CVE-2024-7777", "Debian:12", "curl", upstream=["CVE-2024-7777"]), stream)
    try:
        ecr.create_repository(repositoryName="app")
        push(ecr, "app", [debian_layer()])

        # when
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

        # then
        names = [finding["name"] for finding in findings_of(ecr)["imageScanFindings"]["findings"]]
        assert "CVE-2024-7777" in names
    finally:
        os.remove(path)


# Pagination


def test_findings_paged(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    first = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"}, maxResults=2)
    second = ecr.describe_image_scan_findings(
        repositoryName="app", imageId={"imageTag": "v1"}, maxResults=2, nextToken=first["nextToken"]
    )

    assert first["imageScanFindings"]["findings"] == DEBIAN_FINDINGS[:2]
    assert first["imageScanFindings"]["findingSeverityCounts"] == {"CRITICAL": 1, "MEDIUM": 1, "LOW": 1}
    assert second["imageScanFindings"]["findings"] == DEBIAN_FINDINGS[2:]
    assert "nextToken" not in second


def test_findings_paginator(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    pages = ecr.get_paginator("describe_image_scan_findings").paginate(
        repositoryName="app", imageId={"imageTag": "v1"}, PaginationConfig={"PageSize": 1}
    )

    assert [finding["name"] for finding in pages.build_full_result()["imageScanFindings"]["findings"]] == [
        finding["name"] for finding in DEBIAN_FINDINGS
    ]


@pytest.mark.parametrize(
    "max_results, detail",
    [
        (0, "Member must have value greater than or equal to 1"),
        (1001, "Member must have value less than or equal to 1000"),
    ],
)
def test_max_results_out_of_range(ecr_mode, max_results, detail):
    ecr = ecr_mode.client(parameter_validation=False)
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    with pytest.raises(ClientError) as raised:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"}, maxResults=max_results)

    assert error_of(raised) == (
        "InvalidParameterException",
        f"Invalid parameter at 'maxResults' failed to satisfy constraint: '{detail}'",
    )


def test_invalid_next_token(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    with pytest.raises(ClientError) as raised:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"}, nextToken="not-a-token")

    assert error_of(raised)[0] == "InvalidParameterException"


# Errors


def test_findings_before_scan(ecr):
    ecr.create_repository(repositoryName="app")
    digest = push(ecr, "app", [debian_layer()])

    with pytest.raises(ClientError) as by_digest:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageDigest": digest})
    with pytest.raises(ClientError) as by_tag:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"})

    assert error_of(by_digest) == (
        "ScanNotFoundException",
        f"Image scan does not exist for the image with '{{imageDigest:'{digest}', imageTag:'null'}}' in the "
        f"repository with name 'app' in the registry with id '{ACCOUNT}'",
    )
    assert error_of(by_tag) == (
        "ScanNotFoundException",
        "Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' in the repository with "
        f"name 'app' in the registry with id '{ACCOUNT}'",
    )


def test_scan_missing_repository(ecr):
    for call in (ecr.start_image_scan, ecr.describe_image_scan_findings):
        with pytest.raises(ClientError) as raised:
            call(repositoryName="missing", imageId={"imageTag": "v1"})

        assert error_of(raised) == (
            "RepositoryNotFoundException",
            f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
        )


def test_scan_missing_image(ecr):
    ecr.create_repository(repositoryName="app")

    for call in (ecr.start_image_scan, ecr.describe_image_scan_findings):
        with pytest.raises(ClientError) as raised:
            call(repositoryName="app", imageId={"imageTag": "nope"})

        assert error_of(raised) == (
            "ImageNotFoundException",
            "The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with "
            f"name 'app' in the registry with id '{ACCOUNT}'",
        )


def test_invalid_repository_name(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="Not_Valid", imageId={"imageTag": "v1"})

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'repositoryName' failed to satisfy constraint: ")


def test_manifest_list_not_scannable(ecr):
    # given: an image index over one image
    ecr.create_repository(repositoryName="app")
    digest = push(ecr, "app", [debian_layer()], tag=None)
    manifest = ecr.batch_get_image(repositoryName="app", imageIds=[{"imageDigest": digest}])["images"][0]["imageManifest"]
    index = manifest_list([(digest, len(manifest.encode()))], media_type="application/vnd.oci.image.index.v1+json")
    ecr.put_image(repositoryName="app", imageManifest=index.decode(), imageTag="multi")

    # when
    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "multi"})

    # then: rejected, no scan stored, and the image itself can still be scanned
    assert error_of(raised) == (
        "UnsupportedImageTypeException",
        "An artifact with media type 'application/vnd.oci.image.index.v1+json' cannot be scanned. For more "
        "information, see the Amazon ECR documentation.",
    )
    with pytest.raises(ClientError) as missing:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "multi"})
    assert error_of(missing)[0] == "ScanNotFoundException"
    ecr.start_image_scan(repositoryName="app", imageId={"imageDigest": digest})


def test_artifact_not_scannable(ecr):
    ecr.create_repository(repositoryName="charts")
    push(ecr, "charts", [gzip_layer({"chart/Chart.yaml": b"name: app\n"})], config_media_type="application/vnd.cncf.helm.config.v1+json")

    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="charts", imageId={"imageTag": "v1"})

    assert error_of(raised) == (
        "UnsupportedImageTypeException",
        "An artifact with media type 'application/vnd.cncf.helm.config.v1+json' cannot be scanned. For more "
        "information, see the Amazon ECR documentation.",
    )


def test_archived_image_not_scannable(ecr):
    ecr.create_repository(repositoryName="app")
    digest = push(ecr, "app", [debian_layer()])
    ecr.update_image_storage_class(repositoryName="app", imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE")

    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageDigest": digest})

    code, message = error_of(raised)
    assert code == "ImageArchivedException"
    assert "archived" in message
    with pytest.raises(ClientError) as missing:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageDigest": digest})
    assert error_of(missing)[0] == "ScanNotFoundException"


# Quotas


def test_one_scan_per_image_per_day(ecr, ecr_mode):
    # given: an image scanned once
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
    completed = findings_of(ecr)["imageScanFindings"]["imageScanCompletedAt"]

    # when: a second scan within 24 hours
    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    # then
    assert error_of(raised) == ("LimitExceededException", "The scan quota per image has been exceeded. Wait and try again.")
    assert findings_of(ecr)["imageScanFindings"]["imageScanCompletedAt"] == completed

    # when: 24 hours later
    advance_clock(ecr_mode, DAY)
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    # then: a new scan
    assert findings_of(ecr)["imageScanFindings"]["imageScanCompletedAt"] > completed


def test_quota_just_before_a_day(ecr, ecr_mode):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
    advance_clock(ecr_mode, DAY - 60)

    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    assert error_of(raised)[0] == "LimitExceededException"


def test_quota_is_per_image(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()], tag="v1")
    push(ecr, "app", [alpine_layer()], tag="v2")

    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v2"})

    assert findings_of(ecr, image_id={"imageTag": "v2"})["imageScanStatus"]["status"] == "COMPLETE"


def test_failed_scan_counts_against_quota(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [gzip_layer({"app": b"\x7fELF"})])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    assert error_of(raised)[0] == "LimitExceededException"


# The quota of 100,000 scans can only be lowered in the test's own process.
@pytest.mark.parametrize("ecr_mode", ["decorator"], indirect=True)
def test_registry_scan_quota(ecr, ecr_mode, monkeypatch):
    # given: a registry quota of two scans, both used
    monkeypatch.setattr(backend_scanning, "MAX_SCANS_PER_REGISTRY", 2)
    ecr.create_repository(repositoryName="app")
    for tag, layer in (("v1", debian_layer()), ("v2", alpine_layer()), ("v3", gzip_layer({"app": b"\x7fELF"}))):
        push(ecr, "app", [layer], tag=tag)
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v2"})

    # when
    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v3"})

    # then: rejected until 24 hours have passed
    assert error_of(raised)[0] == "LimitExceededException"
    advance_clock(ecr_mode, DAY)
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v3"})


# Scan on push


def test_scan_on_push_repository_setting(ecr):
    # given: a repository created with scanOnPush
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})

    # when
    push(ecr, "app", [debian_layer()])

    # then: scanned already, and that scan counts against the quota
    response = findings_of(ecr)
    assert response["imageScanStatus"]["status"] == "COMPLETE"
    assert response["imageScanFindings"]["findings"] == DEBIAN_FINDINGS
    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
    assert error_of(raised)[0] == "LimitExceededException"


def test_scan_on_push_registry_filter(ecr):
    # given: a basic scan-on-push rule whose filter (no wildcard) matches names containing "prod"
    ecr.put_registry_scanning_configuration(
        scanType="BASIC", rules=[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "prod", "filterType": "WILDCARD"}]}]
    )
    ecr.create_repository(repositoryName="team-prod")
    ecr.create_repository(repositoryName="dev")

    # when
    push(ecr, "team-prod", [debian_layer()])
    push(ecr, "dev", [debian_layer()])

    # then
    assert findings_of(ecr, "team-prod")["imageScanStatus"]["status"] == "COMPLETE"
    with pytest.raises(ClientError) as raised:
        findings_of(ecr, "dev")
    assert error_of(raised)[0] == "ScanNotFoundException"


def test_no_scan_on_push_by_default(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])

    with pytest.raises(ClientError) as raised:
        findings_of(ecr)

    assert error_of(raised)[0] == "ScanNotFoundException"


def test_scan_on_push_of_scratch_image_fails(ecr):
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})

    push(ecr, "app", [gzip_layer({"app": b"\x7fELF"})])

    assert findings_of(ecr)["imageScanStatus"] == {"status": "FAILED", "description": UNSUPPORTED}


def test_retag_within_a_day_keeps_scan(ecr):
    # given: a scanned-on-push image, pushed again under a second tag
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
    digest = push(ecr, "app", [debian_layer()])
    completed = findings_of(ecr)["imageScanFindings"]["imageScanCompletedAt"]
    manifest = ecr.batch_get_image(repositoryName="app", imageIds=[{"imageDigest": digest}])["images"][0]["imageManifest"]

    ecr.put_image(repositoryName="app", imageManifest=manifest, imageTag="v2")

    # then: the quota allows no second scan
    assert findings_of(ecr, image_id={"imageTag": "v2"})["imageScanFindings"]["imageScanCompletedAt"] == completed


# Scanning configuration


def test_enhanced_scanning_rejects_manual_scan(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[])

    with pytest.raises(ClientError) as raised:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    assert error_of(raised)[0] == "ValidationException"
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])
    with pytest.raises(ClientError) as missing:
        findings_of(ecr)
    assert error_of(missing)[0] == "ScanNotFoundException"


def test_scan_type_switch_hides_scans(ecr):
    # given: a basic scan
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    # when: enhanced scanning is turned on
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[])

    # then: the basic scan is no longer available, and is again once basic scanning is back
    with pytest.raises(ClientError) as raised:
        findings_of(ecr)
    assert error_of(raised)[0] == "ScanNotFoundException"
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])
    assert findings_of(ecr)["imageScanFindings"]["findings"] == DEBIAN_FINDINGS


def test_scanner_version_switch_hides_scans(ecr, ecr_mode):
    # given: a scan by the AWS native scanner
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    # when
    ecr.put_account_setting(name="BASIC_SCAN_TYPE_VERSION", value="CLAIR")

    # then
    with pytest.raises(ClientError) as raised:
        findings_of(ecr)
    assert error_of(raised)[0] == "ScanNotFoundException"
    ecr.put_account_setting(name="BASIC_SCAN_TYPE_VERSION", value="AWS_NATIVE")
    assert findings_of(ecr)["imageScanStatus"]["status"] == "COMPLETE"


def test_enhanced_scan_on_push_not_basic(ecr):
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED", rules=[{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]
    )
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])

    with pytest.raises(ClientError) as raised:
        findings_of(ecr)

    assert error_of(raised)[0] == "ScanNotFoundException"


# Scans go with their image


def test_scan_dropped_with_image(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])
    push(ecr, "app", [debian_layer()])

    with pytest.raises(ClientError) as raised:
        findings_of(ecr)
    assert error_of(raised)[0] == "ScanNotFoundException"


def test_scan_dropped_with_repository(ecr):
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    ecr.delete_repository(repositoryName="app", force=True)
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])

    with pytest.raises(ClientError) as raised:
        findings_of(ecr)
    assert error_of(raised)[0] == "ScanNotFoundException"


def test_scans_are_per_repository(ecr):
    ecr.create_repository(repositoryName="one")
    ecr.create_repository(repositoryName="two")
    push(ecr, "one", [debian_layer()])
    push(ecr, "two", [debian_layer()])

    ecr.start_image_scan(repositoryName="one", imageId={"imageTag": "v1"})

    with pytest.raises(ClientError) as raised:
        findings_of(ecr, "two")
    assert error_of(raised)[0] == "ScanNotFoundException"
    ecr.start_image_scan(repositoryName="two", imageId={"imageTag": "v1"})


def test_describe_images_has_no_scan_summary(ecr):
    # given: the AWS native basic scanner, which leaves DescribeImages' scan fields empty
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", [debian_layer()])
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})

    [detail] = ecr.describe_images(repositoryName="app")["imageDetails"]

    assert "imageScanStatus" not in detail
    assert "imageScanFindingsSummary" not in detail
