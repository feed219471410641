"""Running the studio's work: serving the digit models to many requests (``serving.ModelServer``: the active and
personal models, hot swap, the number reader, why-maps), one training job at a time in a trainer process
(``jobs.JobManager``, with ``lock`` across processes and replicas and a ``spare`` trainer kept waiting), the
trainer <-> job manager protocol (``protocol``: request file, log events, cancel file, exit codes) and reading
many files in parallel (``predict``, ``parallel``). Nothing here imports Gradio; TensorFlow only in trainers."""
