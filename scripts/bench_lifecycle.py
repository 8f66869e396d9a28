"""Time lifecycle policy parsing and evaluation on a repository of 100,000 images.

Builds the images and a 10-rule policy once, then times parse_policy plus evaluate, best of 3,
and prints the seconds and their ratio to the 1.0 s target. The images mix tagged and untagged,
active and archived, restored, pulled and never pulled, index children and referrers, with
times spread over two years before a fixed `now`.

Then it stores the same images in a repository of `mock_ecr`, starts a preview through boto3
and times pages of GetLifecyclePolicyPreview, which page through the stored result.

Run: python scripts/bench_lifecycle.py [--images N] [--repeat N] [--preview-pages N]
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


def time_preview(text: str, images: list[LifecycleImage], pages: int) -> tuple[float, float, int]:
    """Preview `text` through boto3 and mock_ecr over a repository of `images`.

    Returns the seconds StartLifecyclePolicyPreview took (it evaluates), the mean seconds of one
    GetLifecyclePolicyPreview page of 100 results, and the number of results. Pages that cost as
    little as the first one show that paging does not evaluate again.
    """
    import boto3

    from ecr_emulator import mock_ecr
    from ecr_emulator.backend import runtime
    from ecr_emulator.backend.images import Layer
    from ecr_emulator.backend.registry import registry_for

    with mock_ecr():
        registry = registry_for("123456789012", "us-east-1")
        repository = registry.create_repository("bench/lifecycle")
        config = runtime.current().blob_store.put(b"{}")
        repository.layers[config] = Layer(2)
        for index, image in enumerate(images):
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
                "layers": [], "annotations": {"index": str(index)},
            }).encode()
            stored = registry.put_image("bench/lifecycle", manifest)
            for tag in image.tags:
                if tag not in repository.tags:
                    stored.tags.append(tag)
                    repository.tags[tag] = stored.digest
            stored.pushed_at = image.pushed_at
            stored.last_pulled_at = image.last_pulled_at

        ecr = boto3.client("ecr", region_name="us-east-1")
        started = time.perf_counter()
        ecr.start_lifecycle_policy_preview(repositoryName="bench/lifecycle", lifecyclePolicyText=text)
        start_seconds = time.perf_counter() - started

        token, page_seconds, count = None, [], 0
        for _ in range(pages):
            arguments = {"repositoryName": "bench/lifecycle", "maxResults": 100}
            if token:
                arguments["nextToken"] = token
            started = time.perf_counter()
            page = ecr.get_lifecycle_policy_preview(**arguments)
            page_seconds.append(time.perf_counter() - started)
            count = page["summary"]["expiringImageTotalCount"]
            token = page.get("nextToken")
            if not token:
                break
    return start_seconds, sum(page_seconds) / len(page_seconds), count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="repository size (images)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="number of timed runs, of which the best counts"
    )
    parser.add_argument(
        "--preview-pages", type=int, default=50,
        help="GetLifecyclePolicyPreview pages to time after a preview through mock_ecr (0 skips it)",
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

    if arguments.preview_pages:
        start_seconds, page_seconds, expiring = time_preview(text, images, arguments.preview_pages)
        print(f"StartLifecyclePolicyPreview (evaluates once): {start_seconds:.3f} s, {expiring} images would expire")
        print(f"GetLifecyclePolicyPreview, mean of {arguments.preview_pages} pages of 100: {page_seconds * 1000:.1f} ms")
    return 0 if best <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
