"""(e) Package size: what lambdakit adds to a function's deployment artifact beyond its dependencies."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.common import table


def _zipped(files: list[Path], root: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return len(buffer.getvalue())


def run() -> dict[str, Any]:
    """Copy (and compile) the runtime exactly as `lambdakit build` does, then measure it raw and zipped."""
    import sys

    from lambdakit.build import compile_code, copy_runtime

    tmp = Path(tempfile.mkdtemp(prefix="lk-bench-size-"))
    try:
        copy_runtime(tmp)
        compile_code(tmp, f"python{sys.version_info.major}.{sys.version_info.minor}")
        root = tmp / "lambdakit"
        files = sorted(p for p in root.rglob("*") if p.is_file())
        groups: dict[str, list[Path]] = {}
        for path in files:
            rel = path.relative_to(root)
            folder = rel.parts[0] + "/" if len(rel.parts) > 1 and rel.parts[0] != "__pycache__" else "lambdakit/"
            kind = "bytecode (.pyc)" if path.suffix == ".pyc" else "source"
            groups.setdefault(f"{folder} {kind}", []).append(path)
        rows = {
            name: (len(paths), sum(p.stat().st_size for p in paths), _zipped(paths, tmp))
            for name, paths in groups.items()
        }
        total = (len(files), sum(p.stat().st_size for p in files), _zipped(files, tmp))
        return {"rows": rows, "total": total}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(result: dict[str, Any]) -> tuple[str, dict[str, float]]:
    rows = [
        [name, n, f"{size / 1024:.1f} KB", f"{zipped / 1024:.1f} KB"]
        for name, (n, size, zipped) in sorted(result["rows"].items())
    ]
    source = sum(size for name, (_, size, _) in result["rows"].items() if name.endswith("source"))
    n, size, zipped = result["total"]
    rows.append(
        [
            "**lambdakit in the artifact**",
            n,
            f"{size / 1024:.1f} KB ({size / 1e6:.3f} MB)",
            f"{zipped / 1024:.1f} KB ({zipped / 1e6:.3f} MB)",
        ]
    )
    figures = {"bytes": float(size), "zipped": float(zipped), "source": float(source)}
    return table(["part of src/lambdakit", "files", "bytes", "zipped"], rows), figures
