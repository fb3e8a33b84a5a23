"""Scores of predictions against ground truth: semantic (confusion matrix) and instance (matching)."""
