"""Tools over finished (or running) run directories, above the engine: what `studio fid` compares
(`sources.py`) and the table of `studio compare` (`compare.py`)."""
