"""Compressed input: recognised by its magic bytes whatever the file is called, decompressed as a stream.

gzip, bzip2 and zstd go through Arrow's streaming decompressors (:class:`pyarrow.CompressedInputStream`):
the decompressed bytes are never held whole, so memory stays flat however large the file. Arrow
checks each format's own integrity data (gzip's CRC, bzip2's block CRCs, zstd's frames) and notices a
stream cut short; those failures become one :class:`~slopecli.errors.DataError` naming the file.

A compressed file cannot be cut into byte ranges that start at row boundaries, so it is read as one
stream (no parallel split); the Dask engine reads it as one piece.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import IO, Any

from slopecli.errors import DataError
from slopecli.readers.parquet import MAGIC as PARQUET_MAGIC

MAGIC_BYTES = 10
"""Enough leading bytes to recognise every format below (bzip2's is the longest)."""


@dataclass(frozen=True)
class Codec:
    """A compression format: its magic bytes, what messages call it, and Arrow's name for it."""

    magic: re.Pattern[bytes]
    kind: str
    arrow: str | None
    tool: str


CODECS = (
    Codec(re.compile(rb"\x1f\x8b\x08"), "gzip", "gzip", "zcat"),
    # A block of data starts 1AY&SY (pi); an empty stream is the end-of-stream mark alone (sqrt(pi)).
    Codec(re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)"), "bzip2", "bz2", "bzcat"),
    Codec(re.compile(rb"\x28\xb5\x2f\xfd"), "zstd", "zstd", "zstdcat"),
    # Arrow has no xz decoder and zip is an archive of files, not a stream: these are refused.
    Codec(re.compile(rb"\xfd7zXZ\x00"), "xz", None, "xzcat"),
    Codec(re.compile(rb"PK\x03\x04"), "zip", None, "unzip -p"),
)


def codec_of(head: bytes, name: str) -> Codec | None:
    """The compression ``head`` starts with, by its full magic bytes; None for anything else (a
    column named ``BZh`` is text).

    Raises:
        DataError: the file is compressed in a format slopecli cannot stream (xz, zip).
    """
    for codec in CODECS:
        if codec.magic.match(head):
            if codec.arrow is None:
                what = "a zip archive" if codec.kind == "zip" else f"an {codec.kind}-compressed file"
                msg = (
                    f"{name}: {what}, which slopecli cannot read itself (it reads gzip, bzip2 and zstd);"
                    f" decompress it into a pipe: {codec.tool} FILE | slopecli compute - …"
                )
                raise DataError(msg)
            return codec
    return None


def decompressed(fp: IO[bytes] | io.RawIOBase, codec: Codec, name: str) -> _Decompressed:
    """The decompressed bytes of ``fp``, read as they are asked for."""
    import pyarrow as pa

    return _Decompressed(pa.CompressedInputStream(fp, codec.arrow), codec, name)


class _Decompressed(io.RawIOBase):
    """Arrow's decompressing stream, with its failures (damaged or truncated data) as DataError,
    and a Parquet file inside refused by its magic bytes."""

    def __init__(self, stream: Any, codec: Codec, name: str) -> None:
        super().__init__()
        self._stream = stream
        self._codec = codec
        self._name = name
        self._start = b""

    def read(self, size: int = -1) -> bytes:
        try:
            data = bytes(self._stream.read(None if size < 0 else size))
        except OSError as exc:
            msg = f"{self._name}: the {self._codec.kind} data is damaged or cut short ({exc})"
            raise DataError(msg) from None
        if len(self._start) < len(PARQUET_MAGIC):
            self._start += data[: len(PARQUET_MAGIC) - len(self._start)]
            self._refuse_parquet()
        return data

    def _refuse_parquet(self) -> None:
        # Every reader of compressed input reads the CSV reader's way, as a stream; Parquet needs
        # to seek to its footer, and compresses its pages itself, so a compressed one is a mistake
        # the CSV reader would only call "a NUL byte".
        if self._start == PARQUET_MAGIC:
            msg = (
                f"{self._name}: a {self._codec.kind}-compressed Parquet file, which slopecli does not"
                " read (Parquet compresses its own pages); decompress it first:"
                f" {self._codec.tool} FILE > NEW.parquet"
            )
            raise DataError(msg)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def close(self) -> None:
        self._stream.close()
        super().close()


class Chain(io.RawIOBase):
    """``head``, then the rest of ``fp``: the bytes of a pipe whose start was already read. Closing
    it leaves ``fp`` open (Arrow closes the stream it decompresses; ``fp`` is the caller's)."""

    def __init__(self, head: bytes, fp: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._fp = fp

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            data, self._head = self._head[: len(buffer)], self._head[len(buffer) :]
        else:
            read1 = getattr(self._fp, "read1", None)
            data = read1(len(buffer)) if read1 is not None else self._fp.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
