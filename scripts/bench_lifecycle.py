"""Time lifecycle policy parsing and evaluation on a repository of 100,000 images.

Builds the images and a 10-rule policy once, then times parse_policy plus evaluate, best of 3,
and prints the seconds and their ratio to the 1.0 s target. The images mix tagged and untagged,
active and archived, restored, pulled and never pulled, index children and referrers, with
times spread over two years before a fixed `now`.

Run: python scripts/bench_lifecycle.py [--images N] [--repeat N]
"""

import argparse
import datetime
import json
import platform
import random
import sys
import time

from ecr_emulator.backend.lifecycle import LifecycleImage, evaluate, parse_policy

TARGET_SECONDS = 1.0
NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)

POLICY = {
    "rules": [
        {"rulePriority": 1, "description": "keep 500 prod images",
         "selection": {"tagStatus": "tagged", "tagPrefixList": ["prod"],
                       "countType": "imageCountMoreThan", "countNumber": 500},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "archive all but 200 releases",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["v*.*.*"],
                       "countType": "imageCountMoreThan", "countNumber": 200},
         "action": {"type": "transition", "targetStorageClass": "archive"}},
        {"rulePriority": 3, "description": "expire old 2023 release branches",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["release-*", "*2023*"],
                       "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 180},
         "action": {"type": "expire"}},
        {"rulePriority": 4, "description": "expire release candidates after 30 days",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*-rc*"],
                       "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30},
         "action": {"type": "expire"}},
        {"rulePriority": 5, "description": "archive dev images not pulled for 60 days",
         "selection": {"tagStatus": "tagged", "tagPrefixList": ["dev"],
                       "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 60},
         "action": {"type": "transition", "targetStorageClass": "archive"}},
        {"rulePriority": 6, "description": "keep 1000 commit builds",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["sha-*"],
                       "countType": "imageCountMoreThan", "countNumber": 1000},
         "action": {"type": "expire"}},
        {"rulePriority": 7, "description": "expire untagged images after 14 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": 14},
         "action": {"type": "expire"}},
        {"rulePriority": 8, "description": "archive feature builds after 90 days",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["feat*-x*"],
                       "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 90},
         "action": {"type": "transition", "targetStorageClass": "archive"}},
        {"rulePriority": 9, "description": "archive beyond the newest 20000 images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                       "countNumber": 20000},
         "action": {"type": "transition", "targetStorageClass": "archive"}},
        {"rulePriority": 10, "description": "expire images archived for a year",
         "selection": {"tagStatus": "any", "storageClass": "archive",
                       "countType": "sinceImageTransitioned", "countUnit": "days",
                       "countNumber": 365},
         "action": {"type": "expire"}},
    ]
}


def random_tags(rng: random.Random, number: int) -> tuple[str, ...]:
    kinds = [
        lambda: f"prod-{number}",
        lambda: f"v{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
        lambda: f"release-{rng.choice((2023, 2024, 2025))}.{rng.randint(1, 12):02d}",
        lambda: f"{rng.choice(('v2', 'app'))}-{number}-rc{rng.randint(1, 5)}",
        lambda: f"dev-{number}",
        lambda: f"sha-{rng.getrandbits(40):010x}",
        lambda: f"feature{rng.randint(1, 50)}-x{number}",
        lambda: f"build-{number}",
    ]
    count = rng.choice((0, 0, 0, 1, 1, 1, 1, 2, 2, 3))
    return tuple(rng.choice(kinds)() for _ in range(count))


def build_images(count: int, seed: int = 7) -> list[LifecycleImage]:
    """Build `count` images with reproducible tags, times and relations."""
    rng = random.Random(seed)
    images = []

    for number in range(count):
        pushed_at = NOW - datetime.timedelta(seconds=rng.randint(0, 730 * 86400))
        age = NOW - pushed_at
        fields = {}

        if rng.random() < 0.6:
            fields["last_pulled_at"] = pushed_at + age * rng.random()
        if rng.random() < 0.1:
            fields["status"] = "ARCHIVED"
            fields["last_archived_at"] = pushed_at + age * rng.random()
        elif rng.random() < 0.03:
            fields["last_archived_at"] = pushed_at + age * 0.3
            fields["last_activated_at"] = pushed_at + age * 0.6
        if number > 10 and rng.random() < 0.05:
            fields["parent_digests"] = frozenset({f"sha256:{rng.randrange(number):064x}"})
        if number > 10 and rng.random() < 0.03:
            fields["subject_digest"] = f"sha256:{rng.randrange(number):064x}"

        images.append(LifecycleImage(
            digest=f"sha256:{number:064x}",
            tags=random_tags(rng, number),
            pushed_at=pushed_at,
            **fields,
        ))
    return images


def time_once(text: str, images: list[LifecycleImage]) -> tuple[float, int]:
    started = time.perf_counter()
    policy = parse_policy(text)
    actions = evaluate(images, policy, NOW)
    return time.perf_counter() - started, len(actions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="repository size (images)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="number of timed runs, of which the best counts"
    )
    arguments = parser.parse_args(argv)

    images = build_images(arguments.images)
    text = json.dumps(POLICY)

    runs = [time_once(text, images) for _ in range(arguments.repeat)]
    best = min(seconds for seconds, _ in runs)
    actions = runs[0][1]

    cpu = platform.processor() or "unknown cpu"
    print(f"python {platform.python_version()} on {platform.machine()} ({cpu})")
    print(f"images: {len(images)}, rules: {len(POLICY['rules'])}, actions: {actions}")
    print(f"parse + evaluate, best of {arguments.repeat}: {best:.3f} s")
    print(f"ratio to the {TARGET_SECONDS:.1f} s target: {best / TARGET_SECONDS:.2f}")
    return 0 if best <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
