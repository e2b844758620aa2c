"""Fuzz the `.gvc` reader and decoder and write a report.

    PYTHONPATH=src python tools/fuzz.py --cases 100000 -o /tmp/fuzz

Every case is a mutated valid stream (see `fuzz_corpus.py`). Each is parsed (`genvc info`'s `describe`, which runs
`read_stream` and looks up codecs and methods); a sampled fraction of those that parse is decoded in full. A case
passes when it succeeds or raises a `genvc.errors.GenvcError` subclass; anything else is a crash, saved with its
traceback under OUT/crashes/. Hand-made "bomb" streams (`fuzz_bombs.py`) check that no header field drives an
allocation. Output: OUT/fuzz.json and OUT/fuzz.md.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tqdm import tqdm  # noqa: E402

from genvc.codec import iter_decode  # noqa: E402
from genvc.commands.info import describe  # noqa: E402
from genvc.errors import GenvcError  # noqa: E402
from fuzz_bombs import bomb_cases, check_bomb  # noqa: E402
from fuzz_corpus import Mutator, make_seeds  # noqa: E402

SLOW_SECONDS = 5.0
HARD_TIMEOUT = 60  # a case still running after this is stopped (and counted as slow)


class CaseTimeout(BaseException):
    """Raised by SIGALRM inside a case; BaseException so no `except Exception` in genvc swallows it."""


def _alarm(signum, frame):
    raise CaseTimeout


def run_case(data: bytes, full_decode: bool) -> tuple[str, str, str]:
    """(outcome, detail, stage): outcome is 'ok', a GenvcError class name, 'crash' or 'timeout'; stage is 'parse'
    or 'decode' (decoding is only reached when parsing succeeded and `full_decode` is set)."""
    stage = "parse"
    try:
        describe(data)
        if full_decode:
            stage = "decode"
            _, frames = iter_decode(data)
            for _ in frames:
                pass
        return "ok", "", stage
    except GenvcError as exc:
        return type(exc).__name__, str(exc), stage
    except CaseTimeout:
        return "timeout", "", stage
    except Exception:
        return "crash", traceback.format_exc(), stage


def message_template(message: str) -> str:
    """An error message with numbers and quoted parts masked, to count distinct checks reached."""
    message = message.split(":", 1)[0] if message.startswith("ffmpeg failed") else message
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'…'", message))[:120]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def fuzz(args, seeds: dict[str, bytes], out: Path) -> dict:
    mutator = Mutator(seeds, seed=args.seed)
    outcomes: collections.Counter = collections.Counter()
    ops: collections.Counter = collections.Counter()
    templates: collections.Counter = collections.Counter()
    crashes, slow = [], []
    stages: collections.Counter = collections.Counter()
    slowest = 0.0
    signal.signal(signal.SIGALRM, _alarm)
    for n in tqdm(range(args.cases), desc="fuzz", unit="case", mininterval=2, disable=args.quiet):
        name, data = mutator.case()
        full = mutator.rng.random() < args.decode_fraction
        ops[name.split(":")[0]] += 1
        started = time.perf_counter()
        signal.alarm(HARD_TIMEOUT)
        outcome, detail, stage = run_case(data, full)
        signal.alarm(0)
        seconds = time.perf_counter() - started
        slowest = max(slowest, seconds)
        outcomes[outcome] += 1
        stages[stage, outcome == "ok"] += 1
        if detail and outcome not in ("crash", "timeout"):
            templates[f"{outcome}: {message_template(detail)}"] += 1
        if outcome == "crash" or seconds > SLOW_SECONDS:
            digest = hashlib.sha256(data).hexdigest()[:12]
            saved = out / ("crashes" if outcome == "crash" else "slow") / f"{n}-{digest}.gvc"
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_bytes(data)
            entry = {"case": n, "mutation": name, "file": str(saved), "seconds": round(seconds, 3)}
            if outcome == "crash":
                saved.with_suffix(".txt").write_text(detail)
                entry["traceback"] = detail.strip().splitlines()[-1]
                crashes.append(entry)
            else:
                slow.append(entry)
    decodes = stages["decode", True] + stages["decode", False]
    return {
        "cases": args.cases, "raw_mutations": ops["raw"], "crc_valid_mutations": ops["crc"],
        "outcomes": dict(outcomes), "parsed_ok": stages["parse", True] + decodes,
        "full_decodes": decodes, "decoded_ok": stages["decode", True],
        "crashes": crashes, "slow_cases": slow, "slowest_case_s": round(slowest, 3),
        "distinct_error_messages": len(templates), "top_error_messages": dict(templates.most_common(40)),
    }


def write_markdown(report: dict, path: Path) -> None:
    f = report["fuzz"]
    rows = [
        ("cases", f["cases"]), ("raw byte mutations / CRC-valid unit mutations",
                                f"{f['raw_mutations']} / {f['crc_valid_mutations']}"),
        ("parsed OK", f["parsed_ok"]),
        ("decoded in full / of which OK", f"{f['full_decodes']} / {f['decoded_ok']}"),
        ("refused with FormatError / InputError / ModelError",
         " / ".join(str(f["outcomes"].get(k, 0)) for k in ("FormatError", "InputError", "ModelError"))),
        ("distinct error messages reached", f["distinct_error_messages"]),
        ("**crashes (not a GenvcError)**", len(f["crashes"])),
        (f"**cases over {SLOW_SECONDS:.0f} s**", len(f["slow_cases"])),
        ("slowest case", f"{f['slowest_case_s']} s"),
        ("peak RSS of the fuzzer: after making seeds / after fuzzing (ru_maxrss)",
         f"{report['peak_rss_before_fuzzing_mb']} / {report['peak_rss_mb']} MB"),
        ("wall time", f"{report['seconds']} s"),
    ]
    lines = [f"# genvc fuzz report (seed {report['seed']})", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "## Bombs (header fields claiming huge sizes)", "",
              "| stream | bytes | refused with | seconds | traced peak MB | ok |", "|---|---|---|---|---|---|"]
    for name, b in report["bombs"].items():
        lines.append(f"| {name} | {b['bytes']} | {b['error']}: {b['message'][:70]} | {b['seconds']} | "
                     f"{b['traced_peak_mb']} | {'yes' if b['ok'] else '**NO**'} |")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--decode-fraction", type=float, default=0.05,
                        help="fraction of the cases that parse which are also decoded in full (default 0.05)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-real-sample", action="store_true", help="synthetic seeds only (no TransNetV2)")
    parser.add_argument("-o", "--output", default="fuzz-report")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    seeds = make_seeds(real_sample=not args.no_real_sample)
    for name, data in seeds.items():  # the seeds themselves must decode
        outcome, detail, _ = run_case(data, full_decode=True)
        if outcome != "ok":
            raise SystemExit(f"seed {name} does not decode: {outcome} {detail}")
    rss_after_seeds = round(peak_rss_mb(), 1)
    report = {"seed": args.seed, "seeds": {k: len(v) for k, v in seeds.items()}, "fuzz": fuzz(args, seeds, out)}
    # Measured before the bombs: building them encodes 4096x4096 pictures. (Children's peak RSS is not
    # reported: on Linux it includes the parent's pages at fork time.)
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    report["peak_rss_before_fuzzing_mb"] = rss_after_seeds
    report["bombs"] = {name: check_bomb(data) for name, data in bomb_cases(seeds).items()}
    report["seconds"] = round(time.perf_counter() - started, 1)
    (out / "fuzz.json").write_text(json.dumps(report, indent=2))
    write_markdown(report, out / "fuzz.md")
    print((out / "fuzz.md").read_text())
    failed = (report["fuzz"]["crashes"] or report["fuzz"]["slow_cases"]
              or not all(b["ok"] for b in report["bombs"].values()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
