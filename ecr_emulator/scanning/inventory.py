"""The inventory of an image: its operating system and the OS packages installed in its layers.

The layers are read from the blob store as tar streams, one member at a time, so no layer is
held in memory. Layers may be gzip, bzip2 or xz compressed or plain, and zstd compressed when the
`zstandard` module is installed. Only the files basic scanning reads are kept (os-release, the dpkg
status database and the apk installed database), plus every symlink, because `/etc/os-release` is
usually a link to `../usr/lib/os-release` and merged-/usr images link `/lib` to `usr/lib`.

Layers are applied in order with the OCI image layout's whiteouts: a `.wh.<name>` entry deletes
`<name>` from the layers below, and a `.wh..wh..opq` entry hides everything below in its folder.
"""

import bz2
import dataclasses
import gzip
import logging
import lzma
import posixpath
import shlex
import tarfile
import zlib
from typing import BinaryIO, Callable, Iterable

from ecr_emulator.backend import runtime
from ecr_emulator.scanning.versions import APK, DPKG
from ecr_emulator.storage.base import BlobNotFound

LOG = logging.getLogger(__name__)

try:  # zstd layers are read only when the optional zstandard module is installed
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")
DPKG_STATUS_PATH = "var/lib/dpkg/status"
# Distroless images have no status file: one file per package in this folder instead.
DPKG_STATUS_FOLDER = "var/lib/dpkg/status.d"
APK_INSTALLED_PATH = "lib/apk/db/installed"

# A package database larger than this is skipped with a warning rather than read into memory.
MAX_DATABASE_FILE_SIZE = 64 * 1024 * 1024
# Symlinks followed while resolving one path before it counts as a loop (Linux's MAXSYMLINKS).
MAX_SYMLINK_HOPS = 40

WHITEOUT_PREFIX = ".wh."
OPAQUE_WHITEOUT = ".wh..wh..opq"

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"


@dataclasses.dataclass(frozen=True)
class OperatingSystem:
    """The distribution named by the image's os-release file."""

    id: str
    version: str | None
    pretty_name: str | None = None


@dataclasses.dataclass(frozen=True)
class Package:
    """One installed OS package.

    `source_name` and `source_version` are those of the source package it was built from (dpkg's
    `Source` field, apk's origin), and equal `name` and `version` when the database names none.
    `layer_digest` is the layer whose database first lists the package at this version.
    """

    manager: str
    name: str
    version: str
    source_name: str
    source_version: str
    arch: str | None
    layer_digest: str | None


@dataclasses.dataclass(frozen=True)
class LayerReference:
    digest: str
    media_type: str | None = None


@dataclasses.dataclass
class Inventory:
    operating_system: OperatingSystem | None
    packages: list[Package]
    # The package databases found: "dpkg", "apk" or both
    package_managers: list[str]
    # Layers that could not be read (missing blob, unknown compression, corrupt tar)
    skipped_layers: list[str]


@dataclasses.dataclass(frozen=True)
class _File:
    content: bytes
    layer_digest: str


@dataclasses.dataclass(frozen=True)
class _Symlink:
    target: str


class _Filesystem:
    """The merged view of the kept files and all symlinks, layer by layer."""

    def __init__(self):
        self.entries: dict[str, _File | _Symlink] = {}

    def remove_tree(self, path: str) -> bool:
        """Remove `path` and everything below it; tell whether anything was removed."""
        prefix = path + "/"
        doomed = [name for name in self.entries if name == path or name.startswith(prefix)]
        for name in doomed:
            del self.entries[name]
        return bool(doomed)

    def remove_children(self, folder: str) -> bool:
        prefix = folder + "/" if folder else ""
        doomed = [name for name in self.entries if name.startswith(prefix) and name != folder]
        for name in doomed:
            del self.entries[name]
        return bool(doomed)

    def resolve(self, path: str) -> str | None:
        """Return `path` with every symlink among its components followed, or None on a loop."""
        parts = [part for part in path.split("/") if part]
        resolved: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/".join(resolved + [part])
            entry = self.entries.get(candidate)
            if isinstance(entry, _Symlink):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target_parts = [item for item in entry.target.split("/") if item]
                if entry.target.startswith("/"):
                    resolved = []
                parts = target_parts + parts
                continue
            resolved.append(part)
        return "/".join(resolved)

    def read(self, path: str) -> _File | None:
        resolved = self.resolve(path)
        entry = self.entries.get(resolved) if resolved is not None else None
        return entry if isinstance(entry, _File) else None

    def files_in(self, folder: str) -> list[tuple[str, _File]]:
        """Return the kept files directly inside `folder` (after following symlinks), by name."""
        resolved = self.resolve(folder)
        if resolved is None:
            return []
        prefix = resolved + "/"
        found = [
            (name, entry)
            for name, entry in self.entries.items()
            if isinstance(entry, _File) and name.startswith(prefix) and "/" not in name[len(prefix):]
        ]
        return sorted(found)


@dataclasses.dataclass
class _LayerChanges:
    """The changes one layer makes to the layers below it, gathered while its tar streams past."""

    deleted: list[str] = dataclasses.field(default_factory=list)
    opaque_folders: list[str] = dataclasses.field(default_factory=list)
    replaced: list[str] = dataclasses.field(default_factory=list)
    folders: list[str] = dataclasses.field(default_factory=list)
    added: dict[str, _File | _Symlink] = dataclasses.field(default_factory=dict)
    hardlinks: dict[str, str] = dataclasses.field(default_factory=dict)

    def changes_filesystem(self) -> bool:
        """Tell whether the layer changes any kept file or symlink, so the package list may differ."""
        return bool(self.deleted or self.opaque_folders or self.replaced or self.folders or self.added or self.hardlinks)


def read_layers(layers: Iterable[LayerReference], open_blob: Callable[[str], BinaryIO] | None = None) -> Inventory:
    """Build the inventory of an image from its layers, lowest first.

    `open_blob(digest)` returns a binary stream of a layer; by default the emulator's blob store.
    A layer that cannot be read is listed in `skipped_layers` and changes nothing.
    """
    open_blob = open_blob or runtime.current().blob_store.open
    filesystem = _Filesystem()
    skipped: list[str] = []
    # (manager, name, version, arch) -> digest of the layer that first listed the package
    first_seen: dict[tuple[str, str, str, str | None], str] = {}

    for layer in layers:
        if not _is_filesystem_layer(layer.media_type):
            LOG.debug("layer %s of media type %s holds no file system; skipped", layer.digest, layer.media_type)
            continue
        changes = _read_layer(layer, open_blob, filesystem)
        if changes is None:
            skipped.append(layer.digest)
            continue
        _apply(changes, filesystem, layer.digest)
        if changes.changes_filesystem():
            _record_first_layers(filesystem, layer.digest, first_seen)

    operating_system = _operating_system(filesystem)
    packages, managers = _packages(filesystem)
    packages = [dataclasses.replace(package, layer_digest=first_seen.get(_package_key(package))) for package in packages]
    return Inventory(operating_system, packages, managers, skipped)


def _is_filesystem_layer(media_type: str | None) -> bool:
    # Schema 1 manifests give no media type; every image layer type of Docker and OCI names a tar.
    return media_type is None or "tar" in media_type


def _read_layer(layer: LayerReference, open_blob, filesystem: _Filesystem) -> _LayerChanges | None:
    try:
        raw = open_blob(layer.digest)
    except (BlobNotFound, KeyError, OSError) as error:
        LOG.warning("layer %s cannot be opened for scanning: %s", layer.digest, error)
        return None

    with raw:
        try:
            stream = _decompressed(raw)
            if stream is None:
                LOG.warning("layer %s is compressed with zstd, which needs the zstandard module; skipped", layer.digest)
                return None
            return _gather_changes(stream, layer.digest, filesystem)
        except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as error:
            LOG.warning("layer %s is not a readable tar archive: %s", layer.digest, error)
            return None


class _PrefixedStream:
    """A read-only stream of some bytes already read followed by the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._prefix:
            return self._stream.read(size)
        if size is None or size < 0:
            data, self._prefix = self._prefix + self._stream.read(), b""
            return data
        data, self._prefix = self._prefix[:size], self._prefix[size:]
        if len(data) < size:
            data += self._stream.read(size - len(data))
        return data


def _decompressed(raw: BinaryIO):
    """Return a stream of the tar bytes of a layer, or None for zstd without the zstandard module."""
    magic = raw.read(6)
    stream = _PrefixedStream(magic, raw)
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if magic.startswith(_ZSTD_MAGIC):
        if zstandard is None:
            return None
        return zstandard.ZstdDecompressor().stream_reader(stream)
    if magic.startswith(_BZIP2_MAGIC):
        return bz2.BZ2File(stream)
    if magic.startswith(_XZ_MAGIC):
        return lzma.LZMAFile(stream)
    return stream


def _normalize(name: str) -> str:
    """Return a tar member name as a path relative to the root; `..` never leads above the root."""
    path = posixpath.normpath("/" + name.lstrip("/")).lstrip("/")
    if path in ("", "."):
        return ""
    return path


def _is_kept_file(path: str) -> bool:
    """Tell whether a path may be one of the files the inventory reads (before symlinks are followed)."""
    folder, name = posixpath.split(path)
    return (
        name == "os-release"
        or path.endswith("dpkg/status")
        or path.endswith("apk/db/installed")
        or (folder.endswith("dpkg/status.d") and not name.endswith(".md5sums"))
    )


def _gather_changes(stream, digest: str, filesystem: _Filesystem) -> _LayerChanges:
    changes = _LayerChanges()
    # Folders that hold a kept file or a symlink of the layers below, so a plain file that
    # replaces one of them can remove what it hides.
    lower_folders = {posixpath.dirname(name) for name in filesystem.entries}
    lower_folders = {folder for name in lower_folders for folder in _ancestors(name)}

    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            path = _normalize(member.name)
            if not path:
                continue
            folder, name = posixpath.split(path)

            if name == OPAQUE_WHITEOUT:
                changes.opaque_folders.append(folder)
                continue
            if name.startswith(WHITEOUT_PREFIX):
                changes.deleted.append(posixpath.join(folder, name[len(WHITEOUT_PREFIX):]))
                continue

            if member.isdir():
                if path in filesystem.entries:
                    changes.folders.append(path)
                continue
            if path in filesystem.entries or path in lower_folders:
                changes.replaced.append(path)

            if member.issym():
                changes.added[path] = _Symlink(member.linkname)
            elif member.islnk():
                target = _normalize(member.linkname)
                if target and _is_kept_file(path):
                    changes.hardlinks[path] = target
            elif member.isreg() and _is_kept_file(path):
                if member.size > MAX_DATABASE_FILE_SIZE:
                    LOG.warning("%s in layer %s is %d bytes, over the %d bytes read; skipped", path, digest, member.size, MAX_DATABASE_FILE_SIZE)
                    continue
                extracted = archive.extractfile(member)
                changes.added[path] = _File(extracted.read() if extracted else b"", digest)
    return changes


def _ancestors(folder: str) -> list[str]:
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:index]) for index in range(1, len(parts) + 1)]


def _apply(changes: _LayerChanges, filesystem: _Filesystem, digest: str) -> None:
    for path in changes.deleted:
        filesystem.remove_tree(path)
    for folder in changes.opaque_folders:
        filesystem.remove_children(folder)
    for path in changes.replaced:
        filesystem.remove_tree(path)
    for path in changes.folders:
        # A folder replaces a file or symlink of the same name, but keeps what lies below it.
        filesystem.entries.pop(path, None)

    filesystem.entries.update(changes.added)
    for path, target in changes.hardlinks.items():
        entry = changes.added.get(target) or filesystem.entries.get(target)
        if isinstance(entry, _File):
            filesystem.entries[path] = _File(entry.content, digest)


# Reading the kept files


def _operating_system(filesystem: _Filesystem) -> OperatingSystem | None:
    for path in OS_RELEASE_PATHS:
        found = filesystem.read(path)
        if found is not None:
            fields = parse_os_release(found.content.decode("utf-8", "replace"))
            if fields.get("ID"):
                return OperatingSystem(fields["ID"], fields.get("VERSION_ID"), fields.get("PRETTY_NAME"))
    return None


def parse_os_release(text: str) -> dict[str, str]:
    """Return the variables of an os-release file (shell-style `KEY="value"` lines)."""
    fields = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value.strip("\"'")]
        fields[key.strip()] = " ".join(words)
    return fields


def _packages(filesystem: _Filesystem) -> tuple[list[Package], list[str]]:
    packages: list[Package] = []
    managers: list[str] = []

    dpkg_files = []
    status = filesystem.read(DPKG_STATUS_PATH)
    if status is not None:
        dpkg_files.append(status)
    dpkg_files.extend(entry for _, entry in filesystem.files_in(DPKG_STATUS_FOLDER))
    if dpkg_files:
        managers.append(DPKG)
        for entry in dpkg_files:
            packages.extend(parse_dpkg_status(entry.content.decode("utf-8", "replace")))

    installed = filesystem.read(APK_INSTALLED_PATH)
    if installed is not None:
        managers.append(APK)
        packages.extend(parse_apk_installed(installed.content.decode("utf-8", "replace")))

    unique = {_package_key(package): package for package in packages}
    return sorted(unique.values(), key=lambda package: (package.manager, package.name, package.arch or "")), managers


def _package_key(package: Package) -> tuple[str, str, str, str | None]:
    return package.manager, package.name, package.version, package.arch


def _record_first_layers(filesystem: _Filesystem, digest: str, first_seen: dict) -> None:
    """Attribute each package now installed to this layer unless a lower layer already listed it."""
    packages, _ = _packages(filesystem)
    current = {_package_key(package) for package in packages}
    for key in list(first_seen):
        if key not in current:
            del first_seen[key]
    for key in current:
        first_seen.setdefault(key, digest)


def _paragraphs(text: str) -> Iterable[dict[str, str]]:
    """Yield the paragraphs of a Debian control file as {field name in lower case: value}."""
    fields: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, None
            continue
        if line[0] in " \t":
            if last is not None:
                fields[last] += "\n" + line.strip()
            continue
        name, separator, value = line.partition(":")
        if not separator:
            continue
        last = name.strip().lower()
        fields[last] = value.strip()
    if fields:
        yield fields


def parse_dpkg_status(text: str) -> list[Package]:
    """Return the installed packages of a dpkg status file or of one file of status.d.

    A paragraph without a Status field, as in distroless images' status.d, counts as installed. A
    paragraph with a Status field counts only when its state is `installed`.
    """
    packages = []
    for fields in _paragraphs(text):
        name, version = fields.get("package"), fields.get("version")
        if not name or not version:
            continue
        status = fields.get("status")
        if status is not None and status.split()[-1:] != ["installed"]:
            continue
        source_name, source_version = name, version
        if fields.get("source"):
            # "Source: name" or "Source: name (version)" when the source version differs
            source_name, _, rest = fields["source"].partition(" ")
            rest = rest.strip()
            if rest.startswith("(") and rest.endswith(")"):
                source_version = rest[1:-1].strip()
        packages.append(Package(DPKG, name, version, source_name, source_version, fields.get("architecture"), None))
    return packages


def parse_apk_installed(text: str) -> list[Package]:
    """Return the packages of apk's installed database (`P:` name, `V:` version, `A:` arch, `o:` origin)."""
    packages = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, separator, value = line.partition(":")
            if separator and len(key) == 1 and key not in fields:
                fields[key] = value
        name, version = fields.get("P"), fields.get("V")
        if not name or not version:
            continue
        origin = fields.get("o") or name
        packages.append(Package(APK, name, version, origin, version, fields.get("A"), None))
    return packages
