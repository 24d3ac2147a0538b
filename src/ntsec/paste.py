"""``ntsec.paste``: read anything people paste (issue 11).

:func:`read` tells what a paste is and reads it: whoami output as it comes out of a terminal, a
reverse shell or a web page (prompts, lost empty lines, stripped spaces, missing titles, CSV with
the claims part), ntsec's own token JSON, SDDL (wrapped, quoted, a bare ACE list), PowerShell's
``Get-Acl | Format-List``, ``sc sdshow``, ``icacls`` output and ``/save`` files, and binary
descriptors in hex or base64. :func:`read_token` and :func:`read_descriptors` accept only
their kind. Every change made to the text is in :attr:`Pasted.repairs`; failures raise
:class:`ntsec.ParseError` subclasses (:class:`ntsec.PasteError`, :class:`ntsec.SDDLError`,
:class:`ntsec.WhoamiParseError`...).

Example::

    >>> from ntsec import paste
    >>> p = paste.read("C:\\\\> whoami /logonid\\nS-1-5-5-0-359587\\n")
    >>> p.kind, str(p.report.logon_sid), [r.kind for r in p.repairs]
    (<PasteKind.WHOAMI: 'whoami'>, 'S-1-5-5-0-359587', ['prompt'])
"""

from ntsec.codec.paste import read, read_descriptors, read_token
from ntsec.codec.paste_result import Pasted, PastedDescriptor, PasteKind
from ntsec.codec.paste_text import Repair
from ntsec.errors import PasteError

__all__ = [
    "PasteError",
    "PasteKind",
    "Pasted",
    "PastedDescriptor",
    "Repair",
    "read",
    "read_descriptors",
    "read_token",
]
