"""mnist_core: the digit studio's core, as packages by what they do, lowest first: ``config`` (settings),
``store`` (model versions, samples, cache, profiles), ``digits`` (canvas/photo/bitmap -> 28x28, the recogniser,
why-maps), ``train`` (data, pen digits, nets, fit, evaluate, the personal recipe, one training run), ``ink``
(strokes read by the ink net, fused with the image model), ``numbers`` (the number reader, its lines and training),
``ops`` (serving, jobs, the job protocol, parallel reading) and ``cli`` (thin commands). Nothing imports upward,
the core never imports Gradio or the studio, and importing it is cheap: TensorFlow loads only where a model is
built or trained."""

__version__ = "0.1.0"
