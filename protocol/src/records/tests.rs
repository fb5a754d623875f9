//! Unit tests of the record batch codec (property tests live in `tests/`).
