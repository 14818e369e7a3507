#!/usr/bin/env python3
"""What a SQLite database's WAL holds, by transaction and by b-tree: the pages each commit wrote (one WAL frame each,
written and then flushed), named with SQLite's dbstat. For `bench-serve.sh WAL=1`, which kills the host with -9 so
that nothing is checkpointed away, and for any copy of a database with its `-wal` file beside it.

Usage: wal-frames.py DATABASE [ORDERS]   (with ORDERS, the frames are also given per order)
"""
import collections
import shutil
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path


def frames_of(wal: bytes):
    """The WAL's frames as (page number, database size after commit: nonzero on a commit's last frame), and the
    header's checkpoint sequence (how many times the WAL was restarted since the database was created)."""
    _magic, _version, page_size, checkpoints, salt1, salt2 = struct.unpack(">6I", wal[:24])
    frames, off = [], 32
    while off + 24 + page_size <= len(wal):
        page, commit, s1, s2 = struct.unpack(">4I", wal[off : off + 16])
        if (s1, s2) != (salt1, salt2):  # a frame of an earlier generation of the WAL: not part of this one
            break
        frames.append((page, commit))
        off += 24 + page_size
    return frames, checkpoints


def main():
    db = Path(sys.argv[1])
    orders = int(sys.argv[2]) if len(sys.argv) > 2 else None
    frames, checkpoints = frames_of((db.parent / (db.name + "-wal")).read_bytes())
    with tempfile.TemporaryDirectory() as tmp:
        # dbstat reads the database as the WAL leaves it; a copy keeps the original's WAL untouched.
        copy = Path(tmp) / db.name
        shutil.copy(db, copy)
        shutil.copy(db.parent / (db.name + "-wal"), Path(tmp) / (db.name + "-wal"))
        owner = {page: name for name, page in sqlite3.connect(copy).execute("SELECT name, pageno FROM dbstat")}
    per = (lambda n: f" ({n / orders:.1f} per order)") if orders else (lambda n: "")
    commits, current = [], []
    for page, commit in frames:
        current.append(page)
        if commit:
            commits.append(current)
            current = []
    print(f"WAL: {len(frames)} frames{per(len(frames))} in {len(commits)} commits{per(len(commits))}")
    if checkpoints:
        print(f"  (the WAL was restarted {checkpoints} times: frames from before the last restart are not counted)")
    kinds, kind_frames = collections.Counter(), collections.Counter()
    for pages in commits:
        kind = tuple(sorted({owner.get(p, "?") for p in pages}))
        kinds[kind] += 1
        kind_frames[kind] += len(pages)
    print("by commit (b-trees it wrote):")
    for kind, n in sorted(kinds.items(), key=lambda kv: -kind_frames[kv[0]])[:12]:
        print(f"  {n} commits, {kind_frames[kind]} frames ({kind_frames[kind] / n:.1f} each): {', '.join(kind)}")
    print("by b-tree:")
    for name, n in collections.Counter(owner.get(p, "?") for p, _ in frames).most_common():
        print(f"  {name} {n}{per(n)}")


if __name__ == "__main__":
    main()
