"""Preparation fitted on the training part: scaling, transforms and zero-copy windows."""
