"""The original specification's import paths, kept for existing apps."""
