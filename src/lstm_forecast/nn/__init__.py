"""Neural networks: the NumPy reference (:mod:`.reference`) and, later, the torch engine."""
