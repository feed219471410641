"""The held-out writers' pen digits written as UNIPEN files and read back by ``python -m mnist_core predict``.

    python benchmarks/unipen_files.py [--folder DIR] [--jobs 1]

Each held-out writer of ../shared/data/pen (`pen.split_writers`' held-out side) is written the way its collection
writes it, raw (tablet units, y up): the pendigits writers as one pendigits-style file (each `.SEGMENT DIGIT` before
its strokes, `.DT` between them), each UNIPEN writer file in UNIPEN's layout (`data/1a/<lab>/<file>.dat` holding the
segments and `.INCLUDE`-ing the strokes from `include/<lab>/data/<file>.dat`, an empty-box mark between digits, as
the labs write them). The pendigits file is written twice: as one file of many writers, and with a `.WRITER_ID` before
each writer's digits. Then `predict` reads each set with its writers read together (`--writers auto`: a writer who
crosses their 7s, mnist_core.ink.hand) and each digit alone (`--writers none`), and its tally ("labelled digits: N,
read as labelled: K") and wall time are printed. Needs ../shared (skips with a reason without it).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_core.train import pen  # noqa: E402

PEN = ROOT.parent / "shared" / "data" / "pen"


def strokes_lines(strokes) -> list[str]:
    """A digit's strokes as UNIPEN .PEN_DOWN blocks (points as the collection gave them)."""
    out = []
    for s in strokes:
        out += [".PEN_DOWN", *(f"{p[0]} {p[1]}" for p in s), ".PEN_UP"]
    return out


def write_pendigits(digits, path: Path, writer_ids: bool = False) -> int:
    """pendigits' layout: one file, each segment before its strokes (`writer_ids`: a .WRITER_ID line where the
    writer changes); the number of digits written."""
    lines, k, last = [], 0, None
    for x in digits:
        n = len(x["strokes"])
        if writer_ids and x["writer"] != last:
            lines.append(f".WRITER_ID {x['writer']}")
            last = x["writer"]
        lines += [f'.SEGMENT DIGIT {k}-{k + n - 1} ? "{x["label"]}"', f".COMMENT {x['writer']}",
                  *strokes_lines(x["strokes"]), ".DT 100"]
        k += n
    path.write_text("\n".join(lines) + "\n")
    return len(digits)


def write_unipen(digits, root: Path) -> int:
    """UNIPEN's layout under `root`: a segments file per writer including its strokes file."""
    by = collections.defaultdict(list)
    for x in digits:
        by[x["writer"]].append(x)
    for writer, xs in by.items():
        lab, name = writer.split("/", 2)[2].split("/", 1)  # "data/1a/<lab>/<name>"
        strokes, segments, k = [".COORD X Y"], [".VERSION 1.0", f".INCLUDE {lab}/data/{name}"], 0
        for x in xs:
            strokes += [".PEN_DOWN", "0 0", ".PEN_UP"]  # an empty box's mark, as the labs write between digits
            k += 1
            n = len(x["strokes"])
            strokes += strokes_lines(x["strokes"])
            segments.append(f'.SEGMENT DIGIT {k}-{k + n - 1} ? "{x["label"]}"')
            k += n
        for path, lines in ((root / "include" / lab / "data" / name, strokes),
                            (root / "data" / "1a" / lab / name, segments)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
    return len(digits)


def read(target: Path, jobs: int, home: Path, writers: str = "auto") -> tuple[str, float]:
    """(predict's tally line, its wall seconds) for a file or folder."""
    env = {**os.environ, "MNIST_STUDIO_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mnist_core", "predict", "--jobs", str(jobs), "--writers", writers,
                           str(target)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    tally = [ln for ln in proc.stderr.splitlines() if ln.startswith("labelled digits")]
    return (tally[-1] if tally else f"no tally (exit {proc.returncode}): {proc.stderr[-300:]}"), wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folder", default=None, help="write the files here (default: a temporary folder)")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    if not PEN.is_dir():
        print(f"skipped: {PEN} is absent (the held-out writers come from ../shared)")
        return 0
    folder = Path(args.folder or tempfile.mkdtemp(prefix="unipen-files-"))
    folder.mkdir(parents=True, exist_ok=True)
    sets = {}
    for name in ("pendigits", "unipen"):
        raw = json.load(gzip.open(PEN / f"{name}_dev.json.gz"))
        sets[name] = [x for x in raw if pen.is_held_out(x["writer"])]
    n_pd = write_pendigits(sets["pendigits"], folder / "pendigits-heldout.tes")
    write_pendigits(sets["pendigits"], folder / "pendigits-heldout-ids.tes", writer_ids=True)
    n_un = write_unipen(sets["unipen"], folder / "unipen")
    print(f"Command: `python benchmarks/unipen_files.py --jobs {args.jobs}` (files in {folder})\n")
    print("| held-out writers, as UNIPEN files | digits | --writers | predict's tally | wall |\n|---|---:|---|---|---:|")
    for label, n, target in (("pendigits, one .tes file", n_pd, folder / "pendigits-heldout.tes"),
                             ("pendigits, one .tes file with .WRITER_IDs", n_pd, folder / "pendigits-heldout-ids.tes"),
                             ("UNIPEN, data/1a/ + include/", n_un, folder / "unipen")):
        for writers in ("none", "auto"):
            tally, wall = read(target, args.jobs, folder / "home", writers)
            print(f"| {label} | {n:,} | {writers} | {tally} | {wall:.1f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
