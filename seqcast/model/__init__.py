"""Models: Keras 3 builders, the training loop, the training pipeline and prediction (Keras or NumPy)."""
