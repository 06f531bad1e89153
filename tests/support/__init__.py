"""Shared test helpers: real components started on loopback for the tests."""
