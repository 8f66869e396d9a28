"""Lifecycle policies: the policy grammar, ECR's validation messages, and rule evaluation.

This module owns three things:

* The grammar. `lifecycle_schema.json` beside this file describes the structure of the policy
  text as a JSON Schema (draft 7). `parse_policy` validates the text against it, then runs the
  checks that compare fields within a rule or across rules, and returns a `LifecyclePolicy`.
* The validation messages. ECR validates the text with a JSON Schema validator and puts that
  validator's phrasing in the detail of an InvalidParameterException. `_SCHEMA_MESSAGES` maps
  each schema keyword to that phrasing, and `format_error` builds the whole message.
* Evaluation. `evaluate(images, policy, now)` is a pure function that returns what the policy
  does to a repository's images at `now`. Lifecycle runs and lifecycle policy previews share it.

The behaviour follows the Amazon ECR User Guide pages "Automate the cleanup of images by using
lifecycle policies in Amazon ECR", "Lifecycle policy properties in Amazon ECR" and "Examples of
lifecycle policies in Amazon ECR", in their versions that cover the archive storage class.

Not emulated: ECR also cleans up referrers whose subject image was deleted outside a lifecycle
policy (for example with BatchDeleteImage). `evaluate` acts on a referrer only together with a
subject that the policy itself expires or archives.
"""

import dataclasses
import datetime
import json
import logging
import pathlib
import re
from collections.abc import Callable, Sequence

from jsonschema import Draft7Validator, ValidationError, validators

LOG = logging.getLogger(__name__)

# Length limits of lifecyclePolicyText in the ECR service model (PutLifecyclePolicy and
# StartLifecyclePolicyPreview). The API layer checks them before calling parse_policy.
MIN_POLICY_LENGTH = 100
MAX_POLICY_LENGTH = 30720

# The user guide allows at most four `*` in each tagPatternList entry.
MAX_WILDCARDS = 4

# "Archived images have a minimum storage duration of 90 days. You cannot configure lifecycle
# policies that delete images that have been in archive for less than 90 days." (user guide,
# "Archiving an image").
MIN_ARCHIVE_DAYS = 90

SCHEMA_PATH = pathlib.Path(__file__).with_name("lifecycle_schema.json")

COULD_NOT_MAP = "Could not map policyString into LifecyclePolicy."

_ERROR_FRAME = (
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
    "'Lifecycle policy validation failure: {detail}'"
)

# Image status (DescribeImages imageStatus) selected by each storageClass of a rule. Images in
# any other status, such as ACTIVATING during a restore, match no rule.
_STATUS_OF_STORAGE_CLASS = {"standard": "ACTIVE", "archive": "ARCHIVED"}


class LifecyclePolicyError(ValueError):
    """The text is not a valid lifecycle policy. `detail` is the reason in ECR's words."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class LifecycleRule:
    """One rule of a parsed policy, with ECR's default storageClass filled in.

    String values keep the policy's own spelling: tag_status is "tagged", "untagged" or "any",
    storage_class is "standard" or "archive", action is "expire" or "transition".
    """

    rule_priority: int
    description: str | None
    tag_status: str
    tag_prefixes: tuple[str, ...]
    tag_patterns: tuple[str, ...]
    storage_class: str
    count_type: str
    count_unit: str | None
    count_number: int
    action: str
    target_storage_class: str | None


@dataclasses.dataclass(frozen=True)
class LifecyclePolicy:
    """A validated policy. `rules` are ordered by rule_priority, lowest number first."""

    rules: tuple[LifecycleRule, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class LifecycleImage:
    """The facts about one image of the repository that evaluation reads.

    Times must all be timezone-aware or all naive, like the `now` passed to `evaluate`.
    `status` is "ACTIVE" or "ARCHIVED" (DescribeImages imageStatus). `parent_digests` holds the
    digests of the image indexes and manifest lists that reference this image, and
    `subject_digest` the subject of an OCI referrer such as a signature or an SBOM.
    """

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime.datetime
    last_pulled_at: datetime.datetime | None = None
    last_archived_at: datetime.datetime | None = None
    last_activated_at: datetime.datetime | None = None
    status: str = "ACTIVE"
    parent_digests: frozenset[str] = frozenset()
    subject_digest: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LifecycleAction:
    """One image that a rule expires or transitions, shaped like a preview result.

    `action` is "EXPIRE" or "TRANSITION". `target_storage_class` is "ARCHIVE" for a transition
    and None for an expiry. `storage_class` is the image's storage class before the action,
    "STANDARD" or "ARCHIVE".
    """

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime.datetime
    rule_priority: int
    action: str
    target_storage_class: str | None
    storage_class: str


def format_error(detail: str) -> str:
    """Build the InvalidParameterException message that ECR returns for an invalid policy."""
    return _ERROR_FRAME.format(detail=detail)


# ---------------------------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------------------------


def parse_policy(text: str) -> LifecyclePolicy:
    """Parse and validate lifecycle policy text.

    Raises LifecyclePolicyError with ECR's detail string for the first problem found: JSON
    syntax first, then the schema, then each rule in document order, then checks across rules.
    """
    document = _load_json(text)

    errors = list(_VALIDATOR.iter_errors(document))
    if errors:
        raise LifecyclePolicyError(_describe_schema_error(_most_relevant(errors)))

    rules = [_build_rule(raw) for raw in document["rules"]]
    for rule in rules:
        _check_rule(rule)
    _check_rules_together(rules)

    return LifecyclePolicy(rules=tuple(sorted(rules, key=lambda rule: rule.rule_priority)))


def _load_json(text: str) -> dict:
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (TypeError, ValueError, RecursionError):
        raise LifecyclePolicyError(COULD_NOT_MAP) from None

    if not isinstance(document, dict):
        raise LifecyclePolicyError(COULD_NOT_MAP)
    return document


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON (RFC 8259), although Python's json module accepts them.
    raise ValueError(f"{name} is not valid JSON")


def _is_json_integer(checker, instance) -> bool:
    # JSON Schema draft 7 counts 1.0 as an integer, but draft 4 validators, whose phrasing
    # ECR's messages use, call it a number. So a rulePriority of 1.0 is rejected here.
    # NOTE: whether ECR itself rejects 1.0 is unverified.
    return isinstance(instance, int) and not isinstance(instance, bool)


def _build_validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    type_checker = Draft7Validator.TYPE_CHECKER.redefine("integer", _is_json_integer)
    validator_class = validators.extend(Draft7Validator, type_checker=type_checker)
    return validator_class(schema)


_VALIDATOR = _build_validator()


# --- schema errors in ECR's words ---


def _json_list(values) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def _json_type(instance) -> str:
    if instance is None:
        return "null"
    if isinstance(instance, bool):
        return "boolean"
    if isinstance(instance, int):
        return "integer"
    if isinstance(instance, float):
        return "number"
    if isinstance(instance, str):
        return "string"
    if isinstance(instance, list):
        return "array"
    return "object"


def _type_message(error) -> str:
    allowed = error.validator_value
    allowed = [allowed] if isinstance(allowed, str) else allowed
    return (
        f"instance type ({_json_type(error.instance)}) does not match any allowed "
        f"primitive type (allowed: {_json_list(allowed)})"
    )


def _required_message(error) -> str:
    # jsonschema reports each missing property separately, so one message names them all.
    missing = sorted(name for name in error.validator_value if name not in error.instance)
    return f"object has missing required properties ({_json_list(missing)})"


def _additional_properties_message(error) -> str:
    declared = error.schema.get("properties", {})
    extra = sorted(name for name in error.instance if name not in declared)
    return (
        "object instance has properties which are not allowed by the schema: "
        f"({_json_list(extra)})"
    )


def _enum_message(error) -> str:
    value = error.instance if isinstance(error.instance, str) else json.dumps(error.instance)
    return (
        f"instance value ({value}) not found in enum "
        f":(possible values: {_json_list(error.validator_value)})"
    )


def _minimum_message(error) -> str:
    return (
        "numeric instance is lower than the required minimum "
        f"(minimum: {error.validator_value}, found: {error.instance})"
    )


def _maximum_message(error) -> str:
    return (
        "numeric instance is greater than the required maximum "
        f"(maximum: {error.validator_value}, found: {error.instance})"
    )


def _min_items_message(error) -> str:
    return (
        f"array is too short: must have at least {error.validator_value} elements "
        f"but instance has {len(error.instance)} elements"
    )


def _max_items_message(error) -> str:
    return (
        f"array is too long: must have at most {error.validator_value} elements "
        f"but instance has {len(error.instance)} elements"
    )


def _one_of_message(error) -> str:
    # Each sub-error names the branch it came from, so branches without one matched. When more
    # than one branch matches, jsonschema reports no sub-errors. The branches of this schema
    # exclude each other, so that case does not arise.
    branches = len(error.validator_value)
    failed = {sub_error.relative_schema_path[0] for sub_error in error.context}
    return (
        "instance failed to match exactly one schema "
        f"(matched {branches - len(failed)} out of {branches})"
    )


# One phrasing per schema keyword, in the order of relevance used to pick one error when
# several are found at the same place. A wrong type makes the other keywords moot, and oneOf
# is the catch-all that only reports that no branch fitted.
_SCHEMA_MESSAGES: dict[str, Callable] = {
    "type": _type_message,
    "required": _required_message,
    "additionalProperties": _additional_properties_message,
    "enum": _enum_message,
    "minimum": _minimum_message,
    "maximum": _maximum_message,
    "minItems": _min_items_message,
    "maxItems": _max_items_message,
    "oneOf": _one_of_message,
}
_KEYWORD_RANK = {keyword: rank for rank, keyword in enumerate(_SCHEMA_MESSAGES)}


def _describe_schema_error(error: ValidationError) -> str:
    format_message = _SCHEMA_MESSAGES.get(error.validator)
    if format_message is None:
        return error.message
    return format_message(error)


def _most_relevant(errors: list[ValidationError]) -> ValidationError:
    """Pick the error to report: the first in document order, the most specific at one place.

    Paths compare element by element, so a rule's own errors come before those of its
    selection, and rule 0 comes before rule 1. A oneOf error sorts after every error inside
    the object it covers, so "action.type is not in the enum" beats "action fits no branch".
    """
    return min(errors, key=_error_sort_key)


def _error_sort_key(error: ValidationError) -> tuple:
    path = tuple((0, part) if isinstance(part, int) else (1, part) for part in error.absolute_path)
    if error.validator == "oneOf":
        path += ((2, ""),)
    rank = _KEYWORD_RANK.get(error.validator, len(_KEYWORD_RANK))
    return path, rank, error.message


# --- checks beyond the schema ---


def _build_rule(raw: dict) -> LifecycleRule:
    selection = raw["selection"]
    action = raw["action"]
    return LifecycleRule(
        rule_priority=raw["rulePriority"],
        description=raw.get("description"),
        tag_status=selection["tagStatus"],
        tag_prefixes=tuple(selection.get("tagPrefixList", ())),
        tag_patterns=tuple(selection.get("tagPatternList", ())),
        storage_class=selection.get("storageClass", "standard"),
        count_type=selection["countType"],
        count_unit=selection.get("countUnit"),
        count_number=selection["countNumber"],
        action=action["type"],
        target_storage_class=action.get("targetStorageClass"),
    )


# NOTE: ECR's wording is confirmed for "Must specify tagPrefixList or tagPatternList when
# tagStatus=TAGGED.", "Only one rule can select Untagged images per storage class." and "Rule
# for tagStatus=ANY must have the lowest priority per storage class". The other details raised
# below are our own wording for constraints that the user guide states.


def _check_rule(rule: LifecycleRule) -> None:
    _check_tag_lists(rule)
    _check_wildcards(rule)
    _check_storage_class(rule)
    _check_action(rule)
    _check_archive_minimum(rule)


def _check_tag_lists(rule: LifecycleRule) -> None:
    has_prefixes = bool(rule.tag_prefixes)
    has_patterns = bool(rule.tag_patterns)

    if rule.tag_status != "tagged":
        if has_prefixes or has_patterns:
            raise LifecyclePolicyError(
                "tagPrefixList and tagPatternList are allowed only when tagStatus=TAGGED, "
                f"but rule {rule.rule_priority} has tagStatus={rule.tag_status.upper()}."
            )
        return

    if not has_prefixes and not has_patterns:
        raise LifecyclePolicyError(
            "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."
        )
    if has_prefixes and has_patterns:
        raise LifecyclePolicyError(
            f"Rule {rule.rule_priority} specifies both tagPrefixList and tagPatternList, "
            "but a rule may use only one of them."
        )


def _check_wildcards(rule: LifecycleRule) -> None:
    for pattern in rule.tag_patterns:
        if pattern.count("*") > MAX_WILDCARDS:
            raise LifecyclePolicyError(
                f"tagPatternList entry {json.dumps(pattern)} has {pattern.count('*')} wildcards, "
                f"but each entry may contain at most {MAX_WILDCARDS}."
            )


def _check_storage_class(rule: LifecycleRule) -> None:
    # The user guide: sinceImageTransitioned requires storageClass archive, and the other
    # count types support only standard, which is also the default.
    if rule.count_type == "sinceImageTransitioned":
        required = "archive"
    else:
        required = "standard"

    if rule.storage_class != required:
        raise LifecyclePolicyError(
            f"countType={rule.count_type} requires storageClass={required.upper()}, "
            f"but rule {rule.rule_priority} has storageClass={rule.storage_class.upper()}."
        )


_REQUIRED_ACTION = {"sinceImagePulled": "transition", "sinceImageTransitioned": "expire"}


def _check_action(rule: LifecycleRule) -> None:
    # The user guide: sinceImagePulled must be used with transition and sinceImageTransitioned
    # with expire. imageCountMoreThan and sinceImagePushed accept either action.
    required = _REQUIRED_ACTION.get(rule.count_type)
    if required is None or rule.action == required:
        return

    raise LifecyclePolicyError(
        f"countType={rule.count_type} requires action type={required.upper()}, "
        f"but rule {rule.rule_priority} has type={rule.action.upper()}."
    )


def _check_archive_minimum(rule: LifecycleRule) -> None:
    if rule.count_type != "sinceImageTransitioned" or rule.count_number >= MIN_ARCHIVE_DAYS:
        return

    raise LifecyclePolicyError(
        f"Rule {rule.rule_priority} expires archived images after {rule.count_number} days, "
        f"but archived images must stay in archive for at least {MIN_ARCHIVE_DAYS} days."
    )


def _check_rules_together(rules: list[LifecycleRule]) -> None:
    _check_unique_priorities(rules)

    for storage_class in ("standard", "archive"):
        selecting = [rule for rule in rules if rule.storage_class == storage_class]
        _check_one_untagged_rule(selecting)
        _check_any_rule_last(selecting)
        _check_unique_prefix_lists(selecting)


def _check_unique_priorities(rules: list[LifecycleRule]) -> None:
    seen: set[int] = set()
    for rule in rules:
        if rule.rule_priority in seen:
            raise LifecyclePolicyError(
                f"rulePriority {rule.rule_priority} is used by more than one rule. "
                "Give each rule a unique rulePriority."
            )
        seen.add(rule.rule_priority)


def _check_one_untagged_rule(rules: list[LifecycleRule]) -> None:
    if sum(rule.tag_status == "untagged" for rule in rules) > 1:
        raise LifecyclePolicyError("Only one rule can select Untagged images per storage class.")


def _check_any_rule_last(rules: list[LifecycleRule]) -> None:
    # Per storage class, because the user guide's "combining archive and expire rules" example
    # has an `any` rule for standard (priority 1) and another for archive (priority 2).
    if not rules:
        return

    last = max(rules, key=lambda rule: rule.rule_priority)
    if any(rule.tag_status == "any" and rule is not last for rule in rules):
        raise LifecyclePolicyError(
            "Rule for tagStatus=ANY must have the lowest priority per storage class"
        )


def _check_unique_prefix_lists(rules: list[LifecycleRule]) -> None:
    # The user guide: "The set of all rules selecting a specific storage class must contain a
    # unique set of prefixes." We read that as no two rules with the same tagPrefixList.
    # NOTE: whether ECR also rejects prefixes shared between different lists, or repeated
    # tagPatternList values, is unverified; both are accepted here.
    seen: set[frozenset[str]] = set()
    for rule in rules:
        if not rule.tag_prefixes:
            continue

        prefixes = frozenset(rule.tag_prefixes)
        if prefixes in seen:
            raise LifecyclePolicyError(
                f"tagPrefixList {_json_list(sorted(prefixes))} is used by more than one rule "
                f"for storageClass={rule.storage_class.upper()}. "
                "Give each rule its own set of prefixes."
            )
        seen.add(prefixes)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def evaluate(
    images: Sequence[LifecycleImage],
    policy: LifecyclePolicy,
    now: datetime.datetime,
) -> list[LifecycleAction]:
    """Return the actions that `policy` takes on `images` at `now`.

    Every rule is evaluated against the whole repository, then the rules are applied by
    priority:

    * A rule's selection is its storage class, tag status and tag list. Each tagPrefixList or
      tagPatternList entry must match at least one of the image's tags.
    * imageCountMoreThan counts every image the selection matches, newest first, and acts on
      the rest. sinceImagePushed, sinceImagePulled and sinceImageTransitioned act on matched
      images older than countNumber days.
    * An image matched by a rule is claimed by it: rules with a higher priority number still
      count it but never act on it, even when the claiming rule keeps it.
    * An image referenced by an index or manifest list stays while that parent stays.
    * An OCI referrer is expired or archived together with its subject.

    The result is ordered by rule priority, then oldest first.
    """
    repository = _Repository(images)

    planned = _apply_rules(repository, policy.rules, now)
    _keep_index_children(repository, planned)
    _follow_subjects(repository, planned)

    actions = _to_actions(repository, planned)
    LOG.debug("lifecycle evaluation: %d images, %d actions", len(images), len(actions))
    return actions


def _effective_push_time(image: LifecycleImage) -> datetime.datetime:
    # "If an image was archived and then restored at any point in the past, the image's
    # last_activated_at is used instead of pushed_at_time", and restored images "behave like
    # newly pushed images" (user guide). So the restore time replaces the push time both in
    # the count order and in sinceImagePushed.
    return image.last_activated_at or image.pushed_at


def _pull_reference_time(image: LifecycleImage) -> datetime.datetime:
    # sinceImagePulled measures from the last recorded pull. An image never pulled uses its
    # push time, and a restored image not pulled since the restore uses the restore time.
    pulled = image.last_pulled_at
    activated = image.last_activated_at
    if activated is not None and (pulled is None or pulled < activated):
        return activated
    return pulled or image.pushed_at


# Positions of the images to act on (see _Repository), each with the rule that acts on it.
_Plan = dict[int, LifecycleRule]


class _Repository:
    """The images of one evaluation, sorted once and indexed for the rules.

    Images are referred to by their position in `images`, which is oldest first by effective
    push time, then by digest. Every list of positions built here keeps that order.
    """

    def __init__(self, images: Sequence[LifecycleImage]):
        # Two stable sorts compare single values, which is cheaper than one sort on tuples.
        ordered = sorted(images, key=_digest_of)
        ordered.sort(key=_effective_push_time)
        self.images = ordered
        self.push_times = [_effective_push_time(image) for image in ordered]

        self.positions = dict(zip(map(_digest_of, ordered), range(len(ordered))))

        self.pools: dict[tuple[str, str], list[int]] = {
            (storage_class, tag_status): []
            for storage_class in _STATUS_OF_STORAGE_CLASS
            for tag_status in ("any", "tagged", "untagged")
        }
        self.index_children: list[int] = []
        self.referrers: dict[str, list[int]] = {}
        self._index_images()
        self._wrapped_tags: list[str] | None = None

    def _index_images(self) -> None:
        # The appends are bound to locals because the loop runs once per image.
        appends_of_status = {}
        for storage_class, status in _STATUS_OF_STORAGE_CLASS.items():
            appends_of_status[status] = (
                self.pools[(storage_class, "any")].append,
                self.pools[(storage_class, "tagged")].append,
                self.pools[(storage_class, "untagged")].append,
            )
        add_child = self.index_children.append
        referrers = self.referrers

        for position, image in enumerate(self.images):
            if image.parent_digests:
                add_child(position)
            if image.subject_digest is not None:
                referrers.setdefault(image.subject_digest, []).append(position)

            appends = appends_of_status.get(image.status)
            if appends is not None:
                add_any, add_tagged, add_untagged = appends
                add_any(position)
                (add_tagged if image.tags else add_untagged)(position)

    def wrapped_tags(self) -> list[str]:
        """Return each image's tags joined by newlines, with a newline before and after.

        Tags cannot contain a newline, so "\\nprod" in the string means "a tag starts with
        prod", and one substring search tests all of an image's tags at once.
        """
        if self._wrapped_tags is None:
            self._wrapped_tags = ["\n" + "\n".join(image.tags) + "\n" for image in self.images]
        return self._wrapped_tags


def _digest_of(image: LifecycleImage) -> str:
    return image.digest


def _apply_rules(
    repository: _Repository,
    rules: Sequence[LifecycleRule],
    now: datetime.datetime,
) -> _Plan:
    """Map the position of each image to act on to the rule that acts on it."""
    planned: _Plan = {}
    claimed: set[int] = set()

    for rule in rules:
        matched = _select(repository, rule)
        for position in _due(repository, rule, matched, now):
            if position not in claimed:
                planned[position] = rule
        claimed.update(matched)

    return planned


def _select(repository: _Repository, rule: LifecycleRule) -> list[int]:
    pool = repository.pools[(rule.storage_class, rule.tag_status)]
    if rule.tag_status != "tagged":
        return pool

    matches = _compile_tag_matcher(rule)
    wrapped_tags = repository.wrapped_tags()
    return [position for position in pool if matches(wrapped_tags[position])]


def _due(
    repository: _Repository,
    rule: LifecycleRule,
    matched: list[int],
    now: datetime.datetime,
) -> list[int]:
    if rule.count_type == "imageCountMoreThan":
        # `matched` is oldest first, so everything before the newest count_number images.
        return matched[: max(len(matched) - rule.count_number, 0)]

    cutoff = _cutoff(now, rule.count_number)
    if cutoff is None:
        return []

    if rule.count_type == "sinceImagePushed":
        push_times = repository.push_times
        return [position for position in matched if push_times[position] < cutoff]

    images = repository.images
    if rule.count_type == "sinceImagePulled":
        return [position for position in matched if _pull_reference_time(images[position]) < cutoff]

    # sinceImageTransitioned: an archived image without an archive time is never due.
    return [
        position
        for position in matched
        if (archived_at := images[position].last_archived_at) is not None and archived_at < cutoff
    ]


def _cutoff(now: datetime.datetime, days: int) -> datetime.datetime | None:
    """Return the time before which an image is older than `days` days, or None if none can be.

    "Older than N days" means now - time > N * 24 hours, strictly: an image pushed exactly N days
    ago is kept. The user guide's "Filtering on all images", example B, shows the boundary:
    image E, pushed 1 day ago, is not expired by the rule "untagged, sinceImagePushed 1 day",
    while image B, pushed 3 days ago, is.
    """
    try:
        return now - datetime.timedelta(days=days)
    except OverflowError:
        return None


def _compile_tag_matcher(rule: LifecycleRule) -> Callable[[str], bool]:
    """Build a test on wrapped tags (see `_Repository.wrapped_tags`) for the rule's tag list.

    The image matches when every list entry matches at least one of its tags.
    """
    tests = [_prefix_test(prefix) for prefix in rule.tag_prefixes]
    tests += [_pattern_test(pattern) for pattern in rule.tag_patterns]
    if len(tests) == 1:
        return tests[0]
    return lambda wrapped: all(test(wrapped) for test in tests)


def _prefix_test(prefix: str) -> Callable[[str], bool]:
    if "\n" in prefix:
        return lambda wrapped: False
    needle = "\n" + prefix
    return lambda wrapped: needle in wrapped


def _pattern_test(pattern: str) -> Callable[[str], bool]:
    """Test for one tagPatternList entry, where `*` matches zero or more characters.

    The common shapes (`v1`, `prod*`, `*-rc`, `*hash*`) become substring searches; the rest
    become one regular expression anchored on the newlines around each tag.
    """
    if "\n" in pattern:
        return lambda wrapped: False

    parts = pattern.split("*")
    if len(parts) == 1:
        needle = "\n" + pattern + "\n"
    elif parts == ["", ""]:
        # A lone `*` matches any tag, and only images with at least one tag are tested.
        return lambda wrapped: True
    elif len(parts) == 2 and not parts[1]:
        needle = "\n" + parts[0]
    elif len(parts) == 2 and not parts[0]:
        needle = parts[1] + "\n"
    elif len(parts) == 3 and not parts[0] and not parts[2] and parts[1]:
        needle = parts[1]
    else:
        needle = None

    if needle is not None:
        return lambda wrapped: needle in wrapped

    expression = re.compile("(?<=\n)" + "[^\n]*".join(re.escape(part) for part in parts) + "(?=\n)")
    return lambda wrapped: expression.search(wrapped) is not None


def _keep_index_children(repository: _Repository, planned: _Plan) -> None:
    """Drop actions on images that an index or manifest list still needs.

    The user guide: an image referenced by a manifest list cannot be expired or archived
    without the list being deleted or archived first. A child may be expired when every parent
    still in the repository is expired in the same run. It may be archived when every such
    parent is archived already, or is archived or expired in the same run. A kept child that
    is itself an index keeps its own children too, so the check repeats until nothing changes.
    """
    changed = True
    while changed:
        changed = False
        for position in repository.index_children:
            if position in planned and not _parents_release(repository, planned, position):
                del planned[position]
                changed = True


def _parents_release(repository: _Repository, planned: _Plan, child: int) -> bool:
    action = planned[child].action

    for digest in repository.images[child].parent_digests:
        parent = repository.positions.get(digest)
        if parent is None:
            continue

        parent_rule = planned.get(parent)
        if action == "expire" and (parent_rule is None or parent_rule.action != "expire"):
            return False
        parent_archived = repository.images[parent].status == "ARCHIVED"
        if action == "transition" and parent_rule is None and not parent_archived:
            return False

    return True


def _follow_subjects(repository: _Repository, planned: _Plan) -> None:
    """Add referrers to the actions of their subjects, following chains of referrers.

    The user guide: lifecycle policies expire or archive reference artifacts after their
    subject image is deleted or archived. The referrer takes the subject's rule and action.
    An expired subject takes its referrers along even when a rule would archive them.
    """
    referrers = repository.referrers
    subjects = (repository.positions.get(digest) for digest in referrers)
    pending = sorted(position for position in subjects if position in planned)

    while pending:
        subject = pending.pop()
        rule = planned[subject]
        for referrer in referrers.get(repository.images[subject].digest, ()):
            if _follows(repository, planned, referrer, rule):
                planned[referrer] = rule
                pending.append(referrer)


def _follows(repository: _Repository, planned: _Plan, referrer: int, rule: LifecycleRule) -> bool:
    current = planned.get(referrer)
    if current is not None and not (current.action == "transition" and rule.action == "expire"):
        return False
    if rule.action == "transition" and repository.images[referrer].status != "ACTIVE":
        return False
    return True


def _to_actions(repository: _Repository, planned: _Plan) -> list[LifecycleAction]:
    by_priority: dict[int, list[int]] = {}
    rules: dict[int, LifecycleRule] = {}
    for position, rule in planned.items():
        positions = by_priority.get(rule.rule_priority)
        if positions is None:
            positions = by_priority[rule.rule_priority] = []
            rules[rule.rule_priority] = rule
        positions.append(position)

    actions: list[LifecycleAction] = []
    for priority in sorted(by_priority):
        rule = rules[priority]
        positions = _oldest_first(repository, rule, by_priority[priority])
        actions.extend(_actions_of_rule(repository, rule, positions))
    return actions


def _oldest_first(
    repository: _Repository, rule: LifecycleRule, positions: list[int]
) -> list[int]:
    # Positions already follow push time. Rules on archived images order by the time the image
    # was archived instead ("ordered by pushed_at_time or transitioned_at_time").
    if rule.count_type != "sinceImageTransitioned":
        return sorted(positions)

    def archive_order(position: int) -> tuple:
        archived_at = repository.images[position].last_archived_at
        return archived_at or repository.push_times[position], position

    return sorted(positions, key=archive_order)


def _actions_of_rule(
    repository: _Repository, rule: LifecycleRule, positions: list[int]
) -> list[LifecycleAction]:
    action = rule.action.upper()
    target = rule.target_storage_class.upper() if rule.target_storage_class else None
    images = repository.images

    return [
        LifecycleAction(
            image.digest,
            image.tags,
            image.pushed_at,
            rule.rule_priority,
            action,
            target,
            "ARCHIVE" if image.status == "ARCHIVED" else "STANDARD",
        )
        for image in map(images.__getitem__, positions)
    ]
