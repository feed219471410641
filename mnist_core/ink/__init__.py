"""Reading digits from their ink (the strokes as drawn) beside the image model.

- `format`: JSON / InkML -> a validated `Ink` (no TensorFlow);
- `features`: an ink -> (N, C) float32 trajectory features, resampled by arc length (no TensorFlow);
- `net`: the 1-D convolutional ink net (Keras);
- `fit`: its training on the training writers only (stroke-space augmentation and conventions: `train.synth`), a checked TF Lite copy and a card;
- `loops`: closed loops and where the pen begins them (a 0 or an 8 begun low is also read begun at its top);
- `reader`: `InkReader`, the TF Lite copy served through LiteRT (no TensorFlow);
- `fuse`: image and ink probabilities combined; strokes assigned to the segmenter's digit boxes (no TensorFlow).

Importing this package imports nothing heavy; import the submodule you need.
"""
