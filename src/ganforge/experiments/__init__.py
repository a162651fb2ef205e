"""Experiments: studies that combine the library to answer a question, not library parts.

A module belongs here when it wires data, tasks, training, sampling and eval together to
run a study with a measured outcome (e.g. :mod:`ganforge.experiments.augment`: does a
conditional GAN's synthetic data help a classifier with few labels?). Nothing in the
library imports from here; the CLI verb that runs an experiment imports it lazily.
Speed studies live in ``benchmarks/`` instead.
"""
