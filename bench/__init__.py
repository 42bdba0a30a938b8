"""Benchmarks of `offen serve` (`make bench`): shared event generator, ceiling app, load generators."""
