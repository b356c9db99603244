"""Output: ``tables`` draws for people (the only Rich import), ``machine`` writes JSON, JSONL and
CSV for programs, ``numbers`` formats values for both."""
