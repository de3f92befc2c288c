"""``python -m flow.benchmarks``: which benchmarks there are, each with its purpose, read from its module's
docstring without importing it (a benchmark loads TensorFlow, hls4ml or a whole build)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path


def benchmarks() -> dict[str, str]:
    """Each benchmark module's name and the first paragraph of its docstring, on one line."""
    found = {}
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found[path.stem] = " ".join(doc.split("\n\n", 1)[0].split()).replace("``", "")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    found = benchmarks()
    listing = "\n".join(f"  {name:14s} {purpose}" for name, purpose in found.items())
    text = (f"usage: python -m flow.benchmarks.NAME [ARGS ...]; 'python -m flow.benchmarks.NAME --help' tells one's "
            f"arguments\n\nbenchmarks (each prints figures; none is a test):\n{listing}")
    if args and args not in (["-h"], ["--help"]):
        meant = f" (here: {' '.join([f'python -m flow.benchmarks.{args[0]}', *args[1:]])})" if args[0] in found else ""
        print(f"error: python -m flow.benchmarks takes no arguments (given: {' '.join(args)}): it lists the benchmarks; "
              f"run one as python -m flow.benchmarks.NAME{meant}\n\n{text}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
