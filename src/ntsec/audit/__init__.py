"""ntsec.audit: effective access across an estate - every (object, principal), exact, explained.

One ``ntsec.access_check`` per unique descriptor x token shape (``shape``, ``engine``), rows
streamed through an on-disk spool (``store``) and expanded on output in independent partitions
(``task``) run in-process, in a process pool or on Dask (``run``). Inputs: ``readers`` (CSV /
Get-Acl exports, JSON lines, ConvertTo-Json, sc sdshow lists, icacls /save), ``ldif``,
``machine``; principals: ``principals``; questions: ``questions``; outputs: ``outputs``,
``export`` (BloodHound OpenGraph). See docs/audit.md.
"""

from ntsec.audit.engine import Decider, Decision, Question, decide_row
from ntsec.audit.principals import Principal, ldif_principals, whoami_principals
from ntsec.audit.questions import question
from ntsec.audit.rows import AuditInputError, Row, RowError
from ntsec.audit.run import (
    AuditInterruptedError,
    AuditOptions,
    AuditSummary,
    read_source,
    run_audit,
)

__all__ = [
    "AuditInputError",
    "AuditInterruptedError",
    "AuditOptions",
    "AuditSummary",
    "Decider",
    "Decision",
    "Principal",
    "Question",
    "Row",
    "RowError",
    "decide_row",
    "ldif_principals",
    "question",
    "read_source",
    "run_audit",
    "whoami_principals",
]
