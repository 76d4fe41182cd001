"""Tests for pypages_worker: run with `python3 -m unittest discover -s tests -t .` from lib/python."""
