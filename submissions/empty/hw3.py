# A sample submission that defines nothing (test data): every check scores 0, "not defined".
