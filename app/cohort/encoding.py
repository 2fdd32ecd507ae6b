"""Which text encoding a cohort file is in: UTF-8 (with or without BOM) or Windows-1252.

Excel's plain "CSV" export writes Windows-1252, so names like "Zoë Ó Ceallaigh" arrive as single
bytes that are invalid UTF-8. The whole file is scanned before any row is imported (in blocks, so
memory stays flat): a file is never half imported and then found to be undecodable.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from app.errors import InvalidInputError

_BLOCK = 1 << 20
# Bytes Windows-1252 leaves undefined: their presence means the file is neither encoding.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
# Control characters that never appear in a text export (NUL suggests UTF-16 or a binary file).
_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}
# Every other byte: deleted with bytes.translate (C speed) so only remarkable bytes are looked at.
_UNREMARKABLE = bytes(set(range(256)) - _CONTROL - _CP1252_UNDEFINED)


class EncodingError(InvalidInputError):
    """The file is in neither accepted encoding."""


@dataclass(frozen=True, slots=True)
class FileScan:
    """What one pass over the bytes tells us before importing."""

    encoding: str
    lines: int
    sha256: str


def scan_file(path: Path) -> FileScan:
    """Encoding (``utf-8-sig``, ``utf-8`` or ``cp1252``), line count and digest of a file.

    Raises EncodingError for a file in any other encoding.
    """
    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise EncodingError(
                "the file is UTF-16; save it as 'CSV UTF-8 (Comma delimited)' and upload it again"
            )
        handle.seek(0)
        bom = head.startswith(codecs.BOM_UTF8)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        seen: set[int] = set()
        while block := handle.read(_BLOCK):
            seen.update(block.translate(None, _UNREMARKABLE))
            digest.update(block)
            lines += block.count(b"\n")
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if seen & _CONTROL:
        raise EncodingError(
            "the file contains control characters (is it a spreadsheet or UTF-16 file?); "
            "save it as 'CSV UTF-8 (Comma delimited)' and upload it again"
        )
    if utf8:
        encoding = "utf-8-sig" if bom else "utf-8"
    elif bom or seen & _CP1252_UNDEFINED:
        raise EncodingError(
            "the file is neither UTF-8 nor Windows-1252 text; "
            "save it as 'CSV UTF-8 (Comma delimited)' and upload it again"
        )
    else:
        encoding = "cp1252"
    return FileScan(encoding=encoding, lines=lines, sha256=digest.hexdigest())
