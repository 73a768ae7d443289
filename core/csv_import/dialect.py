"""Finding a file's encoding and delimiter from its first bytes, without reading it whole."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from stockpot.core.csv_import.profile import DELIMITERS, CsvProfile
from stockpot.core.errors import ValidationFailed

SAMPLE_BYTES = 64 * 1024
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class UnreadableFile(ValidationFailed):
    code = "csv_unreadable"


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str

    def describe(self) -> str:
        return f"{self.encoding}, {DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}"


def detect(sample: bytes, profile: CsvProfile) -> Dialect:
    """The encoding and delimiter ``profile`` asks for, or found from ``sample`` where it
    says ``auto``: UTF-8 (with or without BOM) when the sample decodes as UTF-8, else
    cp1252; the candidate delimiter that splits the first rows into the most, equal columns.
    """
    if not sample.strip():
        raise UnreadableFile("the file is empty; export the sales again and upload that file")
    encoding = profile.encoding if profile.encoding != "auto" else _encoding(sample)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample)
    delimiter = profile.delimiter if profile.delimiter != "auto" else _delimiter(text)
    return Dialect(encoding, delimiter)


def _encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _delimiter(text: str) -> str:
    lines = text.splitlines()
    if len(text.encode()) >= SAMPLE_BYTES - 4:
        lines = lines[:-1]  # the last line of a cut sample may be incomplete
    head = "\n".join(lines[:50])
    best, best_score = ",", (0, 0)
    for candidate in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(head), delimiter=candidate)]
        except csv.Error:
            continue
        widths = [width for width in widths if width > 0]
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for width in widths if width == widths[0])
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = candidate, score
    return best
