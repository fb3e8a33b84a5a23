"""The worker process the docks train and predict in (``spawn``; TensorFlow lives there)."""
