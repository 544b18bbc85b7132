"""What `lambdakit package` prints: per artifact its sizes, files and biggest entries; then the notes."""

from __future__ import annotations

from lambdakit.packaging import Package
from lambdakit.packaging.artifact import Artifact
from lambdakit.packaging.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT

TOP = 8


def size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} MB"
    return f"{count / 1024:.1f} KB"


def artifact_lines(artifact: Artifact, top: int = TOP, shares: bool = True) -> list[str]:
    """`shares`: with the share of Lambda's limits (not for Lambda@Edge artifacts, whose limits are smaller)."""
    zipped = f" ({artifact.size * 100 // ZIPPED_LIMIT}% of 50 MB)" if shares else ""
    unzipped = f" ({artifact.unzipped * 100 // UNZIPPED_LIMIT}% of 250 MB)" if shares else ""
    lines = [
        f"{artifact.path.name}: {size(artifact.size)} zipped{zipped}, {size(artifact.unzipped)} unzipped"
        f"{unzipped}, {artifact.files} files, sha256 {artifact.sha256[:16]}",
    ]
    width = max((len(name) for name, _ in artifact.contents[:top]), default=0)
    lines += [f"    {name.ljust(width)}  {size(count):>9}" for name, count in artifact.contents[:top]]
    if len(artifact.contents) > top:
        rest = sum(count for _, count in artifact.contents[top:])
        lines.append(f"    {f'{len(artifact.contents) - top} more'.ljust(width)}  {size(rest):>9}")
    return lines


def describe(result: Package) -> str:
    lines: list[str] = []
    for index, artifact in enumerate(result.artifacts):  # the service's first, then its edge functions'
        lines += artifact_lines(artifact, shares=index == 0)
    templates = ["template.yaml", *(f"template-{stack.key}.yaml" for stack in result.stacks)]
    lines.append(f"templates: {', '.join(templates)} in {result.out}")
    if result.notes:
        lines.append("notes:")
        lines += [f"  - {note}" for note in result.notes]
    return "\n".join(lines)
