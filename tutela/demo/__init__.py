"""James PRO's sample product database: realistic data in five languages, and the ground
truth of whose every row is."""

from tutela.demo.seed import LANGUAGES, GroundTruth, Person, default_truth_path, seed

__all__ = ["LANGUAGES", "GroundTruth", "Person", "default_truth_path", "seed"]
