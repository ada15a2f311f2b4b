"""The email parser against an earlier revision of itself: the same facts and the same
capture keys for every message, and the CPU each takes.

`parse_email` and `capture_keys` of a git revision (`--baseline`, the code before the
parser was made quicker) are loaded beside the working tree's and both read every
message: the real-world corpus (shared/corpus/emails; as it is, with LF and with CRLF line
ends), the test builders' messages (mail and fax), both benchmarks' generated mail, and
damaged copies of all of these (cut, bytes flipped, bare CRs, broken base64, doubled
headers). Every field of `ParsedEmail` (attachment bytes included), the refusal message
of a `MailParseError`, and `capture_keys` under the parsed Message-ID and under none
must be equal; the capture keys are idempotency keys in existing stores.

    python bench/mail_parse_check.py [--baseline REV] [--bench N] [--mutations N]
                                     [--repeat N] [--write-digests]

`--write-digests` stores the baseline's digest of each message of the cheap set in
tests/mail/parsed_digests.json, which tests/mail/test_parsing_stable.py compares the
working tree against. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.mail import parsing  # noqa: E402
from bench import imap_sync, smtp_intake  # noqa: E402
from tests.fax import messages as fax_messages  # noqa: E402
from tests.mail import messages as built  # noqa: E402

BASELINE = "3e86e1d"  # the parser before it was made quicker (2026-12-07)
DIGESTS = ROOT / "tests/mail/parsed_digests.json"
CORPUS = Path(os.environ.get("KARTEI_CORPUS", ROOT.parent / "shared/corpus/emails"))
MODULES = ("text", "mime", "parsing")
_MSGID_VALUE = re.compile(rb"^Message-ID: <[^>]*@fax\.example>", re.MULTILINE)


def load_baseline(rev: str, into: Path) -> ModuleType:
    """adapters/mail/{text,mime,parsing}.py of `rev` as a package of their own."""
    package = into / "baseline_mail"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in MODULES:
        source = subprocess.run(
            ["git", "show", f"{rev}:adapters/mail/{name}.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        (package / f"{name}.py").write_text(source.replace("adapters.mail.", "baseline_mail."))
    sys.path.insert(0, str(into))
    spec = importlib.util.find_spec("baseline_mail.parsing")
    assert spec is not None and spec.origin and spec.origin.startswith(str(into))
    return importlib.import_module("baseline_mail.parsing")


def outcome(module: ModuleType, raw: bytes) -> tuple[object, ...]:
    """Everything the parser says about `raw`, comparable across the two modules."""
    try:
        mail = module.parse_email(raw)
    except module.MailParseError as err:
        return ("refused", str(err), module.capture_keys(raw, None))
    except Exception as err:  # a parser bug (the pipeline stores a CaptureFailed)
        return ("error", type(err).__name__, str(err), module.capture_keys(raw, None))
    facts = tuple((f.name, _plain(getattr(mail, f.name))) for f in dataclasses.fields(mail))
    keys = (module.capture_keys(raw, mail.message_id), module.capture_keys(raw, None))
    return ("parsed", facts, keys)


def _plain(value: object) -> object:
    if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
        return [dataclasses.astuple(v) for v in value]  # type: ignore[arg-type]
    return value


def digest(result: tuple[object, ...]) -> str:
    return hashlib.sha256(repr(result).encode("utf-8", "surrogatepass")).hexdigest()


def cheap_set() -> dict[str, bytes]:
    """The messages the stored digests cover (about 400; a second to parse)."""
    found: dict[str, bytes] = {}
    for path in sorted(CORPUS.glob("*.msg")):
        for style, raw in _styles(path.read_bytes()):
            found[f"corpus/{path.name}/{style}"] = raw
    for name, raw in _built():
        for style, variant in _styles(raw):
            found[f"built/{name}/{style}"] = variant
    rng = random.Random(4)
    random.seed(4)  # the MIME boundaries
    for n in range(40):
        found[f"imap-bench/{n}"] = imap_sync.message(n, rng)
    for n, raw in enumerate(smtp_intake.messages(40)):
        found[f"smtp-bench/{n}"] = raw
    rng = random.Random(7)
    sources = sorted(found.items())
    for n in range(200):
        name, raw = rng.choice(sources)
        kind, damaged = damage(raw, rng)
        found[f"damaged/{n}/{kind}/{name}"] = damaged
    return found


def _styles(raw: bytes) -> Iterator[tuple[str, bytes]]:
    lf = raw.replace(b"\r\n", b"\n")
    yield "as-is", raw
    if lf != raw:
        yield "lf", lf
    if lf.replace(b"\n", b"\r\n") != raw:
        yield "crlf", lf.replace(b"\n", b"\r\n")


def _built() -> Iterator[tuple[str, bytes]]:
    """The builders' messages, the same bytes on every run: `random` seeded for the MIME
    boundaries, the fax builders' random Message-IDs replaced by fixed ones."""
    for n, (name, raw) in enumerate(_builders()):
        yield name, _MSGID_VALUE.sub(f"Message-ID: <built-{n}@example.com>".encode(), raw, 1)


def _builders() -> Iterator[tuple[str, bytes]]:
    random.seed(4)
    html = "<p>Guten Tag</p>\r\n<p>Gr\u00fc\u00dfe</p>"
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    yield "simple", built.simple(1)
    yield "simple-html", built.simple(2, html=html)
    yield "simple-all", built.simple(3, attachment=pdf, html=html)
    yield "simple-signature", built.simple(4, body="Zeile\n\n-- \nKunde\nTel. 030 1234567\n")
    yield "simple-no-id", built.simple(5, message_id=None)
    yield "html-only", built.html_only()
    yield "cp1252", built.CP1252
    yield "calendar", built.CALENDAR
    yield "bounce", built.BOUNCE
    yield "huge-header", built.huge_header()
    yield "fax-fritzbox", fax_messages.fritzbox(pdf)
    yield "fax-sipgate", fax_messages.sipgate(pdf)
    yield "fax-placetel", fax_messages.placetel(pdf)
    yield "fax-hylafax", fax_messages.hylafax(b"II*\x00" + bytes(300))
    yield "fax-generic", fax_messages.generic(pdf, "Telefax.pdf")
    for path in sorted((ROOT / "tests/fax/samples").glob("*.eml")):
        yield f"fax-sample-{path.name}", path.read_bytes()


def _cut(raw: bytes, rng: random.Random) -> bytes:
    return raw[: rng.randrange(len(raw) + 1)]


def _flip(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _bare_cr(raw: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(raw) + 1)
    return raw[:at] + b"\r" + raw[at:]


def _base64_damage(raw: bytes, rng: random.Random) -> bytes:
    """A base64 body with a stray character, a missing one, padding inside, or blanks."""
    start = raw.lower().find(b"base64")
    if start < 0:
        return _flip(raw, rng)
    body = raw.find(b"\n\n", start)
    body = body if body >= 0 else raw.find(b"\r\n\r\n", start)
    at = rng.randrange(max(body, start), len(raw) + 1)
    insert = rng.choice([b"", b"!", b"=", b"==", b" ", b"\t", b"-", b"\xff", b"A", b"=A"])
    drop = rng.randint(0, 3)
    return raw[:at] + insert + raw[at + drop :]


def _double_headers(raw: bytes, rng: random.Random) -> bytes:
    head_end = raw.find(b"\n\n")
    head_end = head_end if head_end >= 0 else raw.find(b"\r\n\r\n")
    lines = raw[: max(head_end, 0)].splitlines(keepends=True)
    if not lines:
        return _flip(raw, rng)
    return rng.choice(lines) + raw


def _encoding_swap(raw: bytes, rng: random.Random) -> bytes:
    names = [b"base64", b"quoted-printable", b"7bit", b"8bit", b"x-uuencode", b"BASE64"]
    for name in names:
        if name in raw:
            return raw.replace(name, rng.choice(names), 1)
    return _flip(raw, rng)


DAMAGE: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "cut": _cut,
    "flip": _flip,
    "bare-cr": _bare_cr,
    "base64": _base64_damage,
    "doubled": _double_headers,
    "encoding": _encoding_swap,
}


def damage(raw: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(sorted(DAMAGE))
    return kind, DAMAGE[kind](raw, rng)


def wide_set(bench: int, mutations: int) -> dict[str, bytes]:
    """The cheap set, more generated mail (CRLF, as IMAP serves it) and more damage."""
    found = cheap_set()
    rng = random.Random(11)
    for n in range(bench):
        raw = imap_sync.message(n, rng)
        found[f"imap-bench-crlf/{n}"] = raw.replace(b"\n", b"\r\n")
    sources = sorted(found.items())
    rng = random.Random(13)
    for n in range(mutations):
        name, raw = rng.choice(sources)
        kind, damaged = damage(raw, rng)
        if rng.random() < 0.3:  # damage upon damage
            kind, damaged = kind + "+" + (more := damage(damaged, rng))[0], more[1]
        found[f"wide-damaged/{n}/{kind}/{name}"] = damaged
    return found


def cpu_per_message(module: ModuleType, raws: list[bytes], repeat: int) -> list[float]:
    """CPU ms per message of parse_email + capture_keys, as the pipeline calls them."""
    figures = []
    for _ in range(repeat):
        start = time.process_time()
        for raw in raws:
            try:
                mail = module.parse_email(raw)
            except Exception:
                module.capture_keys(raw, None)
                continue
            module.capture_keys(raw, mail.message_id)
        figures.append((time.process_time() - start) / len(raws) * 1000)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--bench", type=int, default=1000, help="generated CRLF messages")
    parser.add_argument("--mutations", type=int, default=3000, help="damaged copies")
    parser.add_argument("--repeat", type=int, default=5, help="timing rounds per parser")
    parser.add_argument("--write-digests", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="200 generated messages, 300 damaged copies, 2 rounds"
    )
    args = parser.parse_args()
    if args.quick:
        args.bench, args.mutations, args.repeat = 200, 300, 2
    with tempfile.TemporaryDirectory() as tmp:
        old = load_baseline(args.baseline, Path(tmp))
        if args.write_digests:
            digests = {name: digest(outcome(old, raw)) for name, raw in cheap_set().items()}
            DIGESTS.write_text(json.dumps(digests, indent=0, sort_keys=True) + "\n")
            print(json.dumps({"written": len(digests), "baseline": args.baseline}))
            return
        found = wide_set(args.bench, args.mutations)
        differ = [name for name, raw in found.items() if outcome(old, raw) != outcome(parsing, raw)]
        for name in differ[:20]:
            print("DIFFERS:", name)
        timed = [raw for name, raw in found.items() if name.startswith("imap-bench-crlf/")]
        before, after = [], []
        for _ in range(args.repeat):  # alternating, so a change of load hits both alike
            before += cpu_per_message(old, timed, 1)
            after += cpu_per_message(parsing, timed, 1)
    print(
        json.dumps(
            {
                "baseline": args.baseline,
                "messages": len(found),
                "differ": len(differ),
                "timed_messages": len(timed),
                "cpu_ms_per_message_before": [round(f, 4) for f in before],
                "cpu_ms_per_message_after": [round(f, 4) for f in after],
                "load_average": os.getloadavg(),
            }
        )
    )
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
