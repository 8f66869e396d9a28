"""Repository and registry policies: the IAM policy grammar, ECR's checks, storage and evaluation.

This module owns four things:

* The grammar. `policy_schema.json` beside this file describes the IAM JSON policy grammar as
  one JSON Schema (draft 2020-12). The schema is narrowed to what an ECR resource policy may
  contain: a Principal or NotPrincipal in every statement, principals of the forms `"*"`,
  `{"AWS": ...}` and `{"Service": ...}`, and the IAM condition operators.
  `validate_repository_policy` and `validate_registry_policy` check the text against it, then
  run the checks that need ECR's action names or the registry policy scope. Both raise
  InvalidParameterException with ECR's message, which never says what is wrong, so the reason
  is logged at debug level.
* The stored form. ECR does not store the text it was given: it parses it and stores it
  re-serialized in Jackson's default pretty-printed layout, which GetRepositoryPolicy and the
  other operations then return (AWS CLI examples for set-repository-policy and
  get-repository-policy show `{\\n  "Version" : "2008-10-17",\\n  "Statement" : [ {\\n ...`).
  `format_policy` produces that layout.
* Evaluation. `evaluate(policy, principal_arn, action, resource_arn)` returns what one policy
  decides for one request: "Deny" when a statement denies it (an explicit deny wins), "Allow"
  when a statement allows it, or None when no statement applies. Enforcing policies on requests
  is not done yet, so only the lockout guard of SetRepositoryPolicy calls it.
* State. A repository's policy lives on its `Repository.policy_text`, so it goes with the
  repository. The registry policy lives in this module's feature state of each registry.

Not emulated: ECR asks IAM whether every principal ARN exists and rejects a policy naming an
unknown one; any well-formed principal ARN is accepted here. Policy variables such as
`${aws:username}` are compared as literal text.
"""

import base64
import binascii
import dataclasses
import datetime
import functools
import ipaddress
import json
import logging
import math
import pathlib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ecr_emulator.api.errors import (
    InvalidParameterException,
    RegistryPolicyNotFoundException,
    RepositoryPolicyNotFoundException,
)
from ecr_emulator.backend import settings
from ecr_emulator.backend.images import Repository
from ecr_emulator.backend.registry import Registry
from ecr_emulator.backend.runtime import STATE_LOCK

LOG = logging.getLogger(__name__)

# RepositoryPolicyText and RegistryPolicyText in the ECR service model.
MAX_POLICY_LENGTH = 10240

INVALID_REPOSITORY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
)
INVALID_REGISTRY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'"
)
# NOTE: ECR's text for the lockout guard is not documented, so this one is ours in ECR's frame.
LOCKOUT_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The policy would prevent you from "
    "setting a repository policy in the future. Set force to apply it anyway'"
)

SCHEMA_PATH = pathlib.Path(__file__).with_name("policy_schema.json")

# The IAM actions of the ecr service prefix: the operations of the ECR API model (botocore 1.44.8)
# and the permission-only actions that pull through cache and replication use.
ECR_ACTIONS = frozenset(
    {
        "BatchCheckLayerAvailability", "BatchDeleteImage", "BatchGetImage",
        "BatchGetRepositoryScanningConfiguration", "CompleteLayerUpload", "CreatePullThroughCacheRule",
        "CreateRepository", "CreateRepositoryCreationTemplate", "DeleteLifecyclePolicy",
        "DeletePullThroughCacheRule", "DeleteRegistryPolicy", "DeleteRepository",
        "DeleteRepositoryCreationTemplate", "DeleteRepositoryPolicy", "DeleteSigningConfiguration",
        "DeregisterPullTimeUpdateExclusion", "DescribeImageReplicationStatus", "DescribeImageScanFindings",
        "DescribeImageSigningStatus", "DescribeImages", "DescribePullThroughCacheRules", "DescribeRegistry",
        "DescribeReplicationBackfillResults", "DescribeRepositories", "DescribeRepositoryCreationTemplates",
        "GetAccountSetting", "GetAuthorizationToken", "GetDownloadUrlForLayer", "GetLifecyclePolicy",
        "GetLifecyclePolicyPreview", "GetRegistryPolicy", "GetRegistryScanningConfiguration",
        "GetRepositoryPolicy", "GetSigningConfiguration", "InitiateLayerUpload", "ListImageReferrers",
        "ListImages", "ListPullTimeUpdateExclusions", "ListReplicationBackfills", "ListTagsForResource",
        "PutAccountSetting", "PutImage", "PutImageScanningConfiguration", "PutImageTagMutability",
        "PutLifecyclePolicy", "PutRegistryPolicy", "PutRegistryScanningConfiguration",
        "PutReplicationConfiguration", "PutSigningConfiguration", "RegisterPullTimeUpdateExclusion",
        "SetRepositoryPolicy", "StartImageScan", "StartLifecyclePolicyPreview", "StartReplicationBackfill",
        "StopReplicationBackfill", "TagResource", "UntagResource", "UpdateImageStorageClass",
        "UpdatePullThroughCacheRule", "UpdateRepositoryCreationTemplate", "UploadLayerPart",
        "ValidatePullThroughCacheRule",
        # permission-only
        "BatchImportUpstreamImage", "GetImageCopyStatus", "ReplicateImage",
    }
)

# The only actions that a registry policy may name while REGISTRY_POLICY_SCOPE is V1 (user guide,
# "Private registry permissions in Amazon ECR"). With V2 it may name every ECR action.
V1_REGISTRY_ACTIONS = frozenset({"ReplicateImage", "BatchImportUpstreamImage", "CreateRepository"})

ALLOW = "Allow"
DENY = "Deny"


class _InvalidPolicy(ValueError):
    """Rejection of a policy text. The message is the reason, which only the log shows."""


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def validate_repository_policy(text: str) -> dict:
    """Parse and check repository policy text, and return the policy document.

    Raises InvalidParameterException with ECR's message when the text is not a policy that ECR
    accepts for a repository.
    """
    try:
        return _validate(text, registry_scope=None)
    except _InvalidPolicy as reason:
        LOG.debug("repository policy rejected: %s", reason)
        raise InvalidParameterException(INVALID_REPOSITORY_POLICY) from None


def validate_registry_policy(text: str, scope: str) -> dict:
    """Parse and check registry policy text under REGISTRY_POLICY_SCOPE `scope` ("V1" or "V2").

    Raises InvalidParameterException with ECR's message when the text is not a policy that ECR
    accepts for a registry. With V1, the actions must be ones that ECR enforces at the registry
    level: ecr:ReplicateImage, ecr:BatchImportUpstreamImage and ecr:CreateRepository.
    """
    try:
        return _validate(text, registry_scope=scope)
    except _InvalidPolicy as reason:
        LOG.debug("registry policy rejected under scope %s: %s", scope, reason)
        raise InvalidParameterException(INVALID_REGISTRY_POLICY) from None


def _validate(text: str, registry_scope: str | None) -> dict:
    if len(text) > MAX_POLICY_LENGTH:
        raise _InvalidPolicy(f"the text has {len(text)} characters, more than {MAX_POLICY_LENGTH}")
    document = _load_json(text)

    error = best_match(_validator().iter_errors(document))
    if error is not None:
        location = "/".join(str(part) for part in error.absolute_path) or "(document)"
        raise _InvalidPolicy(f"{location}: {error.message}")

    for statement in statements(document):
        _check_actions(statement)
        if registry_scope == "V1":
            _check_v1_actions(statement)
    return document


def _load_json(text: str) -> dict:
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (TypeError, ValueError, RecursionError) as error:
        raise _InvalidPolicy(f"the text is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise _InvalidPolicy("the text is not a JSON object")
    return document


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON (RFC 8259), although Python's json module accepts them.
    raise ValueError(f"{name} is not valid JSON")


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _check_actions(statement: dict) -> None:
    for pattern in _as_list(statement.get("Action", statement.get("NotAction"))):
        if not _names_actions(pattern):
            raise _InvalidPolicy(f"{pattern!r} names no ECR action")


def _names_actions(pattern: str) -> bool:
    """Tell whether an Action entry is `*` or an `ecr:` name or wildcard that matches an ECR action."""
    if pattern == "*":
        return True
    service, _, name = pattern.partition(":")
    if service.lower() != "ecr":
        return False
    return bool(_matching_actions(name, ECR_ACTIONS))


def _check_v1_actions(statement: dict) -> None:
    if "NotAction" in statement:
        excluded = set()
        for pattern in _as_list(statement["NotAction"]):
            excluded |= _matching_actions(_action_name(pattern), ECR_ACTIONS)
        left = ECR_ACTIONS - excluded - V1_REGISTRY_ACTIONS
        if left:
            raise _InvalidPolicy(f"NotAction leaves actions that scope V1 does not allow, such as ecr:{min(left)}")
        return
    for pattern in _as_list(statement["Action"]):
        name = _action_name(pattern)
        # The user guide calls ecr:* in a registry policy possible but not best practice. So a
        # wildcard passes when it matches a V1 action, and an exact name must be a V1 action.
        if not _matching_actions(name, V1_REGISTRY_ACTIONS):
            raise _InvalidPolicy(f"{pattern!r} is not an action that registry policy scope V1 allows")


def _action_name(pattern: str) -> str:
    return "*" if pattern == "*" else pattern.partition(":")[2]


def _matching_actions(name_pattern: str, actions: Iterable[str]) -> set[str]:
    matcher = _glob(name_pattern, ignore_case=True)
    return {action for action in actions if matcher.fullmatch(action)}


# ---------------------------------------------------------------------------------------------
# The stored form
# ---------------------------------------------------------------------------------------------


def format_policy(document) -> str:
    """Serialize a policy document as ECR stores and returns it, in Jackson's default pretty print.

    Objects put each member on its own line, indented two spaces per level, with " : " between
    name and value. Arrays stay on one line as `[ a, b ]` and add no indentation level.
    """
    return _pretty(document, 0)


def _pretty(value, depth: int) -> str:
    if isinstance(value, dict):
        if not value:
            return "{ }"
        indent = "\n" + "  " * (depth + 1)
        members = [f"{indent}{_json_string(key)} : {_pretty(item, depth + 1)}" for key, item in value.items()]
        return "{" + ",".join(members) + "\n" + "  " * depth + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(_pretty(item, depth) for item in value) + " ]"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return _java_double(value)
    return str(value)


# Jackson writes these control characters with a short escape and every other one as \\u00XX.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _json_string(text: str) -> str:
    escaped = []
    for character in text:
        if character in _SHORT_ESCAPES:
            escaped.append(_SHORT_ESCAPES[character])
        elif ord(character) < 0x20:
            escaped.append(f"\\u{ord(character):04X}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def _java_double(number: float) -> str:
    """Format a float as Java's Double.toString does, which Jackson uses for JSON numbers."""
    if number == 0:
        return "-0.0" if math.copysign(1.0, number) < 0 else "0.0"
    sign = "-" if number < 0 else ""
    magnitude = abs(number)
    if 1e-3 <= magnitude < 1e7:
        plain = format(Decimal(repr(magnitude)), "f")
        if "." not in plain:
            plain += ".0"
        return sign + plain
    digits, exponent = _shortest_digits(magnitude)
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{exponent}"


def _shortest_digits(magnitude: float) -> tuple[str, int]:
    """Return the shortest decimal digits of a positive float and its scientific exponent."""
    _, digit_tuple, exponent = Decimal(repr(magnitude)).normalize().as_tuple()
    digits = "".join(str(digit) for digit in digit_tuple)
    return digits, len(digits) + exponent - 1


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def statements(policy: Mapping) -> list[dict]:
    """Return the statements of a policy document, whether Statement is one object or a list."""
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def evaluate(
    policy: Mapping,
    principal_arn: str,
    action: str,
    resource_arn: str,
    context: Mapping[str, object] | None = None,
) -> str | None:
    """Return "Deny", "Allow" or None: what `policy` decides for one request.

    `principal_arn` is the caller: an IAM or STS ARN, or a service principal such as
    `codebuild.amazonaws.com`. `action` is an IAM action such as `ecr:BatchGetImage`.
    `context` contains the request's condition keys (`aws:SourceIp`, ...), each a value or a list
    of values. An explicit deny in any statement wins over every allow. A statement without a
    Resource or NotResource applies to every resource, as a repository policy applies to its
    own repository.
    """
    keys = {str(name).lower(): value for name, value in (context or {}).items()}
    decision = None
    for statement in statements(policy):
        if not _statement_applies(statement, principal_arn, action, resource_arn, keys):
            continue
        if statement.get("Effect") == DENY:
            return DENY
        decision = ALLOW
    return decision


def locks_out(policy: Mapping, principal_arn: str, resource_arn: str) -> bool:
    """Tell whether `policy` would stop `principal_arn` from setting a repository policy again.

    Only statements without a Condition count, because conditions depend on the request.
    """
    unconditional = [statement for statement in statements(policy) if "Condition" not in statement]
    decision = evaluate({"Statement": unconditional}, principal_arn, "ecr:SetRepositoryPolicy", resource_arn)
    return decision == DENY


def _statement_applies(statement: dict, principal_arn: str, action: str, resource_arn: str, keys: dict) -> bool:
    if "Principal" in statement and not _principal_matches(statement["Principal"], principal_arn):
        return False
    if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], principal_arn):
        return False

    if "Action" in statement and not _any_glob(statement["Action"], action, ignore_case=True):
        return False
    if "NotAction" in statement and _any_glob(statement["NotAction"], action, ignore_case=True):
        return False

    if "Resource" in statement and not _any_glob(statement["Resource"], resource_arn, ignore_case=False):
        return False
    if "NotResource" in statement and _any_glob(statement["NotResource"], resource_arn, ignore_case=False):
        return False

    return _conditions_hold(statement.get("Condition", {}), keys)


def _any_glob(patterns, text: str, ignore_case: bool) -> bool:
    return any(_glob(pattern, ignore_case).fullmatch(text) for pattern in _as_list(patterns))


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    """Compile an IAM wildcard pattern: `*` matches any run of characters, `?` any one character."""
    expression = []
    for part in re.split(r"([*?])", pattern):
        if part == "*":
            expression.append(".*")
        elif part == "?":
            expression.append(".")
        else:
            expression.append(re.escape(part))
    flags = (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL
    return re.compile("".join(expression), flags)


# --- principals ---

_IAM_OR_STS_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _principal_matches(principal, principal_arn: str) -> bool:
    if principal == "*":
        return True
    for kind, values in principal.items():
        for value in _as_list(values):
            if kind == "AWS" and _aws_principal_matches(value, principal_arn):
                return True
            if kind == "Service" and value == principal_arn:
                return True
    return False


def _aws_principal_matches(value: str, principal_arn: str) -> bool:
    if value == "*":
        return True
    caller = _IAM_OR_STS_ARN.match(principal_arn)
    if caller is None:
        return False

    # An account id or an account's root ARN names every principal of that account.
    if _ACCOUNT_ID.match(value):
        return value == caller["account"]
    named = _IAM_OR_STS_ARN.match(value)
    if named is None:
        return False
    if named["service"] == "iam" and named["resource"] == "root":
        return named["account"] == caller["account"]
    if value == principal_arn:
        return True

    # A role ARN also names the sessions of that role: arn:aws:sts::<account>:assumed-role/<role>/<session>.
    if named["service"] == "iam" and named["resource"].startswith("role/") and caller["service"] == "sts":
        role_name = named["resource"].rsplit("/", 1)[-1]
        session = caller["resource"].split("/")
        return (
            named["account"] == caller["account"]
            and len(session) == 3
            and session[0] == "assumed-role"
            and session[1] == role_name
        )
    return False


# --- conditions ---


def _conditions_hold(condition: dict, keys: dict) -> bool:
    """Tell whether every operator and key of a Condition block holds for the request's keys.

    Operators are ANDed, keys within an operator are ANDed, and the values listed for one key
    are ORed, as the IAM User Guide describes for condition evaluation.
    """
    for operator, entries in condition.items():
        for key, expected in entries.items():
            if not _condition_holds(operator, _as_list(expected), keys.get(key.lower())):
                return False
    return True


def _condition_holds(operator: str, expected: list, actual) -> bool:
    if operator == "Null":
        wants_absent = any(_text(value).lower() == "true" for value in expected)
        return (actual is None) == wants_absent

    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    negated, compare = _OPERATORS[base]

    values = None if actual is None else _as_list(actual)
    if not values:
        # A missing key fails a positive operator and satisfies a negated one. IfExists and
        # ForAllValues are true without the key, and ForAnyValue is false.
        if if_exists or qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated

    def holds_for(value) -> bool:
        matched = any(compare(value, policy_value) for policy_value in expected)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(holds_for(value) for value in values)
    if qualifier == "ForAnyValue":
        return any(holds_for(value) for value in values)
    matched = any(compare(value, policy_value) for value in values for policy_value in expected)
    return not matched if negated else matched


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _string_equals(value, expected) -> bool:
    return _text(value) == _text(expected)


def _string_equals_ignore_case(value, expected) -> bool:
    return _text(value).casefold() == _text(expected).casefold()


def _string_like(value, expected) -> bool:
    return bool(_glob(_text(expected), False).fullmatch(_text(value)))


def _number(value) -> float | None:
    try:
        return float(_text(value))
    except ValueError:
        return None


def _compare_numbers(test):
    def compare(value, expected) -> bool:
        left, right = _number(value), _number(expected)
        return left is not None and right is not None and test(left, right)

    return compare


def _date(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    else:
        text = _text(value)
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.datetime.fromtimestamp(float(text), datetime.timezone.utc)
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _compare_dates(test):
    def compare(value, expected) -> bool:
        left, right = _date(value), _date(expected)
        return left is not None and right is not None and test(left, right)

    return compare


def _bool_equals(value, expected) -> bool:
    return _text(value).lower() == _text(expected).lower()


def _binary_equals(value, expected) -> bool:
    try:
        expected = base64.b64decode(_text(expected), validate=True)
    except (binascii.Error, ValueError):
        return False
    if isinstance(value, bytes):
        return value == expected
    try:
        return base64.b64decode(_text(value), validate=True) == expected
    except (binascii.Error, ValueError):
        return False


def _ip_in_range(value, expected) -> bool:
    try:
        return ipaddress.ip_address(_text(value)) in ipaddress.ip_network(_text(expected), strict=False)
    except ValueError:
        return False


# base operator -> (negated, comparison of one request value with one policy value)
_OPERATORS = {
    "StringEquals": (False, _string_equals),
    "StringNotEquals": (True, _string_equals),
    "StringEqualsIgnoreCase": (False, _string_equals_ignore_case),
    "StringNotEqualsIgnoreCase": (True, _string_equals_ignore_case),
    "StringLike": (False, _string_like),
    "StringNotLike": (True, _string_like),
    "NumericEquals": (False, _compare_numbers(lambda left, right: left == right)),
    "NumericNotEquals": (True, _compare_numbers(lambda left, right: left == right)),
    "NumericLessThan": (False, _compare_numbers(lambda left, right: left < right)),
    "NumericLessThanEquals": (False, _compare_numbers(lambda left, right: left <= right)),
    "NumericGreaterThan": (False, _compare_numbers(lambda left, right: left > right)),
    "NumericGreaterThanEquals": (False, _compare_numbers(lambda left, right: left >= right)),
    "DateEquals": (False, _compare_dates(lambda left, right: left == right)),
    "DateNotEquals": (True, _compare_dates(lambda left, right: left == right)),
    "DateLessThan": (False, _compare_dates(lambda left, right: left < right)),
    "DateLessThanEquals": (False, _compare_dates(lambda left, right: left <= right)),
    "DateGreaterThan": (False, _compare_dates(lambda left, right: left > right)),
    "DateGreaterThanEquals": (False, _compare_dates(lambda left, right: left >= right)),
    "Bool": (False, _bool_equals),
    "BinaryEquals": (False, _binary_equals),
    "IpAddress": (False, _ip_in_range),
    "NotIpAddress": (True, _ip_in_range),
    # The IAM User Guide gives ArnEquals and ArnLike the same behaviour, wildcards included.
    "ArnEquals": (False, _string_like),
    "ArnLike": (False, _string_like),
    "ArnNotEquals": (True, _string_like),
    "ArnNotLike": (True, _string_like),
}


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RegistryPolicyState:
    text: str | None = None


def _registry_state(registry: Registry) -> RegistryPolicyState:
    return registry.feature_state("registry_policy", RegistryPolicyState)


def caller_principal(partition: str, account_id: str) -> str:
    """Return the principal that represents a caller of `account_id`, which is the account's root ARN."""
    return f"arn:{partition}:iam::{account_id}:root"


def set_repository_policy(registry: Registry, repository_name: str, text: str, caller_arn: str, force: bool) -> Repository:
    """Store a repository policy in ECR's stored form and return the repository.

    Without `force`, a policy that explicitly denies `caller_arn` the ecr:SetRepositoryPolicy
    action on the repository is rejected, as ECR guards against lockouts.
    """
    document = validate_repository_policy(text)
    with STATE_LOCK:
        repository = registry.get_repository(repository_name)
        if not force and locks_out(document, caller_arn, repository.arn):
            raise InvalidParameterException(LOCKOUT_POLICY)
        repository.policy_text = format_policy(document)
    LOG.info("repository policy set on %s/%s/%s", registry.account_id, registry.region_name, repository_name)
    return repository


def get_repository_policy(registry: Registry, repository_name: str) -> str:
    repository = registry.get_repository(repository_name)
    if repository.policy_text is None:
        raise _repository_policy_not_found(registry, repository_name)
    return repository.policy_text


def delete_repository_policy(registry: Registry, repository_name: str) -> str:
    """Remove a repository's policy and return the text it had."""
    with STATE_LOCK:
        repository = registry.get_repository(repository_name)
        text = repository.policy_text
        if text is None:
            raise _repository_policy_not_found(registry, repository_name)
        repository.policy_text = None
    LOG.info("repository policy deleted from %s/%s/%s", registry.account_id, registry.region_name, repository_name)
    return text


def _repository_policy_not_found(registry: Registry, repository_name: str) -> RepositoryPolicyNotFoundException:
    return RepositoryPolicyNotFoundException(
        f"Repository policy does not exist for the repository with name '{repository_name}' "
        f"in the registry with id '{registry.account_id}'"
    )


def put_registry_policy(registry: Registry, text: str) -> str:
    """Check the registry policy under the registry's REGISTRY_POLICY_SCOPE, store it and return the stored text."""
    scope = settings.get_account_setting(registry, "REGISTRY_POLICY_SCOPE")
    stored = format_policy(validate_registry_policy(text, scope))
    with STATE_LOCK:
        _registry_state(registry).text = stored
    LOG.info("registry policy set on %s/%s", registry.account_id, registry.region_name)
    return stored


def get_registry_policy(registry: Registry) -> str:
    text = _registry_state(registry).text
    if text is None:
        raise _registry_policy_not_found(registry)
    return text


def delete_registry_policy(registry: Registry) -> str:
    """Remove the registry policy and return the text it had."""
    with STATE_LOCK:
        state = _registry_state(registry)
        text = state.text
        if text is None:
            raise _registry_policy_not_found(registry)
        state.text = None
    LOG.info("registry policy deleted from %s/%s", registry.account_id, registry.region_name)
    return text


def _registry_policy_not_found(registry: Registry) -> RegistryPolicyNotFoundException:
    return RegistryPolicyNotFoundException(f"Registry policy does not exist in the registry with id '{registry.account_id}'")


def registry_policy_text(registry: Registry) -> str | None:
    """Return the registry policy's stored text, or None when the registry has none."""
    return _registry_state(registry).text
