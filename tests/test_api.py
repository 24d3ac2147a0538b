"""The public API (docs/design.md "Style": a package ``__init__`` with a sorted ``__all__`` that a
test guards;
docs/design.md "Public API": names that tests and outside checks call)."""

import ast
import re
from importlib import metadata
from pathlib import Path

import pytest

import ntsec

INIT = Path(ntsec.__file__)


def test_all_is_sorted() -> None:
    assert sorted(ntsec.__all__) == list(ntsec.__all__)


def test_all_has_no_duplicates() -> None:
    assert len(set(ntsec.__all__)) == len(ntsec.__all__)


@pytest.mark.parametrize("name", ntsec.__all__)
def test_every_public_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from ntsec import {name}", namespace)
    assert namespace[name] is getattr(ntsec, name)


def test_every_imported_public_looking_name_is_exported() -> None:
    """Names ``__init__`` imports without an underscore are the public API; each must be listed
    in ``__all__`` (or the import is dead weight that pretends to be API)."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert set() == {n for n in imported if not n.startswith("_")} - set(ntsec.__all__)


@pytest.mark.parametrize(
    "name",
    [
        # docs/design.md "Public API (keep these names; tests and outside checks call them)".
        "ObjectType",
        "SecurityDescriptor",
        "Sid",
        "Token",
        "access_check",
        "whoami",
    ],
)
def test_design_names_are_public(name: str) -> None:
    assert name in ntsec.__all__


@pytest.mark.parametrize(
    "member",
    [
        "FILE",
        "DIRECTORY",
        "REGISTRY_KEY",
        "PROCESS",
        "THREAD",
        "TOKEN",
        "SERVICE",
        "SERVICE_CONTROL_MANAGER",
        "NAMED_PIPE",
        "DS_OBJECT",
    ],
)
def test_design_object_types_exist(member: str) -> None:
    assert member in ntsec.ObjectType.__members__


@pytest.mark.parametrize("method", ["from_sddl", "to_sddl", "from_bytes", "to_bytes"])
def test_descriptor_codec_entry_points(method: str) -> None:
    assert callable(getattr(ntsec.SecurityDescriptor, method))


def test_sid_entry_points() -> None:
    sid = ntsec.Sid.parse("S-1-5-32-544")
    assert "S-1-5-32-544" == str(sid)
    # MS-DTYP 2.4.2.2: revision 1, 2 sub-authorities, authority 5, then 32 and 544 little-endian.
    assert bytes.fromhex("01020000000000052000000020020000") == sid.to_bytes()
    assert sid == ntsec.Sid.from_bytes(sid.to_bytes())


def test_version_matches_the_distribution() -> None:
    assert metadata.version("ntsec") == ntsec.__version__


def test_readme_python_tour_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """README.md's Python block runs as shown (from the repository root, where it reads a
    vector file)."""
    readme = INIT.parents[2] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text("utf-8"), flags=re.DOTALL)
    assert 1 <= len(blocks)
    monkeypatch.chdir(readme.parent)
    for block in blocks:
        exec(compile(block, str(readme), "exec"), {"print": lambda *_: None})


def test_every_error_class_is_exported_and_in_the_documented_tree() -> None:
    """Each exception class of ntsec.errors is public and drawn in the module's tree."""
    from ntsec import errors

    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, ntsec.Error)
    }
    assert set() == classes - set(ntsec.__all__)
    assert set() == {name for name in classes if name not in (errors.__doc__ or "")}
