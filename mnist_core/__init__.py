"""mnist_core: data, models, training, evaluation, preprocessing, model storage and a CLI
for the MNIST digit studio. Importing the package is cheap: TensorFlow loads only in the
modules that need it (models, training, recognize)."""

__version__ = "0.1.0"
