"""Tests for lifecycle policy parsing, validation messages and evaluation.

The worked examples are those of the Amazon ECR User Guide page "Examples of lifecycle policies
in Amazon ECR", each built as images pushed a number of days before a fixed `NOW` and checked
against the outcome the guide states.
"""

import copy
import datetime
import json

import pytest

from ecr_emulator.backend.lifecycle import (
    MAX_POLICY_LENGTH,
    MIN_POLICY_LENGTH,
    SCHEMA_PATH,
    LifecycleAction,
    LifecycleImage,
    LifecyclePolicyError,
    evaluate,
    format_error,
    parse_policy,
)
from ecr_emulator.backend.lifecycle import _SCHEMA_MESSAGES

NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


def ago(days: float = 0, hours: float = 0, seconds: float = 0) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days, hours=hours, seconds=seconds)


def image(digest: str, tags=(), pushed_days: float = 0, **fields) -> LifecycleImage:
    return LifecycleImage(digest=digest, tags=tuple(tags), pushed_at=ago(pushed_days), **fields)


def rule(priority: int, action=None, **selection) -> dict:
    return {
        "rulePriority": priority,
        "description": f"rule {priority}",
        "selection": selection,
        "action": action or {"type": "expire"},
    }


TRANSITION = {"type": "transition", "targetStorageClass": "archive"}


def untagged_older_than(days: int, priority: int = 1) -> dict:
    return rule(priority, tagStatus="untagged", countType="sinceImagePushed", countUnit="days",
                countNumber=days)


def policy_text(*rules: dict) -> str:
    return json.dumps({"rules": list(rules)})


def run(images, *rules: dict) -> list[LifecycleAction]:
    return evaluate(images, parse_policy(policy_text(*rules)), NOW)


def digests(actions) -> list[str]:
    return [action.digest for action in actions]


def rejection(document) -> str:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(LifecyclePolicyError) as caught:
        parse_policy(text)
    return caught.value.detail


# ---------------------------------------------------------------------------------------------
# Worked examples from the user guide
# ---------------------------------------------------------------------------------------------


def test_example_filter_on_image_age():
    # given: the guide's policy "tagged, tagPatternList prod*, sinceImagePushed 14 days, expire"
    images = [
        image("old-prod", ["prod-1"], pushed_days=20),
        image("old-production", ["production-team1"], pushed_days=15),
        image("new-prod", ["prod-2"], pushed_days=10),
        image("old-dev", ["dev-1"], pushed_days=30),
        image("old-untagged", [], pushed_days=30),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=["prod*"], countType="sinceImagePushed",
             countUnit="days", countNumber=14),
    ]

    # when
    actions = run(images, *rules)

    # then: images with a tag starting with prod, pushed more than 14 days ago
    assert digests(actions) == ["old-prod", "old-production"]
    assert {action.action for action in actions} == {"EXPIRE"}


def test_example_filter_on_last_pull():
    # given: "any, sinceImagePulled 90 days, transition to archive"
    images = [
        image("pulled-long-ago", ["a"], pushed_days=300, last_pulled_at=ago(100)),
        image("pulled-recently", ["b"], pushed_days=300, last_pulled_at=ago(10)),
        image("never-pulled-old", [], pushed_days=120),
        image("never-pulled-new", [], pushed_days=30),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="any", countType="sinceImagePulled", countUnit="days",
             countNumber=90),
    ]

    # when
    actions = run(images, *rules)

    # then: a never-pulled image is measured from its push
    assert digests(actions) == ["pulled-long-ago", "never-pulled-old"]
    assert actions[0] == LifecycleAction(
        digest="pulled-long-ago",
        tags=("a",),
        pushed_at=ago(300),
        rule_priority=1,
        action="TRANSITION",
        target_storage_class="ARCHIVE",
        storage_class="STANDARD",
    )


def test_example_filter_on_archive_transition_time():
    # given: "any, storageClass archive, sinceImageTransitioned 365 days, expire"
    images = [
        image("archived-long-ago", ["a"], pushed_days=900, status="ARCHIVED",
              last_archived_at=ago(400)),
        image("archived-recently", ["b"], pushed_days=900, status="ARCHIVED",
              last_archived_at=ago(100)),
        image("active-old", ["c"], pushed_days=900),
    ]
    rules = [
        rule(1, tagStatus="any", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=365),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["archived-long-ago"]
    assert actions[0].action == "EXPIRE"
    assert actions[0].storage_class == "ARCHIVE"
    assert actions[0].target_storage_class is None


def test_example_filter_on_image_count():
    # given: "untagged, imageCountMoreThan 1, expire"
    images = [
        image("untagged-oldest", [], pushed_days=5),
        image("untagged-older", [], pushed_days=4),
        image("untagged-newest", [], pushed_days=1),
        image("tagged-old", ["v1"], pushed_days=9),
    ]
    rules = [rule(1, tagStatus="untagged", countType="imageCountMoreThan", countNumber=1)]

    # when
    actions = run(images, *rules)

    # then: the newest untagged image is kept, the other untagged ones expire oldest first
    assert digests(actions) == ["untagged-oldest", "untagged-older"]


MULTIPLE_RULES_IMAGES = [
    image("A", ["beta-1", "prod-1"], pushed_days=10),
    image("B", ["beta-2", "prod-2"], pushed_days=9),
    image("C", ["beta-3"], pushed_days=8),
]


def test_example_multiple_rules_a():
    # given: rule 1 keeps one prod* image, rule 2 keeps one beta* image
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=["prod*"], countType="imageCountMoreThan",
             countNumber=1),
        rule(2, tagStatus="tagged", tagPatternList=["beta*"], countType="imageCountMoreThan",
             countNumber=1),
    ]

    # when
    actions = run(MULTIPLE_RULES_IMAGES, *rules)

    # then: rule 2 would mark A and B, but both carry a prod tag and belong to rule 1
    assert digests(actions) == ["A"]
    assert actions[0].rule_priority == 1


def test_example_multiple_rules_b():
    # given: the same images with the priorities swapped
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=["beta*"], countType="imageCountMoreThan",
             countNumber=1),
        rule(2, tagStatus="tagged", tagPatternList=["prod*"], countType="imageCountMoreThan",
             countNumber=1),
    ]

    # when
    actions = run(MULTIPLE_RULES_IMAGES, *rules)

    # then: rule 1 matches all three, keeps C and marks A and B. Rule 2 has nothing left.
    assert digests(actions) == ["A", "B"]
    assert {action.rule_priority for action in actions} == {1}


def test_example_multiple_patterns_a():
    # given: one rule with two patterns. Only C and F carry both kinds of tag.
    images = [
        image("A", ["alpha-1"], pushed_days=12),
        image("B", ["beta-1"], pushed_days=11),
        image("C", ["alpha-2", "beta-2"], pushed_days=10),
        image("D", ["alpha-3"], pushed_days=4),
        image("E", ["beta-3"], pushed_days=3),
        image("F", ["alpha-4", "beta-4"], pushed_days=2),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=["alpha*", "beta*"],
             countType="sinceImagePushed", countNumber=5, countUnit="days"),
    ]

    # when
    actions = run(images, *rules)

    # then: of C and F only C is older than five days
    assert digests(actions) == ["C"]


def test_example_multiple_patterns_b():
    # given: tags are not exclusive, so extra tags do not stop a match
    images = [
        image("A", ["alpha-1", "beta-1", "gamma-1"], pushed_days=10),
        image("B", ["alpha-2", "beta-2"], pushed_days=9),
        image("C", ["alpha-3", "beta-3", "gamma-2"], pushed_days=8),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=["alpha*", "beta*"],
             countType="imageCountMoreThan", countNumber=1),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["A", "B"]


def test_example_all_images_a():
    # given: one `any` rule that keeps one image
    images = [
        image("A", ["alpha-1"], pushed_days=4),
        image("B", ["beta-1"], pushed_days=3),
        image("C", [], pushed_days=2),
        image("D", ["alpha-2"], pushed_days=1),
    ]
    rules = [rule(1, tagStatus="any", countType="imageCountMoreThan", countNumber=1)]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["A", "B", "C"]


def test_example_all_images_b():
    # given: all rule kinds combined. The guide lists D and E as "pushed 1 day ago" and keeps E
    # as the newest image, so E is pushed a few hours after D here.
    images = [
        image("A", ["alpha-1", "beta-1"], pushed_days=4),
        image("B", [], pushed_days=3),
        image("C", ["alpha-2"], pushed_days=2),
        image("D", ["git hash"], pushed_days=1),
        image("E", [], pushed_days=0.9),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=["alpha*"], countType="imageCountMoreThan",
             countNumber=1),
        rule(2, tagStatus="untagged", countType="sinceImagePushed", countUnit="days",
             countNumber=1),
        rule(3, tagStatus="any", countType="imageCountMoreThan", countNumber=1),
    ]

    # when
    actions = run(images, *rules)

    # then: rule 3 counts all five and keeps E, but C and E belong to rules 1 and 2
    assert [(action.digest, action.rule_priority) for action in actions] == [
        ("A", 1),
        ("B", 2),
        ("D", 3),
    ]


def test_example_archive_prod_after_30_days():
    # given: "tagged prod*, sinceImagePushed 30 days, transition to archive"
    images = [
        image("prod-old", ["prod-1"], pushed_days=31),
        image("prod-new", ["prod-2"], pushed_days=29),
        image("dev-old", ["dev-1"], pushed_days=90),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="tagged", tagPatternList=["prod*"],
             countType="sinceImagePushed", countUnit="days", countNumber=30),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["prod-old"]
    assert actions[0].action == "TRANSITION"
    assert actions[0].target_storage_class == "ARCHIVE"


def test_example_archive_then_expire():
    # given: archive after 30 days in standard, delete after 365 days in archive
    images = [
        image("active-old", ["a"], pushed_days=40),
        image("active-new", ["b"], pushed_days=10),
        image("archived-old", ["c"], pushed_days=800, status="ARCHIVED", last_archived_at=ago(400)),
        image("archived-new", ["d"], pushed_days=800, status="ARCHIVED", last_archived_at=ago(100)),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="any", countType="sinceImagePushed", countUnit="days",
             countNumber=30),
        rule(2, tagStatus="any", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=365),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert [(action.digest, action.action, action.storage_class) for action in actions] == [
        ("active-old", "TRANSITION", "STANDARD"),
        ("archived-old", "EXPIRE", "ARCHIVE"),
    ]


# ---------------------------------------------------------------------------------------------
# Evaluation edge cases
# ---------------------------------------------------------------------------------------------


def test_claimed_image_kept_by_higher_rule():
    # given: rule 1 keeps up to five prod images, rule 2 keeps only the newest image of all
    images = [
        image("prod-a", ["prod-a"], pushed_days=9),
        image("prod-b", ["prod-b"], pushed_days=8),
        image("dev-a", ["dev-a"], pushed_days=7),
        image("dev-b", ["dev-b"], pushed_days=1),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPrefixList=["prod"], countType="imageCountMoreThan",
             countNumber=5),
        rule(2, tagStatus="any", countType="imageCountMoreThan", countNumber=1),
    ]

    # when
    actions = run(images, *rules)

    # then: the prod images are counted by rule 2 but protected by rule 1
    assert digests(actions) == ["dev-a"]


def test_claimed_image_still_counted():
    # given: rule 2 keeps two images, and the two newest belong to rule 1
    images = [
        image("old", ["x"], pushed_days=5),
        image("prod-1", ["prod-1"], pushed_days=2),
        image("prod-2", ["prod-2"], pushed_days=1),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPrefixList=["prod"], countType="imageCountMoreThan",
             countNumber=10),
        rule(2, tagStatus="any", countType="imageCountMoreThan", countNumber=2),
    ]

    # when
    actions = run(images, *rules)

    # then: "old" is the third newest of all images, so rule 2 expires it
    assert digests(actions) == ["old"]


def test_prefix_list_needs_every_entry():
    # given
    images = [
        image("both", ["alpha-1", "beta-1"], pushed_days=9),
        image("alpha-only", ["alpha-2"], pushed_days=9),
        image("beta-only", ["beta-2"], pushed_days=9),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPrefixList=["alpha", "beta"], countType="sinceImagePushed",
             countUnit="days", countNumber=1),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["both"]


def test_one_tag_may_match_several_entries():
    # given: a single tag that starts with both prefixes
    images = [image("one-tag", ["prod-eu"], pushed_days=9)]
    rules = [
        rule(1, tagStatus="tagged", tagPrefixList=["prod", "prod-e"], countType="sinceImagePushed",
             countUnit="days", countNumber=1),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["one-tag"]


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("prod*", ["prod", "prod1", "production-team1"], ["preprod", "Prod"]),
        ("*prod*", ["repo-production", "prod-team", "prod"], ["pro-d"]),
        ("*-rc", ["1.0-rc", "-rc"], ["1.0-rc1"]),
        ("latest", ["latest"], ["latest-1", "not-latest"]),
        ("*", ["anything"], []),
        ("v*.*-rc*", ["v1.2-rc3", "v.-rc"], ["v1-rc", "v1.2-beta"]),
        ("v*-rc", ["v1-rc", "v-rc"], ["xv1-rc", "v1-rc2"]),
        ("v1.2*", ["v1.2.3"], ["v1x2"]),
        ("*test*1*2*3", ["test123", "a-test-1-2-3"], ["test12"]),
    ],
)
def test_pattern_wildcard_matching(pattern, matching, not_matching):
    # given: one image per tag
    images = [image(tag, [tag], pushed_days=9) for tag in matching + not_matching]
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=[pattern], countType="sinceImagePushed",
             countUnit="days", countNumber=1),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert sorted(digests(actions)) == sorted(matching)


def test_pattern_matches_whole_tag_only():
    # given: "a*b" must not match across two tags "a1" and "2b"
    images = [
        image("two-tags", ["a1", "2b"], pushed_days=9),
        image("one-tag", ["a1b"], pushed_days=9),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPatternList=["a*b"], countType="sinceImagePushed",
             countUnit="days", countNumber=1),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["one-tag"]


def test_age_boundary_is_strict():
    # given: one image pushed exactly 7 days ago and one a second earlier
    images = [
        LifecycleImage("exactly-7-days", (), ago(days=7)),
        LifecycleImage("just-over-7-days", (), ago(days=7, seconds=1)),
    ]
    rules = [untagged_older_than(7)]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["just-over-7-days"]


def test_count_orders_by_restore_time():
    # given: the oldest push was restored from archive yesterday
    images = [
        image("restored", [], pushed_days=100, last_activated_at=ago(1), last_archived_at=ago(50)),
        image("pushed-10-days", [], pushed_days=10),
        image("pushed-5-days", [], pushed_days=5),
    ]
    rules = [rule(1, tagStatus="untagged", countType="imageCountMoreThan", countNumber=2)]

    # when
    actions = run(images, *rules)

    # then: the restored image counts as the newest
    assert digests(actions) == ["pushed-10-days"]


def test_age_of_restored_image_starts_at_restore():
    # given: pushed 100 days ago, restored 3 days ago
    images = [image("restored", [], pushed_days=100, last_activated_at=ago(3))]
    rules = [untagged_older_than(30)]

    # when
    actions = run(images, *rules)

    # then
    assert actions == []


@pytest.mark.parametrize(
    ("fields", "archived"),
    [
        ({"last_activated_at": ago(100)}, True),
        ({"last_activated_at": ago(10)}, False),
        ({"last_activated_at": ago(100), "last_pulled_at": ago(95)}, True),
        ({"last_activated_at": ago(100), "last_pulled_at": ago(20)}, False),
        ({"last_activated_at": ago(20), "last_pulled_at": ago(95)}, False),
        ({"last_pulled_at": ago(120)}, True),
        ({}, True),
    ],
    ids=[
        "restored-long-ago-never-pulled",
        "restored-recently-never-pulled",
        "pulled-after-restore-long-ago",
        "pulled-after-restore-recently",
        "pulled-before-recent-restore",
        "pulled-long-ago",
        "never-pulled-old-push",
    ],
)
def test_pull_age_reference_time(fields, archived):
    # given: pushed 200 days ago; the rule archives images not pulled for 90 days
    images = [image("subject", ["a"], pushed_days=200, **fields)]
    rules = [
        rule(1, TRANSITION, tagStatus="any", countType="sinceImagePulled", countUnit="days",
             countNumber=90),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert (digests(actions) == ["subject"]) is archived


def test_transition_time_only_for_archived_images():
    # given: an active image that was archived once and restored, and an archived image
    images = [
        image("restored", ["a"], pushed_days=900, last_archived_at=ago(500),
              last_activated_at=ago(400)),
        image("archived", ["b"], pushed_days=900, status="ARCHIVED", last_archived_at=ago(500)),
    ]
    rules = [
        rule(1, tagStatus="any", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=365),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["archived"]


def test_archived_without_archive_time_kept():
    # given: an archived image whose archive time is unknown
    images = [image("archived", ["a"], pushed_days=900, status="ARCHIVED")]
    rules = [
        rule(1, tagStatus="any", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=365),
    ]

    # when
    actions = run(images, *rules)

    # then: the push time does not stand in for the archive time
    assert actions == []


def test_archive_rules_ordered_by_archive_time():
    # given: the later push was archived first
    images = [
        image("pushed-first", ["a"], pushed_days=900, status="ARCHIVED", last_archived_at=ago(400)),
        image("pushed-second", ["b"], pushed_days=800, status="ARCHIVED",
              last_archived_at=ago(600)),
    ]
    rules = [
        rule(1, tagStatus="any", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=365),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["pushed-second", "pushed-first"]


def test_standard_rules_skip_other_statuses():
    # given: an archived image and one being restored
    images = [
        image("archived", [], pushed_days=300, status="ARCHIVED", last_archived_at=ago(200)),
        image("activating", [], pushed_days=300, status="ACTIVATING"),
        image("active", [], pushed_days=300),
    ]
    rules = [untagged_older_than(1)]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["active"]


def test_untagged_rules_per_storage_class_apply_separately():
    # given: one untagged rule for each storage class
    images = [
        image("active", [], pushed_days=300),
        image("archived", [], pushed_days=300, status="ARCHIVED", last_archived_at=ago(200)),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="untagged", countType="sinceImagePushed", countUnit="days",
             countNumber=30),
        rule(2, tagStatus="untagged", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=180),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert [(action.digest, action.action) for action in actions] == [
        ("active", "TRANSITION"),
        ("archived", "EXPIRE"),
    ]


def test_index_child_kept_while_parent_stays():
    # given: an untagged child of a tagged index that rule 1 keeps
    images = [
        image("index", ["v1"], pushed_days=30),
        image("child", [], pushed_days=30, parent_digests=frozenset({"index"})),
        image("loose", [], pushed_days=30),
    ]
    rules = [untagged_older_than(7)]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["loose"]


def test_index_child_expires_with_parent():
    # given: the index and its child are both old
    images = [
        image("index", [], pushed_days=30),
        image("child", [], pushed_days=31, parent_digests=frozenset({"index"})),
    ]
    rules = [untagged_older_than(7)]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["child", "index"]


def test_index_child_needs_every_parent_gone():
    # given: two indexes reference the child; one stays
    images = [
        image("old-index", [], pushed_days=30),
        image("new-index", ["v2"], pushed_days=1),
        image("child", [], pushed_days=31, parent_digests=frozenset({"old-index", "new-index"})),
    ]
    rules = [untagged_older_than(7)]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["old-index"]


def test_index_child_with_missing_parent_expires():
    # given: the child names an index that is no longer in the repository
    images = [image("child", [], pushed_days=30, parent_digests=frozenset({"deleted-index"}))]
    rules = [untagged_older_than(7)]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["child"]


def test_nested_index_child_kept():
    # given: outer index kept (tagged, young) -> inner index -> leaf, inner and leaf old
    images = [
        image("outer", ["v1"], pushed_days=1),
        image("inner", [], pushed_days=30, parent_digests=frozenset({"outer"})),
        image("leaf", [], pushed_days=30, parent_digests=frozenset({"inner"})),
    ]
    rules = [untagged_older_than(7)]

    # when
    actions = run(images, *rules)

    # then: the outer index keeps the inner one, which keeps the leaf
    assert actions == []


def test_index_child_not_expired_when_parent_archives():
    # given: rule 1 archives the tagged index, rule 2 would expire its untagged child
    images = [
        image("index", ["v1"], pushed_days=60),
        image("child", [], pushed_days=60, parent_digests=frozenset({"index"})),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="tagged", tagPrefixList=["v"], countType="sinceImagePushed",
             countUnit="days", countNumber=30),
        untagged_older_than(30, priority=2),
    ]

    # when
    actions = run(images, *rules)

    # then: a child may be expired only when its parent is expired
    assert digests(actions) == ["index"]


def test_index_child_archived_with_archived_parent():
    # given: the index is archived already; its child is still active
    images = [
        image("index", ["v1"], pushed_days=60, status="ARCHIVED", last_archived_at=ago(10)),
        image("child", [], pushed_days=60, parent_digests=frozenset({"index"})),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="any", countType="sinceImagePushed", countUnit="days",
             countNumber=30),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["child"]
    assert actions[0].action == "TRANSITION"


def test_referrer_expires_with_subject():
    # given: a tagged signature claimed and kept by rule 1; its subject expires under rule 2
    images = [
        image("subject", [], pushed_days=30),
        image("signature", ["sha256-subject.sig"], pushed_days=1, subject_digest="subject"),
    ]
    rules = [
        rule(1, tagStatus="tagged", tagPrefixList=["sha256-"], countType="imageCountMoreThan",
             countNumber=100),
        untagged_older_than(7, priority=2),
    ]

    # when
    actions = run(images, *rules)

    # then: the referrer takes the subject's rule
    assert [(action.digest, action.rule_priority) for action in actions] == [
        ("subject", 2),
        ("signature", 2),
    ]


def test_referrer_archived_with_subject():
    # given: a chain subject <- sbom <- signature of the sbom
    images = [
        image("subject", ["v1"], pushed_days=60),
        image("sbom", [], pushed_days=1, subject_digest="subject"),
        image("sbom-signature", [], pushed_days=1, subject_digest="sbom"),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="tagged", tagPrefixList=["v"], countType="sinceImagePushed",
             countUnit="days", countNumber=30),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert [(action.digest, action.action) for action in actions] == [
        ("subject", "TRANSITION"),
        ("sbom", "TRANSITION"),
        ("sbom-signature", "TRANSITION"),
    ]


def test_referrer_stays_with_kept_subject():
    # given: the subject is young, the referrer is old and untagged
    images = [
        image("subject", ["v1"], pushed_days=1),
        image("signature", [], pushed_days=30, subject_digest="subject"),
    ]
    rules = [rule(1, tagStatus="tagged", tagPrefixList=["v"], countType="sinceImagePushed",
                  countUnit="days", countNumber=7)]

    # when
    actions = run(images, *rules)

    # then
    assert actions == []


def test_archived_referrer_not_transitioned_again():
    # given: the subject is archived by the policy, its referrer is archived already
    images = [
        image("subject", ["v1"], pushed_days=60),
        image("signature", [], pushed_days=60, status="ARCHIVED", last_archived_at=ago(5),
              subject_digest="subject"),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="tagged", tagPrefixList=["v"], countType="sinceImagePushed",
             countUnit="days", countNumber=30),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["subject"]


def test_expired_subject_overrides_referrer_transition():
    # given: rule 1 archives the untagged referrer, rule 2 expires its subject
    images = [
        image("subject", ["old-1"], pushed_days=60),
        image("signature", [], pushed_days=60, subject_digest="subject"),
    ]
    rules = [
        rule(1, TRANSITION, tagStatus="untagged", countType="sinceImagePushed", countUnit="days",
             countNumber=30),
        rule(2, tagStatus="tagged", tagPrefixList=["old"], countType="sinceImagePushed",
             countUnit="days", countNumber=30),
    ]

    # when
    actions = run(images, *rules)

    # then: a referrer cannot outlive its subject
    assert [(action.digest, action.action, action.rule_priority) for action in actions] == [
        ("signature", "EXPIRE", 2),
        ("subject", "EXPIRE", 2),
    ]


def test_results_ordered_by_priority_then_age():
    # given: input in no particular order
    images = [
        image("untagged-new", [], pushed_days=20),
        image("tagged-old", ["x-1"], pushed_days=50),
        image("untagged-old", [], pushed_days=40),
        image("tagged-new", ["x-2"], pushed_days=30),
    ]
    rules = [
        rule(2, tagStatus="tagged", tagPrefixList=["x"], countType="sinceImagePushed",
             countUnit="days", countNumber=10),
        untagged_older_than(10),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert digests(actions) == ["untagged-old", "untagged-new", "tagged-old", "tagged-new"]


def test_same_push_time_ordered_by_digest():
    # given
    images = [image(digest, [], pushed_days=9) for digest in ("c", "a", "b")]
    rules = [rule(1, tagStatus="untagged", countType="imageCountMoreThan", countNumber=1)]

    # when
    actions = run(images, *rules)

    # then: the last digest in order counts as the newest and is kept
    assert digests(actions) == ["a", "b"]


def test_evaluate_empty_repository():
    # given
    rules = [rule(1, tagStatus="any", countType="imageCountMoreThan", countNumber=1)]

    # when
    actions = run([], *rules)

    # then
    assert actions == []


def test_evaluate_largest_count_number():
    # given: a countNumber far beyond what a date can go back
    images = [image("old", [], pushed_days=3000)]
    rules = [
        rule(1, tagStatus="untagged", countType="sinceImagePushed", countUnit="days",
             countNumber=2147483647),
    ]

    # when
    actions = run(images, *rules)

    # then
    assert actions == []


# ---------------------------------------------------------------------------------------------
# Validation: valid policies
# ---------------------------------------------------------------------------------------------


GUIDE_POLICIES = {
    "age": [rule(1, tagStatus="tagged", tagPatternList=["prod*"], countType="sinceImagePushed",
                 countUnit="days", countNumber=14)],
    "last-pull": [rule(1, TRANSITION, tagStatus="any", countType="sinceImagePulled",
                       countUnit="days", countNumber=90)],
    "archive-age": [rule(1, tagStatus="any", storageClass="archive",
                         countType="sinceImageTransitioned", countUnit="days", countNumber=365)],
    "count": [rule(1, tagStatus="untagged", countType="imageCountMoreThan", countNumber=1)],
    "archive-then-expire": [
        rule(1, TRANSITION, tagStatus="any", countType="sinceImagePushed", countUnit="days",
             countNumber=30),
        rule(2, tagStatus="any", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=365),
    ],
    "all-rule-kinds": [
        rule(1, tagStatus="tagged", tagPatternList=["alpha*"], countType="imageCountMoreThan",
             countNumber=1),
        rule(2, tagStatus="untagged", countType="sinceImagePushed", countUnit="days",
             countNumber=1),
        rule(3, tagStatus="any", countType="imageCountMoreThan", countNumber=1),
    ],
    "wildcards": [rule(1, tagStatus="tagged", tagPatternList=["*test*1*2*3", "test*1*2*3*"],
                       countType="imageCountMoreThan", countNumber=1)],
    "prefixes": [rule(1, tagStatus="tagged", tagPrefixList=["prod"],
                      countType="imageCountMoreThan", countNumber=1)],
}


@pytest.mark.parametrize("name", sorted(GUIDE_POLICIES))
def test_guide_policy_accepted(name):
    # given
    text = policy_text(*GUIDE_POLICIES[name])

    # when
    policy = parse_policy(text)

    # then
    assert [rule.rule_priority for rule in policy.rules] == [
        raw["rulePriority"] for raw in GUIDE_POLICIES[name]
    ]


def test_parsed_rule_fields():
    # given: a rule without storageClass, written with gaps in the priorities
    text = policy_text(
        rule(10, tagStatus="any", countType="imageCountMoreThan", countNumber=3),
        rule(5, TRANSITION, tagStatus="tagged", tagPrefixList=["v", "rel"],
             countType="sinceImagePushed", countUnit="days", countNumber=30),
    )

    # when
    policy = parse_policy(text)

    # then: rules come back ordered by priority with the standard storage class filled in
    first, second = policy.rules
    assert first.rule_priority == 5
    assert first.tag_prefixes == ("v", "rel")
    assert first.tag_patterns == ()
    assert first.storage_class == "standard"
    assert first.count_unit == "days"
    assert first.action == "transition"
    assert first.target_storage_class == "archive"
    assert first.description == "rule 5"
    assert second.rule_priority == 10
    assert second.count_unit is None
    assert second.target_storage_class is None


def test_fifty_rules_accepted():
    # given
    rules = [
        rule(priority, tagStatus="tagged", tagPrefixList=[f"p{priority}"],
             countType="imageCountMoreThan", countNumber=1)
        for priority in range(1, 51)
    ]

    # when
    policy = parse_policy(policy_text(*rules))

    # then
    assert len(policy.rules) == 50


def test_rule_without_description_accepted():
    # given
    raw = rule(1, tagStatus="untagged", countType="imageCountMoreThan", countNumber=1)
    del raw["description"]

    # when
    policy = parse_policy(policy_text(raw))

    # then
    assert policy.rules[0].description is None


# ---------------------------------------------------------------------------------------------
# Validation: schema errors
# ---------------------------------------------------------------------------------------------


UNTAGGED = {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}


def one_rule(selection=None, action=None, **rule_fields) -> dict:
    raw = {
        "rulePriority": 1,
        "selection": UNTAGGED if selection is None else selection,
        "action": action or {"type": "expire"},
    }
    raw.update(rule_fields)
    return {"rules": [raw]}


def with_selection(**changes) -> dict:
    selection = dict(UNTAGGED)
    for key, value in changes.items():
        if value is DELETE:
            selection.pop(key)
        else:
            selection[key] = value
    return one_rule(selection)


DELETE = object()
ONE_OF = "instance failed to match exactly one schema (matched 0 out of 2)"

SCHEMA_CASES = [
    ("not-json", "{rules: []}", "Could not map policyString into LifecyclePolicy."),
    ("empty-text", "", "Could not map policyString into LifecyclePolicy."),
    ("array", "[]", "Could not map policyString into LifecyclePolicy."),
    ("string", '"rules"', "Could not map policyString into LifecyclePolicy."),
    ("null", "null", "Could not map policyString into LifecyclePolicy."),
    ("nan", '{"rules": NaN}', "Could not map policyString into LifecyclePolicy."),
    ("no-rules", {"no_rules": "test"}, 'object has missing required properties (["rules"])'),
    ("extra-top-level", dict(one_rule(), foo=1),
     'object instance has properties which are not allowed by the schema: (["foo"])'),
    ("rules-object", {"rules": {}},
     'instance type (object) does not match any allowed primitive type (allowed: ["array"])'),
    ("rules-null", {"rules": None},
     'instance type (null) does not match any allowed primitive type (allowed: ["array"])'),
    ("rules-empty", {"rules": []},
     "array is too short: must have at least 1 elements but instance has 0 elements"),
    ("rule-string", {"rules": ["not_dict"]},
     'instance type (string) does not match any allowed primitive type (allowed: ["object"])'),
    ("rule-missing-all", {"rules": [{}]},
     'object has missing required properties (["action","rulePriority","selection"])'),
    ("rule-extra", one_rule(unknown=123),
     'object instance has properties which are not allowed by the schema: (["unknown"])'),
    ("priority-zero", one_rule(rulePriority=0),
     "numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
    ("priority-string", one_rule(rulePriority="1"),
     'instance type (string) does not match any allowed primitive type (allowed: ["integer"])'),
    ("priority-float", one_rule(rulePriority=1.0),
     'instance type (number) does not match any allowed primitive type (allowed: ["integer"])'),
    ("priority-too-big", one_rule(rulePriority=2147483648),
     "numeric instance is greater than the required maximum "
     "(maximum: 2147483647, found: 2147483648)"),
    ("description-null", one_rule(description=None),
     'instance type (null) does not match any allowed primitive type (allowed: ["string"])'),
    ("selection-missing-all", one_rule(selection={}),
     'object has missing required properties (["countNumber","countType","tagStatus"])'),
    ("selection-extra", with_selection(unknown=123),
     'object instance has properties which are not allowed by the schema: (["unknown"])'),
    ("tag-status-bogus", with_selection(tagStatus="bogus"),
     'instance value (bogus) not found in enum :(possible values: ["any","tagged","untagged"])'),
    ("tag-status-upper", with_selection(tagStatus="UNTAGGED"),
     'instance value (UNTAGGED) not found in enum :(possible values: ["any","tagged","untagged"])'),
    ("tag-status-null", with_selection(tagStatus=None),
     'instance type (null) does not match any allowed primitive type (allowed: ["string"])'),
    ("count-type-bogus", with_selection(countType="bogus"), ONE_OF),
    ("count-type-null", with_selection(countType=None), ONE_OF),
    ("count-unit-with-count", with_selection(countUnit="days"), ONE_OF),
    ("count-unit-null", with_selection(countUnit=None), ONE_OF),
    ("count-unit-missing", with_selection(countType="sinceImagePushed"), ONE_OF),
    ("count-unit-weeks", with_selection(countType="sinceImagePushed", countUnit="weeks"), ONE_OF),
    ("count-number-zero", with_selection(countNumber=0),
     "numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
    ("count-number-negative", with_selection(countNumber=-1),
     "numeric instance is lower than the required minimum (minimum: 1, found: -1)"),
    ("count-number-fraction", with_selection(countNumber=1.5),
     'instance type (number) does not match any allowed primitive type (allowed: ["integer"])'),
    ("count-number-boolean", with_selection(countNumber=True),
     'instance type (boolean) does not match any allowed primitive type (allowed: ["integer"])'),
    ("count-number-missing", with_selection(countNumber=DELETE),
     'object has missing required properties (["countNumber"])'),
    ("storage-class-bogus", with_selection(storageClass="glacier"),
     'instance value (glacier) not found in enum :(possible values: ["archive","standard"])'),
    ("pattern-list-null", with_selection(tagStatus="tagged", tagPatternList=None),
     'instance type (null) does not match any allowed primitive type (allowed: ["array"])'),
    ("prefix-list-empty", with_selection(tagStatus="tagged", tagPrefixList=[]),
     "array is too short: must have at least 1 elements but instance has 0 elements"),
    ("prefix-list-number", with_selection(tagStatus="tagged", tagPrefixList=[1]),
     'instance type (integer) does not match any allowed primitive type (allowed: ["string"])'),
    ("action-missing-type", one_rule(action={"unused": 1}),
     'object has missing required properties (["type"])'),
    ("action-type-bogus", one_rule(action={"type": "keep"}),
     'instance value (keep) not found in enum :(possible values: ["expire","transition"])'),
    ("action-extra", one_rule(action={"type": "expire", "unknown": 1}),
     'object instance has properties which are not allowed by the schema: (["unknown"])'),
    ("target-null", one_rule(action={"type": "transition", "targetStorageClass": None}), ONE_OF),
    ("target-missing", one_rule(action={"type": "transition"}), ONE_OF),
    ("target-standard", one_rule(action={"type": "transition", "targetStorageClass": "standard"}),
     ONE_OF),
    ("target-on-expire", one_rule(action={"type": "expire", "targetStorageClass": "archive"}),
     ONE_OF),
]


@pytest.mark.parametrize(
    ("document", "detail"),
    [case[1:] for case in SCHEMA_CASES],
    ids=[case[0] for case in SCHEMA_CASES],
)
def test_schema_error_detail(document, detail):
    # given: a policy with one structural problem

    # when
    reported = rejection(document)

    # then
    assert reported == detail


def test_fifty_one_rules_rejected():
    # given
    rules = [
        rule(priority, tagStatus="tagged", tagPrefixList=[f"p{priority}"],
             countType="imageCountMoreThan", countNumber=1)
        for priority in range(1, 52)
    ]

    # when
    detail = rejection({"rules": rules})

    # then
    assert detail == "array is too long: must have at most 50 elements but instance has 51 elements"


def test_first_rule_error_reported():
    # given: rule 0 has an unknown tagStatus, rule 1 misses its action
    document = one_rule(with_selection(tagStatus="bogus")["rules"][0]["selection"])
    document["rules"].append({"rulePriority": 2, "selection": UNTAGGED})

    # when
    detail = rejection(document)

    # then
    assert detail.startswith("instance value (bogus) not found in enum")


def test_rule_error_before_selection_error():
    # given: the rule misses rulePriority and its selection has an unknown tagStatus
    document = with_selection(tagStatus="bogus")
    del document["rules"][0]["rulePriority"]

    # when
    detail = rejection(document)

    # then
    assert detail == 'object has missing required properties (["rulePriority"])'


def test_schema_error_choice_is_stable():
    # given: a policy with many problems at once
    document = {
        "rules": [
            {"rulePriority": 0, "selection": {"tagStatus": 3, "countUnit": None}, "extra": 1},
            None,
        ],
        "more": True,
    }

    # when
    details = {rejection(copy.deepcopy(document)) for _ in range(5)}

    # then
    assert details == {
        'object instance has properties which are not allowed by the schema: (["more"])'
    }


def schema_keywords(node) -> set[str]:
    """Collect the keywords used anywhere in a JSON Schema document."""
    if isinstance(node, list):
        return set().union(*(schema_keywords(item) for item in node))
    if not isinstance(node, dict):
        return set()

    keywords = set(node)
    for key, value in node.items():
        subschemas = value.values() if key in ("properties", "definitions") else [value]
        for subschema in subschemas:
            keywords |= schema_keywords(subschema)
    return keywords


# Keywords that only annotate or point to other subschemas, so no error is reported for them.
NON_FAILING_KEYWORDS = {
    "$schema", "$id", "$ref", "title", "description", "definitions", "properties", "items",
}


def test_every_schema_keyword_has_a_message():
    # given
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    # when
    keywords = schema_keywords(schema) - NON_FAILING_KEYWORDS

    # then: every keyword that can fail has an ECR phrasing
    assert keywords - set(_SCHEMA_MESSAGES) == set()
    assert "oneOf" in keywords


# ---------------------------------------------------------------------------------------------
# Validation: checks beyond the schema
# ---------------------------------------------------------------------------------------------


def tagged(priority=1, **selection) -> dict:
    fields = {"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 1}
    fields.update(selection)
    return rule(priority, **fields)


def test_tagged_without_list_rejected():
    # when
    detail = rejection({"rules": [tagged()]})

    # then
    assert detail == "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."


def test_tagged_with_both_lists_rejected():
    # when
    detail = rejection({"rules": [tagged(tagPrefixList=["v"], tagPatternList=["v*"])]})

    # then
    assert detail == (
        "Rule 1 specifies both tagPrefixList and tagPatternList, "
        "but a rule may use only one of them."
    )


@pytest.mark.parametrize("tag_status", ["untagged", "any"])
@pytest.mark.parametrize("list_name", ["tagPrefixList", "tagPatternList"])
def test_tag_list_without_tagged_rejected(tag_status, list_name):
    # given
    document = {"rules": [rule(1, tagStatus=tag_status, countType="imageCountMoreThan",
                               countNumber=1, **{list_name: ["v"]})]}

    # when
    detail = rejection(document)

    # then
    assert detail == (
        "tagPrefixList and tagPatternList are allowed only when tagStatus=TAGGED, "
        f"but rule 1 has tagStatus={tag_status.upper()}."
    )


def test_five_wildcards_rejected():
    # given: the guide's invalid example has six; five is the first count over the limit
    document = {"rules": [tagged(tagPatternList=["ok*", "*a*b*c*d*"])]}

    # when
    detail = rejection(document)

    # then
    assert detail == (
        'tagPatternList entry "*a*b*c*d*" has 5 wildcards, but each entry may contain at most 4.'
    )


def test_guide_wildcard_example_rejected():
    # when
    detail = rejection({"rules": [tagged(tagPatternList=["test*1*2*3*4*5*6"])]})

    # then
    assert "has 6 wildcards" in detail


@pytest.mark.parametrize(
    ("selection", "detail"),
    [
        ({"tagStatus": "any", "countType": "sinceImageTransitioned", "countUnit": "days",
          "countNumber": 365},
         "countType=sinceImageTransitioned requires storageClass=ARCHIVE, "
         "but rule 1 has storageClass=STANDARD."),
        ({"tagStatus": "any", "storageClass": "archive", "countType": "imageCountMoreThan",
          "countNumber": 1},
         "countType=imageCountMoreThan requires storageClass=STANDARD, "
         "but rule 1 has storageClass=ARCHIVE."),
        ({"tagStatus": "any", "storageClass": "archive", "countType": "sinceImagePushed",
          "countUnit": "days", "countNumber": 1},
         "countType=sinceImagePushed requires storageClass=STANDARD, "
         "but rule 1 has storageClass=ARCHIVE."),
        ({"tagStatus": "any", "storageClass": "archive", "countType": "sinceImagePulled",
          "countUnit": "days", "countNumber": 1},
         "countType=sinceImagePulled requires storageClass=STANDARD, "
         "but rule 1 has storageClass=ARCHIVE."),
    ],
    ids=["transitioned-standard", "count-archive", "pushed-archive", "pulled-archive"],
)
def test_storage_class_mismatch_rejected(selection, detail):
    # given
    action = TRANSITION if selection["countType"] == "sinceImagePulled" else None

    # when
    reported = rejection({"rules": [rule(1, action, **selection)]})

    # then
    assert reported == detail


def test_pull_age_cannot_expire():
    # given
    document = {"rules": [rule(1, tagStatus="any", countType="sinceImagePulled", countUnit="days",
                               countNumber=90)]}

    # when
    detail = rejection(document)

    # then
    assert detail == (
        "countType=sinceImagePulled requires action type=TRANSITION, but rule 1 has type=EXPIRE."
    )


def test_archive_age_cannot_transition():
    # given
    document = {"rules": [rule(1, TRANSITION, tagStatus="any", storageClass="archive",
                               countType="sinceImageTransitioned", countUnit="days",
                               countNumber=365)]}

    # when
    detail = rejection(document)

    # then
    assert detail == (
        "countType=sinceImageTransitioned requires action type=EXPIRE, "
        "but rule 1 has type=TRANSITION."
    )


@pytest.mark.parametrize(
    "count_type", ["imageCountMoreThan", "sinceImagePushed"],
)
def test_count_and_push_rules_may_transition(count_type):
    # given
    selection = {"tagStatus": "any", "countType": count_type, "countNumber": 5}
    if count_type == "sinceImagePushed":
        selection["countUnit"] = "days"

    # when
    policy = parse_policy(policy_text(rule(1, TRANSITION, **selection)))

    # then
    assert policy.rules[0].action == "transition"


def test_archive_expiry_under_90_days_rejected():
    # given
    document = {"rules": [rule(1, tagStatus="any", storageClass="archive",
                               countType="sinceImageTransitioned", countUnit="days",
                               countNumber=89)]}

    # when
    detail = rejection(document)

    # then
    assert detail == (
        "Rule 1 expires archived images after 89 days, "
        "but archived images must stay in archive for at least 90 days."
    )


def test_archive_expiry_at_90_days_accepted():
    # given
    text = policy_text(rule(1, tagStatus="any", storageClass="archive",
                            countType="sinceImageTransitioned", countUnit="days", countNumber=90))

    # when
    policy = parse_policy(text)

    # then
    assert policy.rules[0].count_number == 90


def test_duplicate_priority_rejected():
    # given
    document = {"rules": [tagged(3, tagPrefixList=["a"]), tagged(3, tagPrefixList=["b"])]}

    # when
    detail = rejection(document)

    # then
    assert detail == (
        "rulePriority 3 is used by more than one rule. Give each rule a unique rulePriority."
    )


def test_two_untagged_rules_rejected():
    # given
    document = {
        "rules": [
            rule(1, tagStatus="untagged", countType="imageCountMoreThan", countNumber=5),
            rule(2, tagStatus="untagged", countType="sinceImagePushed", countUnit="days",
                 countNumber=7),
        ]
    }

    # when
    detail = rejection(document)

    # then
    assert detail == "Only one rule can select Untagged images per storage class."


def test_any_rule_not_last_rejected():
    # given
    document = {
        "rules": [
            rule(1, tagStatus="any", countType="imageCountMoreThan", countNumber=5),
            tagged(2, tagPrefixList=["v"]),
        ]
    }

    # when
    detail = rejection(document)

    # then
    assert detail == "Rule for tagStatus=ANY must have the lowest priority per storage class"


def test_two_any_rules_in_one_class_rejected():
    # given
    document = {
        "rules": [
            rule(1, tagStatus="any", countType="imageCountMoreThan", countNumber=5),
            rule(2, tagStatus="any", countType="sinceImagePushed", countUnit="days", countNumber=5),
        ]
    }

    # when
    detail = rejection(document)

    # then
    assert detail == "Rule for tagStatus=ANY must have the lowest priority per storage class"


def test_any_rule_last_per_storage_class():
    # given: the archive `any` rule has the highest number, the standard one is last in its class
    text = policy_text(
        rule(1, TRANSITION, tagStatus="any", countType="sinceImagePushed", countUnit="days",
             countNumber=30),
        rule(2, tagStatus="untagged", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=100),
        rule(3, tagStatus="any", storageClass="archive", countType="sinceImageTransitioned",
             countUnit="days", countNumber=365),
    )

    # when
    policy = parse_policy(text)

    # then
    assert [rule.tag_status for rule in policy.rules] == ["any", "untagged", "any"]


def test_duplicate_prefix_lists_rejected():
    # given: the same prefixes in another order
    document = {"rules": [tagged(1, tagPrefixList=["a", "b"]), tagged(2, tagPrefixList=["b", "a"])]}

    # when
    detail = rejection(document)

    # then
    assert detail == (
        'tagPrefixList ["a","b"] is used by more than one rule for storageClass=STANDARD. '
        "Give each rule its own set of prefixes."
    )


def test_same_prefixes_in_other_storage_class_accepted():
    # given
    text = policy_text(
        tagged(1, tagPrefixList=["v"]),
        rule(2, tagStatus="tagged", tagPrefixList=["v"], storageClass="archive",
             countType="sinceImageTransitioned", countUnit="days", countNumber=180),
    )

    # when
    policy = parse_policy(text)

    # then
    assert len(policy.rules) == 2


def test_per_rule_check_before_cross_rule_check():
    # given: duplicate priorities, and the second rule also lacks its tag list
    document = {"rules": [tagged(1, tagPrefixList=["a"]), tagged(1)]}

    # when
    detail = rejection(document)

    # then
    assert detail == "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."


# ---------------------------------------------------------------------------------------------
# Messages and limits for the API layer
# ---------------------------------------------------------------------------------------------


def test_format_error_frame():
    # when
    message = format_error("Only one rule can select Untagged images per storage class.")

    # then
    assert message == (
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: "
        "Only one rule can select Untagged images per storage class.'"
    )


def test_policy_length_limits():
    # then: the limits of lifecyclePolicyText in the ECR service model
    assert MIN_POLICY_LENGTH == 100
    assert MAX_POLICY_LENGTH == 30720


def test_error_carries_detail():
    # when
    with pytest.raises(LifecyclePolicyError) as caught:
        parse_policy("not json")

    # then
    assert caught.value.detail == "Could not map policyString into LifecyclePolicy."
    assert str(caught.value) == caught.value.detail
