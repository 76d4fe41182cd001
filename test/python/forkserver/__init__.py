"""Tests of pypages_worker.forkserver, one file per module."""
