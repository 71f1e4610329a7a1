"""How a model file is refused: one error type, with a message that says what is wrong.

Every reader in ``cells.io`` turns whatever its parser raises on a malformed file into a
:class:`WeightsFileError` (a ``ValueError``) through :func:`refusing`, so a bad upload is always a
message, never another exception.
"""

from __future__ import annotations

import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

PARSER_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
                 TypeError, SyntaxError, struct.error, NotImplementedError, RuntimeError, KeyError,
                 IndexError, OverflowError, MemoryError, UnicodeError, tokenize.TokenError)
"""What the zip, .npy, HDF5 and JSON parsers raise on a malformed file (RecursionError is a
RuntimeError; numpy's .npy header reader tokenizes a header that is not a Python literal, and
tokenize raises its own TokenError on an unclosed bracket)."""


class WeightsFileError(ValueError):
    """A file that is not a model file gatescope reads; the message says what is wrong and the fix.

    ``reason``: what the file is and why it is not read, in words; ``fix``: the lines of code that
    make a file gatescope reads, when there are some (the message ends with them, on their own
    lines, so a page can show them as a code block: ``app.widgets.upload``)."""

    def __init__(self, reason: str, fix: str | None = None) -> None:
        super().__init__(reason if fix is None else f"{reason}\n{fix}")
        self.reason = reason
        self.fix = fix


DEQUANTIZE = ("save_file({k: v.dequantize() if v.is_quantized else v.float() "
              "for k, v in model.state_dict().items()}, \"model.safetensors\")")
"""The line that turns a PyTorch model's integer or quantized state_dict into float tensors."""


def quantized(what: str) -> WeightsFileError:
    """The one refusal of integer and quantized weights, in every format: ``what`` names the array
    or layer and its dtype."""
    return WeightsFileError(
        f"{what}: the gates are computed from float weights, so quantized or integer weights are not "
        f"read; dequantize to float first. From PyTorch: {DEQUANTIZE}; from Keras: save the model "
        "before model.quantize(...)")


@contextmanager
def refusing(what: str, also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn a parser's exception (:data:`PARSER_ERRORS`, and ``also``: a parser's own error class)
    into a WeightsFileError that starts with ``what``."""
    try:
        yield
    except WeightsFileError:
        raise
    except (*PARSER_ERRORS, *also) as e:
        reason = str(e) or type(e).__name__
        raise WeightsFileError(f"{what}: {reason[:200]}") from e


def refuse_constant(name: str) -> None:
    """``json.loads``'s ``parse_constant``: NaN and Infinity are not JSON numbers; refuse them."""
    raise ValueError(f"{name} is not a JSON number")
