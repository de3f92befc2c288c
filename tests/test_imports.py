"""The modules' imports point downward: no module imports one that imports it back (at import time or inside
a function), so each can be read, tested and moved with what is below it alone; the hls4ml adapter and the
export never reach ``flow.api``, which imports them."""
import ast
from collections import defaultdict

from .conftest import REPO


def _imports() -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its source (a package stands for its __init__)."""
    files = [*(REPO / "flow").rglob("*.py"), *(REPO / "keras_models").rglob("*.py")]
    modules = {}
    for path in files:
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                named = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
                targets = named or [target]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return {name: graph[name] for name in modules}


def _reach(graph: dict, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_no_module_imports_one_that_imports_it_back():
    graph = _imports()
    assert len(graph) > 50 and "flow.hls.plan" in graph["flow.config"]  # the walk sees imports, lazy ones too
    circles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in _reach(graph, b)})
    assert circles == [], f"imports that come back round: {circles}"


def test_the_hls4ml_adapter_and_the_export_never_reach_the_api():
    graph = _imports()
    for module in [m for m in graph if m.startswith(("flow.hls", "flow.export"))]:
        assert "flow.api" not in _reach(graph, module), module
