"""``predict``: read digits (or numbers) from image files, ink files (JSON, InkML) and folders, one line per file."""

from __future__ import annotations

import json
import sys

from mnist_core.cli.common import EXIT_ERROR, EXIT_OK, add_model_choice, positive, quiet_tensorflow

# Files read per model call: bounded memory, one batch per part. Numbers keep each photo's ink map (megabytes)
# until the part's digits are read, so fewer at a time.
PART_DIGITS, PART_NUMBERS = 2048, 64


def register(sub) -> None:
    r = sub.add_parser("predict", help="read digits from image files, ink files or folders")
    add_model_choice(r)
    r.add_argument("--number", action="store_true", help="read each image as a number of several digits (each row "
                   "of writing by the number reader, which reads touching digits and skips separators)")
    r.add_argument("--no-reader", action="store_true", help="with --number: cut the digits apart and read each "
                   "one (the segmenter alone, as before the number reader)")
    r.add_argument("--json", action="store_true", help="one JSON object per line")
    r.add_argument("--jobs", type=positive, default=1, metavar="N",
                   help="read the files in N processes, each loading the model once; output in input order "
                        "(default 1)")
    r.add_argument("paths", nargs="+", metavar="PATH", help="image files (png, jpg, bmp, webp, tiff, gif), ink "
                   "files (.json strokes of x, y, t points; .inkml), read by the image and the ink model together, "
                   "or folders")
    r.set_defaults(func=run)


def run(args) -> int:
    """Read digits (or numbers) from image and ink files and folders, in batches (--jobs N: in N processes)."""
    from mnist_core.ops import predict  # noqa: PLC0415

    quiet_tensorflow()
    files = predict.expand(args.paths)
    options = {"version": args.version, "model": args.model, "number": args.number, "no_reader": args.no_reader}
    failed = False
    if args.jobs > 1 and len(files) > 1:
        from mnist_core.ops.parallel import predict_in_processes  # noqa: PLC0415

        for record in predict_in_processes(options, files, args.jobs):
            failed |= show(record, args.number, args.json)
            sys.stdout.flush()
        return EXIT_ERROR if failed else EXIT_OK
    recognizer, reader = predict.setup(n_files=len(files), **options)
    size = PART_NUMBERS if args.number else PART_DIGITS
    for start in range(0, len(files), size):
        for record in predict.read_part(files[start:start + size], recognizer, reader, args.number):
            failed |= show(record, args.number, args.json)
    return EXIT_ERROR if failed else EXIT_OK


def show(record: dict, number: bool, as_json: bool) -> bool:
    """Print one file's record (its line, or its error also on stderr); True for an error."""
    path = record["path"]
    if "error" in record:
        print(json.dumps(record) if as_json else f"{path}\terror\t{record['error']}")
        print(f"error: {path}: {record['error']}", file=sys.stderr)
        return True
    if number:
        if as_json:
            print(json.dumps(record))
        else:
            conf = min((x["confidence"] for x in record["digits"]), default=0.0)
            print(f"{path}\t{record['number']}\t{conf:.4f}")
    elif record["digit"] is None:
        print(json.dumps(record) if as_json else f"{path}\t-\t0.0000")
    elif as_json:
        print(json.dumps({**record, "confidence": round(record["confidence"], 4),
                          "probabilities": [round(v, 6) for v in record["probabilities"]]}))
    else:
        print(f"{path}\t{record['digit']}\t{record['confidence']:.4f}")
    return False
