//! Storage migrations of the challenges pallet, one module per storage version.

pub mod v1;
