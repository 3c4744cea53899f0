"""Tools for developing and demonstrating perfeval: `synth` (synthetic portfolios and field data; `perfeval synth`)."""
