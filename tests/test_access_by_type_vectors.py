"""The library's AccessCheckByType(ResultList) on the Windows-run ReactOS calls of
tests/vectors/reactos-access-by-type.json (the CLI replays them too, tests/test_cli_check_ds.py).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from builders import user_token
from ntsec import access_check
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import GroupAttributes, SidAndAttributes

_DOC = json.loads(
    (Path(__file__).parent / "vectors" / "reactos-access-by-type.json").read_text("utf-8")
)
_ENABLED = GroupAttributes(0x7)  # mandatory, enabled by default, enabled


def _token() -> Any:
    sids = _DOC["meta"]["token_sids"]
    groups = tuple(
        SidAndAttributes(Sid.parse(g), _ENABLED) for g in sids["groups"] if g != "S-1-1-0"
    )
    return user_token(Sid.parse(sids["user"]), il=0x3000, groups=groups)


_IDS = [f"{c['source'].split()[-1]}-{i}" for i, c in enumerate(_DOC["cases"])]


@pytest.mark.parametrize("case", _DOC["cases"], ids=_IDS)
def test_reactos_by_type(case: dict[str, Any]) -> None:
    result = access_check(
        SecurityDescriptor.from_sddl(case["sd"]),
        _token(),
        case["desired"],
        ObjectType.REGISTRY_KEY,
        object_types=[(lvl, uuid.UUID(g)) for lvl, g in case["object_types"]],
    )
    if "expect_results" in case:
        assert case["expect_results"] == [
            {"granted": r.granted, "status": r.status.name} for r in result.results
        ]
    else:
        assert case["expect"] == {"granted": result.granted, "status": result.status.name}
