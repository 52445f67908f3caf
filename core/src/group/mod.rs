//! The group coordinator (the classic protocol) and committed offsets.
