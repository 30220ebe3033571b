//! Storage migrations of the agent registry, one module per storage version.

pub mod v1;
