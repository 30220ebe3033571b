//! Storage migrations of the data-rewards pallet, one module per storage version.

pub mod v1;
