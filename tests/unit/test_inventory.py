"""The inventory of an image: layers read as tar streams, whiteouts, os-release, dpkg and apk databases."""

import bz2
import gzip
import hashlib
import io
import lzma
import random
import tarfile

import pytest

from ecr_emulator.scanning import inventory
from ecr_emulator.scanning.inventory import LayerReference, OperatingSystem, Package, read_layers
from ecr_emulator.storage.base import BlobNotFound

GZIP_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

DEBIAN_OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
ALPINE_OS_RELEASE = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'

DPKG_STATUS = b"""Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols.

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2

Package: removed-tool
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
"""

APK_INSTALLED = b"""C:Q1abc=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
o:musl
F:lib

C:Q1def=
P:libcrypto3
V:3.1.4-r5
A:x86_64
S:1000
o:openssl
F:usr/lib
R:libcrypto.so.3
"""


class Layers:
    """Layers kept in memory by digest, built from file, symlink and whiteout entries."""

    def __init__(self):
        self.blobs: dict[str, bytes] = {}

    def add(self, data: bytes, media_type: str | None = GZIP_LAYER) -> LayerReference:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return LayerReference(digest, media_type)

    def open(self, digest: str):
        if digest not in self.blobs:
            raise BlobNotFound(digest)
        return io.BytesIO(self.blobs[digest])


def tar_of(files: dict[str, bytes] = None, symlinks: dict[str, str] = None, folders=(), hardlinks: dict[str, str] = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in folders:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        for name, data in (files or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
        for name, target in (hardlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.LNKTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


@pytest.fixture
def layers():
    return Layers()


def names_and_versions(result) -> list[tuple[str, str]]:
    return [(package.name, package.version) for package in result.packages]


def test_debian_image_inventory(layers):
    # given: Debian's layout, /etc/os-release a relative link to /usr/lib/os-release
    base = layers.add(
        gzip.compress(
            tar_of(
                files={"usr/lib/os-release": DEBIAN_OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS},
                symlinks={"etc/os-release": "../usr/lib/os-release"},
                folders=["etc/", "usr/", "usr/lib/"],
            )
        )
    )

    # when
    result = read_layers([base], layers.open)

    # then
    assert result.operating_system == OperatingSystem("debian", "12", "Debian GNU/Linux 12 (bookworm)")
    assert result.package_managers == ["dpkg"]
    assert result.skipped_layers == []
    assert result.packages == [
        Package("dpkg", "bash", "5.2.15-2+b2", "bash", "5.2.15-2+b2", "amd64", base.digest),
        Package("dpkg", "libgcc-s1", "12.2.0-14", "gcc-12", "12.2.0-14", "amd64", base.digest),
        Package("dpkg", "libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2", "amd64", base.digest),
    ]


def test_dpkg_source_version_differs(layers):
    status = b"Package: libfoo1\nStatus: install ok installed\nSource: foo (1.2-3)\nVersion: 1.2-3+b1\nArchitecture: arm64\n"
    layer = layers.add(gzip.compress(tar_of(files={"var/lib/dpkg/status": status})))

    [package] = read_layers([layer], layers.open).packages

    assert (package.name, package.version) == ("libfoo1", "1.2-3+b1")
    assert (package.source_name, package.source_version) == ("foo", "1.2-3")
    assert package.arch == "arm64"


def test_alpine_image_inventory(layers):
    layer = layers.add(gzip.compress(tar_of(files={"etc/os-release": ALPINE_OS_RELEASE, "lib/apk/db/installed": APK_INSTALLED})))

    result = read_layers([layer], layers.open)

    assert result.operating_system == OperatingSystem("alpine", "3.19.1", "Alpine Linux v3.19")
    assert result.package_managers == ["apk"]
    assert result.packages == [
        Package("apk", "libcrypto3", "3.1.4-r5", "openssl", "3.1.4-r5", "x86_64", layer.digest),
        Package("apk", "musl", "1.2.4_git20230717-r4", "musl", "1.2.4_git20230717-r4", "x86_64", layer.digest),
    ]


def test_distroless_status_folder(layers):
    # given: one file per package and no Status field, as distroless images have them
    layer = layers.add(
        gzip.compress(
            tar_of(
                files={
                    "etc/os-release": DEBIAN_OS_RELEASE,
                    "var/lib/dpkg/status.d/base-files": b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
                    "var/lib/dpkg/status.d/tzdata": b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
                    "var/lib/dpkg/status.d/tzdata.md5sums": b"d41d8cd98f00b204e9800998ecf8427e  usr/share/zoneinfo/UTC\n",
                }
            )
        )
    )

    result = read_layers([layer], layers.open)

    assert names_and_versions(result) == [("base-files", "12.4+deb12u5"), ("tzdata", "2024a-0+deb12u1")]


def test_upper_layer_replaces_database(layers):
    # given: the second layer installs curl and upgrades bash
    first = layers.add(gzip.compress(tar_of(files={"etc/os-release": DEBIAN_OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS})))
    upgraded = DPKG_STATUS.replace(b"Version: 5.2.15-2+b2", b"Version: 5.2.15-2+b7") + (
        b"\nPackage: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n"
    )
    second = layers.add(gzip.compress(tar_of(files={"var/lib/dpkg/status": upgraded})))

    # when
    result = read_layers([first, second], layers.open)

    # then: each package is attributed to the layer that first listed it at its version
    layer_of = {package.name: package.layer_digest for package in result.packages}
    assert dict(names_and_versions(result))["bash"] == "5.2.15-2+b7"
    assert layer_of == {"bash": second.digest, "curl": second.digest, "libgcc-s1": first.digest, "libssl3": first.digest}


def test_whiteout_deletes_lower_file(layers):
    first = layers.add(gzip.compress(tar_of(files={"etc/os-release": DEBIAN_OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS})))
    second = layers.add(gzip.compress(tar_of(files={"var/lib/dpkg/.wh.status": b""})))

    result = read_layers([first, second], layers.open)

    assert result.operating_system.id == "debian"
    assert result.packages == []
    assert result.package_managers == []


def test_whiteout_deletes_lower_folder(layers):
    first = layers.add(gzip.compress(tar_of(files={"etc/os-release": DEBIAN_OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS})))
    second = layers.add(gzip.compress(tar_of(files={"var/lib/.wh.dpkg": b""})))

    assert read_layers([first, second], layers.open).packages == []


def test_whiteout_spares_same_layer(layers):
    # given: a layer that deletes the lower status file and writes its own
    first = layers.add(gzip.compress(tar_of(files={"var/lib/dpkg/status": DPKG_STATUS})))
    replacement = b"Package: dash\nStatus: install ok installed\nVersion: 0.5.12-2\nArchitecture: amd64\n"
    second = layers.add(gzip.compress(tar_of(files={"var/lib/dpkg/status": replacement, "var/lib/dpkg/.wh.status": b""})))

    result = read_layers([first, second], layers.open)

    assert names_and_versions(result) == [("dash", "0.5.12-2")]


def test_opaque_folder_hides_lower_files(layers):
    first = layers.add(
        gzip.compress(tar_of(files={"var/lib/dpkg/status.d/tzdata": b"Package: tzdata\nVersion: 2024a-0+deb12u1\n"}))
    )
    second = layers.add(
        gzip.compress(
            tar_of(
                files={
                    "var/lib/dpkg/status.d/.wh..wh..opq": b"",
                    "var/lib/dpkg/status.d/netbase": b"Package: netbase\nVersion: 6.4\n",
                }
            )
        )
    )

    result = read_layers([first, second], layers.open)

    assert names_and_versions(result) == [("netbase", "6.4")]


def test_merged_usr_symlink_followed(layers):
    # given: /lib links to usr/lib, and the database sits under usr/lib in the tar
    layer = layers.add(
        gzip.compress(
            tar_of(
                files={"etc/os-release": ALPINE_OS_RELEASE, "usr/lib/apk/db/installed": APK_INSTALLED},
                symlinks={"lib": "usr/lib"},
            )
        )
    )

    result = read_layers([layer], layers.open)

    assert [package.name for package in result.packages] == ["libcrypto3", "musl"]


def test_symlink_replaced_by_upper_file(layers):
    # given: the second layer writes a regular os-release over the lower link
    first = layers.add(
        gzip.compress(
            tar_of(files={"usr/lib/os-release": DEBIAN_OS_RELEASE}, symlinks={"etc/os-release": "../usr/lib/os-release"})
        )
    )
    second = layers.add(gzip.compress(tar_of(files={"etc/os-release": ALPINE_OS_RELEASE})))

    assert read_layers([first, second], layers.open).operating_system.id == "alpine"


def test_hardlink_to_kept_file(layers):
    layer = layers.add(tar_of(files={"usr/lib/os-release": ALPINE_OS_RELEASE}, hardlinks={"etc/os-release": "usr/lib/os-release"}), None)

    assert read_layers([layer], layers.open).operating_system.id == "alpine"


def test_symlink_loop_has_no_os(layers):
    layer = layers.add(gzip.compress(tar_of(symlinks={"etc/os-release": "/etc/loop", "etc/loop": "/etc/os-release"})))

    assert read_layers([layer], layers.open).operating_system is None


@pytest.mark.parametrize(
    "compress",
    [lambda data: data, gzip.compress, bz2.compress, lzma.compress],
    ids=["plain", "gzip", "bzip2", "xz"],
)
def test_layer_compressions(layers, compress):
    layer = layers.add(compress(tar_of(files={"etc/os-release": ALPINE_OS_RELEASE})))

    result = read_layers([layer], layers.open)

    assert result.operating_system.id == "alpine"
    assert result.skipped_layers == []


def test_zstd_layer(layers):
    # given: a zstd frame (magic 28 b5 2f fd)
    if inventory.zstandard is not None:
        data = inventory.zstandard.ZstdCompressor().compress(tar_of(files={"etc/os-release": ALPINE_OS_RELEASE}))
    else:
        data = b"\x28\xb5\x2f\xfd" + b"\x00" * 32
    layer = layers.add(data, "application/vnd.oci.image.layer.v1.tar+zstd")

    result = read_layers([layer], layers.open)

    # then: read with the zstandard module, skipped without it
    if inventory.zstandard is not None:
        assert result.operating_system.id == "alpine"
    else:
        assert result.skipped_layers == [layer.digest]


def test_unreadable_layers_skipped(layers):
    good = layers.add(gzip.compress(tar_of(files={"etc/os-release": ALPINE_OS_RELEASE})))
    corrupt = layers.add(gzip.compress(b"this is not a tar archive" * 50))
    truncated = layers.add(gzip.compress(tar_of(files={"lib/apk/db/installed": APK_INSTALLED}))[:40])
    missing = LayerReference("sha256:" + "0" * 64, GZIP_LAYER)

    result = read_layers([good, corrupt, truncated, missing], layers.open)

    assert result.operating_system.id == "alpine"
    assert result.packages == []
    assert result.skipped_layers == [corrupt.digest, truncated.digest, missing.digest]


def test_non_tar_layer_ignored(layers):
    # given: an in-toto attestation layer, which contains JSON rather than a file system
    statement = layers.add(b'{"_type": "https://in-toto.io/Statement/v0.1"}', "application/vnd.in-toto+json")

    result = read_layers([statement], layers.open)

    assert result.skipped_layers == []
    assert result.operating_system is None


def test_scratch_image_has_nothing(layers):
    layer = layers.add(gzip.compress(tar_of(files={"app": b"\x7fELF binary"})))

    result = read_layers([layer], layers.open)

    assert result.operating_system is None
    assert result.packages == []
    assert result.package_managers == []


class RecordingStream(io.RawIOBase):
    """A stream that records the largest single read, to show a layer is never read whole."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        chunk = self._data.read(size)
        self.largest_read = max(self.largest_read, len(chunk))
        return chunk


def test_layer_streamed_in_chunks():
    # given: a layer of 8 MiB that does not compress, the os-release file last
    payload = random.Random(0).randbytes(8 * 1024 * 1024)
    data = gzip.compress(tar_of(files={"opt/data.bin": payload, "etc/os-release": ALPINE_OS_RELEASE}), compresslevel=1)
    stream = RecordingStream(data)

    # when
    result = read_layers([LayerReference("sha256:" + "1" * 64, GZIP_LAYER)], lambda digest: stream)

    # then: read a small chunk at a time
    assert result.operating_system.id == "alpine"
    assert len(data) > 8 * 1024 * 1024
    assert stream.largest_read <= 1024 * 1024


def test_database_over_size_limit_skipped(layers, monkeypatch):
    monkeypatch.setattr(inventory, "MAX_DATABASE_FILE_SIZE", 100)
    layer = layers.add(gzip.compress(tar_of(files={"etc/os-release": DEBIAN_OS_RELEASE, "var/lib/dpkg/status": DPKG_STATUS})))

    result = read_layers([layer], layers.open)

    assert result.operating_system.id == "debian"
    assert result.packages == []


def test_paths_normalized(layers):
    layer = layers.add(gzip.compress(tar_of(files={"./etc/os-release": ALPINE_OS_RELEASE, "/lib/apk/db/installed": APK_INSTALLED})))

    result = read_layers([layer], layers.open)

    assert result.operating_system.id == "alpine"
    assert len(result.packages) == 2


def test_parse_os_release_quoting():
    fields = inventory.parse_os_release(
        '# comment\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nPRETTY_NAME=\'Ubuntu 22.04.4 LTS\'\nBROKEN="unterminated\n\n'
    )

    assert fields["ID"] == "ubuntu"
    assert fields["VERSION_ID"] == "22.04"
    assert fields["PRETTY_NAME"] == "Ubuntu 22.04.4 LTS"
    assert fields["BROKEN"] == "unterminated"


def test_parse_dpkg_status_skips_removed():
    packages = inventory.parse_dpkg_status(DPKG_STATUS.decode())

    assert [package.name for package in packages] == ["libssl3", "libgcc-s1", "bash"]


def test_parse_apk_installed_without_origin():
    packages = inventory.parse_apk_installed("P:busybox\nV:1.36.1-r15\nA:aarch64\n\nP:incomplete\n")

    assert packages == [Package("apk", "busybox", "1.36.1-r15", "busybox", "1.36.1-r15", "aarch64", None)]
