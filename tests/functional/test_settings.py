"""Account settings and the registry scanning configuration, in decorator and server mode."""

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"


def error_of(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def unvalidated_client(ecr_mode, region: str = "us-east-1"):
    """A client that sends what botocore would reject itself, so the emulator's own checks are reached."""
    arguments = {"endpoint_url": ecr_mode.endpoint} if hasattr(ecr_mode, "endpoint") else {}
    return boto3.client(
        "ecr",
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
        **arguments,
    )


def scan_on_push_rule(*filters: str, frequency: str = "SCAN_ON_PUSH") -> dict:
    return {"scanFrequency": frequency, "repositoryFilters": [{"filter": item, "filterType": "WILDCARD"} for item in filters]}


# Account settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # New registries use AWS native basic scanning, registry policy V2, and blob mounting is opt-in.
        ("BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE"),
        ("REGISTRY_POLICY_SCOPE", "V2"),
        ("BLOB_MOUNTING", "DISABLED"),
    ],
)
def test_account_setting_defaults(ecr, name, value):
    # when
    setting = ecr.get_account_setting(name=name)

    # then
    assert setting["name"] == name
    assert setting["value"] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BASIC_SCAN_TYPE_VERSION", "CLAIR"),
        ("BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE"),
        ("REGISTRY_POLICY_SCOPE", "V1"),
        ("REGISTRY_POLICY_SCOPE", "V2"),
        ("BLOB_MOUNTING", "ENABLED"),
        ("BLOB_MOUNTING", "DISABLED"),
    ],
)
def test_put_account_setting(ecr, name, value):
    # when
    answer = ecr.put_account_setting(name=name, value=value)

    # then: the response and a later GetAccountSetting name the new value
    assert (answer["name"], answer["value"]) == (name, value)
    assert ecr.get_account_setting(name=name)["value"] == value


@pytest.mark.parametrize("name", ["UNKNOWN_SETTING", "blob_mounting", "BASIC_SCAN_TYPE"])
def test_account_setting_unknown_name(ecr, name):
    with pytest.raises(ClientError) as raised:
        ecr.get_account_setting(name=name)
    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'name' failed to satisfy constraint: ")

    with pytest.raises(ClientError) as raised:
        ecr.put_account_setting(name=name, value="ENABLED")
    assert error_of(raised)[0] == "InvalidParameterException"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BLOB_MOUNTING", "enabled"),
        ("BLOB_MOUNTING", "V2"),
        ("BASIC_SCAN_TYPE_VERSION", "ENABLED"),
        ("REGISTRY_POLICY_SCOPE", "V3"),
        ("REGISTRY_POLICY_SCOPE", ""),
    ],
)
def test_put_account_setting_invalid_value(ecr, name, value):
    # given
    before = ecr.get_account_setting(name=name)["value"]

    # when
    with pytest.raises(ClientError) as raised:
        ecr.put_account_setting(name=name, value=value)

    # then: rejected, and the setting keeps its value
    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'value' failed to satisfy constraint: ")
    assert ecr.get_account_setting(name=name)["value"] == before


def test_account_setting_name_too_long(ecr_mode):
    client = unvalidated_client(ecr_mode)

    with pytest.raises(ClientError) as raised:
        client.get_account_setting(name="B" * 65)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'name' failed to satisfy constraint: 'Member must have length less than or equal to 64'",
    )


def test_account_setting_missing_value(ecr_mode):
    client = unvalidated_client(ecr_mode)

    with pytest.raises(ClientError) as raised:
        client.put_account_setting(name="BLOB_MOUNTING")

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'value' failed to satisfy constraint: 'Member must not be null'",
    )


def test_account_settings_per_region(ecr, ecr_mode):
    # given: private registry settings are configured separately for each Region
    ecr.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")

    # when
    other_region = ecr_mode.client(region="us-west-2").get_account_setting(name="BLOB_MOUNTING")

    # then
    assert other_region["value"] == "DISABLED"


def test_account_settings_per_account(ecr, ecr_mode):
    ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V1")

    other_account = ecr_mode.client(access_key_id=OTHER_ACCOUNT).get_account_setting(name="REGISTRY_POLICY_SCOPE")

    assert other_account["value"] == "V2"


# Registry scanning configuration


def test_registry_scanning_configuration_default(ecr):
    # when
    answer = ecr.get_registry_scanning_configuration()

    # then: a registry without a configuration uses BASIC scanning
    assert answer["registryId"] == ACCOUNT
    assert answer["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}


def test_put_registry_scanning_configuration(ecr):
    # given
    rules = [scan_on_push_rule("prod*", frequency="CONTINUOUS_SCAN"), scan_on_push_rule("dev", "test-*")]

    # when
    answer = ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=rules)

    # then
    assert answer["registryScanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}
    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}


def test_put_registry_scanning_configuration_replaces(ecr):
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[scan_on_push_rule("*", frequency="CONTINUOUS_SCAN")])

    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])

    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}


def test_put_registry_scanning_configuration_without_scan_type(ecr):
    # when: scanType is optional; a registry without one uses BASIC
    answer = ecr.put_registry_scanning_configuration(rules=[scan_on_push_rule("*")])

    # then
    assert answer["registryScanningConfiguration"]["scanType"] == "BASIC"


@pytest.mark.parametrize(
    ("scan_type", "frequency"),
    [("BASIC", "CONTINUOUS_SCAN"), ("BASIC", "MANUAL"), ("ENHANCED", "MANUAL")],
)
def test_put_registry_scanning_unsupported_frequency(ecr, scan_type, frequency):
    # given: BASIC supports SCAN_ON_PUSH rules; ENHANCED supports CONTINUOUS_SCAN and SCAN_ON_PUSH
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[scan_on_push_rule("keep")])

    # when
    with pytest.raises(ClientError) as raised:
        ecr.put_registry_scanning_configuration(scanType=scan_type, rules=[scan_on_push_rule("*", frequency=frequency)])

    # then: rejected, and the stored configuration is unchanged
    code, message = error_of(raised)
    assert code == "ValidationException"
    assert frequency in message
    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {
        "scanType": "BASIC",
        "rules": [scan_on_push_rule("keep")],
    }


@pytest.mark.parametrize(
    ("rules", "member"),
    [
        ([scan_on_push_rule("Prod")], "rules.1.member.repositoryFilters.1.member.filter"),
        ([scan_on_push_rule("a" * 256)], "rules.1.member.repositoryFilters.1.member.filter"),
        ([scan_on_push_rule("prod-")], "rules.1.member.repositoryFilters.1.member.filter"),
        ([scan_on_push_rule("x"), scan_on_push_rule("y"), scan_on_push_rule("z")], "rules"),
        ([{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "x", "filterType": "PREFIX_MATCH"}]}],
         "rules.1.member.repositoryFilters.1.member.filterType"),
        ([{"scanFrequency": "DAILY", "repositoryFilters": []}], "rules.1.member.scanFrequency"),
    ],
)
def test_put_registry_scanning_invalid_rules(ecr, rules, member):
    with pytest.raises(ClientError) as raised:
        ecr.put_registry_scanning_configuration(scanType="BASIC", rules=rules)

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith(f"Invalid parameter at '{member}' failed to satisfy constraint: ")
    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"]["rules"] == []


def test_put_registry_scanning_invalid_scan_type(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.put_registry_scanning_configuration(scanType="FULL")

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'scanType' failed to satisfy constraint: 'Member must satisfy enum value set: "
        "[BASIC, ENHANCED]'",
    )


# BatchGetRepositoryScanningConfiguration


def scanning_of(ecr, name: str) -> dict:
    return ecr.batch_get_repository_scanning_configuration(repositoryNames=[name])["scanningConfigurations"][0]


def test_repository_scanning_default_manual(ecr):
    # given
    ecr.create_repository(repositoryName="app")

    # when
    answer = ecr.batch_get_repository_scanning_configuration(repositoryNames=["app"])

    # then: no filter matches, so the repository is scanned manually
    assert answer["failures"] == []
    assert answer["scanningConfigurations"] == [
        {
            "repositoryArn": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app",
            "repositoryName": "app",
            "scanOnPush": False,
            "scanFrequency": "MANUAL",
            "appliedScanFilters": [],
        }
    ]


def test_repository_scan_on_push_from_repository(ecr):
    # given: the repository-level setting, with no registry rule matching
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[scan_on_push_rule("other")])

    # when
    configuration = scanning_of(ecr, "app")

    # then
    assert configuration["scanOnPush"] is True
    assert configuration["scanFrequency"] == "SCAN_ON_PUSH"
    assert configuration["appliedScanFilters"] == []


def test_repository_scan_on_push_changed(ecr):
    # given: scan on push turned on, then off, with PutImageScanningConfiguration
    ecr.create_repository(repositoryName="app")
    ecr.put_image_scanning_configuration(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
    turned_on = scanning_of(ecr, "app")
    ecr.put_image_scanning_configuration(repositoryName="app", imageScanningConfiguration={"scanOnPush": False})

    # when
    turned_off = scanning_of(ecr, "app")

    # then
    assert (turned_on["scanOnPush"], turned_on["scanFrequency"]) == (True, "SCAN_ON_PUSH")
    assert (turned_off["scanOnPush"], turned_off["scanFrequency"]) == (False, "MANUAL")


# The filter table of the user guide: repository names across, filters down.
REPOSITORIES = ["prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo"]
FILTER_TABLE = {
    "prod": [True, True, True, True, True],
    "*prod": [True, True, False, False, False],
    "prod*": [True, False, True, False, True],
    "*prod*": [True, True, True, True, True],
    "prod*repo": [False, False, True, False, True],
}


@pytest.mark.parametrize("filter_value", list(FILTER_TABLE))
def test_scan_on_push_filter_table(ecr, filter_value):
    # given
    for name in REPOSITORIES:
        ecr.create_repository(repositoryName=name)
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[scan_on_push_rule(filter_value)])

    # when
    answer = ecr.batch_get_repository_scanning_configuration(repositoryNames=REPOSITORIES)["scanningConfigurations"]

    # then
    by_name = {configuration["repositoryName"]: configuration for configuration in answer}
    for name, expected in zip(REPOSITORIES, FILTER_TABLE[filter_value]):
        if expected:
            assert by_name[name]["scanFrequency"] == "SCAN_ON_PUSH", name
            assert by_name[name]["scanOnPush"] is True, name
            assert by_name[name]["appliedScanFilters"] == [{"filter": filter_value, "filterType": "WILDCARD"}], name
        else:
            assert by_name[name]["scanFrequency"] == "MANUAL", name
            assert by_name[name]["appliedScanFilters"] == [], name


def test_continuous_scan_wins_over_scan_on_push(ecr):
    # given: both an ENHANCED scan-on-push filter and a continuous filter match
    ecr.create_repository(repositoryName="team/prod-api")
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[scan_on_push_rule("team/*"), scan_on_push_rule("prod", frequency="CONTINUOUS_SCAN")],
    )

    # when
    configuration = scanning_of(ecr, "team/prod-api")

    # then
    assert configuration["scanFrequency"] == "CONTINUOUS_SCAN"
    assert configuration["appliedScanFilters"] == [{"filter": "prod", "filterType": "WILDCARD"}]


def test_enhanced_scan_on_push(ecr):
    ecr.create_repository(repositoryName="team/api")
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[scan_on_push_rule("team/*"), scan_on_push_rule("prod", frequency="CONTINUOUS_SCAN")],
    )

    configuration = scanning_of(ecr, "team/api")

    assert configuration["scanFrequency"] == "SCAN_ON_PUSH"
    assert configuration["scanOnPush"] is True
    assert configuration["appliedScanFilters"] == [{"filter": "team/*", "filterType": "WILDCARD"}]


def test_enhanced_unmatched_repository_not_scanned(ecr):
    # given: under ENHANCED, repositories that no filter matches are not scanned, whatever their own setting
    ecr.create_repository(repositoryName="legacy", imageScanningConfiguration={"scanOnPush": True})
    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED", rules=[scan_on_push_rule("prod", frequency="CONTINUOUS_SCAN")]
    )

    # when
    configuration = scanning_of(ecr, "legacy")

    # then
    assert configuration["scanOnPush"] is False
    assert configuration["scanFrequency"] == "MANUAL"
    assert configuration["appliedScanFilters"] == []


def test_repository_scanning_missing_repository(ecr):
    # given
    ecr.create_repository(repositoryName="app")

    # when
    answer = ecr.batch_get_repository_scanning_configuration(repositoryNames=["app", "missing"])

    # then
    assert [configuration["repositoryName"] for configuration in answer["scanningConfigurations"]] == ["app"]
    assert len(answer["failures"]) == 1
    failure = answer["failures"][0]
    assert failure["repositoryName"] == "missing"
    assert failure["failureCode"] == "REPOSITORY_NOT_FOUND"
    assert "missing" in failure["failureReason"]


def test_repository_scanning_too_many_names(ecr):
    names = [f"repo{index}" for index in range(26)]

    with pytest.raises(ClientError) as raised:
        ecr.batch_get_repository_scanning_configuration(repositoryNames=names)

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'repositoryNames' failed to satisfy constraint: "
        "'Member must have length less than or equal to 25'",
    )


def test_repository_scanning_no_names(ecr_mode):
    client = unvalidated_client(ecr_mode)

    with pytest.raises(ClientError) as raised:
        client.batch_get_repository_scanning_configuration(repositoryNames=[])

    assert error_of(raised) == (
        "InvalidParameterException",
        "Invalid parameter at 'repositoryNames' failed to satisfy constraint: "
        "'Member must have length greater than or equal to 1'",
    )


def test_repository_scanning_invalid_name(ecr):
    with pytest.raises(ClientError) as raised:
        ecr.batch_get_repository_scanning_configuration(repositoryNames=["Bad_Name"])

    code, message = error_of(raised)
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid parameter at 'repositoryNames.1.member' failed to satisfy constraint: ")


def test_scanning_configuration_per_region(ecr, ecr_mode):
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[scan_on_push_rule("*", frequency="CONTINUOUS_SCAN")])

    other_region = ecr_mode.client(region="eu-west-1").get_registry_scanning_configuration()

    assert other_region["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}
