"""``predict``: read digits (or numbers) from image files, ink files (JSON, InkML, UNIPEN) and folders, one line per
file (per digit of a file of many labelled digits, with its label; those are tallied on stderr at the end)."""

from __future__ import annotations

import json
import sys
from collections import Counter

from mnist_core.cli.common import EXIT_ERROR, EXIT_OK, add_model_choice, positive, quiet_tensorflow

# Files read per model call: bounded memory, one batch per part. Numbers keep each photo's ink map (megabytes)
# until the part's digits are read, so fewer at a time.
PART_DIGITS, PART_NUMBERS = 2048, 64
MISREADS_SHOWN = 12  # the commonest (label, read) pairs printed after the tally


def register(sub) -> None:
    r = sub.add_parser("predict", help="read digits from image files, ink files or folders")
    add_model_choice(r)
    r.add_argument("--number", action="store_true", help="read each image as a number of several digits (each row "
                   "of writing by the number reader, which reads touching digits and skips separators)")
    r.add_argument("--no-reader", action="store_true", help="with --number: cut the digits apart and read each "
                   "one (the segmenter alone, as before the number reader)")
    r.add_argument("--writers", choices=("folder", "auto", "one", "none"), default="folder",
                   help="whose ink digits are read together (a writer who crosses their 7s writes an uncrossed "
                        "7-shape only as a 1): folder (default), each writer a file names (a UNIPEN file's "
                        ".WRITER_ID, else the file; a JSON ink's \"writer\", an InkML writer annotation), and the "
                        "ink files of one folder that name nobody as one writer's; auto, only the writers files "
                        "name; one, every ink file given; none, each digit alone")
    r.add_argument("--json", action="store_true", help="one JSON object per line")
    r.add_argument("--jobs", type=positive, default=1, metavar="N",
                   help="read the files in N processes, each loading the model once; output in input order "
                        "(default 1)")
    r.add_argument("paths", nargs="+", metavar="PATH", help="image files (png, jpg, bmp, webp, tiff, gif), ink "
                   "files (.json strokes of x, y, t points; .inkml; UNIPEN .unp/.tra/.tes/.dat; a file of many "
                   "labelled digits gives a line per digit, FILE#N with its label), read by the image and the ink "
                   "model together, "
                   "or folders")
    r.set_defaults(func=run)


def run(args) -> int:
    """Read digits (or numbers) from image and ink files and folders, in batches (--jobs N: in N processes)."""
    from mnist_core.ops import predict  # noqa: PLC0415

    quiet_tensorflow()
    files = predict.expand(args.paths)
    options = {"version": args.version, "model": args.model, "number": args.number, "no_reader": args.no_reader}
    failed, tally = False, Counter()  # labelled digits: "read", "right", and (label, what was read) when wrong
    if args.jobs > 1 and len(files) > 1:
        from mnist_core.ops.parallel import predict_in_processes  # noqa: PLC0415

        records = predict_in_processes(options, files, args.jobs)
    else:
        records = _in_parts(files, predict.setup(n_files=len(files), **options), args.number)
    if not args.number:
        records = predict.with_hands(records, args.writers)
    for record in records:
        failed |= show(record, args.number, args.json)
        count(record, args.number, tally)
        sys.stdout.flush()
    report(tally)
    return EXIT_ERROR if failed else EXIT_OK


def report(tally: Counter) -> None:
    """On stderr, for files that label their digits: how many were read as labelled, and the commonest misreads."""
    if not tally["read"]:
        return
    print(f"labelled digits: {tally['read']:,}, read as labelled: {tally['right']:,} "
          f"({tally['right'] / tally['read']:.2%})", file=sys.stderr)
    wrong = Counter({k: v for k, v in tally.items() if isinstance(k, tuple)}).most_common(MISREADS_SHOWN)
    if wrong:
        print("misread, label→read: " + ", ".join(f"{a}→{b} ×{n}" for (a, b), n in wrong), file=sys.stderr)


def _in_parts(files: list, setup, number: bool):
    """The records of `files`, read a part at a time in this process."""
    from mnist_core.ops import predict  # noqa: PLC0415

    recognizer, reader = setup
    size = PART_NUMBERS if number else PART_DIGITS
    for start in range(0, len(files), size):
        yield from predict.read_part(files[start:start + size], recognizer, reader, number)


def count(record: dict, number: bool, tally: Counter) -> None:
    """Add a record with a label of digits (a `Part`'s) to ``tally`` (see `run`; an unreadable one is read as
    "error", one with no digit found as "-")."""
    label = record.get("label")
    if not (isinstance(label, str) and label.isdigit() and label.isascii()):
        return
    read = "error" if "error" in record else record.get("number") if number else record.get("digit")
    read = "-" if read is None or read == "" else str(read)
    tally["read"] += 1
    if read == label:
        tally["right"] += 1
    else:
        tally[(label, read)] += 1


def show(record: dict, number: bool, as_json: bool) -> bool:
    """Print one file's record (its line, or its error also on stderr; a `Part`'s label as a last column);
    True for an error."""
    path = record["path"]
    label = f"\t{record['label']}" if record.get("label") is not None else ""
    if "error" in record:
        print(json.dumps(record) if as_json else f"{path}\terror\t{record['error']}{label}")
        print(f"error: {path}: {record['error']}", file=sys.stderr)
        return True
    if number:
        if as_json:
            print(json.dumps(record))
        else:
            conf = min((x["confidence"] for x in record["digits"]), default=0.0)
            print(f"{path}\t{record['number']}\t{conf:.4f}{label}")
    elif record["digit"] is None:
        print(json.dumps(record) if as_json else f"{path}\t-\t0.0000{label}")
    elif as_json:
        print(json.dumps({**record, "confidence": round(record["confidence"], 4),
                          "probabilities": [round(v, 6) for v in record["probabilities"]]}))
    else:
        print(f"{path}\t{record['digit']}\t{record['confidence']:.4f}{label}")
    return False
