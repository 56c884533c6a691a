"""Who is who: normalised identifiers, the identity graph, deterministic and probabilistic matching."""
