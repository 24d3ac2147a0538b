"""Grouping principals: ``shape_and_holds``, and a ``Grouper`` sharing the work of many tokens,
must give what the token's facts give (``CompiledToken.build``, ``compute_token_facts``: the
rules of docs/rules.md I.1, I.3) through ``shape_of`` and ``self_state``, for any token and
corpus."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ntsec.audit.shape import Grouper, self_state, shape_and_holds, shape_of
from ntsec.model.privileges import Privilege, PrivilegeAttributes, PrivilegeEntry
from ntsec.model.sid import Sid
from ntsec.model.token import (
    GroupAttributes,
    ImpersonationLevel,
    SidAndAttributes,
    Token,
    TokenMandatoryPolicy,
    TokenType,
)
from strategies import AC_GROUPS, AC_USER, ac_tokens

#: SIDs a corpus or the PRINCIPAL_SELF substitutes may hold: the tokens' own and some others.
_POOL = (AC_USER, *AC_GROUPS, Sid.from_parts(5, 21, 1, 2, 3, 1002), Sid.from_parts(16, 0x2000),
         Sid.from_parts(19, 512, 8192))
_EXTRA_ATTRS = (0, 0x7, 0x10, 0x20, 0x60, 0x1)


_TRUST_SIDS = (Sid.from_parts(19, 512, 8192), Sid.from_parts(19, 1024, 4096),
               Sid.from_parts(19, 7))


@st.composite
def _tokens(draw: st.DrawFn) -> Token:
    """ac_tokens, with groups moved around them: an unlabelled S-1-16 group before the labelled
    one (the label is the first SE_GROUP_INTEGRITY group, an S-1-16 group only failing that),
    sometimes no labelled group at all, trust labels (the last one with two sub-authorities
    counts), SIDs repeated with other attributes."""
    tok = draw(ac_tokens())
    groups = list(tok.groups)
    if draw(st.booleans()):
        groups = [g for g in groups if g.sid.authority != 16]
    if draw(st.booleans()):
        groups.insert(0, SidAndAttributes(Sid.from_parts(16, 0x1000),
                                          GroupAttributes(draw(st.sampled_from((0, 0x7))))))
    for sid in draw(st.lists(st.sampled_from(_TRUST_SIDS), max_size=3)):
        groups.insert(draw(st.integers(0, len(groups))), SidAndAttributes(sid, GroupAttributes(0)))
    for sid, attrs in draw(st.lists(st.tuples(st.sampled_from(_POOL),
                                              st.sampled_from(_EXTRA_ATTRS)), max_size=3)):
        groups.insert(draw(st.integers(0, len(groups))),
                      SidAndAttributes(sid, GroupAttributes(attrs)))
    return Token(user=tok.user, groups=tuple(groups), privileges=tok.privileges,
                 restricted_sids=tok.restricted_sids, write_restricted=tok.write_restricted,
                 token_type=tok.token_type, impersonation_level=tok.impersonation_level,
                 mandatory_policy=tok.mandatory_policy)


@settings(max_examples=400, deadline=None)
@given(st.tuples(_tokens(), _tokens()), st.frozensets(st.sampled_from(_POOL)),
       st.frozensets(st.sampled_from(_POOL)), st.booleans(), st.randoms())
def test_shape_and_holds_equal_the_token_facts(
    tokens: tuple[Token, Token], corpus: frozenset[Sid], substitutes: frozenset[Sid],
    projectable: bool, rnd: random.Random,
) -> None:
    token, other = tokens
    # A second token holding some of the first one's group entries (the same objects, as LDIF
    # principals share them), in another order: grouping works an entry out once for all.
    shared = rnd.sample(token.groups, rnd.randint(0, len(token.groups)))
    other = dataclasses.replace(other, groups=(*shared, *other.groups))
    binary = frozenset(s.to_bytes() for s in substitutes)
    grouper = Grouper(corpus, binary, projectable=projectable)
    for tok in (token, other):
        want_shape = shape_of(tok, corpus, projectable=projectable)
        want = {s: how for s in substitutes if (how := self_state(tok, s))}
        assert shape_and_holds(tok, corpus, binary, projectable=projectable) == (want_shape, want)
        assert grouper.of(tok) == (want_shape, want)


_ATTRS = (0, 0x7, 0x10, 0x20, 0x60, 0x1, 0x4)
_PRIVILEGES = (PrivilegeEntry(Privilege.SeBackupPrivilege, PrivilegeAttributes(2)),
               PrivilegeEntry(Privilege.SeBackupPrivilege, PrivilegeAttributes(0)),
               PrivilegeEntry(Privilege.SeChangeNotifyPrivilege, PrivilegeAttributes(3)),
               PrivilegeEntry(Privilege.SeSecurityPrivilege, PrivilegeAttributes(3)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_POOL + _TRUST_SIDS), st.sampled_from(_ATTRS)),
                min_size=1, max_size=8),
       st.frozensets(st.sampled_from(_POOL)), st.frozensets(st.sampled_from(_POOL)),
       st.lists(st.tuples(st.sampled_from(_POOL), st.sampled_from((0, 0x10))), min_size=2,
                max_size=10),
       st.randoms())
def test_tokens_sharing_entries_are_grouped_as_each_alone(
    entries: list[tuple[Sid, int]], corpus: frozenset[Sid], substitutes: frozenset[Sid],
    users: list[tuple[Sid, int]], rnd: random.Random,
) -> None:
    """Many tokens made of one pool of entry objects (as LDIF principals are), in any order,
    with any users, privileges, types and policies: the grouper's shared work (the entries
    that speak to the corpus, a shape per set of them) gives each token what it alone gives."""
    pool = [SidAndAttributes(sid, GroupAttributes(a)) for sid, a in entries]
    binary = frozenset(s.to_bytes() for s in substitutes)
    grouper = Grouper(corpus, binary)
    for user, attrs in users:
        groups = tuple(rnd.sample(pool, rnd.randint(0, len(pool))))
        privileges = tuple(rnd.sample(_PRIVILEGES, rnd.randint(0, 2)))
        tok = Token(user=SidAndAttributes(user, GroupAttributes(attrs)), groups=groups,
                    privileges=privileges, token_type=rnd.choice(list(TokenType)),
                    impersonation_level=rnd.choice(list(ImpersonationLevel)),
                    mandatory_policy=rnd.choice(list(TokenMandatoryPolicy)))
        want = {s: how for s in substitutes if (how := self_state(tok, s))}
        assert grouper.of(tok) == (shape_of(tok, corpus), want)
