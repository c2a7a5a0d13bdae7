r"""Text that is safe to show on a terminal: control, C1 and bidi characters escaped.

Column names, series ids, paths and cell values come from files seqcast does not
control. Printed raw, ``ESC ] 0 ; title BEL`` retitles the operator's terminal,
``ESC [ 2 J`` clears it, a C1 ``CSI`` (U+009B) does the same on terminals that honour
it, and a right-to-left override (U+202E) makes ``evil.csv`` read as something else.
Everything seqcast prints for a person (tables, ``info``, notes, warnings, errors) goes
through :func:`printable`; data written to a file or pipe (CSV, JSON) keeps its text,
and JSON escapes these characters itself.

Example:
    >>> printable("y\x1b]0;owned\x07")
    'y\\x1b]0;owned\\x07'
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL; format characters that reorder or hide text (soft hyphen,
# Arabic letter mark, Mongolian vowel separator, zero-width and bidi marks, line and
# paragraph separators, embeddings and overrides, invisible operators, isolates,
# deprecated format controls, BOM, interlinear annotations, tag characters).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def printable(text: str) -> str:
    r"""Return ``text`` with every unsafe character written as an escape (``\x1b``).

    Newlines and tabs are escaped too, so the result is always one line. Idempotent:
    the escapes themselves are plain text.
    """
    return _UNSAFE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """Return ``text`` made printable line by line, keeping its newlines."""
    return "\n".join(printable(line) for line in text.split("\n"))
