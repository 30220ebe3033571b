//! Storage migrations of the agent registry, one module per storage version.
//!
//! A migration stays here while a live chain may still be on the version it starts from. Every
//! chain started from runtime spec 105 or later has version 1, so the version 0 → 1 migration is
//! gone (it is in the history, with the layout it read).

pub mod v2;
pub mod v3;

/// Whether a migration of `weight` fits in one block's normal share: else it must be made
/// multi-block.
#[cfg(feature = "try-runtime")]
pub(crate) fn fits_in_a_block<T: crate::Config>(weight: frame_support::weights::Weight) -> bool {
	use frame_support::{dispatch::DispatchClass, traits::Get};
	let limits = <T as frame_system::Config>::BlockWeights::get();
	let budget = limits.get(DispatchClass::Normal).max_total.unwrap_or(limits.max_block);
	weight.all_lte(budget)
}
