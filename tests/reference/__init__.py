"""Tests of reference/: each reference against real Keras layers, and the graders on it."""
