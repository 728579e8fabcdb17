"""Untrusted text made inert for a terminal.

Complaint texts, names and departments arrive from imported files, web forms and e-mails. A
terminal acts on control sequences inside them: an OSC sets the window title, writes the
clipboard (OSC 52) or hides a link (OSC 8); a DCS talks to the terminal itself; a CSI moves the
cursor or repaints lines; a carriage return overwrites what was printed. Every place that
prints such text for people goes through :func:`terminal_safe`, which removes them all and
leaves the text itself (Chinese included) untouched. :func:`escape_json_controls` does the
lossless equivalent for JSON, whose own escaping already covers the C0 controls.
"""

from __future__ import annotations

import re

__all__ = ["escape_json_controls", "terminal_safe"]

# Strings that carry a payload up to a terminator: OSC (ESC ] or U+009D), ended by BEL or ST
# (ESC \ or U+009C); DCS, SOS, PM and APC (ESC P/X/^/_ or U+0090/0098/009E/009F), ended by ST
# (xterm accepts BEL too). They are removed with their payload: a terminal never shows it.
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
# CSI (ESC [ or U+009B): parameters, intermediates, one final byte.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
# Any other escape sequence: ESC, intermediates, a final byte (ESC c resets the terminal).
_ESCAPE = r"\x1b[ -/]*[0-~]"
# What is left: lone C0 controls but tab and newline, DEL, C1 controls, and the bidi embedding,
# override and isolate controls, which reorder what a line shows ("Trojan Source") - a
# reference or an amount could read differently from what is stored. Right-to-left text keeps
# its implicit direction; only the explicit overrides go.
_LONE = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_SEQUENCES = re.compile(f"{_STRING}|{_CSI}|{_ESCAPE}|{_LONE}")
_LINE_BREAK = re.compile(r"\r\n?")
_WHITESPACE = re.compile(r"[\t\n]")
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def terminal_safe(text: str, *, multiline: bool = True) -> str:
    """``text`` without any control sequence or control character a terminal would act on.

    Removed: CSI, OSC (ended by BEL or ST), DCS, SOS, PM and APC strings with their payload,
    other escape sequences, C0 and C1 controls, DEL, and the bidi embedding, override and
    isolate characters. A carriage return becomes a line break (so it cannot overwrite the
    line). With ``multiline`` tabs and line breaks stay; without, each becomes a space.
    An unterminated OSC or DCS loses only its introducer: the rest stays visible, as text.

    >>> terminal_safe("退款\\x1b]0;pwned\\x07 please\\x1b[2J")
    '退款 please'
    """
    if text.isascii() and text.isprintable():
        return text
    text = _SEQUENCES.sub("", _LINE_BREAK.sub("\n", text))
    return text if multiline else _WHITESPACE.sub(" ", text)


def escape_json_controls(text: str) -> str:
    """JSON text with DEL, the C1 controls, the bidi controls and the Unicode line separators
    written as ``\\uXXXX`` escapes: the same data, inert on a terminal. (``json.dumps``
    escapes the C0 controls itself; these characters can only occur inside JSON strings.)"""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
