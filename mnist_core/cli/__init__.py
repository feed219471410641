"""The command line, ``python -m mnist_core <command>``: one small module per subcommand (``train``, ``evaluate``,
``predict``, ``train_number``, ``combine``, ``samples``, ``spare``, ``models``), each with ``register(subparsers)``
and ``run(args) -> exit status``: parse, call the core, print. ``main.py`` lists them and maps errors to exit codes;
``common.py`` holds what they share (the flags-into-settings merge, the model flags). TensorFlow is imported only
inside the commands that need it, so ``--help`` and argument errors answer at once. Nothing in the core imports this.
"""
