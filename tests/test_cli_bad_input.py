"""Every command refuses hostile input with exit status 2 and one line on stderr (issue 10,
item 4): undecodable bytes in names, passwords and paths (the ``surrogateescape`` strings
Python makes of such argv bytes), integers beyond 64 bits and negative ones where an ID is
asked for, empty strings, 100 KB values, terminal escape sequences, paths that are missing,
directories or damaged files. Exit status 3 is reserved for a bug in ntsec.

The printed line must also be safe to show: control characters escaped, echoed values cut
(ntsec.errors.printable), so the line is short and holds no escape sequence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ntsec.cli import cli

BAD_UTF8 = os.fsdecode(b"caf\xe9")  # what Python makes of the argv bytes 63 61 66 e9
HUGE = str(2**64)
HUGE_HEX = "0x1" + "0" * 16
DIGITS = "9" * 5000  # beyond int()'s 4,300-digit limit
NEG = "-1"
LONG = "A" * 100_000
ESC = "x\x1b[2J\x1b]0;owned\x07y"
HOSTILE = {
    "bad-utf8": BAD_UTF8,
    "huge": HUGE,
    "huge-hex": HUGE_HEX,
    "digits": DIGITS,
    "negative": NEG,
    "empty": "",
    "long": LONG,
    "escape": ESC,
}
#: Kinds of value that make sense for an integer (an ID) option or argument.
NUMERIC = ("bad-utf8", "huge", "huge-hex", "digits", "negative", "empty", "long", "escape")
#: Cases whose input is odd but valid, so the command runs; their exit status is the outcome's
#: (0 done, 1 a failed operation with a one-line reason), never 2 or 3.
_LOOKUPS = ("logon-name", "run-as", "run-admin-user", "open-name", "pipe-connect",
            "set-security-path")
VALID: dict[str, tuple[int, str]] = {
    # A name nobody has: LogonUser / OpenProcess / CreateFile fail, as on Windows (exit 1).
    **{f"{name}-{kind}": (1, "no such account or object") for name in _LOOKUPS
       for kind in ("huge", "huge-hex", "digits", "empty", "long", "escape")},
    "run-as-negative": (1, "'-1' is a name nobody has"),
    "run-admin-user-negative": (1, "'-1' is a name nobody has"),
    # Digits are valid account names (Learn: "User name" rules forbid only " / \\ [ ] : ; | = ,
    # + * ? < > @ and names of only dots and spaces).
    "user-add-huge": (0, "an all-digit user name"),
    "user-add-huge-hex": (0, "a user name"),
    "group-add-huge": (0, "an all-digit group name"),
    "group-add-huge-hex": (0, "a group name"),
    # An empty SDDL string is a descriptor with nothing in it (no owner, group, DACL or SACL);
    # 'sddl' and 'check' read their argument as a paste, where nothing is bad input.
    "set-security-sddl-empty": (1, "setting nothing from an empty descriptor"),
    # --integrity '' builds a token without an integrity label.
    "check-integrity-empty": (1, "the decision of the access check"),
    # The simulated machine starts any image name it is given, as CreateProcess does for any
    # file; a full name is free text.
    "run-image-empty": (0, "an image name"),
    "run-image-long": (0, "an image name"),
    "run-image-escape": (0, "an image name"),
    "user-add-full-name-long": (0, "a full name is free text"),
    "pipe-serve-sddl-empty": (0, "the empty descriptor"),
    # Not modelled: CreateNamedPipe refuses an empty name and one over 256 characters
    # (Learn: CreateNamedPipeW, lpName); the simulated machine accepts any pipe name.
    "pipe-serve-name-empty": (0, "any pipe name"),
    "pipe-serve-name-long": (0, "any pipe name"),
    "pipe-serve-name-escape": (0, "any pipe name"),
    "user-add-full-name-escape": (0, "a full name is free text"),
}
#: The longest line an error may print (ntsec.errors.LINE_LIMIT plus the program name).
MAX_LINE = 320


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("bad-input")
    (base / "bad-utf8.txt").write_bytes(b"D:(A;;FA;;;\xff\xfeWD)\n")
    (base / "garbage.bin").write_bytes(b"\x01\x00\x04\x80" + b"\xff" * 64)
    (base / "empty.txt").write_bytes(b"")
    (base / "bad.toml").write_bytes(b"[[users]\nname = \xe9\n")
    (base / "damaged.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 84 + b"\xde\xad" * 50)
    (base / "dir").mkdir()
    return {
        "missing": str(base / "no-such-file"),
        "directory": str(base / "dir"),
        "bad-utf8-content": str(base / "bad-utf8.txt"),
        "garbage": str(base / "garbage.bin"),
        "empty-file": str(base / "empty.txt"),
        "bad-toml": str(base / "bad.toml"),
        "damaged-db": str(base / "damaged.db"),
        "bad-utf8-name": str(base) + "/" + BAD_UTF8,
        "long-name": str(base) + "/" + "n" * 5000,
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad-input-machine") / "machine.db"
    result = CliRunner().invoke(cli, ["--machine", str(path), "machine", "init"])
    assert 0 == result.exit_code, result.stderr
    return path


@pytest.fixture
def machine(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "machine.db"
    path.write_bytes(template.read_bytes())
    return str(path)


def _cases() -> Iterator[tuple[str, list[str], str | bytes | None]]:
    """(id, argv with {V} for the hostile value and {M} for a machine, stdin)."""
    read = ("--access", "read", "--user", "S-1-5-32-545")
    value_args: dict[str, tuple[list[str], tuple[str, ...]]] = {
        # name: (argv with {V}, the hostile kinds it gets)
        "sddl": (["sddl", "{V}"], tuple(HOSTILE)),
        "sddl-hex": (["sddl", "--hex", "{V}"], tuple(HOSTILE)),
        "sddl-base64": (["sddl", "--base64", "{V}"], (*HOSTILE, "non-ascii")),
        "sddl-domain-sid": (["sddl", "D:", "--domain-sid", "{V}"], tuple(HOSTILE)),
        "check-sd": (["check", "--sd", "{V}", *read], tuple(HOSTILE)),
        "check-sd-hex": (["check", "--sd-hex", "{V}", *read], tuple(HOSTILE)),
        "check-access": (["check", "--sd", "D:", "--access", "{V}", "--user", "S-1-5-18"],
                         tuple(HOSTILE)),
        "check-user": (["check", "--sd", "D:", "--access", "read", "--user", "{V}"],
                       tuple(HOSTILE)),
        "check-group": (["check", "--sd", "D:", *read, "--group", "{V}"], tuple(HOSTILE)),
        "check-priv": (["check", "--sd", "D:", *read, "--priv", "{V}"], tuple(HOSTILE)),
        "check-integrity": (["check", "--sd", "D:", *read, "--integrity", "{V}"],
                            tuple(HOSTILE)),
        "check-restricted": (["check", "--sd", "D:", *read, "--restricted", "{V}"],
                             tuple(HOSTILE)),
        "whoami-pid": (["--machine", "{M}", "whoami", "--pid", "{V}"], NUMERIC),
        "whoami-tid": (["--machine", "{M}", "whoami", "--tid", "{V}"], NUMERIC),
        "user-add": (["--machine", "{M}", "user", "add", "{V}"], tuple(HOSTILE)),
        "user-add-full-name": (
            ["--machine", "{M}", "user", "add", "zed", "--full-name", "{V}"],
            ("bad-utf8", "long", "escape"),
        ),
        "user-del": (["--machine", "{M}", "user", "del", "{V}"], tuple(HOSTILE)),
        "user-set": (["--machine", "{M}", "user", "set", "{V}", "--disable"], tuple(HOSTILE)),
        "group-add": (["--machine", "{M}", "group", "add", "{V}"], tuple(HOSTILE)),
        "group-del": (["--machine", "{M}", "group", "del", "{V}"], tuple(HOSTILE)),
        "group-add-member": (["--machine", "{M}", "group", "add-member", "Users", "{V}"],
                             tuple(HOSTILE)),
        "group-remove-member": (
            ["--machine", "{M}", "group", "remove-member", "{V}", "bob"], tuple(HOSTILE)),
        "rights-grant": (["--machine", "{M}", "rights", "grant", "bob", "{V}"], tuple(HOSTILE)),
        "rights-grant-account": (
            ["--machine", "{M}", "rights", "grant", "{V}", "SeBatchLogonRight"],
            tuple(HOSTILE)),
        "rights-revoke": (["--machine", "{M}", "rights", "revoke", "{V}", "SeBatchLogonRight"],
                          tuple(HOSTILE)),
        "rights-list": (["--machine", "{M}", "rights", "list", "{V}"], tuple(HOSTILE)),
        "logon-name": (["--machine", "{M}", "logon", "{V}", "--password-stdin"],
                       tuple(HOSTILE)),
        "logoff": (["--machine", "{M}", "logoff", "{V}"], NUMERIC),
        "run-image": (["--machine", "{M}", "run", "{V}", "--parent", "92"],
                      ("bad-utf8", "empty", "long", "escape")),
        "run-parent": (["--machine", "{M}", "run", "cmd.exe", "--parent", "{V}"], NUMERIC),
        "run-token-from": (
            ["--machine", "{M}", "run", "cmd.exe", "--parent", "92", "--token-from", "{V}"],
            NUMERIC),
        "run-as": (["--machine", "{M}", "run", "cmd.exe", "--parent", "92", "--as", "{V}"],
                   tuple(HOSTILE)),
        "run-admin-user": (
            ["--machine", "{M}", "run", "cmd.exe", "--parent", "132", "--elevate",
             "--admin-user", "{V}"], tuple(HOSTILE)),
        "kill": (["--machine", "{M}", "kill", "{V}"], NUMERIC),
        "adjust-pid": (["--machine", "{M}", "adjust", "{V}", "--enable", "SeDebugPrivilege"],
                       NUMERIC),
        "adjust-privilege": (["--machine", "{M}", "adjust", "92", "--enable", "{V}"],
                             tuple(HOSTILE)),
        "open-name": (["--machine", "{M}", "open", "{V}", "--pid", "92", "--access", "read"],
                      tuple(HOSTILE)),
        "open-process": (
            ["--machine", "{M}", "open", "{V}", "--process", "--pid", "92", "--access", "read"],
            NUMERIC),
        "open-pid": (["--machine", "{M}", "open", "scmanager", "--pid", "{V}", "--access",
                      "read"], NUMERIC),
        "open-tid": (["--machine", "{M}", "open", "scmanager", "--pid", "92", "--tid", "{V}",
                      "--access", "read"], NUMERIC),
        "open-access": (["--machine", "{M}", "open", "scmanager", "--pid", "92", "--access",
                         "{V}"], tuple(HOSTILE)),
        "impersonate-pid": (["--machine", "{M}", "impersonate", "--pid", "{V}", "--revert"],
                            NUMERIC),
        "impersonate-tid": (
            ["--machine", "{M}", "impersonate", "--pid", "92", "--tid", "{V}", "--revert"],
            NUMERIC),
        "impersonate-token-from": (
            ["--machine", "{M}", "impersonate", "--pid", "92", "--token-from", "{V}"], NUMERIC),
        "pipe-serve-name": (["--machine", "{M}", "pipe", "serve", "{V}", "--pid", "60"],
                            ("bad-utf8", "empty", "long", "escape")),
        "pipe-serve-pid": (["--machine", "{M}", "pipe", "serve", "demo", "--pid", "{V}"],
                           NUMERIC),
        "pipe-serve-sddl": (
            ["--machine", "{M}", "pipe", "serve", "demo", "--pid", "60", "--sddl", "{V}"],
            tuple(HOSTILE)),
        "pipe-connect": (["--machine", "{M}", "pipe", "connect", "{V}", "--pid", "92"],
                         tuple(HOSTILE)),
        "pipe-connect-pid": (["--machine", "{M}", "pipe", "connect", "demo", "--pid", "{V}"],
                             NUMERIC),
        "pipe-impersonate": (["--machine", "{M}", "pipe", "impersonate", "{V}", "--pid", "60"],
                             NUMERIC),
        "events-id": (["--machine", "{M}", "events", "--id", "{V}"], NUMERIC),
        "events-logon-id": (["--machine", "{M}", "events", "--logon-id", "{V}"], NUMERIC),
        "events-last": (["--machine", "{M}", "events", "--last", "{V}"], NUMERIC),
        "events-account": (["--machine", "{M}", "events", "--account", "{V}"],
                           ("bad-utf8", "long", "escape")),
        "set-security-path": (
            ["--machine", "{M}", "set-security", "{V}", "--pid", "92", "--sddl", "D:",
             "--dacl"], tuple(HOSTILE)),
        "set-security-sddl": (
            ["--machine", "{M}", "set-security", "C:\\Windows", "--pid", "92", "--sddl", "{V}",
             "--dacl"], tuple(HOSTILE)),
        "set-security-pid": (
            ["--machine", "{M}", "set-security", "C:\\Windows", "--pid", "{V}", "--sddl", "D:",
             "--dacl"], NUMERIC),
        "findings-sddl": (["findings", "{V}"], tuple(h for h in HOSTILE if h != "empty")),
        "findings-hex": (["findings", "--hex", "{V}"], tuple(HOSTILE)),
        "findings-base64": (["findings", "--base64", "{V}"], (*HOSTILE, "non-ascii")),
        "findings-class": (["findings", "D:", "--class", "{V}"], tuple(HOSTILE)),
        "findings-self": (["findings", "D:", "--self", "{V}"], tuple(HOSTILE)),
        "findings-laps-guid": (["findings", "D:", "--laps-guid", "{V}"], tuple(HOSTILE)),
        "findings-domain-sid": (["findings", "D:", "--domain-sid", "{V}"], tuple(HOSTILE)),
        "samples": (["samples", "{V}"], tuple(h for h in HOSTILE if h != "negative")),
        "samples-traversal": (["samples", "../{V}errors.py"], ("empty",)),
        "serve-host": (["serve", "--host", "{V}", "--port", "0"],
                       ("bad-utf8", "long", "escape", "huge")),
        "serve-port": (["serve", "--port", "{V}"], NUMERIC),
    }
    values = {**HOSTILE, "non-ascii": "AQAEgBQAAAAgAAAAAAAAAAAAAAABAQ€"}
    for name, (argv, kinds) in value_args.items():
        for kind in kinds:
            yield f"{name}-{kind}", [a.replace("{V}", values[kind]) for a in argv], None


def _file_cases() -> Iterator[tuple[str, list[str], str]]:
    """(id, argv with {F} for a bad path, the kind of path)."""
    readers = {
        "sddl-file": ["sddl", "--file", "{F}"],
        "check-sd-file": ["check", "--sd", "@{F}", "--access", "read", "--user", "S-1-5-18"],
        "check-token": ["check", "--sd", "D:", "--access", "read", "--token", "{F}"],
        "whoami-token": ["whoami", "/all", "--token", "{F}"],
        "token-analyze": ["token", "analyze", "{F}"],
        "findings-file": ["findings", "--file", "{F}"],
        "findings-token": ["findings", "D:", "--token", "{F}"],
        "machine-init-scenario": ["--machine", "{M}.new", "machine", "init", "--scenario",
                                  "{F}"],
        "network-init-scenario": ["network", "init", "{M}.net", "--scenario", "{F}"],
        "machine-show": ["--machine", "{F}", "machine", "show"],
        "ps": ["--machine", "{F}", "ps"],
    }
    kinds = ("missing", "directory", "bad-utf8-content", "garbage", "empty-file", "bad-toml",
             "damaged-db", "bad-utf8-name", "long-name")
    for name, argv in readers.items():
        for kind in kinds:
            if name in ("machine-show", "ps") and kind == "missing":
                continue  # a missing --machine path is created on purpose by 'machine init'
            if name == "findings-file" and kind == "empty-file":
                continue  # an empty SDDL file is the empty descriptor (see VALID)
            yield f"{name}-{kind}", argv, kind


def _invoke(argv: list[str], stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, argv, input=stdin)


def assert_refused(result: Result, code: int = 2) -> None:
    """Exit status ``code`` (2: bad input), nothing on stdout, one line on stderr (plus the
    caret block of a parse error), no traceback, every line short and free of control
    characters."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert code == result.exit_code, result.stderr[:2000]
    assert "Traceback" not in result.stderr
    if code == 0 or (code == 1 and not result.stderr):
        return  # done, or a decision (denied) printed on stdout
    assert "" == result.stdout
    lines = result.stderr.splitlines()
    assert lines, "no error message"
    assert lines[0].startswith("ntsec"), lines[0][:400]
    assert "error: " in lines[0]
    assert "Traceback" not in result.stderr
    if len(lines) != 1:
        # A parse error: the message, the input around the offset, and the caret line.
        assert 3 == len(lines), result.stderr[:2000]
        assert "^" == lines[2].strip()
    for line in lines:
        assert len(line) <= MAX_LINE, line[:400]
        assert line.isprintable(), ascii(line[:400])


@pytest.mark.parametrize(
    ("argv", "stdin", "code"),
    [pytest.param(a, s, VALID.get(i, (2, ""))[0], id=i) for i, a, s in _cases()],
)
def test_hostile_value_is_bad_input(
    argv: list[str], stdin: str | None, code: int, machine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 'serve' must refuse before it serves; if it did not, fail instead of serving forever.
    uvicorn = pytest.importorskip("uvicorn")

    def refuse(*args: object, **kwargs: object) -> None:
        message = "the server would have started"
        raise AssertionError(message)

    monkeypatch.setattr(uvicorn.Server, "run", refuse)
    argv = [machine if a == "{M}" else a for a in argv]
    assert_refused(_invoke(argv, stdin if stdin is not None else "pw\n"), code)


def test_every_valid_exception_is_a_case() -> None:
    assert set(VALID) <= {i for i, _, _ in _cases()}


@pytest.mark.parametrize(("argv", "kind"), [pytest.param(a, k, id=i) for i, a, k in
                                            _file_cases()])
def test_bad_file_is_bad_input(
    argv: list[str], kind: str, files: dict[str, str], machine: str
) -> None:
    path = files[kind]
    argv = [a.replace("{F}", path).replace("{M}", machine) for a in argv]
    assert_refused(_invoke(argv))


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        pytest.param(["user", "add", "zed", "--password-stdin"], b"pa\xffss\n", id="user-add"),
        pytest.param(["user", "set", "bob", "--password-stdin"], b"\xfe\xff\n", id="user-set"),
        pytest.param(["logon", "bob", "--password-stdin"], b"Bob-\xe9\n", id="logon"),
        pytest.param(["run", "cmd.exe", "--parent", "92", "--as", "bob"], b"\xc3\x28\n",
                     id="runas"),
    ],
)
def test_undecodable_password_is_bad_input(argv: list[str], stdin: bytes, machine: str) -> None:
    assert_refused(_invoke(["--machine", machine, *argv], stdin))


def test_logon_without_a_terminal_says_to_use_password_stdin(machine: str) -> None:
    # CliRunner's stdin is not a terminal: no prompt can be shown, so the command must not
    # wait for one (or report "interrupted").
    result = _invoke(["--machine", machine, "logon", "bob"], "")
    assert_refused(result)
    assert "--password-stdin" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([b"sddl", b"D:(A;;FA;;;\xff)"], id="sddl"),
        pytest.param([b"sddl", b"--base64", "AQAE€".encode()], id="base64-non-ascii"),
        pytest.param([b"sddl", b"--file", b"/nonexistent/\xe9"], id="file-name"),
        pytest.param([b"whoami", b"--token", b"-"], id="whoami-stdin-bad-utf8"),
    ],
)
def test_real_argv_bytes_are_bad_input(argv: list[bytes]) -> None:
    """The console script itself, with bytes that are not UTF-8 in its argv and stdin."""
    proc = subprocess.run(
        [sys.executable, "-m", "ntsec", *argv],
        input=b"\xff\xfe\x00garbage\xe9\n",
        capture_output=True,
        check=False,
        env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""},
        timeout=60,
    )
    err = proc.stderr.decode("utf-8")
    assert 2 == proc.returncode, err
    assert b"" == proc.stdout
    lines = err.splitlines()
    assert len(lines) in (1, 3), err
    assert all(line.isprintable() for line in lines), ascii(err)
    assert "Traceback" not in err


def test_error_line_escapes_terminal_sequences_and_cuts_long_values() -> None:
    result = _invoke(["sddl", "D:(A;;FA;;;" + ESC + LONG + ")"])
    assert_refused(result)
    assert "\x1b" not in result.stderr
    result = _invoke(["--machine", "/nonexistent" + ESC, "ps"])
    assert_refused(result)
    assert "\\x1b[2J" in result.stderr
    result = _invoke(["check", "--sd", "D:", "--access", "read", "--user", LONG])
    assert_refused(result)
    assert "characters)" in result.stderr


def test_help_documents_the_exit_statuses() -> None:
    text = _invoke(["--help"]).stdout
    assert "2 bad input" in text
    assert "3 internal error" in text


def test_printable_escapes_controls_and_cuts_the_middle() -> None:
    from ntsec.errors import LINE_LIMIT, printable

    assert "a\\x1b[31mb\\x07\\n\\udce9\\u202ec" == printable("a\x1b[31mb\x07\n\udce9\u202ec")
    assert "plain text, kept" == printable("plain text, kept")
    shown = printable("start " + "x" * 100_000 + " end")
    assert shown.startswith("start xxx")
    assert shown.endswith("xxx end")
    assert f"… ({100_010 - 160 - 60} characters) …" in shown
    assert len(shown) < LINE_LIMIT + 40


def test_parse_error_caret_stays_under_the_offset_after_escapes() -> None:
    from ntsec.errors import ParseError, error_text

    text = "ab\x1b\x1bcd"
    exc = ParseError("bad character", text, 4)  # the 'c'
    head, shown, caret = error_text(exc).split("\n")
    assert "bad character (at offset 4)" == head
    assert "ab\\x1b\\x1bcd" == shown
    assert "c" == shown[caret.index("^")]


def test_a_machine_at_a_path_that_is_not_utf8_works(tmp_path: Path) -> None:
    """A POSIX file name is bytes: an existing file whose name is not UTF-8 is used, and
    printed back as the same bytes (not refused, not an internal error)."""
    path = os.fsencode(tmp_path) + b"/caf\xe9.db"
    for argv in ([b"machine", b"init"], [b"ps"], [b"machine", b"show"],
                 [b"machine", b"init", b"--force"]):
        if argv == [b"machine", b"init"]:
            # Created by the library (the command line refuses an undecodable name that is
            # not an existing file: it cannot tell a path from a name).
            from ntsec.system.machine import Machine

            Machine.create(os.fsdecode(path)).close()
            continue
        proc = subprocess.run(
            [sys.executable, "-m", "ntsec", b"--machine", path, *argv],
            capture_output=True, check=False, env={**os.environ, "LC_ALL": "C.UTF-8"},
            timeout=120,
        )
        assert 0 == proc.returncode, proc.stderr
        if argv == [b"machine", b"show"]:
            assert b"path: " + path in proc.stdout


def test_undecodable_password_on_real_stdin_is_bad_input(machine: str) -> None:
    """The console script's standard input (surrogateescape'd under Python's UTF-8 mode, or
    strict): either way a password that is not UTF-8 is bad input."""
    for utf8_mode in ("0", "1"):
        proc = subprocess.run(
            [sys.executable, "-m", "ntsec", "--machine", machine, "logon", "bob",
             "--password-stdin"],
            input=b"Bob-\xff\xfe\n", capture_output=True, check=False, timeout=120,
            env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONUTF8": utf8_mode},
        )
        err = proc.stderr.decode()
        assert 2 == proc.returncode, err
        assert 1 == len(err.splitlines()), err
        assert "not UTF-8" in err
