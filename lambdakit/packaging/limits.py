"""Lambda's size limits for a zip deployment package, checked before anything is uploaded."""

from __future__ import annotations

from collections.abc import Sequence

#: A zip uploaded directly to Lambda (the API, or a console upload): 50 MB.
ZIPPED_LIMIT = 50 * 1024 * 1024
#: The function's code unzipped, layers included: 250 MB, however it is uploaded.
UNZIPPED_LIMIT = 250 * 1024 * 1024
TOP_ENTRIES = 5


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def biggest(contents: Sequence[tuple[str, int]], count: int = TOP_ENTRIES) -> str:
    return ", ".join(f"{name} ({megabytes(size)})" for name, size in contents[:count])


def size_problems(name: str, contents: Sequence[tuple[str, int]], unzipped: int, zipped: int | None) -> list[str]:
    """What is over Lambda's limits in artifact `name`, naming its biggest entries and the fix."""
    fix = (
        "drop from the declared dependencies what the functions do not import, keep data files in S3, "
        "or split the service"
    )
    problems = []
    if unzipped > UNZIPPED_LIMIT:
        problems.append(
            f"{name}: {megabytes(unzipped)} unzipped is over Lambda's {megabytes(UNZIPPED_LIMIT)} limit for a "
            f"function's code; the biggest entries: {biggest(contents)}; {fix}"
        )
    if zipped is not None and zipped > ZIPPED_LIMIT:
        problems.append(
            f"{name}: {megabytes(zipped)} zipped is over Lambda's {megabytes(ZIPPED_LIMIT)} limit for a zip "
            f"deployment package; the biggest entries (unzipped): {biggest(contents)}; {fix}"
        )
    return problems
