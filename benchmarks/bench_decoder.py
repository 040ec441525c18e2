"""Throughput of server-sent events decoders on recorded run streams.

Run from the repository root::

    .venv/bin/python benchmarks/bench_decoder.py [--megabytes 20] [--rounds 7]

The corpus is every recorded stream (``*.sse``) concatenated and repeated to
the requested size, split into 4 KiB chunks (a typical network read) and into
64-byte chunks (a worst case of tiny reads).  Compared, on the same chunks:

* ``streamrun``: :class:`streamrun.sse.SSEDecoder`, WHATWG-conformant;
* ``openai``: ``openai._streaming.SSEDecoder`` (fed through ``iter_bytes``);
* ``floor``: the least a pure-Python decoder can do: split LF-only input on
  empty lines and pick the ``event``/``data`` lines (no CR, comments, ids,
  retry, byte order mark or size limit; no JSON).

Each round runs every implementation once, in a rotating order; the table
shows the median events/s over the rounds and the ratio to openai's.  The
functions are reusable: ``load_corpus``, ``make_chunks``, ``bench_streamrun``,
``bench_openai``, ``bench_floor``, ``compare``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from streamrun.sse import SSEDecoder

CHUNK_SIZES = (4096, 64)


def fixtures_dir() -> Path:
    """The directory of the recorded streams."""
    return Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def load_corpus(megabytes: float = 20.0, directory: Path | None = None) -> bytes:
    """Every ``*.sse`` stream concatenated, repeated to at least ``megabytes`` MB."""
    files = sorted((directory or fixtures_dir()).glob("*.sse"))
    if not files:
        raise SystemExit(f"no *.sse files in {directory or fixtures_dir()}")
    one = b"".join(path.read_bytes() for path in files)
    repeats = max(1, -(-int(megabytes * 1_000_000) // len(one)))
    return one * repeats


def make_chunks(corpus: bytes, size: int) -> list[bytes]:
    """``corpus`` cut into chunks of ``size`` bytes."""
    return [corpus[i : i + size] for i in range(0, len(corpus), size)]


# -- the implementations: each decodes all chunks and returns the event count --


def run_streamrun(chunks: Iterable[bytes]) -> int:
    """Decode with streamrun's decoder."""
    decoder = SSEDecoder()
    feed = decoder.feed
    count = 0
    for chunk in chunks:
        count += len(feed(chunk))
    count += len(decoder.close())
    return count


def run_openai(chunks: Iterable[bytes]) -> int:
    """Decode with openai-python's decoder, the way its ``Stream`` uses it."""
    from openai._streaming import SSEDecoder as OpenAIDecoder

    count = 0
    for _ in OpenAIDecoder().iter_bytes(iter(chunks)):
        count += 1
    return count


def floor_events(chunks: Iterable[bytes]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs with the least work: LF-only input, event/data lines only."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        # Only the new bytes (and the byte before them) can complete a block.
        if b"\n\n" not in buffer[-len(chunk) - 1 :]:
            continue
        blocks = buffer.split(b"\n\n")
        buffer = blocks.pop()
        for block in blocks:
            event = b"message"
            data = []
            for line in block.split(b"\n"):
                if line[:6] == b"event:":
                    event = line[7:] if line[6:7] == b" " else line[6:]
                elif line[:5] == b"data:":
                    data.append(line[6:] if line[5:6] == b" " else line[5:])
            if data:
                yield event.decode(), b"\n".join(data).decode()


def run_floor(chunks: Iterable[bytes]) -> int:
    """Decode with the pure-Python floor."""
    count = 0
    for _ in floor_events(chunks):
        count += 1
    return count


IMPLEMENTATIONS: dict[str, Callable[[Iterable[bytes]], int]] = {
    "streamrun": run_streamrun,
    "openai": run_openai,
    "floor": run_floor,
}


def timed(run: Callable[[Iterable[bytes]], int], chunks: Sequence[bytes]) -> tuple[int, float]:
    """(events, seconds) of one run."""
    gc.collect()
    start = time.perf_counter()
    events = run(chunks)
    return events, time.perf_counter() - start


def bench_streamrun(chunks: Sequence[bytes]) -> float:
    """Events per second of streamrun's decoder, one run."""
    events, seconds = timed(run_streamrun, chunks)
    return events / seconds


def bench_openai(chunks: Sequence[bytes]) -> float:
    """Events per second of openai-python's decoder, one run."""
    events, seconds = timed(run_openai, chunks)
    return events / seconds


def bench_floor(chunks: Sequence[bytes]) -> float:
    """Events per second of the pure-Python floor, one run."""
    events, seconds = timed(run_floor, chunks)
    return events / seconds


def compare(
    chunks: Sequence[bytes],
    rounds: int = 7,
    implementations: dict[str, Callable[[Iterable[bytes]], int]] | None = None,
) -> dict[str, float]:
    """Median events/s of each implementation over ``rounds`` interleaved rounds.

    Every implementation must find the same number of events.
    """
    impls = implementations or IMPLEMENTATIONS
    names = list(impls)
    rates: dict[str, list[float]] = {name: [] for name in names}
    counts: dict[str, int] = {}
    for round_no in range(rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            events, seconds = timed(impls[name], chunks)
            counts[name] = events
            rates[name].append(events / seconds)
    if len(set(counts.values())) != 1:
        raise SystemExit(f"the implementations disagree on the event count: {counts}")
    return {name: statistics.median(values) for name, values in rates.items()}


def check_agreement(corpus: bytes) -> int:
    """Check that streamrun and openai decode the corpus to the same events."""
    from openai._streaming import SSEDecoder as OpenAIDecoder

    chunks = make_chunks(corpus, 4096)
    decoder = SSEDecoder()
    ours = [(e.event, e.data) for chunk in chunks for e in decoder.feed(chunk)]
    theirs = [(e.event or "message", e.data) for e in OpenAIDecoder().iter_bytes(iter(chunks))]
    if ours != theirs:
        raise SystemExit("streamrun and openai decode the corpus differently")
    return len(ours)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the comparison and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=20.0, help="corpus size (default 20)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument(
        "--chunk-sizes",
        type=int,
        nargs="+",
        default=list(CHUNK_SIZES),
        help="chunk sizes in bytes (default 4096 64)",
    )
    args = parser.parse_args(argv)

    corpus = load_corpus(args.megabytes)
    events = check_agreement(corpus)
    print(
        f"corpus: {len(corpus) / 1e6:.1f} MB, {events} events "
        f"(avg {len(corpus) / events:.0f} B/event); Python {sys.version.split()[0]}; "
        f"median of {args.rounds} interleaved rounds"
    )
    header = f"{'chunk':>6}  {'decoder':<10} {'events/s':>12} {'MB/s':>8} {'vs openai':>10}"
    print(header)
    print("-" * len(header))
    for size in args.chunk_sizes:
        chunks = make_chunks(corpus, size)
        rates = compare(chunks, args.rounds)
        for name, rate in rates.items():
            mb_per_s = rate * len(corpus) / events / 1e6
            ratio = rate / rates["openai"]
            print(f"{size:>6}  {name:<10} {rate:>12,.0f} {mb_per_s:>8.1f} {ratio:>9.2f}x")
        del chunks


if __name__ == "__main__":
    main()
