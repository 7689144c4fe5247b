"""Tests of graders.inside."""
