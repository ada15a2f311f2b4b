"""Coverage-guided fuzzing (atheris, libFuzzer) of every parser of outside input.

Each target of `tests/fuzz/targets.py` (the MIME reader against the standard parser, the
email and fax parsers, fax provider profiles, the FRITZ!Box call monitor and AMI
framers with their call state machines, the webhook bodies, CSV/XLSX/vCard imports) runs
in a process of its own for the given time, instrumented, seeded with the real corpus
(/work/shared/corpus when present, tests/fax/samples, tests/telephony/fixtures) and a few
hand-written samples. Limits per target: 1 GiB of memory (`-rss_limit_mb`) and 10 s per
input (`-timeout`): a leak or a hang is a finding like a crash. Crashing inputs are
written to `.fuzz/crashes/<target>/`; the grown corpus stays in `.fuzz/corpus/<target>/`
so a later run goes on where this one stopped.

    nice -n 10 python bench/fuzz.py --minutes 10          # every target, 10 minutes each
    python bench/fuzz.py --quick                          # every target, 20 seconds each
    python bench/fuzz.py --minutes 2 --target mail fax    # some of them
    python bench/fuzz.py --jobs 2                         # two targets at a time

The last line printed is one JSON object: per target the seconds run, inputs tried,
coverage reached and crashes found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / ".fuzz"
SHARED = ROOT.parent / "shared" / "corpus"
INSTRUMENT = ["adapters", "hub.phone", "email", "vobject", "openpyxl", "csv", "phonenumbers"]


def seeds(target: str) -> list[bytes]:
    """Real inputs to start from."""
    from tests.fuzz import targets

    out: list[bytes] = []
    mails = sorted((SHARED / "emails").glob("*")) if SHARED.exists() else []
    if target in ("mime_tree", "mail", "fax"):
        out += [p.read_bytes() for p in mails[:200] if p.is_file()]
        out += [p.read_bytes() for p in (ROOT / "tests/fax/samples").glob("*.eml")]
        out.append(targets.SAMPLE_FAX)
    if target == "fax_profiles":
        from hub import defaults

        out.append(defaults.shipped(defaults.FAX_PROVIDERS).read_bytes())
    if target == "fritzbox":
        out.append(
            b"\x03" + b"02.03.26 09:00:00;RING;0;02219876543;4930123456;SIP0;\r\n"
            b"02.03.26 09:00:05;CONNECT;0;1;02219876543;\r\n"
            b"02.03.26 09:01:05;DISCONNECT;0;60;\r\n"
            b"02.03.26 09:02:00;CALL;1;2;4930123456;01701234567;SIP1;\r\n"
        )
    if target == "ami":
        fixtures = [*(ROOT / "tests/telephony/fixtures/ami").rglob("*")]
        if SHARED.exists():
            fixtures += [*(SHARED / "ami").glob("*")]
        out += [b"\x07" + p.read_bytes() for p in fixtures if p.is_file()][:100]
    if target == "webhook":
        out += [
            b"event=newCall&callId=abc123&from=4922198765&to=4930123456&direction=in&user[]=Eva",
            b"event=hangup&callId=abc123&cause=normalClearing&from=4922198765&to=493012",
            b"event=IncomingCall&call_id=x1&from=022129191999&to=0301234567&peer=p",
            b'{"event":"HungUp","call_id":"x1","type":"missed","duration":"0","from":"0221"}',
        ]
    if target == "csv_import":
        out += [
            "Vorname;Nachname;E-Mail-Adresse;Telefon geschäftlich\r\n"
            "Eva;Muster;eva@example.com;0221 98765-0\r\n".encode("cp1252"),
            b"Name,Email,Phone\nAcme GmbH,info@acme.example,+49 30 123456\n",
        ]
    if target == "vcard_import":
        out.append(
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Muster;Eva;;;\r\nFN:Eva Muster\r\n"
            b"TEL;TYPE=WORK:+49 221 98765\r\nEMAIL:eva@example.com\r\nEND:VCARD\r\n"
        )
    if target == "xlsx_import":
        out.append(_xlsx())
    return out


def _xlsx() -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Vorname", "Nachname", "Telefon", "E-Mail"])
    sheet.append(["Eva", "Muster", 221987654, "eva@example.com"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def child(target: str, argv: list[str]) -> None:
    """Runs inside the fuzzing process: instrument, then hand over to libFuzzer."""
    import atheris

    with atheris.instrument_imports(include=INSTRUMENT):
        from tests.fuzz import targets

    run = targets.TARGETS[target]
    atheris.Setup([sys.argv[0], *argv], run)
    atheris.Fuzz()


def fuzz(target: str, seconds: int) -> dict[str, object]:
    corpus = WORK / "corpus" / target
    crashes = WORK / "crashes" / target
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(seeds(target)):
        (corpus / f"seed-{n:04d}").write_bytes(data)
    args = [
        "-rss_limit_mb=1024",
        "-timeout=10",
        "-max_len=65536",
        f"-artifact_prefix={crashes}/",
        "-print_final_stats=1",
        str(corpus),
    ]
    before = set(crashes.iterdir())
    started = time.monotonic()
    inputs, coverage, errors = 0, None, set()
    # libFuzzer stops at a crash: start again (the grown corpus kept) until the time is up.
    while (left := seconds - (time.monotonic() - started)) > 5:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                target,
                "--",
                f"-max_total_time={int(left)}",
                *args,
            ],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=left + 300,
        )
        log = proc.stdout + proc.stderr
        with (WORK / f"{target}.log").open("a") as out:
            out.write(log[-200_000:])
        runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
        inputs += int(runs[-1]) if runs else 0
        cov = re.findall(r"cov: (\d+)", log)
        coverage = int(cov[-1]) if cov else coverage
        if proc.returncode != 0:
            kinds = re.findall(r"=== Uncaught Python exception: ===\n(.*)", log)
            errors.add((kinds or [f"exit {proc.returncode}"])[0][:200])
        if len(errors) >= 10:
            break
    found = sorted(str(p.relative_to(ROOT)) for p in set(crashes.iterdir()) - before)
    return {
        "seconds": round(time.monotonic() - started),
        "inputs": inputs,
        "coverage": coverage,
        "crashes": found,
        "errors": sorted(errors),
    }


def main() -> None:
    from tests.fuzz.targets import TARGETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 seconds per target")
    parser.add_argument("--minutes", type=float, default=10.0, help="per target")
    parser.add_argument("--target", nargs="*", choices=sorted(TARGETS), default=sorted(TARGETS))
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at the same time")
    args = parser.parse_args()
    seconds = 20 if args.quick else int(args.minutes * 60)
    from concurrent.futures import ThreadPoolExecutor

    results: dict[str, object] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {name: pool.submit(fuzz, name, seconds) for name in args.target}
        for name, future in futures.items():
            results[name] = future.result()
            print(name, json.dumps(results[name]), flush=True)
    crashes = sum(len(r["crashes"]) for r in results.values())  # type: ignore[index,arg-type]
    print(json.dumps({"seconds_per_target": seconds, "crashes": crashes, "targets": results}))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        os.nice(0)
        child(sys.argv[2], sys.argv[4:])
    else:
        main()
