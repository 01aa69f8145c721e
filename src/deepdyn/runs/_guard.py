"""The main-guard check of local sweeps: refuse, before any worker starts, a pool that cannot work.

Local sweep workers are started with multiprocessing's ``spawn``, which re-imports the script
that started the sweep (as ``__mp_main__``) in every worker. A script that calls ``sweep`` at
its top level, outside ``if __name__ == "__main__":``, would start the sweep again inside each
worker while it bootstraps; multiprocessing refuses that, every worker dies and every config
would be stored as failed (``worker lost: BrokenProcessPool``) with nothing saying why. The
check mirrors spawn's own rule for which main module it re-runs (a file run as a script or a
module run with ``-m``; not a package's ``__main__``, not ``-c``, stdin or an interactive
session) and finds the line of that module that led to the call.
"""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path


def _rerun_by_spawn(main: types.ModuleType) -> Path | None:
    """The file of ``main`` when spawn re-runs it in each worker, else None."""
    spec = getattr(main, "__spec__", None)
    if spec is not None and (spec.name == "__main__" or spec.name.endswith(".__main__")):
        return None  # spawn skips a package's __main__ (python -m package)
    path = getattr(main, "__file__", None)
    if not isinstance(path, str) or path.startswith("<") or not Path(path).is_file():
        return None  # -c, stdin, an interactive session or a notebook: nothing is re-run
    return Path(path)


def _is_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    strings = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(strings) == 1


def _guarded(tree: ast.Module, line: int) -> bool:
    """Whether the statement at ``line`` of the module lies inside a main guard."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_guard(node):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end:
                return True
    return False


def unguarded_line() -> tuple[Path, int] | None:
    """``(file, line)`` of the unguarded top-level statement of the main script that is running
    now (leading to this call), or None when spawned workers would not re-run it."""
    main = sys.modules.get("__main__")
    if main is None:
        return None
    path = _rerun_by_spawn(main)
    if path is None:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>":
            break
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return None  # not called from the main module's top level (e.g. a thread, a callback)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    line = frame.f_lineno
    return None if _guarded(tree, line) else (path, line)


def check_main_guard(workers: int) -> None:
    """ValueError (one line, with the fix) when a pool of ``workers`` spawned processes would
    re-run the sweep from the main script; nothing has started when it is raised."""
    found = unguarded_line()
    if found is None:
        return
    path, line = found
    raise ValueError(
        f"{path.name}, line {line}: a sweep with workers={workers} starts worker processes that "
        "re-import this script, so it must not start the sweep when imported: put that code "
        'under `if __name__ == "__main__":` (or use workers=1); nothing was run'
    )
