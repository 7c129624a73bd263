"""The decoded-dataset cache: a folder or zip decoded once, memory-mapped on every later load."""
