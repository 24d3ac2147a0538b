"""icacls output into descriptors (ntsec.codec.icacls, through ntsec.paste).

The right letters and flags are Learn's "icacls" reference; the masks of the simple rights are
the FileSystemRights values of Learn with SYNCHRONIZE, checked here against winnt.h's
FILE_GENERIC_* and FILE_ALL_ACCESS as the model defines them. The two outputs in
tests/vectors/icacls are real, as published (their README gives the pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntsec import PasteError, paste
from ntsec.codec import icacls, sddl
from ntsec.codec.paste_text import Line
from ntsec.model.ace import AceFlags, AceType
from ntsec.model.rights import FileAccessRights, StandardRights
from ntsec.model.sid import Sid
from ntsec.model.wellknown import service_sid

VECTORS = Path(__file__).parent / "vectors" / "icacls"
F = FileAccessRights
SYNCHRONIZE = int(StandardRights.SYNCHRONIZE)
READ_CONTROL = int(StandardRights.READ_CONTROL)


def test_simple_rights_are_the_file_generic_masks() -> None:
    r, w, x = int(F.FILE_GENERIC_READ), int(F.FILE_GENERIC_WRITE), int(F.FILE_GENERIC_EXECUTE)
    assert int(F.FILE_ALL_ACCESS) == icacls.SIMPLE_RIGHTS["F"] == 0x1F01FF
    assert r == icacls.SIMPLE_RIGHTS["R"] == 0x120089
    assert r | x == icacls.SIMPLE_RIGHTS["RX"] == 0x1200A9
    # Write-only: FileSystemRights.Write (0x116) with SYNCHRONIZE, no READ_CONTROL.
    assert w & ~READ_CONTROL == icacls.SIMPLE_RIGHTS["W"] == 0x100116
    # Modify: FileSystemRights.Modify (0x301BF) with SYNCHRONIZE = RX | W | DELETE.
    assert r | x | (w & ~READ_CONTROL) | int(StandardRights.DELETE) == icacls.SIMPLE_RIGHTS["M"]
    assert 0x1301BF == icacls.SIMPLE_RIGHTS["M"]
    assert 0 == icacls.SIMPLE_RIGHTS["N"]


def test_specific_rights_are_the_file_bits() -> None:
    assert int(F.FILE_READ_DATA) == icacls.SPECIFIC_RIGHTS["RD"]
    assert int(F.FILE_WRITE_DATA) == icacls.SPECIFIC_RIGHTS["WD"]
    assert int(F.FILE_APPEND_DATA) == icacls.SPECIFIC_RIGHTS["AD"]
    assert int(F.FILE_EXECUTE) == icacls.SPECIFIC_RIGHTS["X"]
    assert int(F.FILE_DELETE_CHILD) == icacls.SPECIFIC_RIGHTS["DC"]
    assert int(F.FILE_WRITE_ATTRIBUTES) == icacls.SPECIFIC_RIGHTS["WA"]
    assert SYNCHRONIZE == icacls.SPECIFIC_RIGHTS["S"]


def test_moonpoint_mmc_output() -> None:
    p = paste.read((VECTORS / "moonpoint_mmc.txt").read_text("utf-8"))
    assert paste.PasteKind.ICACLS == p.kind
    (found,) = p.descriptors
    assert "C:\\WINDOWS\\system32\\mmc.exe" == found.path
    sd = found.descriptor
    assert (None, None) == (sd.owner, sd.group)
    aces = list(sd.dacl or ())
    # NT SERVICE\TrustedInstaller: the service SID of its name (S-1-5-80-956008885-...).
    assert [(service_sid("TrustedInstaller"), 0x1F01FF), (Sid.parse("S-1-5-18"), 0x1200A9)] == [
        (a.sid, a.mask) for a in aces]
    assert {"prompt", "summary", "icacls"} <= {r.kind for r in p.repairs}


def test_lima_city_output_without_indentation() -> None:
    p = paste.read((VECTORS / "lima-city_httpd.txt").read_text("utf-8"))
    (found,) = p.descriptors
    assert "c:\\xampp\\apache\\bin\\httpd.exe" == found.path
    assert sddl.parse("D:(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)") == found.descriptor


SEVERAL = """\
C:\\Program Files\\Vuln App NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)
                         BUILTIN\\Users:(DENY)(OI)(CI)(W)
                         BUILTIN\\Users:(I)(OI)(CI)(RX)
                         Everyone:(OI)(CI)(NP)(M)
                         CREATOR OWNER:(I)(OI)(CI)(IO)(F)
                         S-1-5-21-1-2-3-1001:(RD,WD,AD)
                         Mandatory Label\\Low Mandatory Level:(OI)(CI)(NW)

C:\\temp\\x.txt BUILTIN\\Administrators:(D)
               NT AUTHORITY\\Authenticated Users:(N)

Successfully processed 2 files; Failed processing 0 files
"""


def test_several_paths_flags_deny_and_labels() -> None:
    p = paste.read(SEVERAL)
    first, second = p.descriptors
    assert ("C:\\Program Files\\Vuln App", "C:\\temp\\x.txt") == (first.path, second.path)
    expected = sddl.parse(
        "D:(A;OICIID;FA;;;SY)(D;OICI;0x100116;;;BU)(A;OICIID;0x1200a9;;;BU)"
        "(A;OICINP;0x1301bf;;;WD)(A;OICIIOID;FA;;;CO)(A;;0x7;;;S-1-5-21-1-2-3-1001)"
        "S:(ML;OICI;NW;;;LW)")
    assert expected == first.descriptor
    assert sddl.parse("D:(A;;0x110000;;;BA)(A;;0x0;;;AU)") == second.descriptor
    deny = list(first.descriptor.dacl or ())[1]
    assert (AceType.ACCESS_DENIED_ACE_TYPE, AceFlags(3)) == (deny.type, deny.flags)


def test_names_from_a_map_and_from_a_whoami_capture() -> None:
    text = "C:\\data CORP\\alice:(OI)(CI)(M)\n        CORP\\Finance:(R)\n"
    with pytest.raises(PasteError) as err:
        paste.read(text)
    assert "CORP\\alice" in str(err.value)
    assert 1 == err.value.line
    names = {"corp\\ALICE": Sid.parse("S-1-5-21-7-8-9-1105"),
             "CORP\\Finance": Sid.parse("S-1-5-21-7-8-9-1200")}
    (found,) = paste.read(text, names=names).descriptors
    assert sddl.parse("D:(A;OICI;0x1301bf;;;S-1-5-21-7-8-9-1105)"
                      "(A;;0x120089;;;S-1-5-21-7-8-9-1200)") == found.descriptor
    me = paste.read((Path(__file__).parent / "vectors" / "whoami"
                     / "10_domain-user_all_list_winrm.txt").read_text("utf-8"))
    got = paste.read_descriptors("C:\\x EGOTISTICALBANK\\fsmith:(F)\n", whoami=me)
    assert Sid.parse("S-1-5-21-2966785786-3096785034-1186376766-1105") == next(
        iter(got.descriptors[0].descriptor.dacl or ())).sid


def test_an_unknown_right_is_refused() -> None:
    assert not icacls.is_icacls_ace("C:\\x Everyone:(ZZ)")
    with pytest.raises(PasteError):
        icacls.ace_sddl(["OI", "ZZ"], Sid.parse("S-1-1-0"), paste_line("x"))


def paste_line(text: str) -> Line:
    return Line(1, text)


def test_icacls_save_file_utf16() -> None:
    """``icacls DIR\\* /save FILE``: UTF-16LE, a name line then its DACL as SDDL."""
    body = ("a.txt\r\nD:AI(A;ID;FA;;;SY)(A;ID;0x1200a9;;;BU)\r\n"
            "sub dir\r\nD:PAI(A;OICI;FA;;;BA)\r\n")
    p = paste.read(body.encode("utf-16-le"))
    assert paste.PasteKind.ICACLS_SAVE == p.kind
    assert [("a.txt", sddl.parse("D:AI(A;ID;FA;;;SY)(A;ID;0x1200a9;;;BU)")),
            ("sub dir", sddl.parse("D:PAI(A;OICI;FA;;;BA)"))] == [
        (d.path, d.descriptor) for d in p.descriptors]
