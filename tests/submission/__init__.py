"""Tests of graders.submission."""
