"""docs/performance.md, written from one run's tables (placeholder, filled in below)."""

from __future__ import annotations


def render(texts: dict[str, str], figures: dict[str, dict[str, float]], verdict: str, context: str, *,
           quick: bool, command: str) -> str:
    parts = [f"# Performance\n\n`{command}`\n\nMachine: {context}\n\n## Targets\n\n{verdict}\n"]
    for name, text in texts.items():
        parts.append(f"## {name}\n\n{text}\n")
    return "\n".join(parts)
