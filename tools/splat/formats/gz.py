"""One gzip member compressed in independent pieces, in worker threads (the way pigz does it).

A deflate stream may be cut anywhere into pieces compressed separately: each piece ends
with a sync flush (an empty stored block, so the next one starts on a byte boundary and
never refers back), the last is followed by an empty final block. Any gzip reader sees
one ordinary member. This buys three things for ``.spz``:

- each attribute stream gets the deflate strategy that suits it (an 8-bit quantised
  attribute is noise to LZ77: Huffman-only codes it smaller, and ten times faster, than
  the level-6 LZ77 the reference writer uses on everything);
- pieces compress in threads (zlib releases the GIL) while numpy encodes the next ones;
- streams can be produced in any order (the CRC-32s are combined at the end).
"""

from __future__ import annotations

import queue
import threading
import zlib
from functools import lru_cache
from typing import Any, BinaryIO

import numpy.typing as npt

PIECE_BYTES = 1 << 18  # small enough to overlap, big enough to cost < 0.3 % in size
SAMPLE_BYTES = 1 << 16
MEM_LEVEL = 9  # what the reference spz writer uses: bigger Huffman blocks
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # no name, no mtime, Unix
FINAL_BLOCK = zlib.compressobj(1, zlib.DEFLATED, -15).flush()  # empty final static block

# (level, strategy) candidates
LZ = ((3, zlib.Z_DEFAULT_STRATEGY),)  # 24-bit fixed point: greedy LZ77 wins (and is fast)
BYTES = ((1, zlib.Z_HUFFMAN_ONLY), (1, zlib.Z_RLE), (1, zlib.Z_DEFAULT_STRATEGY))

Buffer = bytes | bytearray | memoryview
Data = Buffer | npt.NDArray[Any]  # anything C-contiguous with the buffer protocol


def deflate_piece(data: Buffer, level: int, strategy: int) -> bytes:
    """Raw deflate of ``data`` ending on a byte boundary, not final (a sync flush)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15, MEM_LEVEL, strategy)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def pick(sample: Buffer, candidates: tuple[tuple[int, int], ...]) -> tuple[int, int]:
    """The candidate that compresses ``sample`` smallest (the first one on a tie)."""
    if len(candidates) == 1:
        return candidates[0]
    sizes = [len(deflate_piece(sample, lvl, st)) for lvl, st in candidates]
    return candidates[sizes.index(min(sizes))]


def _gf2_times(a: int, b: int) -> int:
    """a(x)·b(x) modulo the CRC-32 polynomial (reflected bit order, x^0 is bit 31)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ 0xEDB88320 if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^k) modulo the polynomial, k = 0..31
for _ in range(31):
    _X2N.append(_gf2_times(_X2N[-1], _X2N[-1]))


@lru_cache(maxsize=8)
def _shift(len2: int) -> int:
    """x^(8·len2) modulo the polynomial: what appending len2 zero bytes does to a CRC."""
    p, k = 1 << 31, 3  # bytes are 2^3 bits
    while len2:
        if len2 & 1:
            p = _gf2_times(_X2N[k & 31], p)
        len2 >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B), as zlib's crc32_combine."""
    return _gf2_times(_shift(len2), crc1) ^ crc2


class Stream:
    """One run of bytes in the member, in order; cut into pieces of ``PIECE_BYTES``."""

    def __init__(self, owner: ParallelGzip, candidates: tuple[tuple[int, int], ...]) -> None:
        self._owner = owner
        self._candidates = candidates
        self._method: tuple[int, int] | None = None
        self._buf = bytearray()
        self.pieces: list[int] = []  # task indices, in order

    def write(self, data: Data) -> None:
        """Append ``data`` (it must not change afterwards; it is not copied)."""
        view = memoryview(data).cast("B")  # type: ignore[arg-type]
        if self._buf:
            take = min(len(view), PIECE_BYTES - len(self._buf))
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) == PIECE_BYTES:
                self._send(bytes(self._buf))
                self._buf = bytearray()
        while len(view) >= PIECE_BYTES:
            self._send(view[:PIECE_BYTES])
            view = view[PIECE_BYTES:]
        if len(view):
            self._buf += view

    def close(self) -> None:
        if self._buf:
            self._send(bytes(self._buf))
            self._buf = bytearray()

    def _send(self, piece: Buffer) -> None:
        if self._method is None:
            self._method = pick(memoryview(piece)[:SAMPLE_BYTES], self._candidates)
        self.pieces.append(self._owner.submit(piece, *self._method))


class ParallelGzip:
    """Build one gzip member from streams compressed in ``workers`` threads.

    ``stream()`` opens the next stream in file order; ``write_to(f)`` closes them all, waits
    for the pieces and writes the member.
    """

    def __init__(self, workers: int = 2, max_pending: int = 4) -> None:
        self._workers = workers
        self._tasks: queue.Queue[tuple[int, Buffer, int, int] | None] = queue.Queue(max_pending)
        self._results: dict[int, tuple[bytes, int, int]] = {}
        self._threads: list[threading.Thread] = []
        self._error: BaseException | None = None
        self._count = 0
        self._streams: list[Stream] = []

    def stream(self, candidates: tuple[tuple[int, int], ...] = BYTES) -> Stream:
        s = Stream(self, candidates)
        self._streams.append(s)
        return s

    def submit(self, data: Buffer, level: int, strategy: int) -> int:
        if self._error is not None:
            raise self._error
        index = self._count
        self._count += 1
        if self._workers <= 0:
            self._results[index] = self._run(data, level, strategy)
            return index
        if not self._threads:
            self._threads = [threading.Thread(target=self._work, daemon=True)
                             for _ in range(self._workers)]
            for t in self._threads:
                t.start()
        self._tasks.put((index, data, level, strategy))
        return index

    @staticmethod
    def _run(data: Buffer, level: int, strategy: int) -> tuple[bytes, int, int]:
        return deflate_piece(data, level, strategy), zlib.crc32(data), len(data)

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            index, data, level, strategy = task
            try:
                self._results[index] = self._run(data, level, strategy)
            except BaseException as exc:  # re-raised in the caller's thread
                self._error = exc

    def close(self) -> None:
        """Stop the worker threads (idempotent)."""
        for _ in self._threads:
            self._tasks.put(None)
        for t in self._threads:
            t.join()
        self._threads = []

    def write_to(self, f: BinaryIO) -> None:
        """Finish every stream and write the gzip member to ``f``."""
        for s in self._streams:
            s.close()
        self.close()
        if self._error is not None:
            raise self._error
        f.write(GZIP_HEADER)
        crc, total = 0, 0
        for s in self._streams:
            for index in s.pieces:
                data, piece_crc, size = self._results.pop(index)
                f.write(data)
                crc = crc32_combine(crc, piece_crc, size)
                total += size
        f.write(FINAL_BLOCK)
        f.write(crc.to_bytes(4, "little") + (total & 0xFFFFFFFF).to_bytes(4, "little"))
