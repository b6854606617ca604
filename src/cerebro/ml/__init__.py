"""Machine learning shared by the families: learners, seeded fold partitions, cross-fitting,
LightGBM binned once and scored by a compiled tree walker."""
