"""Access masks: generic mappings per object type, right names, parsing (docs/rules.md C).

Windows-verified sources: Wine's object_generic_mappings (DuplicateHandle with a generic right,
then the granted mask, run on Windows; tests/vectors/wine-windows.json) and the accepted
per-version variants of dlls/advapi32/tests/security.c test_process_access /
test_thread_security. Composite values: wine-windows.json meta.conventions and MS-DTYP 2.5.1.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntsec import InvalidValueError, ObjectType, ParseError
from ntsec.model.rights import (
    GENERIC_MAPPINGS,
    DirectoryAccessRights,
    DsAccessRights,
    FileAccessRights,
    GenericMapping,
    KeyAccessRights,
    NamedPipeAccessRights,
    ProcessAccessRights,
    ScmAccessRights,
    ServiceAccessRights,
    StandardRights,
    ThreadAccessRights,
    TokenAccessRights,
    implied_handle_rights,
    map_generic,
    parse_rights,
    right_names,
)

VECTORS = Path(__file__).parent / "vectors"
WINE: dict[str, Any] = json.loads((VECTORS / "wine-windows.json").read_text(encoding="utf-8"))
MAPPED: dict[str, dict[str, str]] = WINE["object_generic_mappings"]["types"]

GR, GW, GX, GA = 0x80000000, 0x40000000, 0x20000000, 0x10000000


def _as_tuple(mapping: GenericMapping) -> tuple[int, int, int, int]:
    return (mapping.read, mapping.write, mapping.execute, mapping.all)


# ----------------------------------------------------------------- generic mappings
@pytest.mark.parametrize(
    "object_type", [ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.NAMED_PIPE]
)
def test_file_and_pipe_mapping_wine(object_type: ObjectType) -> None:
    v = MAPPED["file_and_named_pipe"]
    expected = tuple(
        int(v[k], 16) for k in ("GENERIC_READ", "GENERIC_WRITE", "GENERIC_EXECUTE", "GENERIC_ALL")
    )
    assert expected == _as_tuple(object_type.mapping)
    # MS-DTYP 2.5.1.1: FR 0x120089, FW 0x120116, FX 0x1200A0, FA 0x1F01FF.
    assert (0x120089, 0x120116, 0x1200A0, 0x1F01FF) == _as_tuple(object_type.mapping)


# Wine's test_process_access / test_thread_security accept, for each generic bit, the mask of
# its table (older Windows) or that mask plus bits later versions add. The values below are the
# accepted alternatives written out from that test, labelled as the test labels them.
PROCESS_ACCEPTED = {
    "GENERIC_READ": {0x20410, 0x20410 | 0x1000},  # base | Vista+ QUERY_LIMITED
    "GENERIC_WRITE": {
        0x20BEA,
        0x20BEA | 0x1,  # before Vista: TERMINATE
        0x20BEA | 0x2000,  # win8: SET_LIMITED
        0x20BEA | 0x1000 | 0x2000,  # Win10 Anniversary Update: QUERY_LIMITED | SET_LIMITED
    },
    "GENERIC_EXECUTE": {0x120000, 0x120000 | 0x1000 | 0x1},  # Vista+: QUERY_LIMITED | TERMINATE
    "GENERIC_ALL": {0x1F0FFF, 0x1FFFFF},  # PROCESS_ALL_ACCESS NT4 / Vista
}
THREAD_ACCEPTED = {
    "GENERIC_READ": {0x20048, 0x20048 | 0x800, 0x20048 | 0x800 | 0x1000},  # Vista+ / win8
    "GENERIC_WRITE": {0x20037, 0x20037 | 0x400, 0x20037 | 0x400 | 0x1000},  # Vista+ / win8
    "GENERIC_EXECUTE": {0x120000, 0x120000 | 0x800, 0x120000 | 0x800 | 0x1000},
    "GENERIC_ALL": {0x1F03FF, 0x1FFFFF},  # THREAD_ALL_ACCESS NT4 / Vista
}
KEYS = ("GENERIC_READ", "GENERIC_WRITE", "GENERIC_EXECUTE", "GENERIC_ALL")


@pytest.mark.parametrize(
    ("object_type", "vector", "accepted"),
    [
        (ObjectType.PROCESS, "process", PROCESS_ACCEPTED),
        (ObjectType.THREAD, "thread", THREAD_ACCEPTED),
    ],
)
def test_process_thread_handle_rights_wine(
    object_type: ObjectType, vector: str, accepted: dict[str, set[int]]
) -> None:
    # Wine's values are a duplicated handle's granted access: the type's mapping, then the
    # rights the handle gains with it (implied_handle_rights). Each must be one Wine accepts.
    for key, generic in zip(KEYS, (0x80000000, 0x40000000, 0x20000000, 0x10000000), strict=True):
        handle = implied_handle_rights(object_type, object_type.mapping.map(generic))
        # The vector keeps the table's base value; every accepted variant contains it.
        base = int(MAPPED[vector][key].split()[0], 16)
        assert base in accepted[key]
        assert handle & base == base
        assert handle in accepted[key], key


def test_limited_rights_come_with_full_ones_on_handles() -> None:
    # Wine test_process_access / test_thread_security, run on Windows: DuplicateHandle with
    # PROCESS_QUERY_INFORMATION gives QUERY_INFORMATION | QUERY_LIMITED_INFORMATION (Vista+),
    # and THREAD_QUERY_INFORMATION likewise; Learn states it for the set rights too.
    assert 0x1400 == implied_handle_rights(ObjectType.PROCESS, 0x400)
    assert 0x2200 == implied_handle_rights(ObjectType.PROCESS, 0x200)
    assert 0x840 == implied_handle_rights(ObjectType.THREAD, 0x40)
    assert 0x420 == implied_handle_rights(ObjectType.THREAD, 0x20)
    assert 0x400 == implied_handle_rights(ObjectType.FILE, 0x400)
    assert 0x1000 == implied_handle_rights(ObjectType.PROCESS, 0x1000)


NT_TYPES = json.loads((VECTORS / "nt-object-types.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("build", sorted(NT_TYPES["builds"]))
@pytest.mark.parametrize(
    ("object_type", "kernel_type"),
    [
        (ObjectType.FILE, "File"),
        (ObjectType.DIRECTORY, "File"),
        (ObjectType.NAMED_PIPE, "File"),
        (ObjectType.REGISTRY_KEY, "Key"),
        (ObjectType.PROCESS, "Process"),
        (ObjectType.THREAD, "Thread"),
        (ObjectType.TOKEN, "Token"),
    ],
)
def test_kernel_object_mappings_are_windows_own(
    build: str, object_type: ObjectType, kernel_type: str
) -> None:
    # The GENERIC_MAPPING each kernel object type holds on Windows 10 (NtQueryObject
    # ObjectAllInformation, tests/vectors/nt-object-types.json). Where docs/rules.md C.2 lists
    # other numbers (ReactOS' process/thread values, Z.7; the KEY_EXECUTE and TOKEN_* constants,
    # Z.8), those are older kernels or documented constants, not the type's mapping: Windows
    # decides.
    row = NT_TYPES["builds"][build][kernel_type]
    assert tuple(int(row[k], 16) for k in KEYS) == _as_tuple(object_type.mapping)


@pytest.mark.parametrize(
    ("object_type", "expected"),
    [
        # docs/rules.md C.2 (user-mode objects without a kernel type, and DS objects).
        (ObjectType.SERVICE, (0x2008D, 0x20002, 0x20170, 0xF01FF)),
        (ObjectType.SERVICE_CONTROL_MANAGER, (0x20014, 0x20022, 0x20009, 0xF003F)),
        (ObjectType.DS_OBJECT, (0x20094, 0x20028, 0x20004, 0xF01FF)),
    ],
)
def test_other_mappings_semantics_c2(
    object_type: ObjectType, expected: tuple[int, int, int, int]
) -> None:
    assert expected == _as_tuple(object_type.mapping)


def test_every_object_type_has_a_mapping_and_rights() -> None:
    assert set(ObjectType) == set(GENERIC_MAPPINGS)
    for t in ObjectType:
        assert issubclass(t.rights, int)


@pytest.mark.parametrize("object_type", list(ObjectType))
def test_mapped_masks_have_no_generic_bits(object_type: ObjectType) -> None:
    for value in _as_tuple(object_type.mapping):
        assert 0 == value & 0xF0000000


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        # MS-DTYP 2.4.3: each generic bit ORs in its mapping and is cleared; other bits stay.
        (GR, 0x120089),
        (GR | GX, 0x1200A9),
        (GA | 0x01000000, 0x011F01FF),
        (GW | 0x1, 0x120117),
        (0x00020000, 0x00020000),
        (0, 0),
    ],
)
def test_map_generic_file(mask: int, expected: int) -> None:
    assert expected == ObjectType.FILE.mapping.map(mask)
    assert expected == map_generic(mask, ObjectType.FILE.mapping)


# ----------------------------------------------------------------- composite values
@pytest.mark.parametrize(
    ("member", "value"),
    [
        # wine-windows.json meta.conventions (the test's own constants) and MS-DTYP 2.5.1.1.
        (KeyAccessRights.KEY_READ, 0x20019),
        (KeyAccessRights.KEY_WRITE, 0x20006),
        (KeyAccessRights.KEY_EXECUTE, 0x20019),
        (KeyAccessRights.KEY_ALL_ACCESS, 0xF003F),
        (FileAccessRights.FILE_ALL_ACCESS, 0x1F01FF),
        (FileAccessRights.FILE_GENERIC_READ, 0x120089),
        (FileAccessRights.FILE_GENERIC_WRITE, 0x120116),
        (FileAccessRights.FILE_GENERIC_EXECUTE, 0x1200A0),
        (StandardRights.SYNCHRONIZE, 0x100000),
        (StandardRights.READ_CONTROL, 0x20000),
        (StandardRights.MAXIMUM_ALLOWED, 0x02000000),
        (StandardRights.ACCESS_SYSTEM_SECURITY, 0x01000000),
        # Wine's PROCESS_ALL_ACCESS_VISTA / THREAD_ALL_ACCESS_VISTA.
        (ProcessAccessRights.PROCESS_ALL_ACCESS, 0x1FFFFF),
        (ThreadAccessRights.THREAD_ALL_ACCESS, 0x1FFFFF),
        # docs/rules.md C.2 / C.3.
        (TokenAccessRights.TOKEN_ALL_ACCESS, 0xF01FF),
        (ServiceAccessRights.SERVICE_ALL_ACCESS, 0xF01FF),
        (ScmAccessRights.SC_MANAGER_ALL_ACCESS, 0xF003F),
    ],
)
def test_composite_values(member: int, value: int) -> None:
    assert value == member


@pytest.mark.parametrize(
    ("cls", "bits"),
    [
        # docs/rules.md C.3: the specific bits each type defines.
        (FileAccessRights, 0x1FF),
        (DirectoryAccessRights, 0x1FF),
        (NamedPipeAccessRights, 0x1FF),
        (KeyAccessRights, 0x3F),
        (ProcessAccessRights, 0x3FFF),
        (ThreadAccessRights, 0x1FFF),
        (TokenAccessRights, 0x1FF),
        (ServiceAccessRights, 0x1FF),
        (ScmAccessRights, 0x3F),
        (DsAccessRights, 0x1FF),
    ],
)
def test_specific_bits(cls: type, bits: int) -> None:
    single = 0
    for member in cls.__members__.values():
        if bin(int(member)).count("1") == 1 and int(member) <= 0xFFFF:
            single |= int(member)
    assert bits == single


# ----------------------------------------------------------------- right_names
@pytest.mark.parametrize(
    ("mask", "object_type", "expected"),
    [
        (0x1F01FF, ObjectType.FILE, ["FILE_ALL_ACCESS"]),
        (0x120089, ObjectType.FILE, ["FILE_GENERIC_READ"]),
        (0x1200A9, ObjectType.FILE, ["FILE_GENERIC_READ", "FILE_GENERIC_EXECUTE"]),
        (
            0x1301BF,
            ObjectType.FILE,
            ["FILE_GENERIC_READ", "FILE_GENERIC_WRITE", "FILE_GENERIC_EXECUTE", "DELETE"],
        ),
        (0x1, ObjectType.FILE, ["FILE_READ_DATA"]),
        (0x1, ObjectType.DIRECTORY, ["FILE_LIST_DIRECTORY"]),
        (0x20, ObjectType.DIRECTORY, ["FILE_TRAVERSE"]),
        (0x4, ObjectType.NAMED_PIPE, ["FILE_CREATE_PIPE_INSTANCE"]),
        (0x100003, ObjectType.NAMED_PIPE, ["FILE_READ_DATA", "FILE_WRITE_DATA", "SYNCHRONIZE"]),
        (0xF003F, ObjectType.REGISTRY_KEY, ["KEY_ALL_ACCESS"]),
        (0x20019, ObjectType.REGISTRY_KEY, ["KEY_READ"]),
        (0x1, ObjectType.REGISTRY_KEY, ["KEY_QUERY_VALUE"]),
        (0x1FFFFF, ObjectType.PROCESS, ["PROCESS_ALL_ACCESS"]),
        (0x1010, ObjectType.PROCESS, ["PROCESS_VM_READ", "PROCESS_QUERY_LIMITED_INFORMATION"]),
        (0x100, ObjectType.THREAD, ["THREAD_IMPERSONATE"]),
        (0x20008, ObjectType.TOKEN, ["TOKEN_READ"]),
        (0x20000, ObjectType.TOKEN, ["READ_CONTROL"]),
        (0x8, ObjectType.TOKEN, ["TOKEN_QUERY"]),
        (0x10, ObjectType.SERVICE, ["SERVICE_START"]),
        (0x1, ObjectType.SERVICE_CONTROL_MANAGER, ["SC_MANAGER_CONNECT"]),
        (0x10, ObjectType.DS_OBJECT, ["ADS_RIGHT_DS_READ_PROP"]),
        (0x104, ObjectType.DS_OBJECT, ["ADS_RIGHT_ACTRL_DS_LIST", "ADS_RIGHT_DS_CONTROL_ACCESS"]),
        (0, ObjectType.FILE, []),
        (
            0xF0000000,
            ObjectType.FILE,
            ["GENERIC_READ", "GENERIC_WRITE", "GENERIC_EXECUTE", "GENERIC_ALL"],
        ),
        (0x03000000, ObjectType.FILE, ["ACCESS_SYSTEM_SECURITY", "MAXIMUM_ALLOWED"]),
        (0x000F0000, ObjectType.FILE, ["DELETE", "READ_CONTROL", "WRITE_DAC", "WRITE_OWNER"]),
        (0x200, ObjectType.FILE, ["0x200"]),
        (0x00C00000, ObjectType.FILE, ["0x400000", "0x800000"]),
        (0x1, None, ["0x1"]),
        (0x80100001, None, ["SYNCHRONIZE", "GENERIC_READ", "0x1"]),
    ],
)
def test_right_names(mask: int, object_type: ObjectType | None, expected: list[str]) -> None:
    assert expected == right_names(mask, object_type)


@pytest.mark.parametrize("mask", [-1, 1 << 32])
def test_right_names_rejects_non_masks(mask: int) -> None:
    with pytest.raises(InvalidValueError):
        right_names(mask, ObjectType.FILE)


masks = st.integers(min_value=0, max_value=0xFFFFFFFF)
object_types = st.sampled_from([*ObjectType, None])


@given(masks, object_types)
def test_names_cover_the_mask_exactly(mask: int, object_type: ObjectType | None) -> None:
    names = right_names(mask, object_type)
    assert mask == (parse_rights(",".join(names), object_type) if names else 0)
    assert len(names) == len(set(names))


# ----------------------------------------------------------------- parse_rights
@pytest.mark.parametrize(
    ("text", "object_type", "expected"),
    [
        ("FILE_READ_DATA", ObjectType.FILE, 0x1),
        ("file_read_data, SYNCHRONIZE", ObjectType.FILE, 0x100001),
        ("FILE_GENERIC_READ|FILE_GENERIC_EXECUTE", ObjectType.FILE, 0x1200A9),
        ("0x1F01FF", ObjectType.FILE, 0x1F01FF),
        ("0X10", ObjectType.FILE, 0x10),
        ("2032127", ObjectType.FILE, 0x1F01FF),
        ("GENERIC_READ + 0x1", None, 0x80000001),
        ("KEY_READ KEY_WRITE", ObjectType.REGISTRY_KEY, 0x2001F),
        ("KEY_EXECUTE", ObjectType.REGISTRY_KEY, 0x20019),
        ("TOKEN_EXECUTE", ObjectType.TOKEN, 0x20000),
        ("STANDARD_RIGHTS_REQUIRED", ObjectType.FILE, 0xF0000),
        ("PROCESS_ALL_ACCESS", ObjectType.PROCESS, 0x1FFFFF),
        ("THREAD_IMPERSONATE", ObjectType.THREAD, 0x100),
        ("SERVICE_START,SERVICE_STOP", ObjectType.SERVICE, 0x30),
        ("ADS_RIGHT_DS_READ_PROP", ObjectType.DS_OBJECT, 0x10),
        ("FILE_CREATE_PIPE_INSTANCE", ObjectType.NAMED_PIPE, 0x4),
    ],
)
def test_parse_rights(text: str, object_type: ObjectType | None, expected: int) -> None:
    assert expected == parse_rights(text, object_type)


@pytest.mark.parametrize(
    ("text", "object_type", "offset"),
    [
        ("", ObjectType.FILE, 0),
        (" , ", ObjectType.FILE, 0),
        ("FILE_READ_DATA,KEY_READ", ObjectType.FILE, 15),
        ("FILE_READ_DATA", None, 0),
        ("0x", ObjectType.FILE, 0),
        ("0xZZ", ObjectType.FILE, 0),
        ("SYNCHRONIZE 0x100000000", ObjectType.FILE, 12),
        ("4294967296", ObjectType.FILE, 0),
        ("READ", ObjectType.FILE, 0),
    ],
)
def test_parse_rights_errors(text: str, object_type: ObjectType | None, offset: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_rights(text, object_type)
    assert offset == info.value.offset
    assert text == info.value.input


@given(st.text(max_size=40), object_types)
def test_parse_rights_raises_only_parse_error(text: str, object_type: ObjectType | None) -> None:
    try:
        mask = parse_rights(text, object_type)
    except ParseError:
        return
    assert 0 <= mask <= 0xFFFFFFFF
