"""Decoding: image files (on disk or in a zip) turned into images safely, on every core, or streamed from
disk when too large for memory; decoded sets are kept in cache/."""
