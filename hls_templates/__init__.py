"""C++ headers of the tsflow HLS layers (package data of flow)."""
