"""Data sources: each turns a CSV file or a ticker into a raw table, knowing nothing of models."""
