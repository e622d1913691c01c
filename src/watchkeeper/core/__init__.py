"""Layer 0: vocabulary shared by every stage. Imports nothing but the standard library."""
