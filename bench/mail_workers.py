"""CPU per message of the IMAP capture workers' own work, this tree against another.

A first sync's worker runs `prepare_batch` over slices of fetched messages: parse, capture
keys, archive (without fsync; the main process syncs a chunk once). This runs the same on
`bench/imap_sync.py`'s messages (CRLF line ends, as IMAP serves them, one in ten with a
200 KB attachment) into a fresh archive, one child process per round, and reports user and
system CPU per message. With `--against DIR` (a clone of another commit) the two trees take
turns, round after round, so a change of the machine's load hits both alike.

    python bench/mail_workers.py [--messages N] [--rounds N] [--against DIR]

The last line printed is one JSON object (medians, and the load average at the start and
the end).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

# Run in the child, with the tree under test first on sys.path.
CHILD = """
import os, random, sys, tempfile
sys.path.insert(0, sys.argv[1])
from adapters.mail.pipeline import SLICE, prepare_batch
from bench.imap_sync import RULES, message
count, work = int(sys.argv[2]), sys.argv[3]
rng = random.Random(4)
raws = [message(n, rng).replace(b"\\n", b"\\r\\n") for n in range(count)]
prepare_batch([(raws[0], "warm")] * 4, RULES, os.path.join(work, "warm"), sync=False)
root = os.path.join(work, "archive")
before = os.times()
for at in range(0, count, SLICE):
    prepare_batch([(raw, "INBOX") for raw in raws[at : at + SLICE]], RULES, root, sync=False)
after = os.times()
print(after.user - before.user, after.system - before.system)
"""


def one_round(tree: Path, count: int) -> tuple[float, float]:
    """(user, system) CPU milliseconds per message of one run over `tree`."""
    with tempfile.TemporaryDirectory(prefix="kartei-workers-") as work:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(tree), str(count), work],
            check=True,
            capture_output=True,
            text=True,
        )
    user, system = map(float, done.stdout.split())
    return 1000 * user / count, 1000 * system / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, help="per round (default 1,000; --quick 300)")
    parser.add_argument("--rounds", type=int, help="per tree (default 5; --quick 3)")
    parser.add_argument("--against", type=Path, help="another tree (a clone), run in turns")
    parser.add_argument("--quick", action="store_true", help="a few seconds a tree")
    args = parser.parse_args()
    args.messages = args.messages or (300 if args.quick else 1000)
    args.rounds = args.rounds or (3 if args.quick else 5)
    trees = {"this": HERE, **({"other": args.against.resolve()} if args.against else {})}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    load = os.getloadavg()[0]
    for turn in range(args.rounds):
        for name, tree in trees.items():
            runs[name].append(one_round(tree, args.messages))
            user, system = runs[name][-1]
            print(f"{turn} {name}: user {user:.3f} sys {system:.3f} ms", file=sys.stderr)
    figures: dict[str, object] = {"messages": args.messages, "rounds": args.rounds}
    for name, found in runs.items():
        figures[f"{name}_user_ms"] = round(statistics.median(u for u, _ in found), 3)
        figures[f"{name}_sys_ms"] = round(statistics.median(s for _, s in found), 3)
        figures[f"{name}_total_ms"] = round(statistics.median(u + s for u, s in found), 3)
        figures[f"{name}_totals"] = [round(u + s, 3) for u, s in found]
    figures["load"] = [round(load, 1), round(os.getloadavg()[0], 1)]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
