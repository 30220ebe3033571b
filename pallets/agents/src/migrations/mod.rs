//! Storage migrations of the agent registry, one module per storage version.
//!
//! A migration stays here while a live chain may still be on the version it starts from. Every
//! chain started from runtime spec 105 or later has version 1, so the version 0 → 1 migration is
//! gone (it is in the history, with the layout it read).

pub mod v2;
