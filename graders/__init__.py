"""HW3 graders: one pytest module per question, plus the `harness` package they use."""
