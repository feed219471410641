"""Whole numbers: a line of handwriting read as one digit string by the number reader (``reader``: rows of digits,
each row's band of ink read by a CTC network through LiteRT and combined with the segmenter's digits), the
synthetic lines of real writers' digits it is trained on (``lines``), and its training loop (``train``, the one
module here that imports TensorFlow)."""
