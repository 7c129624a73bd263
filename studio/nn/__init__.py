"""Network building blocks shared by the methods."""
