"""Tcl templates of the vendor scripts (package data of flow)."""
