"""Repository filters of the registry settings, and the hooks that later engines call.

Scanning filters match a substring, or the whole name when they contain `*`. Replication filters
match a name prefix, and signing filters match the whole name. These tests also cover how a
registry scanning configuration applies to one repository, and the replication and signing status
hooks that no API operation reaches yet.
"""

import json

import pytest

from ecr_emulator.backend import replication, settings, signing
from ecr_emulator.backend.registry import Registry, registries, registry_for
from tests.helpers import sha256

ACCOUNT = "123456789012"
DESTINATION = {"region": "us-west-2", "registryId": ACCOUNT}


@pytest.fixture
def registry():
    """The registry that domain events reach, emptied before and after the test."""
    registries.reset()
    yield registry_for(ACCOUNT, "us-east-1")
    registries.reset()


def put_image(registry: Registry, repository_name: str, seed: str, tag: str | None = None) -> str:
    """Store a small image whose blobs the repository holds; return its digest."""
    config, layer = f"config-{seed}".encode(), f"layer-{seed}".encode()
    registry.add_layer(repository_name, sha256(config), len(config))
    registry.add_layer(repository_name, sha256(layer), len(layer))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": sha256(layer), "size": len(layer)}],
    }
    return registry.put_image(repository_name, json.dumps(manifest).encode(), tag=tag).digest


# Scanning filters: the table of the user guide's scanning filter page.

REPOSITORIES = ["prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo"]


@pytest.mark.parametrize(
    ("filter_value", "expected"),
    [
        ("prod", [True, True, True, True, True]),
        ("*prod", [True, True, False, False, False]),
        ("prod*", [True, False, True, False, True]),
        ("*prod*", [True, True, True, True, True]),
        ("prod*repo", [False, False, True, False, True]),
    ],
)
def test_scanning_filter_table(filter_value, expected):
    assert [settings.scanning_filter_matches(filter_value, name) for name in REPOSITORIES] == expected


@pytest.mark.parametrize(
    ("filter_value", "name", "expected"),
    [
        ("*", "any/name", True),
        ("team/", "team/app", True),
        ("team/", "teamapp", False),
        ("a*b*c", "a-x-b-y-c", True),
        ("a*b*c", "a-x-c-y-b", False),
        ("app.v2", "appxv2", False),
    ],
)
def test_scanning_filter_edges(filter_value, name, expected):
    assert settings.scanning_filter_matches(filter_value, name) is expected


# How the registry scanning configuration applies to one repository


def rule(frequency: str, *filters: str) -> dict:
    return {"scanFrequency": frequency, "repositoryFilters": [{"filter": item, "filterType": "WILDCARD"} for item in filters]}


def test_scan_frequency_default_manual(registry):
    registry.create_repository("app")

    assert settings.scan_frequency_for(registry, "app") == ("MANUAL", [])


def test_scan_frequency_repository_setting(registry):
    repository = registry.create_repository("app", scan_on_push=True)

    assert settings.scan_frequency_for(registry, repository) == ("SCAN_ON_PUSH", [])


def test_scan_frequency_registry_rule_lists_matching_filters(registry):
    # given: two filters of the rule match, one does not
    repository = registry.create_repository("team/prod-api")
    settings.put_scanning_configuration(registry, "BASIC", [rule("SCAN_ON_PUSH", "team/*", "prod", "dev")])

    # when
    frequency, applied = settings.scan_frequency_for(registry, repository)

    # then
    assert frequency == "SCAN_ON_PUSH"
    assert applied == [{"filter": "team/*", "filterType": "WILDCARD"}, {"filter": "prod", "filterType": "WILDCARD"}]


def test_scan_frequency_continuous_wins(registry):
    registry.create_repository("prod-api")
    settings.put_scanning_configuration(
        registry, "ENHANCED", [rule("SCAN_ON_PUSH", "prod"), rule("CONTINUOUS_SCAN", "*api")]
    )

    assert settings.scan_frequency_for(registry, "prod-api") == (
        "CONTINUOUS_SCAN",
        [{"filter": "*api", "filterType": "WILDCARD"}],
    )


def test_scan_frequency_enhanced_ignores_repository_setting(registry):
    registry.create_repository("legacy", scan_on_push=True)
    settings.put_scanning_configuration(registry, "ENHANCED", [rule("CONTINUOUS_SCAN", "prod")])

    assert settings.scan_frequency_for(registry, "legacy") == ("MANUAL", [])


def test_scan_frequency_missing_repository(registry):
    with pytest.raises(Exception) as raised:
        settings.scan_frequency_for(registry, "missing")

    assert type(raised.value).__name__ == "RepositoryNotFoundException"


def test_rejected_scanning_configuration_keeps_old(registry):
    settings.put_scanning_configuration(registry, "BASIC", [rule("SCAN_ON_PUSH", "keep")])

    with pytest.raises(Exception) as raised:
        settings.put_scanning_configuration(registry, "BASIC", [rule("CONTINUOUS_SCAN", "*")])

    assert type(raised.value).__name__ == "ValidationException"
    assert settings.scanning_configuration(registry) == {"scanType": "BASIC", "rules": [rule("SCAN_ON_PUSH", "keep")]}


# Pull-time update exclusions


def test_pull_time_update_exclusion(registry):
    role = f"arn:aws:iam::{ACCOUNT}:role/scanner"
    settings.register_pull_time_update_exclusion(registry, role)

    assert settings.is_pull_time_update_excluded(registry, role) is True
    assert settings.is_pull_time_update_excluded(registry, f"arn:aws:iam::{ACCOUNT}:role/deployer") is False
    assert settings.is_pull_time_update_excluded(registry, None) is False


# Replication filters and destinations


def test_replication_prefix_filters():
    prefixed = {"destinations": [DESTINATION], "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}]}
    unfiltered = {"destinations": [DESTINATION]}

    assert replication.rule_matches(prefixed, "prod/api") is True
    assert replication.rule_matches(prefixed, "production") is True
    assert replication.rule_matches(prefixed, "team/prod") is False
    assert replication.rule_matches(unfiltered, "anything") is True


def test_replication_destinations_in_rule_order(registry):
    # given: two rules match, and both name us-west-2
    replication.put_replication_configuration(
        registry,
        {
            "rules": [
                {"destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}, DESTINATION],
                 "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}]},
                {"destinations": [{"region": "ap-south-1", "registryId": ACCOUNT}],
                 "repositoryFilters": [{"filter": "dev", "filterType": "PREFIX_MATCH"}]},
                {"destinations": [DESTINATION, {"region": "us-east-1", "registryId": "111122223333"}]},
            ]
        },
    )

    # then
    assert replication.replication_destinations(registry, "prod/api") == [
        {"region": "eu-west-1", "registryId": ACCOUNT},
        DESTINATION,
        {"region": "us-east-1", "registryId": "111122223333"},
    ]
    assert replication.replication_destinations(registry, "other") == [
        DESTINATION,
        {"region": "us-east-1", "registryId": "111122223333"},
    ]


def test_replication_destinations_none_configured(registry):
    assert replication.replication_destinations(registry, "app") == []


def test_record_replication_status_replaces(registry):
    registry.create_repository("app")
    digest = put_image(registry, "app", "one", tag="v1")

    replication.record_replication_status(registry, "app", digest, DESTINATION, "IN_PROGRESS")
    replication.record_replication_status(registry, "app", digest, DESTINATION, "FAILED", "DESTINATION_REGISTRY_ACCESS_DENIED")

    assert replication.image_replication_statuses(registry, "app", digest) == [
        {"region": "us-west-2", "registryId": ACCOUNT, "status": "FAILED", "failureCode": "DESTINATION_REGISTRY_ACCESS_DENIED"}
    ]


def test_replication_status_gone_with_image(registry):
    registry.create_repository("app")
    digest = put_image(registry, "app", "one", tag="v1")
    replication.record_replication_status(registry, "app", digest, DESTINATION, "COMPLETE")

    registry.delete_image_ids("app", [{"imageDigest": digest}])

    assert replication.image_replication_statuses(registry, "app", digest) == []


# Backfill hooks of the replication engine


def start_backfill(registry: Registry, tagged_images: int) -> replication.Backfill:
    registry.create_repository("app")
    for index in range(tagged_images):
        put_image(registry, "app", f"image-{index}", tag=f"v{index}")
    replication.put_replication_configuration(registry, {"rules": [{"destinations": [DESTINATION]}]})
    return replication.start_backfill(registry, DESTINATION)


def test_backfill_plans_untagged_images_once(registry):
    # given: a tagged image, an image with two tags and an untagged image
    registry.create_repository("app")
    put_image(registry, "app", "one", tag="v1")
    two = put_image(registry, "app", "two", tag="v2")
    registry.put_image("app", registry.get_image("app", {"imageDigest": two}).manifest, tag="latest")
    put_image(registry, "app", "three")
    replication.put_replication_configuration(registry, {"rules": [{"destinations": [DESTINATION]}]})

    # when
    backfill = replication.start_backfill(registry, DESTINATION)

    # then
    assert [(tag is None) for _, _, tag in backfill.planned].count(True) == 1
    assert backfill.progress()["totalReplicationCount"] == 4


def test_backfill_completes_when_all_recorded(registry):
    backfill = start_backfill(registry, 2)
    first, second = backfill.planned

    replication.record_backfill_result(registry, backfill.id, "app", {"imageDigest": first[1], "imageTag": first[2]}, "COMPLETE")
    assert backfill.status == "IN_PROGRESS"
    replication.record_backfill_result(
        registry, backfill.id, "app", {"imageDigest": second[1], "imageTag": second[2]}, "FAILED", "REPOSITORY_LIMIT_EXCEEDED"
    )

    assert backfill.status == "COMPLETE"
    assert backfill.ended_at is not None
    assert backfill.progress() == {
        "totalReplicationCount": 2,
        "completedReplicationCount": 1,
        "failedReplicationCount": 1,
        "failureCodes": ["REPOSITORY_LIMIT_EXCEEDED"],
    }


def test_backfill_fails_after_half_of_100_fail(registry):
    # given: 120 planned replications
    backfill = start_backfill(registry, 120)

    # when: 99 results, 50 of them failures, then a 100th failure
    for index, (_, digest, tag) in enumerate(backfill.planned[:99]):
        status = "FAILED" if index < 50 else "COMPLETE"
        replication.record_backfill_result(registry, backfill.id, "app", {"imageDigest": digest, "imageTag": tag}, status, "X")
    running = backfill.status
    _, digest, tag = backfill.planned[99]
    replication.record_backfill_result(registry, backfill.id, "app", {"imageDigest": digest, "imageTag": tag}, "FAILED", "X")

    # then: the threshold counts only once 100 replications ended
    assert running == "IN_PROGRESS"
    assert backfill.status == "FAILED"


def test_backfill_result_after_stop(registry):
    backfill = start_backfill(registry, 1)
    replication.stop_backfill(registry, backfill.id)

    with pytest.raises(ValueError):
        replication.record_backfill_result(registry, backfill.id, "app", {"imageDigest": backfill.planned[0][1]}, "COMPLETE")


# Signing filters


@pytest.mark.parametrize(
    ("filter_value", "name", "expected"),
    [
        ("myapp/*", "myapp/api", True),
        ("myapp/*", "team/myapp/api", False),
        ("*/production", "web/production", True),
        ("*prod*", "reproduce", True),
        ("prod", "repo-prod", False),
        ("prod", "prod", True),
    ],
)
def test_signing_filters_are_anchored(filter_value, name, expected):
    rule_value = {"signingProfileArn": "profile", "repositoryFilters": [{"filter": filter_value, "filterType": "WILDCARD_MATCH"}]}

    assert signing.rule_matches(rule_value, name) is expected


def test_signing_profiles_once_in_rule_order(registry):
    signing.put_signing_configuration(
        registry,
        {
            "rules": [
                {"signingProfileArn": "b"},
                {"signingProfileArn": "a", "repositoryFilters": [{"filter": "app*", "filterType": "WILDCARD_MATCH"}]},
                {"signingProfileArn": "b", "repositoryFilters": [{"filter": "app", "filterType": "WILDCARD_MATCH"}]},
            ]
        },
    )

    assert signing.signing_profiles_for(registry, "app") == ["b", "a"]
    assert signing.signing_profiles_for(registry, "other") == ["b"]


def test_record_signing_status(registry):
    signing.put_signing_configuration(registry, {"rules": [{"signingProfileArn": "profile"}]})
    registry.create_repository("app")
    digest = put_image(registry, "app", "one", tag="v1")

    signing.record_signing_status(registry, "app", digest, "profile", "FAILED", "AccessDenied", "no signer:SignPayload")

    assert signing.image_signing_statuses(registry, "app", digest) == [
        {"signingProfileArn": "profile", "status": "FAILED", "failureCode": "AccessDenied", "failureReason": "no signer:SignPayload"}
    ]
