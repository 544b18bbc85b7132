"""Publish a site's folder to its bucket after `sam deploy`: only what changed, in an order no visitor can notice.

The bucket and distribution come from the stack (`SiteBucketName`, `SiteDistributionId`);
headers come from `lambdakit.derive.site` (`cache_control`, `content_type`), the same rules
`lambdakit local` serves with. Three choices make a release safe while people are on the site:

- a file is put only when its MD5 differs from the object's ETag (what S3 gives a single-part
  PutObject on an SSE-S3 bucket, as the template's is), so a release costs what changed;
- hashed assets go up before the files that name them (`index.html` last): an entry file never
  points at an asset that is not there yet;
- files gone from the folder stay in the bucket unless `prune=True`, and even then hashed assets
  stay: a page loaded before the release still asks for the old ones.

Only revalidated files (entry files, `robots.txt`) are invalidated, with one request that is not
waited for; hashed assets are new names, so CloudFront has nothing cached under them.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lambdakit.derive.site import IMMUTABLE, WEB_DOT_FOLDERS, cache_control, content_type

#: boto3 clients are built per service at run time, and boto3-stubs' per-service packages are not installed.
Client = Any

#: Dot folders that are part of the web (RFC 8615), uploaded though their name starts with a dot.
#: CloudFront refuses an invalidation while more than 3000 file paths are in progress; beyond, one `/*`.
MAX_PATHS = 3000
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
_CHUNK = 1 << 20


class UploadError(RuntimeError):
    """S3 or CloudFront accepted the call but refused part of it (DeleteObjects answers per key)."""


@dataclass(frozen=True)
class LocalFile:
    """A file of the folder as it would be stored: its key, and the MD5 hex S3 would give as its ETag."""

    key: str
    path: Path
    md5: str
    size: int

    @property
    def immutable(self) -> bool:
        return is_immutable(self.key)


@dataclass(frozen=True)
class Upload:
    """What a release changes: `put` in upload order (hashed assets, other files, then HTML), the rest sorted."""

    put: tuple[LocalFile, ...]  # new or changed
    unchanged: tuple[str, ...]
    gone: tuple[str, ...]  # in the bucket, no longer in the folder

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.put)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.put)


@dataclass(frozen=True)
class Result:
    """What `upload_site` did, for the CLI's summary line."""

    uploaded: tuple[str, ...]  # in upload order (tier by tier; within a tier, in parallel)
    uploaded_bytes: int
    unchanged: int
    deleted: tuple[str, ...]  # gone keys removed (prune=True)
    kept: tuple[str, ...]  # gone keys left in the bucket
    paths: tuple[str, ...]  # the invalidation's paths
    invalidation_id: str | None  # None when nothing revalidated changed
    notes: tuple[str, ...] = ()  # what else the release did (`rollout=`: which release serves whom)


def is_immutable(key: str) -> bool:
    return cache_control(key) == IMMUTABLE


def md5_of(path: Path) -> str:
    """The file's MD5 hex, read in chunks: a site may hold videos."""
    digest = hashlib.md5(usedforsecurity=False)  # S3's ETag, not a security measure
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def site_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(key, path) of every file to publish, sorted; dotfiles and dot folders (`.git`, `.DS_Store`) are not."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") or d in WEB_DOT_FOLDERS)
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(folder) / name
                yield path.relative_to(root).as_posix(), path


def _tier(key: str) -> int:
    """Upload order: hashed assets, then other files (images a page names without a hash), then HTML."""
    if is_immutable(key):
        return 0
    return 2 if content_type(key).startswith("text/html") else 1


def plan_upload(root: Path, existing: Mapping[str, str], prefix: str = "") -> Upload:
    """Compare the folder with the bucket (`existing`: key -> ETag without quotes, the keys under `prefix`).

    `prefix` is where the folder goes in the bucket: `variants/NAME/` for an A/B variant, `releases/ID/` for
    a release (`lambdakit.derive.routing`); empty for a plain site.
    """
    put: list[LocalFile] = []
    unchanged: list[str] = []
    seen: set[str] = set()
    for key, path in site_files(root):
        key = prefix + key
        seen.add(key)
        found = LocalFile(key, path, md5_of(path), path.stat().st_size)
        if existing.get(key) == found.md5:
            unchanged.append(key)
        else:  # new, changed, or a multipart ETag (`...-3`) that no MD5 matches: put once, matched from then on
            put.append(found)
    put.sort(key=lambda f: (_tier(f.key), f.key))
    gone = sorted(set(existing) - seen)
    return Upload(tuple(put), tuple(unchanged), tuple(gone))


def list_etags(s3: Client, bucket: str, prefix: str = "") -> dict[str, str]:
    """key -> ETag (quotes stripped) of the bucket's current objects (those under `prefix`)."""
    out: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            out[item["Key"]] = item["ETag"].strip('"')
    return out


def invalidation_paths(keys: Iterable[str], index: str = "index.html") -> tuple[str, ...]:
    """CloudFront paths of revalidated keys, URL-encoded (`*` in a key would be a wildcard); the index also `/`."""
    paths: list[str] = []
    for key in keys:
        if is_immutable(key):
            continue
        paths.append("/" + quote(key))
        if key == index:
            paths.append("/")
    return tuple(paths) if len(paths) <= MAX_PATHS else ("/*",)


def _put(s3: Client, bucket: str, file: LocalFile) -> None:
    with file.path.open("rb") as body:
        s3.put_object(
            Bucket=bucket,
            Key=file.key,
            Body=body,
            ContentType=content_type(file.key),
            CacheControl=cache_control(file.key),
        )


def upload_site(
    root: Path,
    bucket: str,
    distribution_id: str,
    s3_client: Client,
    cloudfront_client: Client,
    *,
    prune: bool = False,
    index: str = "index.html",
    workers: int = 8,
    prefix: str = "",
) -> Result:
    """Put what changed (each tier finished before the next starts), prune if asked, and start one invalidation.

    Returns as soon as CloudFront has accepted the invalidation: it completes in the background,
    and revalidated files are `no-cache` anyway.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"the site folder {root} does not exist; build the site into it first")
    plan = plan_upload(root, list_etags(s3_client, bucket, prefix), prefix)
    _put_in_order(s3_client, bucket, plan, workers)
    deleted = tuple(key for key in plan.gone if prune and not is_immutable(key))
    for start in range(0, len(deleted), _DELETE_BATCH):
        batch_keys = deleted[start : start + _DELETE_BATCH]
        answer = s3_client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch_keys], "Quiet": True}
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise UploadError(f"could not delete {first.get('Key')} from {bucket}: {first.get('Message')}")
    paths = invalidation_paths([*plan.keys, *deleted], index)
    invalidation_id = None
    if paths:
        answer = cloudfront_client.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": list(paths)},
                "CallerReference": f"lambdakit-{uuid.uuid4()}",  # the same reference twice is one invalidation
            },
        )
        invalidation_id = str(answer["Invalidation"]["Id"])
    return Result(
        uploaded=plan.keys,
        uploaded_bytes=plan.size,
        unchanged=len(plan.unchanged),
        deleted=deleted,
        kept=tuple(key for key in plan.gone if key not in deleted),
        paths=paths,
        invalidation_id=invalidation_id,
    )


def _put_in_order(s3_client: Client, bucket: str, plan: Upload, workers: int) -> None:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # boto3 clients are thread-safe
        for tier in (0, 1, 2):
            batch = [f for f in plan.put if _tier(f.key) == tier]
            for done in [pool.submit(_put, s3_client, bucket, f) for f in batch]:
                done.result()  # a failure stops before the next tier: entry files keep naming old assets


def upload_files(root: Path, bucket: str, s3_client: Client, *, prefix: str, workers: int = 8) -> Result:
    """Put what is new or changed under `prefix`, in the same order, and nothing else: no prune, no
    invalidation. For a release's immutable prefix, whose keys no cache holds before the release is named."""
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"the site folder {root} does not exist; build the site into it first")
    plan = plan_upload(root, list_etags(s3_client, bucket, prefix), prefix)
    _put_in_order(s3_client, bucket, plan, workers)
    return Result(plan.keys, plan.size, len(plan.unchanged), (), plan.gone, (), None)


def stack_outputs(cloudformation_client: Client, stack: str) -> dict[str, str]:
    """OutputKey -> OutputValue of a deployed stack."""
    stacks = cloudformation_client.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
