//! Weights of the inference pallet.
//!
//! BOOTSTRAP FILE: placeholders that let the pallet compile before its benchmarks can run. They
//! are replaced by the output of `scripts/benchmark.sh pallet_inference`.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::Weight};

/// Weight functions needed for `pallet_inference`.
pub trait WeightInfo {
	fn submit_task(r: u32, i: u32) -> Weight;
	fn commit() -> Weight;
	fn reveal(o: u32) -> Weight;
	fn finalize() -> Weight;
	fn on_initialize(n: u32) -> Weight;
}

/// Weights for `pallet_inference` with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit_task(r: u32, _i: u32) -> Weight {
		Weight::from_parts(200_000_000, 50_000)
			.saturating_add(T::DbWeight::get().reads_writes(70 + 3 * r as u64, 5 + 3 * r as u64))
	}
	fn commit() -> Weight {
		Weight::from_parts(60_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(5, 4))
	}
	fn reveal(_o: u32) -> Weight {
		Weight::from_parts(80_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(6, 5))
	}
	fn finalize() -> Weight {
		Weight::from_parts(300_000_000, 50_000)
			.saturating_add(T::DbWeight::get().reads_writes(80, 20))
	}
	fn on_initialize(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 2_000)
			.saturating_add(Weight::from_parts(300_000_000, 50_000).saturating_mul(n as u64))
			.saturating_add(T::DbWeight::get().reads_writes(1 + 80 * n as u64, 1 + 20 * n as u64))
	}
}

impl WeightInfo for () {
	fn submit_task(_r: u32, _i: u32) -> Weight {
		Weight::from_parts(200_000_000, 50_000)
	}
	fn commit() -> Weight {
		Weight::from_parts(60_000_000, 10_000)
	}
	fn reveal(_o: u32) -> Weight {
		Weight::from_parts(80_000_000, 10_000)
	}
	fn finalize() -> Weight {
		Weight::from_parts(300_000_000, 50_000)
	}
	fn on_initialize(n: u32) -> Weight {
		Weight::from_parts(300_000_000, 50_000).saturating_mul(n as u64)
	}
}
