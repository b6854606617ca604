"""Quasi-experimental designs, each a registered kind of its own: `did/` (kind ``did``), `rdd/`
(``rdd``), `iv/` (``iv``) and `synth/` (``synthetic_control``).

Each package holds its spec (only the options the design takes), its runner
``run_<kind>(spec, data)`` registered with the registry, a figure and a small seeded example;
`design` holds what they share. `cerebro causal --method <design>` reaches the same runner
through the registry (`CausalSpec.design_spec`), so this family imports only the shared layer.
"""
