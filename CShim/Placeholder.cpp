// Replaced by the shim implementation.
