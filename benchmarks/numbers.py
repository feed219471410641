"""Whole numbers as people write them: `python benchmarks/numbers.py --help` (the code is in number_reading.py).

This file's name is also the standard library's `numbers`, which numpy imports. Any script run from this folder
has the folder first on sys.path, so its `import numpy` finds this file under that name: it then stands in for
the standard library's module (its source is run here), and the benchmark is not started.
"""

import os
import sys
import sysconfig

if __name__ == "__main__":
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here] + [_here]
    from number_reading import main

    sys.exit(main())
else:
    with open(os.path.join(sysconfig.get_paths()["stdlib"], "numbers.py")) as _f:
        exec(compile(_f.read(), _f.name, "exec"))  # noqa: S102 (the standard library's own module, as it is)
