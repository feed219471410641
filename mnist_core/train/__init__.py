"""Training digit models: the data (``data``: MNIST, ``pen``: the shipped pen digits, ``synth``: their
stroke-space augmentation and other populations' writing conventions), the nets (``nets``), the
augmentation (``augment``), the fit with progress and cancel (``fit``), across workers (``cluster``), evaluation and
plots (``evaluate``), a person's fine-tune recipe (``personal``), and ONE training run (``run.run(job, progress,
cancel) -> Outcome``, with ``job.TrainJob`` what it is asked and ``version`` the save shared with ``combine``) that
the CLI, the job manager's trainer and the spare trainer all call. Importing this package loads nothing; TensorFlow
is imported by ``fit``, ``nets`` and a run, not by ``job`` or ``run`` at import.
"""
