"""ntsec.system.events: the security log's records and queries (issue 5 "Events")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ntsec.codec.whoami import parse as parse_whoami
from ntsec.model.sid import Sid
from ntsec.model.token import TokenElevationType
from ntsec.system.events import (
    ELEVATION_TYPE_CODES,
    EventId,
    EventLog,
    elevated_code,
    special_privileges,
)
from ntsec.system.store import Store

VECTORS = Path(__file__).parent / "vectors" / "whoami"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    store = Store(tmp_path / "events.db")
    yield EventLog(store, clock=Clock())
    store.close()


def test_event_ids_are_windows_ids() -> None:
    """The Security log IDs of the Learn auditing pages (4624, 4625, 4634, 4648, 4672, 4688,
    4656, 4663, 4673, 4703)."""
    assert [4624, 4625, 4634, 4648, 4672, 4688, 4656, 4663, 4673, 4703] == [
        EventId.LOGON, EventId.LOGON_FAILED, EventId.LOGOFF, EventId.EXPLICIT_CREDENTIALS,
        EventId.SPECIAL_PRIVILEGES, EventId.PROCESS_CREATED, EventId.OBJECT_HANDLE_REQUESTED,
        EventId.OBJECT_ACCESS_ATTEMPT, EventId.PRIVILEGED_SERVICE_CALLED,
        EventId.TOKEN_RIGHT_ADJUSTED]


def test_elevation_type_codes_follow_learn_4688() -> None:
    """Learn 4688: %%1936 Type 1 (default), %%1937 Type 2 (elevated), %%1938 Type 3 (limited)."""
    assert "%%1936" == ELEVATION_TYPE_CODES[TokenElevationType.TokenElevationTypeDefault]
    assert "%%1937" == ELEVATION_TYPE_CODES[TokenElevationType.TokenElevationTypeFull]
    assert "%%1938" == ELEVATION_TYPE_CODES[TokenElevationType.TokenElevationTypeLimited]


def test_special_privileges_of_an_elevated_admin_and_a_standard_user() -> None:
    """4672 is written for a token holding a documented sensitive privilege; capture 35 (an
    elevated administrator) lists these, in token order [O]; capture 24 (a standard user)
    none. ElevatedToken is %%1842 for the first and %%1843 for the second (Learn 4624)."""
    admin = parse_whoami(next(VECTORS.glob("35_*.txt")).read_text("utf-8")).token
    user = parse_whoami(next(VECTORS.glob("24_*.txt")).read_text("utf-8")).token
    assert ["SeSecurityPrivilege", "SeTakeOwnershipPrivilege", "SeLoadDriverPrivilege",
            "SeBackupPrivilege", "SeRestorePrivilege", "SeDebugPrivilege",
            "SeSystemEnvironmentPrivilege", "SeImpersonatePrivilege",
            "SeDelegateSessionUserImpersonatePrivilege"] == special_privileges(admin)
    assert [] == special_privileges(user)
    assert "%%1842" == elevated_code(admin)
    assert "%%1843" == elevated_code(user)


def test_records_are_queryable_by_id_account_session_and_keyword(log: EventLog) -> None:
    alice, bob = Sid.parse("S-1-5-21-1-2-3-1000"), Sid.parse("S-1-5-21-1-2-3-1001")
    first = log.write(EventId.LOGON, {"LogonType": 2}, account=alice, logon_id=0x400)
    log.write(EventId.LOGON_FAILED, {"Status": "0xc000006d"}, success=False)
    log.write(EventId.LOGON, {"LogonType": 3}, account=bob, logon_id=0x401)
    log.write(EventId.LOGOFF, {"LogonType": 2}, account=alice, logon_id=0x400)
    assert [2, 3] == [e.fields["LogonType"] for e in log.query(EventId.LOGON)]
    assert [4624, 4634] == [e.event_id for e in log.query(account=alice)]
    assert [4624] == [e.event_id for e in log.query(logon_id=0x401)]
    assert [4625] == [e.event_id for e in log.query(success=False)]
    assert [4625, 4634] == [e.event_id for e in log.query([4625, 4634])]
    assert 3 == len(log.query(since=first.record_id))
    record = log.query(EventId.LOGON)[0].to_json()
    assert ("Audit Success", "0x400", str(alice)) == (record["keywords"], record["logon_id"],
                                                      record["account"])
    assert log.query()[0].time < log.query()[-1].time
