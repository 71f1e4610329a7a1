"""How a model file is refused: one error type, with a message that says what is wrong.

Every reader in ``cells.io`` turns whatever its parser raises on a malformed file into a
:class:`WeightsFileError` (a ``ValueError``) through :func:`refusing`, so a bad upload is always a
message, never another exception.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

PARSER_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
                 TypeError, SyntaxError, struct.error, NotImplementedError, RuntimeError, KeyError,
                 IndexError, OverflowError, MemoryError, UnicodeError)
"""What the zip, .npy, HDF5 and JSON parsers raise on a malformed file (RecursionError is a
RuntimeError)."""


class WeightsFileError(ValueError):
    """A file that is not a model file gatescope reads; the message says what is wrong and the fix.

    ``reason``: what the file is and why it is not read, in words; ``fix``: the lines of code that
    make a file gatescope reads, when there are some (the message ends with them, on their own
    lines, so a page can show them as a code block: ``app.widgets.upload``)."""

    def __init__(self, reason: str, fix: str | None = None) -> None:
        super().__init__(reason if fix is None else f"{reason}\n{fix}")
        self.reason = reason
        self.fix = fix


@contextmanager
def refusing(what: str) -> Iterator[None]:
    """Turn a parser's exception into a WeightsFileError that starts with ``what``."""
    try:
        yield
    except WeightsFileError:
        raise
    except PARSER_ERRORS as e:
        reason = str(e) or type(e).__name__
        raise WeightsFileError(f"{what}: {reason[:200]}") from e


def refuse_constant(name: str) -> None:
    """``json.loads``'s ``parse_constant``: NaN and Infinity are not JSON numbers; refuse them."""
    raise ValueError(f"{name} is not a JSON number")
