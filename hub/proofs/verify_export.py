#!/usr/bin/env python3
"""Checks a Kartei archive export without Kartei (Python 3.9+ standard library, OpenSSL).

    python3 verify_export.py EXPORT_DIR [--no-openssl]

What it checks (docs/archive.md, "Checking an export"):

1. every file the manifest lists has its SHA-256;
2. every exported original (EML, fax document) is named in its event's Merkle leaf:
   the leaf's ``blob:`` line carries SHA-256(SHA-256(file));
3. every leaf is in the signed tree head by its RFC 6962 inclusion proof;
4. earlier tree heads are prefixes of the export's head (RFC 6962 consistency proofs);
5. with OpenSSL: every head's Ed25519 signature, and every RFC 3161 timestamp token,
   checked as of the token's own time (so an expired TSA certificate does not matter).

Exit status 0 when everything holds; 1 with a list of problems otherwise. This file is
self-contained on purpose: a tax auditor can read all of it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def verify_inclusion(index: int, size: int, leaf: bytes, path: list, root: bytes) -> bool:
    """RFC 9162, section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, path: list) -> bool:
    """RFC 9162, section 2.1.4.2."""
    if old == new:
        return not path and old_root == new_root
    if not 0 < old < new or not path:
        return False
    proof = list(path)
    if old & (old - 1) == 0:
        proof.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def read_head(text: str) -> dict:
    lines = text.split("\n")
    if lines[0] != "kartei-tree-head/1":
        raise ValueError("not a kartei-tree-head/1")
    fields = dict(line.split(": ", 1) for line in lines[1:] if line)
    return {**fields, "size": int(fields["size"]), "root": bytes.fromhex(fields["root"])}


def openssl(*args: str) -> tuple[bool, str]:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def check(root: Path, use_openssl: bool) -> list:
    problems = []
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        path = root / name
        if ".." in Path(name).parts or not path.is_file():
            problems.append(f"{name}: listed in the manifest, not in the export")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: SHA-256 differs from the manifest")

    heads = {}
    for text_file in sorted((root / "heads").glob("head-*.txt")):
        head_id = text_file.stem.split("-", 1)[1]
        heads[head_id] = read_head(text_file.read_text(encoding="utf-8"))
    main = manifest["head_id"]
    if str(main) not in heads:
        return [*problems, f"the export's tree head {main} is missing"]
    head = heads[str(main)]

    with open(root / "index.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    for row in rows:
        if not row["file"]:
            continue  # erased: the row's leaf still is in the tree, its file is gone
        data = (root / row["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            problems.append(f"{row['file']}: SHA-256 differs from index.csv")
        proof = json.loads((root / "proofs" / f"{row['position']}.json").read_text("utf-8"))
        leaf = proof["leaf"].encode("utf-8")
        locator = hashlib.sha256(sha256(data)).hexdigest()
        if not any(line.startswith(f"blob: {locator} ") for line in proof["leaf"].split("\n")):
            problems.append(f"{row['file']}: not named by the leaf of event {row['position']}")
        if f"position: {row['position']}\n" not in proof["leaf"]:
            problems.append(f"{row['file']}: its proof is for another event")
        path = [bytes.fromhex(p) for p in proof["path"]]
        if proof["tree_size"] != head["size"] or not verify_inclusion(
            proof["leaf_index"], head["size"], leaf_hash(leaf), path, head["root"]
        ):
            problems.append(f"event {row['position']}: not in tree head {main}")

    for name in sorted((root / "heads").glob("consistency-*.json")):
        step = json.loads(name.read_text(encoding="utf-8"))
        old, new = heads.get(str(step["old"])), heads.get(str(step["new"]))
        path = [bytes.fromhex(p) for p in step["path"]]
        if (
            old is None
            or new is None
            or not verify_consistency(old["size"], new["size"], old["root"], new["root"], path)
        ):
            problems.append(
                f"heads/{name.name}: tree head {step['old']} is no prefix of {step['new']}"
            )

    if not use_openssl:
        return problems
    if shutil.which("openssl") is None:
        return [*problems, "openssl not found: signatures and timestamps not checked"]
    key = root / "archive-signing.pub.pem"
    for head_id in heads:
        text, sig = root / "heads" / f"head-{head_id}.txt", root / "heads" / f"head-{head_id}.sig"
        ok, out = openssl(
            "pkeyutl", "-verify", "-pubin", "-inkey", str(key), "-rawin",
            "-in", str(text), "-sigfile", str(sig),
        )  # fmt: skip
        if not ok:
            problems.append(f"head {head_id}: signature does not verify ({out})")
        token = root / "heads" / f"head-{head_id}.tst"
        if token.exists():
            problems += check_token(root, head_id, text, token)
    return problems


def check_token(root: Path, head_id: str, text: Path, token: Path) -> list:
    """The token's time from `openssl ts -reply -text`, then `-verify` as of that time."""
    ok, out = openssl("ts", "-reply", "-token_in", "-in", str(token), "-text")
    when = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                 if line.startswith("Time stamp:")), None)  # fmt: skip
    if not ok or when is None:
        return [f"head {head_id}: timestamp token unreadable ({out})"]
    # OpenSSL prints e.g. "Dec  7 16:00:00 2026 GMT" (seconds may carry a fraction)
    month, day, clock, year = when.split()[:4]
    moment = datetime.strptime(f"{month} {day} {clock.split('.')[0]} {year}", "%b %d %H:%M:%S %Y")
    at = int(moment.replace(tzinfo=timezone.utc).timestamp())  # noqa: UP017 (Python 3.9)
    if not (root / "tsa-ca.pem").exists():
        return [f"head {head_id}: timestamp not checked (the export holds no tsa-ca.pem)"]
    ok, out = openssl(
        "ts", "-verify", "-token_in", "-in", str(token), "-data", str(text),
        "-CAfile", str(root / "tsa-ca.pem"), "-attime", str(at),
    )  # fmt: skip
    return [] if ok else [f"head {head_id}: timestamp does not verify ({out})"]


def main(argv: list) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    problems = check(Path(argv[0]), "--no-openssl" not in argv)
    for problem in problems:
        print("PROBLEM", problem)
    print("Export intact." if not problems else "Export NOT intact.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
