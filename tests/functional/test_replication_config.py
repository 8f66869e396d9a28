"""Replication configuration, image replication status and replication backfills, in decorator and server mode.

The emulator does not copy images yet, so these tests cover what the operations store and validate:
statuses stay empty and a backfill with images to copy stays IN_PROGRESS until it is stopped.
"""

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from tests.conftest import advance_clock
from tests.helpers import push_image

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
DAY = 24 * 3600


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def unvalidated_client(ecr_mode):
    """A client that sends what botocore would reject itself, so the emulator's own checks are reached."""
    arguments = {"endpoint_url": ecr_mode.endpoint} if hasattr(ecr_mode, "endpoint") else {}
    return boto3.client(
        "ecr",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
        **arguments,
    )


def destination(region: str, registry_id: str = ACCOUNT) -> dict:
    return {"region": region, "registryId": registry_id}


def configure(ecr, *destinations: dict, filters: tuple[str, ...] = ()) -> dict:
    rule = {"destinations": list(destinations)}
    if filters:
        rule["repositoryFilters"] = [{"filter": item, "filterType": "PREFIX_MATCH"} for item in filters]
    configuration = {"rules": [rule]}
    ecr.put_replication_configuration(replicationConfiguration=configuration)
    return configuration


# Replication configuration


def test_describe_registry_default(ecr):
    # when
    answer = ecr.describe_registry()

    # then
    assert answer["registryId"] == ACCOUNT
    assert answer["replicationConfiguration"] == {"rules": []}


def test_put_replication_configuration(ecr):
    # given
    configuration = {
        "rules": [
            {
                "destinations": [destination("us-west-2"), destination("eu-west-1", OTHER_ACCOUNT)],
                "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}],
                "deleteReplication": {"enabled": True},
            },
            {"destinations": [destination("ap-southeast-2")]},
        ]
    }

    # when
    answer = ecr.put_replication_configuration(replicationConfiguration=configuration)

    # then: returned as stored, and DescribeRegistry shows it
    assert answer["replicationConfiguration"] == configuration
    assert ecr.describe_registry()["replicationConfiguration"] == configuration


def test_empty_rules_remove_replication(ecr):
    configure(ecr, destination("us-west-2"))

    answer = ecr.put_replication_configuration(replicationConfiguration={"rules": []})

    assert answer["replicationConfiguration"] == {"rules": []}
    assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}


def test_destination_same_as_source(ecr):
    # given
    configure(ecr, destination("us-west-2"))

    # when: the caller's own registry in its own region
    with pytest.raises(ClientError) as raised:
        configure(ecr, destination("eu-west-1"), destination("us-east-1"))

    # then: rejected, and the stored configuration is unchanged
    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: ")
    assert ecr.describe_registry()["replicationConfiguration"]["rules"][0]["destinations"] == [destination("us-west-2")]


def test_same_region_other_account_allowed(ecr):
    configuration = configure(ecr, destination("us-east-1", OTHER_ACCOUNT))

    assert ecr.describe_registry()["replicationConfiguration"] == configuration


def test_twenty_five_unique_destinations(ecr):
    # given: 25 distinct destinations, one repeated in a second rule
    destinations = [destination("us-west-2", f"{index:012d}") for index in range(1, 26)]
    configuration = {"rules": [{"destinations": destinations}, {"destinations": destinations[:1]}]}

    # when
    answer = ecr.put_replication_configuration(replicationConfiguration=configuration)

    # then
    assert answer["replicationConfiguration"] == configuration


def test_too_many_unique_destinations(ecr):
    # given: 26 distinct destinations spread over two rules
    first = [destination("us-west-2", f"{index:012d}") for index in range(1, 14)]
    second = [destination("eu-west-1", f"{index:012d}") for index in range(1, 14)]

    # when
    with pytest.raises(ClientError) as raised:
        ecr.put_replication_configuration(
            replicationConfiguration={"rules": [{"destinations": first}, {"destinations": second}]}
        )

    # then
    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert "25" in message
    assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}


def test_twenty_five_rules(ecr):
    rules = [{"destinations": [destination("us-west-2")]} for _ in range(25)]

    answer = ecr.put_replication_configuration(replicationConfiguration={"rules": rules})

    assert len(answer["replicationConfiguration"]["rules"]) == 25


def test_too_many_rules(ecr):
    rules = [{"destinations": [destination("us-west-2")]} for _ in range(26)]

    with pytest.raises(ClientError) as raised:
        ecr.put_replication_configuration(replicationConfiguration={"rules": rules})

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'replicationConfiguration.rules' failed to satisfy constraint: "
        "'Member must have length less than or equal to 25'",
    )


@pytest.mark.parametrize(
    ("rule", "member"),
    [
        ({"destinations": [destination("US_EAST")]}, "replicationConfiguration.rules.1.member.destinations.1.member.region"),
        ({"destinations": [destination("us-west-2", "12345")]},
         "replicationConfiguration.rules.1.member.destinations.1.member.registryId"),
        ({"destinations": [destination("us-west-2")], "repositoryFilters": [{"filter": "Prod", "filterType": "PREFIX_MATCH"}]},
         "replicationConfiguration.rules.1.member.repositoryFilters.1.member.filter"),
        ({"destinations": [destination("us-west-2")], "repositoryFilters": [{"filter": "a", "filterType": "PREFIX_MATCH"}]},
         "replicationConfiguration.rules.1.member.repositoryFilters.1.member.filter"),
        ({"destinations": [destination("us-west-2")], "repositoryFilters": [{"filter": "prod", "filterType": "WILDCARD"}]},
         "replicationConfiguration.rules.1.member.repositoryFilters.1.member.filterType"),
        ({"destinations": [destination("us-west-2")],
          "repositoryFilters": [{"filter": f"repo{index}", "filterType": "PREFIX_MATCH"} for index in range(101)]},
         "replicationConfiguration.rules.1.member.repositoryFilters"),
    ],
)
def test_put_replication_invalid_rule(ecr, ecr_mode, rule, member):
    with pytest.raises(ClientError) as raised:
        unvalidated_client(ecr_mode).put_replication_configuration(replicationConfiguration={"rules": [rule]})

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith(f"Invalid parameter at '{member}' failed to satisfy constraint: ")
    assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}


def test_put_replication_missing_destinations(ecr_mode):
    client = unvalidated_client(ecr_mode)

    with pytest.raises(ClientError) as raised:
        client.put_replication_configuration(replicationConfiguration={"rules": [{}]})

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'replicationConfiguration.rules.1.member.destinations' failed to satisfy constraint: "
        "'Member must not be null'",
    )


def test_replication_configuration_per_region(ecr, ecr_mode):
    configure(ecr, destination("us-west-2"))

    answer = ecr_mode.client(region="us-west-2").describe_registry()

    assert answer["replicationConfiguration"] == {"rules": []}


# DescribeImageReplicationStatus


def test_image_replication_status_empty(ecr):
    # given: replication is configured, but nothing was replicated yet
    configure(ecr, destination("us-west-2"))
    ecr.create_repository(repositoryName="app")
    image = push_image(ecr, "app", tag="v1")

    # when
    answer = ecr.describe_image_replication_status(repositoryName="app", imageId={"imageTag": "v1"})

    # then
    assert answer["repositoryName"] == "app"
    assert answer["imageId"] == {"imageDigest": image["imageId"]["imageDigest"], "imageTag": "v1"}
    assert answer["replicationStatuses"] == []


def test_image_replication_status_by_digest(ecr):
    ecr.create_repository(repositoryName="app")
    digest = push_image(ecr, "app")["imageId"]["imageDigest"]

    answer = ecr.describe_image_replication_status(repositoryName="app", imageId={"imageDigest": digest})

    assert answer["imageId"] == {"imageDigest": digest}
    assert answer["replicationStatuses"] == []


def test_image_replication_status_missing_repository(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_image_replication_status(repositoryName="missing", imageId={"imageTag": "v1"})

    assert error_of(raised) == (
        "RepositoryNotFoundException",
        f"The repository with name 'missing' does not exist in the registry with id '{ACCOUNT}'",
    )


def test_image_replication_status_missing_image(ecr):
    ecr.create_repository(repositoryName="app")

    with pytest.raises(ClientError) as raised:
        ecr.describe_image_replication_status(repositoryName="app", imageId={"imageTag": "v1"})

    assert error_of(raised) == (
        "ImageNotFoundException",
        "The image with imageId {imageDigest:'null', imageTag:'v1'} does not exist within the repository with "
        f"name 'app' in the registry with id '{ACCOUNT}'",
    )


def test_image_replication_status_other_registry(ecr):
    ecr.create_repository(repositoryName="app")

    with pytest.raises(ClientError) as raised:
        ecr.describe_image_replication_status(repositoryName="app", imageId={"imageTag": "v1"}, registryId=OTHER_ACCOUNT)

    # Another account's registry allows nothing without a resource policy, so even a missing
    # repository is refused before it is looked up.
    assert error_of(raised)[0] == "AccessDeniedException"


# Replication backfills


def push_images(ecr) -> None:
    """Push three image-tag combinations to prod/app and one image to dev/app."""
    ecr.create_repository(repositoryName="prod/app")
    ecr.create_repository(repositoryName="dev/app")
    first = push_image(ecr, "prod/app", tag="v1", seed="one")
    ecr.put_image(repositoryName="prod/app", imageManifest=first["imageManifest"], imageTag="latest")
    push_image(ecr, "prod/app", tag="v2", seed="two")
    push_image(ecr, "dev/app", tag="v1", seed="three")


def test_backfill_without_configuration(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.start_replication_backfill(destination=destination("us-west-2"))

    code, message = error_of(raised)
    assert code == "ValidationException"
    assert "us-west-2" in message
    assert ecr.list_replication_backfills()["backfills"] == []


def test_backfill_destination_not_configured(ecr):
    # given: the destination must already be in the replication configuration
    configure(ecr, destination("us-west-2"))

    # when
    with pytest.raises(ClientError) as raised:
        ecr.start_replication_backfill(destination=destination("us-west-2", OTHER_ACCOUNT))

    # then
    assert error_of(raised)[0] == "ValidationException"
    assert ecr.list_replication_backfills()["backfills"] == []


def test_backfill_plans_matching_images(ecr):
    # given: the rule selects prod/ repositories only
    push_images(ecr)
    configure(ecr, destination("us-west-2"), filters=("prod",))

    # when
    started = ecr.start_replication_backfill(destination=destination("us-west-2"))

    # then: each image and tag combination counts as one replication
    assert started["registryId"] == ACCOUNT
    assert started["destination"] == destination("us-west-2")
    assert started["status"] == "IN_PROGRESS"
    described = ecr.describe_replication_backfill_results(replicationBackfillId=started["replicationBackfillId"])
    assert described["status"] == "IN_PROGRESS"
    assert described["startedAt"] == started["startedAt"]
    assert described["progress"] == {
        "totalReplicationCount": 3,
        "completedReplicationCount": 0,
        "failedReplicationCount": 0,
        "failureCodes": [],
    }
    assert "endedAt" not in described
    assert "results" not in described


def test_backfill_with_nothing_to_replicate(ecr):
    # given
    ecr.create_repository(repositoryName="empty")
    configure(ecr, destination("us-west-2"))

    # when
    started = ecr.start_replication_backfill(destination=destination("us-west-2"))

    # then: no image qualifies, so the backfill has replicated all of them
    assert started["status"] == "COMPLETE"
    described = ecr.describe_replication_backfill_results(replicationBackfillId=started["replicationBackfillId"])
    assert described["status"] == "COMPLETE"
    assert described["progress"]["totalReplicationCount"] == 0
    assert described["results"] == []
    assert described["endedAt"] >= described["startedAt"]


def test_backfill_one_per_region(ecr):
    # given
    push_images(ecr)
    configure(ecr, destination("us-west-2"), destination("us-west-2", OTHER_ACCOUNT), destination("eu-west-1"))
    ecr.start_replication_backfill(destination=destination("us-west-2"))

    # when: another backfill to the same destination region
    with pytest.raises(ClientError) as raised:
        ecr.start_replication_backfill(destination=destination("us-west-2", OTHER_ACCOUNT))

    # then: rejected, while another region is accepted
    assert error_of(raised)[0] == "ReplicationBackfillInProgressException"
    assert ecr.start_replication_backfill(destination=destination("eu-west-1"))["status"] == "IN_PROGRESS"
    assert len(ecr.list_replication_backfills()["backfills"]) == 2


def test_backfill_limit_in_progress(ecr):
    # given: ten backfills in progress, to ten regions
    push_images(ecr)
    regions = [f"test-region-{index}" for index in range(11)]
    configure(ecr, *[destination(region) for region in regions])
    for region in regions[:10]:
        ecr.start_replication_backfill(destination=destination(region))

    # when
    with pytest.raises(ClientError) as raised:
        ecr.start_replication_backfill(destination=destination(regions[10]))

    # then
    assert error_of(raised)[0] == "LimitExceededException"
    assert len(ecr.list_replication_backfills()["backfills"]) == 10


def test_stop_backfill(ecr):
    # given
    push_images(ecr)
    configure(ecr, destination("us-west-2"))
    backfill_id = ecr.start_replication_backfill(destination=destination("us-west-2"))["replicationBackfillId"]

    # when
    stopped = ecr.stop_replication_backfill(replicationBackfillId=backfill_id)

    # then: nothing is in flight, so the backfill ends at once, and another may start
    assert stopped["replicationBackfillId"] == backfill_id
    assert stopped["registryId"] == ACCOUNT
    assert stopped["destination"] == destination("us-west-2")
    assert stopped["status"] == "STOPPED"
    described = ecr.describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert described["status"] == "STOPPED"
    assert described["results"] == []
    assert "endedAt" in described
    assert ecr.start_replication_backfill(destination=destination("us-west-2"))["status"] == "IN_PROGRESS"


@pytest.mark.parametrize("setup", ["stopped", "complete"])
def test_stop_terminal_backfill(ecr, setup):
    # given: a backfill in a terminal status
    configure(ecr, destination("us-west-2"))
    if setup == "stopped":
        push_images(ecr)
    backfill_id = ecr.start_replication_backfill(destination=destination("us-west-2"))["replicationBackfillId"]
    if setup == "stopped":
        ecr.stop_replication_backfill(replicationBackfillId=backfill_id)

    # when
    with pytest.raises(ClientError) as raised:
        ecr.stop_replication_backfill(replicationBackfillId=backfill_id)

    # then
    assert error_of(raised)[0] == "ReplicationBackfillInvalidStatusException"


def test_unknown_backfill(ecr):
    unknown = "0f8fad5b-d9cb-469f-a165-70867728950e"

    with pytest.raises(ClientError) as raised:
        ecr.stop_replication_backfill(replicationBackfillId=unknown)
    assert error_of(raised)[0] == "ReplicationBackfillNotFoundException"

    with pytest.raises(ClientError) as raised:
        ecr.describe_replication_backfill_results(replicationBackfillId=unknown)
    assert error_of(raised)[0] == "ReplicationBackfillNotFoundException"


def test_backfill_invalid_id(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_replication_backfill_results(replicationBackfillId="not-a-backfill-id")

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'replicationBackfillId' failed to satisfy constraint: ")


def test_backfill_of_other_registry(ecr, ecr_mode):
    # given: a backfill of another account's registry
    other = ecr_mode.client(access_key_id=OTHER_ACCOUNT)
    configure(other, destination("us-west-2", OTHER_ACCOUNT))
    backfill_id = other.start_replication_backfill(destination=destination("us-west-2", OTHER_ACCOUNT))[
        "replicationBackfillId"
    ]

    # then: it is found under that registry id, not under another caller's own registry, and
    # that caller may not read it without a registry policy
    assert ecr.list_replication_backfills()["backfills"] == []
    with pytest.raises(ClientError) as denied:
        ecr.list_replication_backfills(registryId=OTHER_ACCOUNT)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    listed = other.list_replication_backfills(registryId=OTHER_ACCOUNT)
    assert listed["registryId"] == OTHER_ACCOUNT
    assert [backfill["replicationBackfillId"] for backfill in listed["backfills"]] == [backfill_id]
    with pytest.raises(ClientError) as raised:
        ecr.describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert error_of(raised)[0] == "ReplicationBackfillNotFoundException"


def test_list_backfills_paginates(ecr):
    # given: three backfills
    push_images(ecr)
    regions = ["us-west-1", "us-west-2", "eu-west-1"]
    configure(ecr, *[destination(region) for region in regions])
    started = [ecr.start_replication_backfill(destination=destination(region))["replicationBackfillId"] for region in regions]

    # when
    first = ecr.list_replication_backfills(maxResults=2)
    second = ecr.list_replication_backfills(maxResults=2, nextToken=first["nextToken"])

    # then
    listed = first["backfills"] + second["backfills"]
    assert [backfill["replicationBackfillId"] for backfill in listed] == started
    assert "nextToken" not in second
    assert listed[0]["destination"] == destination("us-west-1")
    assert listed[0]["status"] == "IN_PROGRESS"
    assert listed[0]["progress"]["totalReplicationCount"] == 4


def test_list_backfills_max_results(ecr_mode):
    client = unvalidated_client(ecr_mode)

    with pytest.raises(ClientError) as raised:
        client.list_replication_backfills(maxResults=51)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 50'",
    )


def test_list_backfills_keeps_ended_for_90_days(ecr, ecr_mode):
    # given: one stopped backfill and one still in progress
    push_images(ecr)
    configure(ecr, destination("us-west-2"), destination("eu-west-1"))
    stopped = ecr.start_replication_backfill(destination=destination("us-west-2"))["replicationBackfillId"]
    ecr.stop_replication_backfill(replicationBackfillId=stopped)
    running = ecr.start_replication_backfill(destination=destination("eu-west-1"))["replicationBackfillId"]

    # when: 89, then 91 days pass
    advance_clock(ecr_mode, 89 * DAY)
    after_89_days = [backfill["replicationBackfillId"] for backfill in ecr.list_replication_backfills()["backfills"]]
    advance_clock(ecr_mode, 2 * DAY)
    after_91_days = [backfill["replicationBackfillId"] for backfill in ecr.list_replication_backfills()["backfills"]]

    # then
    assert after_89_days == [stopped, running]
    assert after_91_days == [running]


def test_backfill_results_invalid_filter(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.describe_replication_backfill_results(
            replicationBackfillId="0f8fad5b-d9cb-469f-a165-70867728950e", resultStatusFilter="IN_PROGRESS"
        )

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'resultStatusFilter' failed to satisfy constraint: "
        "'Member must satisfy enum value set: [COMPLETE, FAILED]'",
    )
