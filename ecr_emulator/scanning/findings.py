"""Match an image's inventory against the advisory database and describe each match as ECR does.

A finding is one vulnerability (named by its CVE id when the advisory gives one) in one package at
one version. Advisories key packages by source package, as Debian, Ubuntu and Alpine publish
them, so a package is looked up by its source name and version first and by its own name and
version second. `package_name` in the finding is the name that matched, as in ECR's basic scan
findings (e.g. `glib2.0` rather than the binary `libglib2.0-0`).

Severity follows the ECR user guide: the distribution's own rating when the advisory carries
one, else the NVD rating of the CVSS v3 score, else that of the CVSS v2 score, else UNDEFINED.
"""

import collections
import dataclasses
import re

from ecr_emulator.scanning import cvss
from ecr_emulator.scanning.advisories import FAMILY_MANAGERS, Advisory, AdvisoryDatabase, AffectedPackage, is_affected, release_of
from ecr_emulator.scanning.inventory import Inventory

# FindingSeverity values of the model, most severe first (the order findings are listed in).
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")

# Distribution ratings and what ECR reports for them. Ubuntu rates negligible..critical, Debian's
# security tracker unimportant..high; ratings such as "untriaged" or "not yet assigned" are not
# ratings, so the CVSS score decides instead.
DISTRIBUTION_RATINGS = {
    "negligible": "INFORMATIONAL",
    "unimportant": "INFORMATIONAL",
    "informational": "INFORMATIONAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "moderate": "MEDIUM",
    "high": "HIGH",
    "important": "HIGH",
    "critical": "CRITICAL",
}
_RATING_KEYS = ("severity", "urgency", "priority")

_CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")

# The model's limit on an attribute value
MAX_ATTRIBUTE_VALUE_LENGTH = 256

UNSUPPORTED_IMAGE_DESCRIPTION = "UnsupportedImageError: The operating system and/or package manager are not supported."


class UnsupportedImage(Exception):
    """The image has no operating system and package database that basic scanning supports."""


@dataclasses.dataclass(frozen=True)
class Finding:
    name: str
    description: str | None
    uri: str | None
    severity: str
    package_name: str
    package_version: str
    advisory_id: str
    cvss2_vector: str | None = None
    cvss2_score: float | None = None
    cvss3_vector: str | None = None
    cvss3_score: float | None = None

    def attributes(self) -> list[dict]:
        """Return the finding's attributes as ImageScanFinding lists them."""
        pairs = [
            ("package_version", self.package_version),
            ("package_name", self.package_name),
            ("CVSS2_VECTOR", self.cvss2_vector),
            ("CVSS2_SCORE", None if self.cvss2_score is None else str(self.cvss2_score)),
            ("CVSS3_VECTOR", self.cvss3_vector),
            ("CVSS3_SCORE", None if self.cvss3_score is None else str(self.cvss3_score)),
        ]
        return [{"key": key, "value": value[:MAX_ATTRIBUTE_VALUE_LENGTH]} for key, value in pairs if value]


@dataclasses.dataclass(frozen=True)
class ScanTarget:
    family: str
    release: str
    manager: str


def scan_target(inventory: Inventory) -> ScanTarget:
    """Return the distribution release and package manager to match; raise UnsupportedImage.

    Only the os-release ID counts, never ID_LIKE: ECR reports a Debian derivative such as eLxr
    (ID=elxr, ID_LIKE=debian) as unsupported.
    """
    operating_system = inventory.operating_system
    if operating_system is None:
        raise UnsupportedImage("no os-release file")
    manager = FAMILY_MANAGERS.get(operating_system.id)
    if manager is None:
        raise UnsupportedImage(f"operating system {operating_system.id!r} is not supported")
    release = release_of(operating_system.id, operating_system.version)
    if release is None:
        raise UnsupportedImage(f"{operating_system.id} without a release number (VERSION_ID) is not supported")
    if manager not in inventory.package_managers:
        raise UnsupportedImage(f"no {manager} package database in a {operating_system.id} image")
    return ScanTarget(operating_system.id, release, manager)


def find_vulnerabilities(inventory: Inventory, database: AdvisoryDatabase) -> list[Finding]:
    """Return the findings of an image, most severe first; raise UnsupportedImage."""
    target = scan_target(inventory)
    # (vulnerability name, package name, package version) -> (preference, finding)
    chosen: dict[tuple[str, str, str], tuple[tuple, Finding]] = {}

    for package in inventory.packages:
        if package.manager != target.manager:
            continue
        lookups = [(package.source_name, package.source_version)]
        if package.name != package.source_name:
            lookups.append((package.name, package.version))
        for package_name, version in lookups:
            for advisory, affected in database.entries_for(target.family, target.release, package_name):
                if not is_affected(affected, version, target.manager):
                    continue
                for name in vulnerability_names(advisory):
                    finding = _finding(name, advisory, affected, package_name, version)
                    # Prefer the advisory about this vulnerability alone (DEBIAN-CVE-2024-1) to one
                    # that lists it among others (DSA-5000-1), then the lowest advisory id.
                    preference = (name not in advisory.id, advisory.id)
                    key = (name, package_name, version)
                    if key not in chosen or preference < chosen[key][0]:
                        chosen[key] = (preference, finding)

    findings = [finding for _, finding in chosen.values()]
    return sorted(findings, key=lambda finding: (SEVERITIES.index(finding.severity), finding.name, finding.package_name, finding.package_version))


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    """Return {severity: number of findings} with only the severities that occur."""
    counts = collections.Counter(finding.severity for finding in findings)
    return {severity: counts[severity] for severity in SEVERITIES if counts[severity]}


def vulnerability_names(advisory: Advisory) -> list[str]:
    """Return the CVE ids an advisory is about (from its id, upstream and aliases), else its own id."""
    names: list[str] = []
    for candidate in (advisory.id, *advisory.upstream, *advisory.aliases):
        for name in _CVE_ID.findall(candidate):
            if name not in names:
                names.append(name)
    return names or [advisory.id]


def _finding(name: str, advisory: Advisory, affected: AffectedPackage, package_name: str, version: str) -> Finding:
    scores = _cvss_scores(affected.severity + advisory.severity)
    return Finding(
        name=name,
        description=advisory.details or advisory.summary,
        uri=_reference_url(advisory),
        severity=_severity(advisory, affected, scores),
        package_name=package_name,
        package_version=version,
        advisory_id=advisory.id,
        **scores,
    )


def _severity(advisory: Advisory, affected: AffectedPackage, scores: dict) -> str:
    rating = _distribution_rating(advisory, affected)
    if rating is not None:
        return rating
    if scores["cvss3_score"] is not None:
        return cvss.v3_severity(scores["cvss3_score"])
    if scores["cvss2_score"] is not None:
        return cvss.v2_severity(scores["cvss2_score"])
    return "UNDEFINED"


def _distribution_rating(advisory: Advisory, affected: AffectedPackage) -> str | None:
    values = []
    for fields in (affected.ecosystem_specific, affected.database_specific, advisory.database_specific):
        values.extend(fields.get(key) for key in _RATING_KEYS)
    # OSV's severity type "Ubuntu" carries Ubuntu's priority
    values.extend(entry.get("score") for entry in affected.severity + advisory.severity if entry.get("type") == "Ubuntu")

    for value in values:
        if isinstance(value, str):
            # Debian's tracker marks unconfirmed urgencies with asterisks ("low**")
            rating = DISTRIBUTION_RATINGS.get(value.strip().strip("*").lower())
            if rating is not None:
                return rating
    return None


def _cvss_scores(entries: tuple[dict, ...]) -> dict:
    scores = {"cvss2_vector": None, "cvss2_score": None, "cvss3_vector": None, "cvss3_score": None}
    for entry in entries:
        vector = entry.get("score")
        if not isinstance(vector, str):
            continue
        try:
            if entry.get("type") == "CVSS_V3" and scores["cvss3_vector"] is None:
                scores["cvss3_score"] = cvss.v3_base_score(vector)
                scores["cvss3_vector"] = vector
            elif entry.get("type") == "CVSS_V2" and scores["cvss2_vector"] is None:
                scores["cvss2_score"] = cvss.v2_base_score(vector)
                scores["cvss2_vector"] = vector
        except cvss.InvalidVector:
            continue
    return scores


def _reference_url(advisory: Advisory) -> str | None:
    """Return the advisory's own page if it lists one, else its first web reference."""
    urls = [(reference.get("type"), reference.get("url")) for reference in advisory.references]
    urls = [(kind, url) for kind, url in urls if isinstance(url, str) and url]
    for wanted in ("ADVISORY", "WEB"):
        for kind, url in urls:
            if kind == wanted:
                return url
    return urls[0][1] if urls else None
