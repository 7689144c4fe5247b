"""Tests of graders.core."""
