"""Training: the parameter schema, sampling, augmentation, losses, the loop, devices, runs."""
