"""Inner layers never import outer ones (docs/design.md "Layers"; docs/design.md "Style").

Every module under src/ntsec is parsed with ``ast`` (nothing is imported, so a module that
would fail to import is still checked) and each import is held against its layer's rule:

* ``ntsec.errors``: the standard library only;
* ``model``: the standard library, ``ntsec.errors`` and ``ntsec.model``;
* ``codec``: that and ``ntsec.codec``; ``authz``: that and ``ntsec.authz``;
* ``system``: that and ``ntsec.system``, plus ``sqlite3`` (which no inner layer may use);
* ``audit`` and ``ui`` (what the front ends share): anything but the front ends (``cli``, ``web``);
* ``web``: anything but ``cli`` (what both need lives in ``ui`` or lower);
* ``cli``, the package ``__init__`` and ``__main__``: anything.

Imports inside functions count like any other, with one documented exception:
``model/descriptor.py`` binds the codec entry points (``SecurityDescriptor.from_sddl`` ...) by
importing ``ntsec.codec`` inside those methods. ``importlib.import_module("...")`` with a
constant name counts as an import.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import ntsec

SRC = Path(ntsec.__file__).parent

_INNER = ("ntsec.errors", "ntsec.model", "ntsec.codec", "ntsec.authz", "ntsec.system")
_FRONT_ENDS = ("ntsec.cli", "ntsec.web")


@dataclass(frozen=True)
class Rule:
    """What a layer may import: these ntsec packages, and optionally third-party packages."""

    ntsec: tuple[str, ...]
    third_party: bool = False
    sqlite: bool = False
    forbidden_ntsec: tuple[str, ...] = ()


RULES: dict[str, Rule] = {
    "ntsec.errors": Rule(_INNER[:1]),
    "ntsec.model": Rule(_INNER[:2]),
    "ntsec.codec": Rule(_INNER[:3]),
    "ntsec.authz": Rule(_INNER[:4]),
    "ntsec.system": Rule(_INNER[:5], sqlite=True),
    "ntsec.audit": Rule(("ntsec",), third_party=True, sqlite=True, forbidden_ntsec=_FRONT_ENDS),
    "ntsec.ui": Rule(("ntsec",), third_party=True, forbidden_ntsec=_FRONT_ENDS),
    "ntsec.web": Rule(("ntsec",), third_party=True, forbidden_ntsec=("ntsec.cli",)),
}

#: The one exception: (module, imported package) allowed inside function bodies only.
LAZY_EXCEPTIONS = {("ntsec.model.descriptor", "ntsec.codec")}


def layer_of(module: str) -> str | None:
    """The layer whose rule applies to ``module``; None for the unrestricted ones."""
    for layer in RULES:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@dataclass(frozen=True)
class Import:
    name: str
    line: int
    in_function: bool


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[Import] = []
        self._depth = 0

    def _add(self, name: str, node: ast.AST) -> None:
        self.found.append(Import(name, getattr(node, "lineno", 0), self._depth > 0))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target == "ntsec" or (node.level and not node.module):
            # "from ntsec import codec" imports ntsec.codec; "from ntsec import Sid" reaches
            # through the package root, which inner layers may not do either.
            for alias in node.names:
                self._add(f"{target}.{alias.name}", node)
        else:
            self._add(target, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if (
            called in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            self._add(node.args[0].value, node)
        self.generic_visit(node)


def imports_of(module: str, source: str, is_package: bool = False) -> list[Import]:
    collector = _Collector(module, is_package)
    collector.visit(ast.parse(source))
    return collector.found


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Human-readable rule breaks of ``module`` (whose text is ``source``)."""
    layer = layer_of(module)
    if layer is None:
        return []
    rule = RULES[layer]
    out: list[str] = []
    for imp in imports_of(module, source, is_package):
        top = imp.name.partition(".")[0]
        if top == "ntsec":
            allowed = any(_within(imp.name, p) for p in rule.ntsec) and not any(
                _within(imp.name, p) for p in rule.forbidden_ntsec
            )
            lazy_ok = imp.in_function and any(
                m == module and _within(imp.name, p) for m, p in LAZY_EXCEPTIONS
            )
            if not (allowed or lazy_ok):
                out.append(f"{module}:{imp.line} imports {imp.name} ({layer} may not)")
        elif top == "sqlite3":
            if not rule.sqlite:
                out.append(f"{module}:{imp.line} imports sqlite3 (only system may)")
        elif top not in sys.stdlib_module_names and top != "__future__" and not rule.third_party:
            out.append(f"{module}:{imp.line} imports third-party {imp.name} ({layer}: stdlib only)")
    return out


MODULES = sorted(SRC.rglob("*.py"))


def test_the_tree_has_modules_in_every_restricted_layer() -> None:
    # Guards against the walk silently finding nothing (a moved source tree would pass vacuously).
    layers = {layer_of(module_name(p)) for p in MODULES}
    assert {"ntsec.errors", "ntsec.model", "ntsec.codec", "ntsec.authz"} <= layers


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_module_respects_its_layer(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert [] == violations(module_name(path), source, path.name == "__init__.py")


# --- the checker itself: each rule must be able to fail -----------------------------------


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("ntsec.model.sid", "import ntsec.codec.sddl", ["1 ntsec.codec.sddl"]),
        ("ntsec.model.sid", "from ntsec.authz import access", ["1 ntsec.authz"]),
        ("ntsec.model.sid", "from ntsec import Sid", ["1 ntsec.Sid"]),
        ("ntsec.model.sid", "from ..codec import binary", ["1 ntsec.codec"]),
        ("ntsec.model.sid", "import sqlite3", ["1 sqlite3"]),
        ("ntsec.model.sid", "import click", ["1 third-party click"]),
        ("ntsec.codec.sddl", "from ntsec.system import store", ["1 ntsec.system"]),
        ("ntsec.authz.access", "import ntsec.cli", ["1 ntsec.cli"]),
        ("ntsec.system.store", "import dask", ["1 third-party dask"]),
        ("ntsec.errors", "from ntsec.model.sid import Sid", ["1 ntsec.model.sid"]),
        ("ntsec.audit.run", "import ntsec.cli", ["1 ntsec.cli"]),
        ("ntsec.web._views", "from ntsec.cli._render import describe", ["1 ntsec.cli._render"]),
        ("ntsec.web._machine", "def f():\n    from ntsec.cli import _machine", ["2 ntsec.cli"]),
        ("ntsec.ui.describe", "from ntsec.web import _views", ["1 ntsec.web"]),
        (
            "ntsec.codec.x",
            "import importlib\nimportlib.import_module('ntsec.web')",
            ["2 ntsec.web"],
        ),
        (
            "ntsec.model.acl",
            "def f():\n    from ntsec.codec import binary",
            ["2 ntsec.codec"],
        ),
        (
            "ntsec.model.descriptor",
            "from ntsec.codec import sddl",
            ["1 ntsec.codec"],
        ),
    ],
)
def test_checker_reports_outward_imports(module: str, source: str, expected: list[str]) -> None:
    # Each violation reads "<module>:<line> imports <name> (<why>)"; compare "<line> <name>".
    found = [
        v.partition(" (")[0].partition(":")[2].replace(" imports ", " ", 1)
        for v in violations(module, source)
    ]
    assert expected == found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("ntsec.model.descriptor", "def f():\n    from ntsec.codec import sddl"),
        ("ntsec.model.acl", "from ntsec.model.ace import Ace\nfrom ntsec.errors import Error"),
        ("ntsec.model.acl", "from .ace import Ace\nfrom ..errors import Error"),
        ("ntsec.codec.sddl", "import struct, uuid\nfrom ntsec.model import sid"),
        ("ntsec.authz.access", "from ntsec.codec import binary\nfrom ntsec.authz import inherit"),
        ("ntsec.system.store", "import sqlite3\nfrom ntsec.authz.access import access_check"),
        ("ntsec.audit.run", "import dask\nfrom ntsec.system import machine"),
        ("ntsec.cli.sddl", "import click\nfrom ntsec.web import app"),
    ],
)
def test_checker_accepts_inward_imports(module: str, source: str) -> None:
    assert [] == violations(module, source)
