//! Weights of the agents pallet.
//!
//! BOOTSTRAP FILE: these are placeholders that let the pallet compile before its benchmarks can
//! run. They are replaced by the output of `scripts/benchmark.sh` (the node's `benchmark pallet`
//! command with this crate's `.hbs` template).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_agents`.
pub trait WeightInfo {
	fn register(m: u32) -> Weight;
	fn bond_extra() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn set_operator() -> Weight;
	fn pause() -> Weight;
	fn resume() -> Weight;
	fn deregister(m: u32) -> Weight;
	fn update_metadata() -> Weight;
	fn set_models(m: u32) -> Weight;
	fn set_roles(m: u32) -> Weight;
	fn heartbeat() -> Weight;
	fn select(c: u32) -> Weight;
}

/// Weights for `pallet_agents` using the node's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register(m: u32) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(2 * m as u64 + 4, 2 * m as u64 + 4))
	}
	fn bond_extra() -> Weight {
		Weight::from_parts(50_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn unbond() -> Weight {
		Weight::from_parts(50_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(80_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn set_operator() -> Weight {
		Weight::from_parts(50_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn pause() -> Weight {
		Weight::from_parts(30_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}
	fn resume() -> Weight {
		Weight::from_parts(30_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}
	fn deregister(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(2 * m as u64 + 1, 2 * m as u64 + 1))
	}
	fn update_metadata() -> Weight {
		Weight::from_parts(60_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn set_models(m: u32) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4 * m as u64 + 3, 4 * m as u64 + 3))
	}
	fn set_roles(m: u32) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads_writes(4 * m as u64 + 1, 4 * m as u64 + 1))
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(30_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}
	fn select(c: u32) -> Weight {
		Weight::from_parts(10_000_000, 5_000).saturating_add(T::DbWeight::get().reads(c as u64 + 1))
	}
}

impl WeightInfo for () {
	fn register(_m: u32) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
	}
	fn bond_extra() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
	}
	fn unbond() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(80_000_000, 5_000)
	}
	fn set_operator() -> Weight {
		Weight::from_parts(50_000_000, 5_000)
	}
	fn pause() -> Weight {
		Weight::from_parts(30_000_000, 5_000)
	}
	fn resume() -> Weight {
		Weight::from_parts(30_000_000, 5_000)
	}
	fn deregister(_m: u32) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
	}
	fn update_metadata() -> Weight {
		Weight::from_parts(60_000_000, 5_000)
	}
	fn set_models(_m: u32) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
	}
	fn set_roles(_m: u32) -> Weight {
		Weight::from_parts(100_000_000, 10_000)
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(30_000_000, 5_000)
	}
	fn select(_c: u32) -> Weight {
		Weight::from_parts(10_000_000, 5_000)
	}
}
