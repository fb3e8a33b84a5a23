"""Prediction: seamless tiles in memory, lazy chunks, instance stitching, the predict entry point."""
