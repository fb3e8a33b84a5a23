"""Named sets of training parameters that work together (``train(preset=...)``, ``--preset``,
the Train dock's preset box); parameters given beside a preset win."""

#: Hyper-parameters that work together, by name: fast on a laptop CPU, or accurate on a GPU.
PRESETS = {
    # correcting a model's predictions on a few images, then training it a minute more
    "fine-tune": {
        "lr": 2e-4,
        "epochs": 50,
        "max_time": 60,
        "patience": 10,
    },
    "fast-cpu": {
        "filters": 16,
        "depth": 4,
        "patch": 256,
        "batch": 8,
        "lr": 1e-3,
        "epochs": 100,
        "max_time": 600,
    },
    "accurate-gpu": {
        "filters": 32,
        "depth": 4,
        "patch": 256,
        "batch": 16,
        "lr": 1e-3,
        "epochs": 300,
        "max_time": None,
        "class_weights": "auto",
        "loss": "crossentropy+dice",
        "augment_intensity": True,
        "augment_deform": True,
    },
}
