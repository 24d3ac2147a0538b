"""The audit engine's answers equal a plain per-row ``access_check`` (differential tests).

Corpora are generated with the features that make naive ACL readers wrong: deny ACEs before and
after allows, object ACEs (with and without an object type list), inherit-only ACEs, OWNER
RIGHTS, CREATOR OWNER, PRINCIPAL_SELF, mandatory labels; tokens with deny-only and disabled
groups, deny-only users, restricted and write-restricted tokens, the privileges the check
consults, integrity levels and impersonation levels.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntsec.audit.descriptors import unit_key
from ntsec.audit.engine import Decider, Question, decide_row
from ntsec.audit.shape import CorpusSids, representative, shape_of
from ntsec.model.descriptor import SecurityDescriptor
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.rights import ObjectType
from ntsec.model.sid import Sid
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenMandatoryPolicy,
    TokenType,
)

DOM = "S-1-5-21-1004336348-1177238915-682003330"
POOL = [
    "S-1-1-0",  # Everyone
    "S-1-5-11",  # Authenticated Users
    "S-1-5-32-544",  # Administrators
    "S-1-5-32-545",  # Users
    "S-1-5-18",
    f"{DOM}-512",
    f"{DOM}-513",
    f"{DOM}-1105",
    f"{DOM}-1106",
    f"{DOM}-1107",
    "S-1-5-4",  # INTERACTIVE
    "S-1-5-10",  # PRINCIPAL_SELF
    "S-1-3-4",  # OWNER RIGHTS
    "S-1-3-0",  # CREATOR OWNER
    "S-1-5-12",  # RESTRICTED
]
TOKEN_POOL = [s for s in POOL if s not in ("S-1-3-4", "S-1-3-0", "S-1-5-10")] + [
    f"{DOM}-2001",  # never in any descriptor
    "S-1-16-12288",
]
GUIDS = [
    uuid.UUID("bf967a86-0de6-11d0-a285-00aa003049e2"),  # computer class
    uuid.UUID("00299570-246d-11d0-a768-00aa006e0529"),  # User-Force-Change-Password
    uuid.UUID("bf9679c0-0de6-11d0-a285-00aa003049e2"),  # member attribute
]
MASKS = ["FA", "FR", "FW", "GA", "GR", "GW", "WD", "WO", "RC", "SD", "CC", "0x1f01ff", "0x100",
         "0x2", "0x40000", "0x80000", "RPWP", "CR"]


@st.composite
def ace_text(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["A", "A", "D", "D", "OA", "OD"]))
    flags = draw(st.sampled_from(["", "", "", "IO", "OICI", "ID", "CIIO", "OICIID"]))
    mask = draw(st.sampled_from(MASKS))
    sid = draw(st.sampled_from(POOL))
    obj = ""
    if kind in ("OA", "OD") and draw(st.booleans()):
        obj = str(draw(st.sampled_from(GUIDS)))
    if kind in ("OA", "OD"):
        return f"({kind};{flags};{mask};{obj};;{sid})"
    return f"({kind};{flags};{mask};;;{sid})"


@st.composite
def descriptors(draw: st.DrawFn) -> SecurityDescriptor:
    owner = draw(st.sampled_from(POOL[:10]))
    aces = "".join(draw(st.lists(ace_text(), max_size=9)))
    dacl = draw(st.sampled_from([f"D:{aces}", f"D:P{aces}", "D:NO_ACCESS_CONTROL"]))
    if dacl == "D:NO_ACCESS_CONTROL":
        dacl = "D:NO_ACCESS_CONTROL" if draw(st.booleans()) else f"D:{aces}"
    label = draw(st.sampled_from(["", "", "", "", "S:(ML;;NW;;;HI)", "S:(ML;;NWNR;;;LW)"]))
    return SecurityDescriptor.from_sddl(f"O:{owner}G:SY{dacl}{label}")


_G = GroupAttributes
GROUP_ATTRS = [
    _G.SE_GROUP_ENABLED | _G.SE_GROUP_ENABLED_BY_DEFAULT | _G.SE_GROUP_MANDATORY,
    _G.SE_GROUP_ENABLED,
    _G.SE_GROUP_USE_FOR_DENY_ONLY,
    _G(0),  # disabled
]
PRIVS = [
    Privilege.SeSecurityPrivilege,
    Privilege.SeTakeOwnershipPrivilege,
    Privilege.SeRelabelPrivilege,
    Privilege.SeBackupPrivilege,
    Privilege.SeRestorePrivilege,
    Privilege.SeChangeNotifyPrivilege,
]


@st.composite
def tokens(draw: st.DrawFn) -> Token:
    user = Sid.parse(draw(st.sampled_from([*TOKEN_POOL[:10], f"{DOM}-2001"])))
    user_attrs = draw(st.sampled_from([_G(0), _G(0), _G.SE_GROUP_USE_FOR_DENY_ONLY]))
    groups = [
        SidAndAttributes(Sid.parse(s), draw(st.sampled_from(GROUP_ATTRS)))
        for s in draw(st.lists(st.sampled_from(TOKEN_POOL), min_size=2, max_size=10, unique=True))
    ]
    level = draw(st.sampled_from([None, 4096, 8192, 12288, 16384]))
    if level is not None:
        groups.insert(0, SidAndAttributes(Sid.parse(f"S-1-16-{level}"), _G.SE_GROUP_INTEGRITY))
    restricted: list[SidAndAttributes] = []
    if draw(st.integers(0, 3)) == 0:
        restricted = [
            SidAndAttributes(Sid.parse(s), draw(st.sampled_from(GROUP_ATTRS)))
            for s in draw(st.lists(st.sampled_from(TOKEN_POOL), min_size=1, max_size=4))
        ]
    privs = [
        PrivilegeEntry(p, draw(st.sampled_from([PrivilegeAttributes.SE_PRIVILEGE_ENABLED,
                                                PrivilegeAttributes(0)])))
        for p in draw(st.lists(st.sampled_from(PRIVS), max_size=3, unique=True))
    ]
    imp = draw(st.sampled_from([None, None, None, ImpersonationLevel.SecurityIdentification,
                                ImpersonationLevel.SecurityImpersonation]))
    return Token(
        user=SidAndAttributes(user, user_attrs),
        groups=tuple(groups),
        privileges=tuple(privs),
        restricted_sids=tuple(restricted),
        write_restricted=bool(restricted) and draw(st.booleans()),
        token_type=TokenType.TokenPrimary if imp is None else TokenType.TokenImpersonation,
        impersonation_level=imp or ImpersonationLevel.SecurityAnonymous,
        mandatory_policy=draw(st.sampled_from([
            TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_NO_WRITE_UP,
            TokenMandatoryPolicy.TOKEN_MANDATORY_POLICY_OFF,
        ])),
    )


QUESTION_LIST = [
    Question(),
    Question(),
    Question(0x10000000),  # GENERIC_ALL
    Question(0x80000000),  # GENERIC_READ
    Question(0x40000000),  # GENERIC_WRITE
    Question(0x40000000),
    Question(0x00040000),  # WRITE_DAC
    Question(0x00080000),  # WRITE_OWNER
    Question(0x01000000),  # ACCESS_SYSTEM_SECURITY
    Question(0x02000000 | 0x00080000),
    Question(0x00120089, backup_intent=True),
    Question(0x02000000, backup_intent=True),
    Question(0x100, object_types=((0, GUIDS[0]), (1, GUIDS[1]))),
    Question(0x02000000, object_types=((0, GUIDS[0]), (1, GUIDS[2]))),
]
QUESTIONS = st.sampled_from(QUESTION_LIST)
OBJECT_TYPES = st.sampled_from([ObjectType.FILE, ObjectType.FILE, ObjectType.DS_OBJECT,
                                ObjectType.SERVICE, ObjectType.PROCESS])
SELF = st.sampled_from([None, None, Sid.parse(f"{DOM}-1105"), Sid.parse(f"{DOM}-2001")])


def _engine_vs_rows(
    sds: list[SecurityDescriptor],
    toks: list[Token],
    question: Question,
    object_type: ObjectType,
    self_sid: Sid | None,
) -> int:
    corpus = CorpusSids()
    units: list[tuple[SecurityDescriptor, Sid | None]] = []
    for sd in sds:
        key = unit_key(sd, object_type, self_sid)
        kept = key.principal_self
        units.append((sd, None if kept is None else Sid.from_bytes(kept)))
        corpus.add(sd)
    sids = corpus.frozen()
    shape_ids: dict[object, int] = {}
    per_token = []
    examples = []
    for t in toks:
        shape = shape_of(t, sids, projectable=corpus.projectable)
        if shape not in shape_ids:
            shape_ids[shape] = len(shape_ids)
            examples.append(t)
        per_token.append(shape_ids[shape])
    decider = Decider(question, sids, list(shape_ids), examples)
    compared = 0
    for u, (sd, ps) in enumerate(units):
        for t, sid_ in zip(toks, per_token, strict=True):
            got = decider.decide(u, sd, object_type, sid_, principal_self=ps, token=t)
            want, _ = decide_row(sd, t, question, object_type, ps)
            assert want == got, (sd.to_sddl(), t, question)
            compared += 1
    return compared


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(descriptors(), min_size=1, max_size=6),
    st.lists(tokens(), min_size=2, max_size=8),
    QUESTIONS,
    OBJECT_TYPES,
    SELF,
)
def test_engine_equals_per_row_access_check(
    sds: list[SecurityDescriptor],
    toks: list[Token],
    question: Question,
    object_type: ObjectType,
    self_sid: Sid | None,
) -> None:
    _engine_vs_rows(sds, toks, question, object_type, self_sid)


@settings(max_examples=150, deadline=None)
@given(st.lists(descriptors(), min_size=1, max_size=4), tokens())
def test_representative_has_the_same_shape(sds: list[SecurityDescriptor], tok: Token) -> None:
    corpus = CorpusSids()
    for sd in sds:
        corpus.add(sd)
    sids = corpus.frozen()
    shape = shape_of(tok, sids)
    assert shape == shape_of(representative(shape, sids), sids)


def test_tokens_differing_only_outside_the_corpus_share_a_shape() -> None:
    sd = SecurityDescriptor.from_sddl(f"O:BAG:SYD:(D;;FW;;;{DOM}-1106)(A;;FA;;;BU)")
    corpus = CorpusSids()
    corpus.add(sd)
    sids = corpus.frozen()
    base = [SidAndAttributes(Sid.parse("S-1-5-32-545"), GROUP_ATTRS[0])]
    a = Token(user=SidAndAttributes(Sid.parse(f"{DOM}-3001")), groups=tuple(base))
    b = Token(
        user=SidAndAttributes(Sid.parse(f"{DOM}-3002")),
        groups=(*base, SidAndAttributes(Sid.parse(f"{DOM}-3003"), GROUP_ATTRS[0])),
    )
    # deny-only membership of the denied SID is part of the shape: deny ACEs match it
    c = Token(
        user=SidAndAttributes(Sid.parse(f"{DOM}-3004")),
        groups=(*base, SidAndAttributes(Sid.parse(f"{DOM}-1106"), _G.SE_GROUP_USE_FOR_DENY_ONLY)),
    )
    assert shape_of(a, sids) == shape_of(b, sids)
    assert shape_of(a, sids) != shape_of(c, sids)
    assert 3 == _engine_vs_rows([sd], [a, b, c], Question(0x40000000), ObjectType.FILE, None)


def test_conditional_aces_make_every_token_its_own_shape() -> None:
    sd = SecurityDescriptor.from_sddl(
        'O:BAG:SYD:(XA;;FR;;;WD;(Member_of {SID(S-1-5-21-1-2-3-500)}))'
    )
    corpus = CorpusSids()
    corpus.add(sd)
    assert not corpus.projectable
    member = Token(
        user=SidAndAttributes(Sid.parse(f"{DOM}-3001")),
        groups=(SidAndAttributes(Sid.parse("S-1-1-0"), GROUP_ATTRS[0]),
                SidAndAttributes(Sid.parse("S-1-5-21-1-2-3-500"), GROUP_ATTRS[0])),
    )
    other = Token(
        user=SidAndAttributes(Sid.parse(f"{DOM}-3001")),
        groups=(SidAndAttributes(Sid.parse("S-1-1-0"), GROUP_ATTRS[0]),),
    )
    assert 2 == _engine_vs_rows(
        [sd], [member, other], Question(0x80000000), ObjectType.FILE, None
    )


def test_engine_equals_per_row_on_a_dense_corpus() -> None:
    """Many tokens against many descriptors at once, every question (more collisions of shapes
    than the small hypothesis corpora reach)."""
    import random

    rng = random.Random(13)
    sds: list[SecurityDescriptor] = []
    for _ in range(40):
        owner = rng.choice(POOL[:10])
        aces = []
        for _ in range(rng.randint(0, 8)):
            kind = rng.choice(["A", "A", "D", "D", "OA", "OD"])
            flags = rng.choice(["", "", "", "IO", "OICI", "ID", "CIIO"])
            obj = str(rng.choice(GUIDS)) if kind in ("OA", "OD") and rng.random() < 0.5 else ""
            aces.append(f"({kind};{flags};{rng.choice(MASKS)};{obj};;{rng.choice(POOL)})")
        label = rng.choice(["", "", "", "S:(ML;;NW;;;HI)"])
        sds.append(SecurityDescriptor.from_sddl(f"O:{owner}G:SYD:{''.join(aces)}{label}"))
    toks = []
    for _ in range(40):
        groups = [
            SidAndAttributes(Sid.parse(s), rng.choice(GROUP_ATTRS))
            for s in rng.sample(TOKEN_POOL, rng.randint(1, 9))
        ]
        restricted = (
            tuple(SidAndAttributes(Sid.parse(s), rng.choice(GROUP_ATTRS))
                  for s in rng.sample(TOKEN_POOL, 2))
            if rng.random() < 0.25 else ()
        )
        toks.append(Token(
            user=SidAndAttributes(
                Sid.parse(rng.choice(TOKEN_POOL[:10])),
                rng.choice([_G(0), _G(0), _G.SE_GROUP_USE_FOR_DENY_ONLY]),
            ),
            groups=tuple(groups),
            privileges=tuple(PrivilegeEntry(p, PrivilegeAttributes.SE_PRIVILEGE_ENABLED)
                             for p in rng.sample(PRIVS, rng.randint(0, 2))),
            restricted_sids=restricted,
            write_restricted=bool(restricted) and rng.random() < 0.5,
        ))
    for q in QUESTION_LIST:
        for ot in (ObjectType.FILE, ObjectType.DS_OBJECT):
            _engine_vs_rows(sds, toks, q, ot, Sid.parse(f"{DOM}-1105"))


def test_sids_pickled_in_another_process_still_match() -> None:
    """Tasks reach Dask workers pickled; a SID's cached hash is salted per process, so an
    unpickled SID must hash as one made here (else shape sets silently miss)."""
    import os
    import pickle
    import subprocess
    import sys

    code = (
        "import pickle, sys; from ntsec.model.sid import Sid; "
        "sys.stdout.buffer.write(pickle.dumps(frozenset({Sid.parse('S-1-5-32-544')})))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    data = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          check=True).stdout
    assert Sid.parse("S-1-5-32-544") in pickle.loads(data)


def test_a_substitute_equal_to_the_representatives_placeholder_is_not_held() -> None:
    """A principal that does not hold the PRINCIPAL_SELF substitute is decided with its
    shape's own representative (``Decider._rep``), unless that token names the substitute: here
    the substitute is the SID the representative takes for its user (deny-only), so reusing it
    would let the deny ACE for PRINCIPAL_SELF match a token that does not hold the SID."""
    placeholder = Sid.from_parts(5, 21, 0, 0, 0, 1, 0)  # shape._placeholder(sids, 1)
    sd = SecurityDescriptor.from_sddl("O:BAG:SYD:(D;;FW;;;PS)(A;;FA;;;WD)")
    tok = Token(
        user=SidAndAttributes(Sid.parse(f"{DOM}-3001")),
        groups=(SidAndAttributes(Sid.parse("S-1-1-0"), GROUP_ATTRS[0]),),
    )
    want, _ = decide_row(sd, tok, Question(), ObjectType.FILE, placeholder)
    # By the rules, not by this code: the PRINCIPAL_SELF ACE stands for the substitute SID
    # (MS-DTYP 2.5.3.2, PrincipalSelfSid), which the token does not hold, so the deny ACE is
    # skipped; Everyone's allow ACE grants FA, FILE_ALL_ACCESS = 0x1F01FF (Learn "File Security
    # and Access Rights"), to MAXIMUM_ALLOWED.
    assert want.granted == 0x1F01FF
    assert 1 == _engine_vs_rows([sd], [tok], Question(), ObjectType.FILE, placeholder)
