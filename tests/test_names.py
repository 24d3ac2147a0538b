"""Name resolvers (ntsec.model.names): the names whoami prints (docs/rules.md A.3,
docs/whoami.md 6)."""

from __future__ import annotations

from ntsec import Sid
from ntsec.model.names import (
    ChainResolver,
    NameResolver,
    ResolvedName,
    SidNameUse,
    TableResolver,
    WellKnownResolver,
    resolve_display,
)

EVERYONE = Sid.parse("S-1-1-0")
ADMINS = Sid.parse("S-1-5-32-544")
STEVE = Sid.parse("S-1-5-21-1-2-3-1001")


def test_display_joins_domain_and_name_or_gives_bare_name() -> None:
    # docs/rules.md A.3: DOMAIN\Name, domain empty -> bare name ("Everyone", "CONSOLE LOGON").
    assert "BUILTIN\\Administrators" == ResolvedName(
        "BUILTIN", "Administrators", SidNameUse.SidTypeAlias).display
    assert "Everyone" == ResolvedName("", "Everyone", SidNameUse.SidTypeWellKnownGroup).display


def test_sid_name_use_values() -> None:
    # API:SID_NAME_USE.
    assert (1, 2, 4, 5, 8, 10) == (SidNameUse.SidTypeUser, SidNameUse.SidTypeGroup,
                                   SidNameUse.SidTypeAlias, SidNameUse.SidTypeWellKnownGroup,
                                   SidNameUse.SidTypeUnknown, SidNameUse.SidTypeLabel)


def test_well_known_resolver_names_what_whoami_prints() -> None:
    # Names observed in the whoami captures (docs/whoami.md 6, tests/vectors/whoami).
    r = WellKnownResolver()
    assert ResolvedName("", "Everyone", SidNameUse.SidTypeWellKnownGroup) == r.lookup(EVERYONE)
    assert ResolvedName("BUILTIN", "Administrators", SidNameUse.SidTypeAlias) == r.lookup(ADMINS)
    assert ResolvedName("Mandatory Label", "High Mandatory Level", SidNameUse.SidTypeLabel) == (
        r.lookup(Sid.parse("S-1-16-12288")))
    assert r.lookup(STEVE) is None


def test_chain_asks_in_order() -> None:
    mine = TableResolver({EVERYONE: ResolvedName("", "Jeder", SidNameUse.SidTypeWellKnownGroup),
                          STEVE: ResolvedName("KANGMORI", "steve", SidNameUse.SidTypeUser)})
    chain = ChainResolver(mine, WellKnownResolver())
    assert isinstance(chain, NameResolver)
    assert "Jeder" == resolve_display(chain, EVERYONE)
    assert "BUILTIN\\Administrators" == resolve_display(chain, ADMINS)
    assert "KANGMORI\\steve" == resolve_display(chain, STEVE)
    assert "S-1-5-21-9-9-9-500" == resolve_display(chain, Sid.parse("S-1-5-21-9-9-9-500"))


def test_well_known_resolver_with_domain() -> None:
    # Domain-relative well-known SIDs resolve once the domain is known (docs/rules.md A.4).
    dom = Sid.parse("S-1-5-21-7-8-9")
    r = WellKnownResolver(dom, "HTB")
    hit = r.lookup(dom.child(512))
    assert hit is not None
    assert ("HTB", "Domain Admins", SidNameUse.SidTypeGroup) == tuple(hit)
