"""Reading an expression exactly as ``pandas.eval`` does, keeping where each token was written.

pandas evaluates each non-blank line on its own, replaces ```backtick-quoted``` names by
identifiers (outside string literals, by its own rules), tokenises with :mod:`tokenize`,
reads ``&``/``|`` as ``and``/``or`` and parses the result with :mod:`ast`. The functions
here do the same, so that :mod:`runtime._expressions` checks the very tree pandas evaluates
and reports positions in the expression as the user wrote it.
"""

from __future__ import annotations

import bisect
import io
import keyword
import token
import tokenize
from collections.abc import Hashable
from dataclasses import dataclass

from runtime._terminal import plain


class ExpressionError(ValueError):
    """An expression that is refused or cannot be read.

    Attributes:
        part: The refused part as the user wrote it, e.g. ``attribute '__class__'``.
        offset: Where that part starts in the expression (0-based), if known.
    """

    def __init__(self, message: str, *, part: str = "", offset: int | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.offset = offset


def where(expr: str, offset: int) -> str:
    """Say where ``offset`` is in ``expr``: ``column 7``, or ``line 2, column 3``."""
    column = offset - (expr.rfind("\n", 0, offset) + 1) + 1
    if "\n" not in expr:
        return f"column {column}"
    return f"line {expr.count(chr(10), 0, offset) + 1}, column {column}"


def refusal(expr: str, part: str, offset: int, why: str) -> ExpressionError:
    """The error for a refused part: ``<part> at column <n> is not allowed: <why>``."""
    return ExpressionError(f"{part} at {where(expr, offset)} is not allowed: {why}",
                           part=part, offset=offset)


def backtick_segments(line: str) -> list[tuple[bool, str]]:
    """Cut ``line`` into (backtick-quoted?, text) pieces where pandas cuts it.

    The same rules as ``pandas.core.computation.parsing._split_by_backtick``: a backtick
    opens a name only outside '...' and "..." (a quote preceded by a backslash does not
    close a string), a doubled backtick inside a name stands for one, and a name left open
    is plain text.
    """
    pieces: list[tuple[bool, str]] = []
    part: list[str] = []
    state = ""  # "", "`", "'" or '"'
    i = 0
    while i < len(line):
        char = line[i]
        if char == "`" and state == "":
            if part:
                pieces.append((False, "".join(part)))
            part, state, i = [char], "`", i + 1
            continue
        if char == "`" and state == "`":
            if line[i + 1:i + 2] == "`":
                part.append("``")
                i += 2
                continue
            part.append(char)
            pieces.append((True, "".join(part)))
            part, state, i = [], "", i + 1
            continue
        if char in "'\"":
            if state == "":
                state = char
            elif state == char and line[i - 1] != "\\":
                state = ""
        part.append(char)
        i += 1
    if part:
        pieces.append((False, "".join(part)))
    return pieces


_SPECIAL = {char: f"_{token.tok_name[kind]}_"
            for char, kind in tokenize.EXACT_TOKEN_TYPES.items()}
_SPECIAL.update({" ": "_", "?": "_QUESTIONMARK_", "!": "_EXCLAMATIONMARK_",
                 "$": "_DOLLARSIGN_", "€": "_EUROSIGN_", "°": "_DEGREESIGN_",
                 "'": "_SINGLEQUOTE_", '"': "_DOUBLEQUOTE_", "#": "_HASH_",
                 "`": "_BACKTICK_"})


def pandas_identifier(name: str) -> str:
    """The identifier pandas makes of a backtick-quoted name.

    The same rules as ``pandas.core.computation.parsing.create_valid_python_identifier``.

    Raises:
        SyntaxError: No identifier can be made of it, as in pandas.
    """
    if name.isidentifier() and not keyword.iskeyword(name):
        return name
    escaped = []
    for char in name:
        ascii_text = "".join(chr(b) for b in char.encode("ascii", "backslashreplace"))
        escaped.append(ascii_text.replace(
            "\\", "_UNICODE_" if char != ascii_text else "_BACKSLASH_"))
    made = "BACKTICK_QUOTED_STRING_" + "".join(_SPECIAL.get(c, c) for c in "".join(escaped))
    if not made.isidentifier():
        msg = f"Could not convert '{made}' to a valid Python identifier."
        raise SyntaxError(msg)
    return made


def column_identifier(column: Hashable) -> str | None:
    """The identifier under which pandas offers a column to expressions, if it has one.

    The same rules as ``pandas.core.computation.parsing.clean_column_name``: the name is
    read as if written in backticks (backticks in it doubled).
    """
    text = column.replace("`", "``") if isinstance(column, str) else str(column)
    segments = backtick_segments(f"`{text}`")
    if len(segments) != 1 or not segments[0][0]:
        return column if isinstance(column, str) else None
    try:
        return pandas_identifier(segments[0][1][1:-1])
    except SyntaxError:
        return column if isinstance(column, str) else None


@dataclass(frozen=True)
class Reading:
    """An expression as pandas reads it, and where each of its tokens was written."""

    line: str
    """The one non-blank line, stripped: the text pandas tokenises."""
    tokens: list[tokenize.TokenInfo]
    """Tokens of ``line`` with backticked names replaced, as pandas makes them."""
    origins: list[int]
    """For each token, its offset in the expression."""
    written: list[str]
    """For each token, its text as written (backticks included)."""


def read(expr: str) -> Reading:
    """Read ``expr`` as ``pandas.eval`` does.

    Raises:
        ExpressionError: The expression is empty, has more than one line, or cannot be
            tokenised.
    """
    # pandas.eval evaluates each non-blank line (str.splitlines) on its own, stripped.
    lines, start = [], 0
    for text in expr.splitlines(keepends=True):
        if text.strip():
            lines.append((start + len(text) - len(text.lstrip()), text.strip()))
        start += len(text)
    if not lines:
        msg = "the expression is empty"
        raise ExpressionError(msg, part="empty")
    if len(lines) > 1:
        msg = (f"the expression must be one line, but a second line starts at "
               f"{where(expr, lines[1][0])}")
        raise ExpressionError(msg, part="line", offset=lines[1][0])
    base, line = lines[0]
    pieces: list[str] = []
    anchors: list[tuple[int, int, str | None]] = []  # (at in source, at in line, backticked)
    source_at = line_at = 0
    for quoted, text in backtick_segments(line):
        anchors.append((source_at, line_at, text if quoted else None))
        try:
            piece = pandas_identifier(text[1:-1]) if quoted else text
        except SyntaxError:
            raise refusal(expr, f"name {plain(text)}", base + line_at,
                          "pandas cannot make a name of it") from None
        pieces.append(piece)
        source_at, line_at = source_at + len(piece), line_at + len(text)
    source = "".join(pieces)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        text = str(exc.args[0] if exc.args else exc)
        msg = ("a bracket is opened but never closed" if "statement" in text else
               "a triple-quoted string is never closed" if "string" in text else
               f"cannot be read: {text}")
        raise ExpressionError(msg, part="syntax") from None
    starts = [anchor[0] for anchor in anchors]
    origins, written = [], []
    for tok in tokens:
        at = tok.start[1] if tok.start[0] == 1 else len(source)
        anchor_source, anchor_line, quoted_text = anchors[
            max(bisect.bisect_right(starts, at) - 1, 0)]
        if quoted_text is None:
            origins.append(base + anchor_line + at - anchor_source)
            written.append(tok.string)
        else:
            origins.append(base + anchor_line)
            written.append(quoted_text)
    return Reading(line, tokens, origins, written)


_SKIPPED = frozenset({tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.INDENT,
                      tokenize.DEDENT, tokenize.ENDMARKER})


@dataclass(frozen=True)
class Source:
    """The Python text pandas hands to ``ast.parse``, mapped back to the expression."""

    text: str
    starts: list[int]
    """Where each kept token starts in ``text``."""
    origins: list[int]
    """Where each kept token starts in the expression."""
    same: list[bool]
    """Whether each kept token reads as written (not a backticked name, ``&`` or ``|``)."""

    def origin(self, offset: int) -> int:
        """The offset in the expression of the character at ``offset`` in ``text``."""
        if not self.starts:
            return 0
        k = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        return self.origins[k] + (offset - self.starts[k] if self.same[k] else 0)


def python_source(expr: str, reading: Reading) -> Source:
    """Join the tokens pandas parses; refuse ``@`` locals and characters Python cannot read.

    Raises:
        ExpressionError: naming the ``@`` or the character, and its column.
    """
    texts: list[str] = []
    starts, origins, same = [], [], []
    at = 0
    for index, tok in enumerate(reading.tokens):
        if tok.type in _SKIPPED or (tok.type == tokenize.ERRORTOKEN and tok.string.isspace()):
            continue
        origin = reading.origins[index]
        if tok.type == tokenize.ERRORTOKEN:
            msg = (f"the string at {where(expr, origin)} is never closed"
                   if tok.string in ("'", '"') else
                   f"unexpected character {tok.string!r} at {where(expr, origin)}")
            raise ExpressionError(msg, part=tok.string, offset=origin)
        if tok.type == tokenize.OP and "@" in tok.string:
            raise refusal(expr, f"'{tok.string}'", origin,
                          "'@name' would read a variable of the program; write the value "
                          "itself")
        text = tok.string
        if tok.type == tokenize.OP and text in ("&", "|"):
            text = "and" if text == "&" else "or"
        texts.append(text)
        starts.append(at)
        origins.append(origin)
        same.append(text == reading.written[index])
        at += len(text) + 1
    return Source(" ".join(texts), starts, origins, same)
