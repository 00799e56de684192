"""What the attack scenarios look at afterwards: the processes' logs, files and memory, the rows
they stored, the responses they sent, and the source itself.
"""

from __future__ import annotations

import ast
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson

from tests.e2e.stack import Stack

# Every table a request writes to (constants: no input reaches the SQL that reads them).
TABLES = (
    "usage_events",
    "audit_log",
    "api_keys",
    "backends",
    "refresh_sessions",
    "users",
    "invites",
)


class Answer(Protocol):
    """An HTTP response as httpx and the `openai` SDK's raw responses both show it."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    @property
    def text(self) -> str: ...


def as_text(response: Answer) -> str:
    """Status line, headers and body: everything a client gets to see of a response."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.multi_items())
    return f"{response.status_code}\n{headers}\n\n{response.text}"


def log_lines(stack: Stack) -> dict[str, list[str]]:
    """Every line every process has logged so far (files of earlier runs included), by file."""
    return {
        path.name: path.read_text(encoding="utf-8", errors="replace").splitlines()
        for path in sorted(stack.workdir.glob("*.log"))
    }


def is_one_json_object(line: str) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def files_on_disk(stack: Stack) -> dict[str, str]:
    """Every process's log, and every file under the routers' homes (their usage spools)."""
    places = {
        f"log {path.name}": path.read_text(encoding="utf-8", errors="replace")
        for path in stack.workdir.glob("*.log")
    }
    for router in stack.routers:
        for path in (stack.workdir / router).rglob("*"):
            if path.is_file():
                name = f"file {path.relative_to(stack.workdir)}"
                places[name] = path.read_bytes().decode("latin-1")
    return places


async def stored_rows(stack: Stack) -> dict[str, str]:
    """Every row of every table requests write to, as JSON text, by table."""
    rows = {}
    for table in TABLES:
        found = await stack.fetch(f"SELECT row_to_json(t)::text FROM {table} t")
        rows[f"table {table}"] = "\n".join(row[0] for row in found)
    return rows


def resident_bytes(pid: int) -> int:
    """A process's resident set size (VmRSS), in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@contextlib.contextmanager
def peak_growth(pid: int, every: float = 0.01) -> Iterator[list[int]]:
    """While the block runs, a thread samples the process's resident memory; on exit the
    yielded list holds one number: how far above its starting point it ever got, in bytes."""
    start = resident_bytes(pid)
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            peak[0] = max(peak[0], resident_bytes(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    growth: list[int] = []
    try:
        yield growth
    finally:
        done.set()
        sampler.join()
        growth.append(max(peak[0], resident_bytes(pid)) - start)


# --- the source: what could turn input into code or SQL -----------------------------------------

_BUILTINS = {"eval", "exec", "compile", "__import__"}
_TEMPLATES = {"Template", "Environment"}  # string.Template, jinja2 and the like
_DYNAMIC_MODULES = {"subprocess", "jinja2", "mako", "pickle", "marshal", "shelve"}
_SQL_CALLS = {"text", "exec_driver_sql", "execute", "executemany", "fetch", "fetchrow", "fetchval"}


def _runs_code(function: ast.expr) -> bool:
    """eval() and friends, os.system/popen/exec*/spawn*, or a template being built."""
    if isinstance(function, ast.Name):
        return function.id in _BUILTINS | _TEMPLATES
    if not isinstance(function, ast.Attribute):
        return False
    if isinstance(function.value, ast.Name) and function.value.id == "os":
        return function.attr in ("system", "popen") or function.attr.startswith(("exec", "spawn"))
    return function.attr in _TEMPLATES


def _is_built(node: ast.expr) -> bool:
    """An f-string, a concatenation, a %-format or a .format() call."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _builds_sql(call: ast.Call, called: str) -> bool:
    if not call.args or called not in _SQL_CALLS:
        return False
    text = call.args[0]
    return _is_built(text) or (
        called in ("text", "exec_driver_sql") and not isinstance(text, ast.Constant)
    )


class SourceScan(ast.NodeVisitor):
    """Walks one module: `code` lists what runs code or imports a module that does; `sql`
    collects (module, function) of every place that builds SQL text at run time."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.function = "<module>"
        self.code: list[str] = []
        self.sql: set[tuple[str, str]] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_FunctionDef(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        names = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        for name in names:
            if name.split(".")[0] in _DYNAMIC_MODULES:
                self.code.append(f"{self.module}:{node.lineno} imports {name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.visit_Import(node)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        called = (
            function.id if isinstance(function, ast.Name) else str(getattr(function, "attr", ""))
        )
        if _runs_code(node.func):
            self.code.append(f"{self.module}:{node.lineno} calls {called}")
        if _builds_sql(node, called):
            self.sql.add((self.module, self.function))
        self.generic_visit(node)


def scan_sources(root: Path) -> tuple[list[str], set[tuple[str, str]]]:
    """(code runners, SQL builders) in every module under `root`."""
    code: list[str] = []
    sql: set[tuple[str, str]] = set()
    for path in sorted(root.rglob("*.py")):
        scan = SourceScan(path.relative_to(root).as_posix())
        scan.visit(ast.parse(path.read_text(encoding="utf-8")))
        code += scan.code
        sql |= scan.sql
    return code, sql
