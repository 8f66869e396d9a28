"""The advisory database: OSV records of distribution vulnerabilities, and the affected-version test.

The database is a folder of OSV JSON files (https://ossf.github.io/osv-schema/), the format in
which Debian, Ubuntu and Alpine publish their advisories, with ecosystems such as `Debian:12`,
`Ubuntu:22.04:LTS` and `Alpine:v3.19`. A file contains one record or a list of records. `.zip`
archives of such files, as osv.dev distributes them per ecosystem, are read too, and so are
subfolders.

The folder comes from `configure(path)`, else from the ECR_EMULATOR_ADVISORY_DB environment
variable; without either the database is empty. It is read again whenever a file in it is added,
removed or changed, so advisories can be updated while the emulator runs.
"""

import dataclasses
import datetime
import json
import logging
import os
import re
import threading
import zipfile
from typing import Any, Iterable, Iterator

from ecr_emulator.core import clock
from ecr_emulator.scanning.versions import APK, DPKG, InvalidVersion, parse_version

LOG = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "ECR_EMULATOR_ADVISORY_DB"

# The distributions whose OSV ecosystems are matched, with their package manager.
FAMILY_MANAGERS = {"debian": DPKG, "ubuntu": DPKG, "alpine": APK}

_RELEASE_NUMBER = re.compile(r"^v?(\d+(?:\.\d+)*)$")


@dataclasses.dataclass(frozen=True)
class AffectedPackage:
    """One `affected[]` entry of an OSV record, for a distribution ecosystem."""

    family: str
    # The distribution release the entry is for, such as "12" or "3.19"; None means every release.
    release: str | None
    name: str
    # The events of each ECOSYSTEM range, as OSV gives them
    ranges: tuple[tuple[dict, ...], ...]
    versions: frozenset[str]
    severity: tuple[dict, ...]
    ecosystem_specific: dict
    database_specific: dict


@dataclasses.dataclass(frozen=True)
class Advisory:
    id: str
    summary: str | None
    details: str | None
    aliases: tuple[str, ...]
    upstream: tuple[str, ...]
    modified: datetime.datetime | None
    severity: tuple[dict, ...]
    database_specific: dict
    references: tuple[dict, ...]
    affected: tuple[AffectedPackage, ...]


class AdvisoryDatabase:
    """Advisories indexed by distribution and package name."""

    def __init__(self, advisories: Iterable[Advisory] = (), loaded_at: datetime.datetime | None = None):
        self.advisories = list(advisories)
        self.loaded_at = loaded_at or clock.now()
        self._index: dict[tuple[str, str], list[tuple[Advisory, AffectedPackage]]] = {}
        for advisory in self.advisories:
            for affected in advisory.affected:
                self._index.setdefault((affected.family, affected.name), []).append((advisory, affected))

    @property
    def updated_at(self) -> datetime.datetime:
        """The newest `modified` time of the advisories, or when the database was read if none has one."""
        times = [advisory.modified for advisory in self.advisories if advisory.modified is not None]
        return max(times) if times else self.loaded_at

    def entries_for(self, family: str, release: str, package_name: str) -> list[tuple[Advisory, AffectedPackage]]:
        """Return the (advisory, affected entry) pairs about a package of one distribution release."""
        return [
            (advisory, affected)
            for advisory, affected in self._index.get((family, package_name), [])
            if affected.release is None or affected.release == release
        ]

    def __len__(self) -> int:
        return len(self.advisories)


def ecosystem_release(ecosystem: str) -> tuple[str, str | None] | None:
    """Return (distribution family, release) of an OSV ecosystem, or None for other ecosystems.

    `Debian:12` -> ("debian", "12"); `Alpine:v3.19` -> ("alpine", "3.19");
    `Ubuntu:22.04:LTS` and `Ubuntu:Pro:22.04:LTS` -> ("ubuntu", "22.04"); `Debian` -> ("debian", None).
    """
    family, *qualifiers = ecosystem.split(":")
    family = family.strip().lower()
    if family not in FAMILY_MANAGERS:
        return None
    for qualifier in qualifiers:
        match = _RELEASE_NUMBER.match(qualifier.strip())
        if match:
            return family, match.group(1)
    return family, None


def release_of(os_id: str, version_id: str | None) -> str | None:
    """Return the release that OSV ecosystems name for an os-release ID and VERSION_ID.

    Debian's ecosystems name the major version ("12"), Ubuntu's the full one ("22.04") and
    Alpine's the major and minor ("3.19" for VERSION_ID 3.19.1).
    """
    if not version_id:
        return None
    numbers = re.match(r"^(\d+(?:\.\d+)*)", version_id)
    if numbers is None:
        return None
    parts = numbers.group(1).split(".")
    if os_id == "debian":
        return parts[0]
    if os_id == "alpine":
        return ".".join(parts[:2])
    return numbers.group(1)


def is_affected(affected: AffectedPackage, version: str, manager: str) -> bool:
    """Tell whether an installed `version` lies in an affected entry's versions or ECOSYSTEM ranges.

    Each range is evaluated as the OSV schema defines: its events are sorted by version, and the
    last event at or below the installed version decides. `introduced` opens the range, `fixed`
    and `limit` close it at their version, and `last_affected` closes it just above its version.
    A version or event that the package manager cannot parse matches nothing.
    """
    if version in affected.versions:
        return True
    try:
        installed = parse_version(manager, version)
    except InvalidVersion:
        LOG.debug("installed version %r is not a %s version; no advisory matches it", version, manager)
        return False
    return any(_in_range(installed, events, manager) for events in affected.ranges)


_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 1, "limit": 1}


def _in_range(installed, events: tuple[dict, ...], manager: str) -> bool:
    points = []
    for event in events:
        for kind, value in event.items():
            if kind not in _EVENT_ORDER or not isinstance(value, str):
                continue
            if kind == "introduced" and value == "0":
                points.append(((0, None, 0), kind, None))
                continue
            try:
                parsed = parse_version(manager, value)
            except InvalidVersion:
                LOG.debug("range event %s=%r is not a %s version; range ignored", kind, value, manager)
                return False
            points.append(((1, parsed, _EVENT_ORDER[kind]), kind, parsed))

    affected = False
    for _, kind, point in sorted(points, key=lambda item: item[0]):
        if kind == "introduced" and (point is None or installed >= point):
            affected = True
        elif kind in ("fixed", "limit") and installed >= point:
            affected = False
        elif kind == "last_affected" and installed > point:
            affected = False
    return affected


# Reading OSV files


def parse_advisory(record: Any) -> Advisory | None:
    """Return the advisory of an OSV record, or None if it is withdrawn or names no distribution package."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise ValueError("an OSV record must be a JSON object with a string id")
    if record.get("withdrawn"):
        return None

    affected = []
    for item in _list(record.get("affected")):
        package = item.get("package") if isinstance(item, dict) else None
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        ecosystem = ecosystem_release(str(package.get("ecosystem", "")))
        if ecosystem is None:
            continue
        ranges = tuple(
            tuple(event for event in _list(item_range.get("events")) if isinstance(event, dict))
            for item_range in _list(item.get("ranges"))
            if isinstance(item_range, dict) and item_range.get("type") == "ECOSYSTEM"
        )
        affected.append(
            AffectedPackage(
                family=ecosystem[0],
                release=ecosystem[1],
                name=package["name"],
                ranges=ranges,
                versions=frozenset(version for version in _list(item.get("versions")) if isinstance(version, str)),
                severity=tuple(entry for entry in _list(item.get("severity")) if isinstance(entry, dict)),
                ecosystem_specific=_dict(item.get("ecosystem_specific")),
                database_specific=_dict(item.get("database_specific")),
            )
        )
    if not affected:
        return None

    return Advisory(
        id=record["id"],
        summary=_string(record.get("summary")),
        details=_string(record.get("details")),
        aliases=tuple(alias for alias in _list(record.get("aliases")) if isinstance(alias, str)),
        upstream=tuple(name for name in _list(record.get("upstream")) if isinstance(name, str)),
        modified=_timestamp(record.get("modified")),
        severity=tuple(entry for entry in _list(record.get("severity")) if isinstance(entry, dict)),
        database_specific=_dict(record.get("database_specific")),
        references=tuple(reference for reference in _list(record.get("references")) if isinstance(reference, dict)),
        affected=tuple(affected),
    )


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _string(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _timestamp(value) -> datetime.datetime | None:
    """Parse an RFC 3339 time such as `2024-01-02T03:04:05.123456789Z`; None when absent or invalid."""
    if not isinstance(value, str):
        return None
    # datetime reads at most six fractional digits
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("z", "Z")
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def load(path: str) -> AdvisoryDatabase:
    """Read every OSV file under `path` (a folder, a JSON file or a zip archive)."""
    advisories = []
    for source, records in _records(path):
        for record in records:
            try:
                advisory = parse_advisory(record)
            except ValueError as error:
                LOG.warning("skipped an OSV record in %s: %s", source, error)
                continue
            if advisory is not None:
                advisories.append(advisory)
    LOG.info("advisory database %s read: %d advisories for distribution packages", path, len(advisories))
    return AdvisoryDatabase(advisories)


def _records(path: str) -> Iterator[tuple[str, list]]:
    for file_path in _files(path):
        if file_path.endswith(".zip"):
            yield from _zip_records(file_path)
            continue
        try:
            with open(file_path, "rb") as stream:
                yield file_path, _as_records(json.load(stream))
        except (OSError, ValueError) as error:
            LOG.warning("skipped advisory file %s: %s", file_path, error)


def _zip_records(file_path: str) -> Iterator[tuple[str, list]]:
    try:
        with zipfile.ZipFile(file_path) as archive:
            for name in sorted(archive.namelist()):
                if not name.endswith(".json"):
                    continue
                try:
                    yield f"{file_path}:{name}", _as_records(json.loads(archive.read(name)))
                except ValueError as error:
                    LOG.warning("skipped advisory file %s in %s: %s", name, file_path, error)
    except (OSError, zipfile.BadZipFile) as error:
        LOG.warning("skipped advisory archive %s: %s", file_path, error)


def _as_records(document) -> list:
    return document if isinstance(document, list) else [document]


def _files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    found = []
    for folder, subfolders, names in os.walk(path):
        subfolders.sort()
        found.extend(os.path.join(folder, name) for name in sorted(names) if name.endswith((".json", ".zip")))
    return found


def _signature(path: str) -> tuple:
    """Return what changes when a file of the database is added, removed or rewritten."""
    signature = []
    for file_path in _files(path):
        try:
            status = os.stat(file_path)
        except OSError:
            continue
        signature.append((file_path, status.st_mtime_ns, status.st_size, status.st_ino))
    return tuple(signature)


# The configured database

_UNSET = object()
_MISSING = ("missing",)
_lock = threading.Lock()
_configured_path: Any = _UNSET
_cache: tuple[str | None, tuple, AdvisoryDatabase] | None = None


def configure(path: str | None) -> None:
    """Use the OSV files under `path`; `None` goes back to ECR_EMULATOR_ADVISORY_DB (or none)."""
    global _configured_path
    with _lock:
        _configured_path = _UNSET if path is None else path


def location() -> str | None:
    """Return the folder or file the database is read from, or None when none is configured."""
    if _configured_path is not _UNSET:
        return _configured_path
    return os.environ.get(ENVIRONMENT_VARIABLE) or None


def current() -> AdvisoryDatabase:
    """Return the configured database, read again if its files changed since the last call."""
    global _cache
    path = location()
    with _lock:
        if path is None:
            if _cache is None or _cache[0] is not None:
                _cache = (None, (), AdvisoryDatabase())
            return _cache[2]
        if not os.path.exists(path):
            if _cache is None or _cache[0] != path or _cache[1] != _MISSING:
                LOG.warning("advisory database %s does not exist; scans find no vulnerabilities", path)
                _cache = (path, _MISSING, AdvisoryDatabase())
            return _cache[2]
        signature = _signature(path)
        if _cache is None or _cache[0] != path or _cache[1] != signature:
            _cache = (path, signature, load(path))
        return _cache[2]
