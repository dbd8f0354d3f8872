"""Uses leaky.Cache as an application would: caches session records, some
of them malformed, and a scratch cache cleared after every batch.

The numbers are fixed so the leak report is always the same (see README.md).
"""

import leaky

SESSIONS = 1000  # session records loaded, keys all different
CAPACITY = 100  # sessions kept (the most recently used)
BATCHES = 5  # batches of lookups ...
BATCH = 20  # ... of this many records each

sessions = leaky.Cache(CAPACITY)  # lives until the program ends
scratch = leaky.Cache(BATCH)


def record(i: int) -> bytes | None:
    """The stored form of record i; every tenth one is missing (None)."""
    if i % 10 == 9:
        return None
    return b'{"id": %04d, "score": %05d}' % (i, i * 37 % 100000)


def load_sessions() -> int:
    """Put every session record into the cache; the number skipped."""
    skipped = 0
    for i in range(SESSIONS):
        try:
            sessions.put(b"session-%04d" % i, record(i))
        except TypeError:  # a missing record: not cached
            skipped += 1
    return skipped


def run_batches() -> int:
    """Look up batches of records through the scratch cache; the hits."""
    hits = 0
    for batch in range(BATCHES):
        for i in range(BATCH):
            key = b"lookup-%05d" % (batch * BATCH + i)
            scratch.put(key, record(10 * i))  # a record that is there
            hits += scratch.get(key) is not None
        scratch.clear()
    return hits


def main() -> None:
    skipped = load_sessions()
    hits = run_batches()
    print(f"sessions cached: {len(sessions)} of {SESSIONS} ({skipped} malformed, skipped)")
    print(f"lookups: {hits} hits in {BATCHES} batches")


if __name__ == "__main__":
    main()
