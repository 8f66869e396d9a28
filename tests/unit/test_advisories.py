"""The advisory database and matching: OSV files, version order, affected ranges, severity, CVSS."""

import datetime
import json
import os
import zipfile

import pytest

from ecr_emulator.scanning import advisories, cvss, findings
from ecr_emulator.scanning.advisories import AdvisoryDatabase, ecosystem_release, is_affected, parse_advisory, release_of
from ecr_emulator.scanning.inventory import Inventory, OperatingSystem, Package
from ecr_emulator.scanning.versions import ApkVersion, InvalidVersion, parse_version


def osv(identifier, ecosystem, package, events=None, versions=None, **fields) -> dict:
    affected = {"package": {"ecosystem": ecosystem, "name": package}}
    if events is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    if versions is not None:
        affected["versions"] = versions
    affected.update(fields.pop("affected_fields", {}))
    return {"id": identifier, "modified": "2024-03-01T10:00:00Z", "affected": [affected], **fields}


def debian_inventory(*packages: Package, version_id="12") -> Inventory:
    return Inventory(OperatingSystem("debian", version_id), list(packages), ["dpkg"], [])


def dpkg(name, version, source=None, source_version=None) -> Package:
    return Package("dpkg", name, version, source or name, source_version or version, "amd64", "sha256:" + "a" * 64)


def database(*records) -> AdvisoryDatabase:
    return AdvisoryDatabase([parse_advisory(record) for record in records])


# Version order


@pytest.mark.parametrize(
    "lower, higher",
    [
        ("1.0", "1.1"),
        ("1.0~rc1", "1.0"),
        ("1.0-1", "1.0-2"),
        ("9.9", "1:0.1"),
        ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1"),
        ("5.2.15-2+b2", "5.2.15-2+b7"),
        ("2.36-9+deb12u4", "2.36-9+deb12u10"),
    ],
)
def test_dpkg_version_order(lower, higher):
    assert parse_version("dpkg", lower) < parse_version("dpkg", higher)


@pytest.mark.parametrize(
    "lower, higher",
    [
        ("1.2.3-r0", "1.2.3-r1"),
        ("1.2.3-r9", "1.2.10-r0"),
        ("1.2-r0", "1.2.1-r0"),
        ("1.2_rc1-r0", "1.2-r0"),
        ("1.2_alpha2", "1.2_beta1"),
        ("1.2_beta", "1.2_pre"),
        ("1.2_pre3", "1.2_rc1"),
        ("1.2-r5", "1.2_p1-r0"),
        ("1.2_git20230101", "1.2_p1"),
        ("1.2.4_git20230717-r4", "1.2.4_git20230718-r0"),
        ("1.2a", "1.2b"),
        ("1.2", "1.2a"),
        ("1.01", "1.1"),
        ("3.1.4-r5", "3.1.4-r6"),
        ("2.39.3-r0", "2.40.1-r0"),
    ],
)
def test_apk_version_order(lower, higher):
    assert ApkVersion(lower) < ApkVersion(higher)
    assert ApkVersion(higher) > ApkVersion(lower)
    assert ApkVersion(lower) != ApkVersion(higher)


def test_apk_version_equality():
    assert ApkVersion("1.2.3-r0") == ApkVersion("1.2.3")
    assert ApkVersion("1.2_p0") == ApkVersion("1.2_p")


@pytest.mark.parametrize("manager, text", [("apk", "not a version"), ("apk", "1.2-rx"), ("apk", ""), ("dpkg", "1:")])
def test_invalid_versions(manager, text):
    with pytest.raises(InvalidVersion):
        parse_version(manager, text)


# Ecosystems and releases


@pytest.mark.parametrize(
    "ecosystem, expected",
    [
        ("Debian:12", ("debian", "12")),
        ("Debian", ("debian", None)),
        ("Alpine:v3.19", ("alpine", "3.19")),
        ("Ubuntu:22.04:LTS", ("ubuntu", "22.04")),
        ("Ubuntu:Pro:18.04:LTS", ("ubuntu", "18.04")),
        ("Ubuntu:24.10", ("ubuntu", "24.10")),
        ("PyPI", None),
        ("Rocky Linux:9", None),
    ],
)
def test_ecosystem_release(ecosystem, expected):
    assert ecosystem_release(ecosystem) == expected


@pytest.mark.parametrize(
    "os_id, version_id, expected",
    [
        ("debian", "12", "12"),
        ("debian", "11.9", "11"),
        ("ubuntu", "22.04", "22.04"),
        ("alpine", "3.19.1", "3.19"),
        ("alpine", "3.20.0_alpha20240329", "3.20"),
        ("debian", None, None),
        ("debian", "trixie/sid", None),
    ],
)
def test_release_of(os_id, version_id, expected):
    assert release_of(os_id, version_id) == expected


# Affected ranges


def affected_entry(events=None, versions=None):
    return parse_advisory(osv("TEST-1", "Debian:12", "pkg", events, versions)).affected[0]


@pytest.mark.parametrize(
    "version, expected",
    [("1.0-1", True), ("1.9-1", True), ("2.0-1", False), ("2.1-1", False), ("1:0.5-1", False)],
)
def test_range_introduced_zero_fixed(version, expected):
    entry = affected_entry([{"introduced": "0"}, {"fixed": "2.0-1"}])

    assert is_affected(entry, version, "dpkg") is expected


@pytest.mark.parametrize("version, expected", [("0.9", False), ("1.0", True), ("1.5", True), ("1.6", False)])
def test_range_last_affected(version, expected):
    entry = affected_entry([{"introduced": "1.0"}, {"last_affected": "1.5"}])

    assert is_affected(entry, version, "dpkg") is expected


@pytest.mark.parametrize("version, expected", [("1.5", True), ("2.5", False), ("3.5", True), ("5.0", False)])
def test_range_reintroduced(version, expected):
    # given: events out of order, which evaluation sorts
    entry = affected_entry([{"fixed": "2.0"}, {"introduced": "3.0"}, {"introduced": "1.0"}, {"fixed": "4.0"}])

    assert is_affected(entry, version, "dpkg") is expected


def test_range_unfixed():
    entry = affected_entry([{"introduced": "0"}])

    assert is_affected(entry, "99:99.9-1", "dpkg")


def test_explicit_versions():
    entry = affected_entry(versions=["1.0-1", "1.0-2"])

    assert is_affected(entry, "1.0-2", "dpkg")
    assert not is_affected(entry, "1.0-3", "dpkg")


def test_invalid_versions_match_nothing():
    entry = affected_entry([{"introduced": "0"}, {"fixed": "not:a:valid:version:::"}])

    assert not is_affected(entry, "1.0", "dpkg")
    assert not is_affected(affected_entry([{"introduced": "0"}]), "1:", "dpkg")


def test_apk_range():
    entry = parse_advisory(osv("ALPINE-CVE-2024-1", "Alpine:v3.19", "openssl", [{"introduced": "0"}, {"fixed": "3.1.4-r6"}])).affected[0]

    assert is_affected(entry, "3.1.4-r5", "apk")
    assert not is_affected(entry, "3.1.4-r6", "apk")
    assert not is_affected(entry, "3.1.10-r0", "apk")


def test_non_ecosystem_ranges_ignored():
    record = osv("TEST-1", "Debian:12", "pkg")
    record["affected"][0]["ranges"] = [{"type": "GIT", "repo": "https://example.org/x.git", "events": [{"introduced": "0"}]}]

    assert not is_affected(parse_advisory(record).affected[0], "1.0", "dpkg")


# Reading OSV records and files


def test_parse_advisory_fields():
    advisory = parse_advisory(
        osv(
            "DSA-5000-1",
            "Debian:12",
            "openssl",
            [{"introduced": "0"}],
            aliases=["CVE-2024-1", "CVE-2024-2"],
            summary="openssl security update",
            modified="2024-05-06T07:08:09.123456789Z",
        )
    )

    assert advisory.id == "DSA-5000-1"
    assert advisory.aliases == ("CVE-2024-1", "CVE-2024-2")
    assert advisory.modified == datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
    assert advisory.affected[0].family == "debian"
    assert advisory.affected[0].release == "12"


def test_parse_advisory_skips_others():
    assert parse_advisory(osv("GHSA-1", "PyPI", "requests", [{"introduced": "0"}])) is None
    assert parse_advisory(osv("DSA-1", "Debian:12", "x", [{"introduced": "0"}], withdrawn="2024-01-01T00:00:00Z")) is None
    with pytest.raises(ValueError):
        parse_advisory({"affected": []})


def test_load_folder(tmp_path):
    # given: one record, a list of records in a subfolder, a zip archive, and files to skip
    (tmp_path / "one.json").write_text(json.dumps(osv("DEBIAN-CVE-2024-1", "Debian:12", "a", [{"introduced": "0"}])))
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "many.json").write_text(
        json.dumps([osv("DEBIAN-CVE-2024-2", "Debian:12", "b", [{"introduced": "0"}]), osv("GHSA-x", "npm", "c")])
    )
    with zipfile.ZipFile(tmp_path / "alpine.zip", "w") as archive:
        archive.writestr("ALPINE-CVE-2024-3.json", json.dumps(osv("ALPINE-CVE-2024-3", "Alpine:v3.19", "c", [{"introduced": "0"}])))
        archive.writestr("README.txt", "not a record")
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "no-id.json").write_text(json.dumps({"affected": []}))
    (tmp_path / "notes.txt").write_text("ignored")

    # when
    loaded = advisories.load(str(tmp_path))

    # then
    assert sorted(advisory.id for advisory in loaded.advisories) == ["ALPINE-CVE-2024-3", "DEBIAN-CVE-2024-1", "DEBIAN-CVE-2024-2"]
    assert [advisory.id for advisory, _ in loaded.entries_for("debian", "12", "b")] == ["DEBIAN-CVE-2024-2"]
    assert loaded.entries_for("debian", "11", "b") == []


def test_updated_at_is_newest_modified():
    loaded = database(
        osv("A", "Debian:12", "a", [{"introduced": "0"}], modified="2024-01-01T00:00:00Z"),
        osv("B", "Debian:12", "b", [{"introduced": "0"}], modified="2024-06-01T00:00:00Z"),
    )

    assert loaded.updated_at == datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc)


def test_updated_at_without_records():
    loaded = AdvisoryDatabase()

    assert loaded.updated_at == loaded.loaded_at


@pytest.fixture
def configured(tmp_path):
    advisories.configure(str(tmp_path))
    yield tmp_path
    advisories.configure(None)


def test_current_rereads_changed_folder(configured):
    assert len(advisories.current()) == 0

    (configured / "a.json").write_text(json.dumps(osv("A", "Debian:12", "a", [{"introduced": "0"}])))
    assert [advisory.id for advisory in advisories.current().advisories] == ["A"]

    os.remove(configured / "a.json")
    assert len(advisories.current()) == 0


def test_current_from_environment(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_text(json.dumps(osv("A", "Alpine:v3.19", "a", [{"introduced": "0"}])))
    monkeypatch.setenv(advisories.ENVIRONMENT_VARIABLE, str(tmp_path))

    assert advisories.location() == str(tmp_path)
    assert [advisory.id for advisory in advisories.current().advisories] == ["A"]


def test_current_empty_by_default(monkeypatch):
    monkeypatch.delenv(advisories.ENVIRONMENT_VARIABLE, raising=False)

    assert advisories.location() is None
    assert len(advisories.current()) == 0


def test_current_missing_folder(tmp_path):
    advisories.configure(str(tmp_path / "missing"))
    try:
        assert len(advisories.current()) == 0
    finally:
        advisories.configure(None)


# Findings


def test_findings_by_source_package():
    # given: two binaries of openssl and an advisory about the source package
    inventory = debian_inventory(
        dpkg("libssl3", "3.0.11-1~deb12u2", "openssl"),
        dpkg("openssl", "3.0.11-1~deb12u2"),
        dpkg("bash", "5.2.15-2+b2"),
    )
    loaded = database(
        osv(
            "DEBIAN-CVE-2024-0727",
            "Debian:12",
            "openssl",
            [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}],
            upstream=["CVE-2024-0727"],
            details="Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
            references=[
                {"type": "WEB", "url": "https://www.openssl.org/news/secadv/20240125.txt"},
                {"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2024-0727"},
            ],
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"}],
        )
    )

    # when
    [finding] = findings.find_vulnerabilities(inventory, loaded)

    # then: one finding for the source package, described as ECR describes basic findings
    assert finding.name == "CVE-2024-0727"
    assert finding.uri == "https://security-tracker.debian.org/tracker/CVE-2024-0727"
    assert finding.description == "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash."
    assert finding.severity == "MEDIUM"
    assert finding.attributes() == [
        {"key": "package_version", "value": "3.0.11-1~deb12u2"},
        {"key": "package_name", "value": "openssl"},
        {"key": "CVSS3_VECTOR", "value": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"},
        {"key": "CVSS3_SCORE", "value": "6.5"},
    ]


def test_findings_by_binary_name():
    inventory = debian_inventory(dpkg("libfoo1", "1.0-1+b1", "foo", "1.0-1"))
    loaded = database(osv("TEST-CVE-2024-5", "Debian:12", "libfoo1", [{"introduced": "0"}, {"fixed": "1.0-2"}]))

    [finding] = findings.find_vulnerabilities(inventory, loaded)

    assert (finding.package_name, finding.package_version) == ("libfoo1", "1.0-1+b1")


def test_fixed_version_has_no_finding():
    inventory = debian_inventory(dpkg("openssl", "3.0.13-1~deb12u1"))
    loaded = database(osv("DEBIAN-CVE-2024-0727", "Debian:12", "openssl", [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]))

    assert findings.find_vulnerabilities(inventory, loaded) == []


def test_other_release_has_no_finding():
    inventory = debian_inventory(dpkg("openssl", "1.1.1n-0+deb11u1"), version_id="11")
    loaded = database(osv("DEBIAN-CVE-2024-0727", "Debian:12", "openssl", [{"introduced": "0"}]))

    assert findings.find_vulnerabilities(inventory, loaded) == []


def test_advisory_with_many_cves():
    # given: a DSA about two CVEs and a per-CVE record about one of them
    inventory = debian_inventory(dpkg("curl", "7.88.1-10+deb12u4"))
    loaded = database(
        osv("DSA-5587-1", "Debian:12", "curl", [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u5"}], aliases=["CVE-2023-46218", "CVE-2023-46219"], summary="curl security update"),
        osv("DEBIAN-CVE-2023-46218", "Debian:12", "curl", [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u5"}], upstream=["CVE-2023-46218"], details="cookie mixed case PSL bypass"),
    )

    found = findings.find_vulnerabilities(inventory, loaded)

    assert [(finding.name, finding.advisory_id) for finding in found] == [
        ("CVE-2023-46218", "DEBIAN-CVE-2023-46218"),
        ("CVE-2023-46219", "DSA-5587-1"),
    ]
    assert found[0].description == "cookie mixed case PSL bypass"


def test_advisory_without_cve_named_by_id():
    inventory = debian_inventory(dpkg("tzdata", "2024a-0+deb12u1"))
    loaded = database(osv("DLA-3000-1", "Debian:12", "tzdata", [{"introduced": "0"}, {"fixed": "2024b-0+deb12u1"}]))

    [finding] = findings.find_vulnerabilities(inventory, loaded)

    assert finding.name == "DLA-3000-1"
    assert finding.severity == "UNDEFINED"
    assert finding.uri is None


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"severity": [{"type": "Ubuntu", "score": "negligible"}, {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}, "INFORMATIONAL"),
        ({"affected_fields": {"ecosystem_specific": {"urgency": "low**"}}}, "LOW"),
        ({"database_specific": {"severity": "HIGH"}}, "HIGH"),
        ({"database_specific": {"severity": "Moderate"}}, "MEDIUM"),
        ({"affected_fields": {"database_specific": {"urgency": "unimportant"}}}, "INFORMATIONAL"),
        (
            {
                "affected_fields": {"ecosystem_specific": {"urgency": "not yet assigned"}},
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            },
            "CRITICAL",
        ),
        ({"severity": [{"type": "CVSS_V2", "score": "AV:L/AC:L/Au:N/C:P/I:P/A:P"}]}, "MEDIUM"),
        ({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}]}, "LOW"),
        ({"severity": [{"type": "CVSS_V3", "score": "not a vector"}]}, "UNDEFINED"),
        ({"severity": [{"type": "Ubuntu", "score": "untriaged"}]}, "UNDEFINED"),
        ({}, "UNDEFINED"),
    ],
)
def test_severity_precedence(fields, expected):
    inventory = Inventory(OperatingSystem("ubuntu", "22.04"), [dpkg("pkg", "1.0-1")], ["dpkg"], [])
    loaded = database(osv("UBUNTU-CVE-2024-1", "Ubuntu:22.04:LTS", "pkg", [{"introduced": "0"}], **fields))

    [finding] = findings.find_vulnerabilities(inventory, loaded)

    assert finding.severity == expected


def test_cvss2_attributes():
    inventory = debian_inventory(dpkg("e2fsprogs", "1.47.0-2"))
    loaded = database(
        osv("DEBIAN-CVE-2019-5188", "Debian:12", "e2fsprogs", [{"introduced": "0"}], severity=[{"type": "CVSS_V2", "score": "AV:L/AC:L/Au:N/C:P/I:P/A:P"}])
    )

    [finding] = findings.find_vulnerabilities(inventory, loaded)

    assert finding.attributes()[2:] == [{"key": "CVSS2_VECTOR", "value": "AV:L/AC:L/Au:N/C:P/I:P/A:P"}, {"key": "CVSS2_SCORE", "value": "4.6"}]


def test_findings_most_severe_first():
    inventory = debian_inventory(dpkg("a", "1"), dpkg("b", "1"), dpkg("c", "1"))
    loaded = database(
        osv("CVE-2024-3", "Debian:12", "a", [{"introduced": "0"}], database_specific={"severity": "low"}),
        osv("CVE-2024-1", "Debian:12", "b", [{"introduced": "0"}]),
        osv("CVE-2024-2", "Debian:12", "c", [{"introduced": "0"}], database_specific={"severity": "critical"}),
    )

    found = findings.find_vulnerabilities(inventory, loaded)

    assert [(finding.name, finding.severity) for finding in found] == [
        ("CVE-2024-2", "CRITICAL"),
        ("CVE-2024-3", "LOW"),
        ("CVE-2024-1", "UNDEFINED"),
    ]
    assert findings.severity_counts(found) == {"CRITICAL": 1, "LOW": 1, "UNDEFINED": 1}


def test_alpine_findings_by_origin():
    inventory = Inventory(
        OperatingSystem("alpine", "3.19.1"),
        [Package("apk", "libcrypto3", "3.1.4-r5", "openssl", "3.1.4-r5", "x86_64", None)],
        ["apk"],
        [],
    )
    loaded = database(osv("ALPINE-CVE-2024-0727", "Alpine:v3.19", "openssl", [{"introduced": "0"}, {"fixed": "3.1.4-r6"}]))

    [finding] = findings.find_vulnerabilities(inventory, loaded)

    assert (finding.name, finding.package_name, finding.package_version) == ("CVE-2024-0727", "openssl", "3.1.4-r5")


@pytest.mark.parametrize(
    "operating_system, managers",
    [
        (None, []),
        (OperatingSystem("elxr", "12"), ["dpkg"]),
        (OperatingSystem("debian", None), ["dpkg"]),
        (OperatingSystem("debian", "12"), []),
        (OperatingSystem("alpine", "3.19.1"), ["dpkg"]),
        (OperatingSystem("rhel", "9.3"), []),
    ],
    ids=["no-os-release", "derivative", "no-version", "no-database", "wrong-database", "rpm"],
)
def test_unsupported_images(operating_system, managers):
    inventory = Inventory(operating_system, [], managers, [])

    with pytest.raises(findings.UnsupportedImage):
        findings.find_vulnerabilities(inventory, AdvisoryDatabase())


def test_severity_counts_empty():
    assert findings.severity_counts([]) == {}


# CVSS


@pytest.mark.parametrize(
    "vector, score",
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ],
)
def test_cvss3_base_score(vector, score):
    assert cvss.v3_base_score(vector) == score


@pytest.mark.parametrize(
    "vector, score",
    [
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
        ("AV:L/AC:L/Au:N/C:P/I:P/A:P", 4.6),
        ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
        ("AV:N/AC:L/Au:N/C:N/I:N/A:N", 0.0),
    ],
)
def test_cvss2_base_score(vector, score):
    assert cvss.v2_base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    ["CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "garbage"],
)
def test_invalid_cvss3_vectors(vector):
    with pytest.raises(cvss.InvalidVector):
        cvss.v3_base_score(vector)


@pytest.mark.parametrize(
    "score, severity",
    [(0.0, "INFORMATIONAL"), (0.1, "LOW"), (3.9, "LOW"), (4.0, "MEDIUM"), (6.9, "MEDIUM"), (7.0, "HIGH"), (8.9, "HIGH"), (9.0, "CRITICAL")],
)
def test_cvss3_severity(score, severity):
    assert cvss.v3_severity(score) == severity


@pytest.mark.parametrize("score, severity", [(0.0, "LOW"), (3.9, "LOW"), (4.0, "MEDIUM"), (6.9, "MEDIUM"), (7.0, "HIGH"), (10.0, "HIGH")])
def test_cvss2_severity(score, severity):
    assert cvss.v2_severity(score) == severity
