"""ntsec.system.process: token objects, processes, threads and handles in the store, and the
lifetime of tokens and logon sessions (docs/rules.md E.2, F.2, G.2, H.7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ntsec.codec.whoami import parse as parse_whoami
from ntsec.errors import InvalidValueError, NtStatusError
from ntsec.model.claims import ClaimAttribute, ClaimValueType
from ntsec.model.token import Token
from ntsec.system.accounts import Accounts
from ntsec.system.lsa import LogonType, Lsa
from ntsec.system.process import (
    HandleKind,
    ProcessStatus,
    ProcessTable,
    token_from_json,
    token_to_json,
)
from ntsec.system.store import Store

VECTORS = Path(__file__).parent / "vectors" / "whoami"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[tuple[Accounts, Lsa, ProcessTable]]:
    store = Store(tmp_path / "m.db")
    accounts = Accounts(store)
    accounts.initialize("PC")
    alice = accounts.create_user("alice", "pw")
    accounts.add_member("Administrators", alice.sid)
    accounts.create_user("bob", "pw")
    yield accounts, Lsa(accounts), ProcessTable(store)
    store.close()


@pytest.mark.parametrize("capture", sorted(p.name for p in VECTORS.glob("*_all*.txt")))
def test_stored_tokens_read_back_equal(capture: str,
                                       system: tuple[Accounts, Lsa, ProcessTable]) -> None:
    """Every token field survives the store: the Windows captures' tokens."""
    token = parse_whoami((VECTORS / capture).read_text("utf-8")).token
    assert token == token_from_json(token_to_json(token))


def test_lsa_tokens_read_back_equal(system: tuple[Accounts, Lsa, ProcessTable]) -> None:
    """Both halves of a split token (F.2), with default DACLs and links, and SYSTEM's."""
    _, lsa, table = system
    result = lsa.logon_user("alice", "pw", LogonType.Interactive, winlogon=True)
    assert result.linked_token is not None
    for token in (result.token, result.linked_token, lsa.system_token()):
        table.put_token(token)
        assert token == table.token(token.token_id)


def test_tokens_with_claims_are_refused() -> None:
    """A local machine's tokens carry no claims (E.2: claims come from a Kerberos PAC)."""
    user = parse_whoami(next(VECTORS.glob("24_*.txt")).read_text("utf-8")).token.user
    claim = ClaimAttribute("x", ClaimValueType.CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64, (1,))
    token = Token(user=user, user_claims=(claim,))
    with pytest.raises(InvalidValueError):
        token_to_json(token)


def test_processes_and_threads_share_the_client_id_space(
    system: tuple[Accounts, Lsa, ProcessTable],
) -> None:
    """Process and thread IDs come from one client-ID table, as multiples of 4 (the System
    process is PID 4 on Windows)."""
    _, lsa, table = system
    token = lsa.system_token()
    system_proc = table.insert_process(ppid=0, image="System", token=token, session_id=0,
                                       created=0.0)
    other = table.insert_process(ppid=4, image="smss.exe", token=token, session_id=0,
                                 created=0.0)
    ids = [system_proc.pid, table.main_thread(system_proc.pid).tid, other.pid,
           table.main_thread(other.pid).tid]
    assert [4, 8, 12, 16] == ids
    with pytest.raises(NtStatusError) as exc:
        table.process(999)
    assert ProcessStatus.STATUS_INVALID_CID == exc.value.status


def test_threads_hold_impersonation_tokens_only(
    system: tuple[Accounts, Lsa, ProcessTable],
) -> None:
    """G.2: a thread token is an impersonation token; a process token is primary."""
    _, lsa, table = system
    primary = lsa.system_token()
    network = lsa.logon_user("bob", "pw", LogonType.Network).token  # E.1: impersonation
    with pytest.raises(InvalidValueError):
        table.insert_process(ppid=0, image="x", token=network, session_id=0, created=0.0)
    proc = table.insert_process(ppid=0, image="x", token=primary, session_id=0, created=0.0)
    tid = table.main_thread(proc.pid).tid
    with pytest.raises(InvalidValueError):
        table.set_thread_token(tid, primary)
    table.set_thread_token(tid, network)
    assert network == table.thread_token(tid)
    table.set_thread_token(tid, None)
    assert table.thread_token(tid) is None


def test_a_session_ends_when_its_last_token_goes(
    system: tuple[Accounts, Lsa, ProcessTable],
) -> None:
    """E.2 / H.7: a logon session is referenced by every token of it (process, thread, handle);
    the full half of a split is kept by LSA for the filtered half's session (F.2) and goes
    with it."""
    _, lsa, table = system
    holder = table.insert_process(ppid=0, image="winlogon.exe", token=lsa.system_token(),
                                  session_id=1, created=0.0)
    result = lsa.logon_user("alice", "pw", LogonType.Interactive, winlogon=True)
    limited, full = result.token, result.linked_token
    assert full is not None
    table.put_token(limited)
    table.put_token(full, pin_luid=limited.authentication_id)
    handle = table.add_handle(holder.pid, HandleKind.TOKEN, limited.token_id, 0xF01FF)
    assert [] == table.collect()
    assert full == table.linked_token(limited)
    table.close_handle(holder.pid, handle.value)
    ended = table.collect()
    assert sorted([limited.authentication_id, full.authentication_id]) == sorted(ended)
    with pytest.raises(NtStatusError):
        table.token(full.token_id)
