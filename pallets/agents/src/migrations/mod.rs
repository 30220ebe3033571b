//! Storage migrations of the agent registry, one module per storage version.
//!
//! A migration stays here while a live chain may still be on the version it starts from. Every
//! chain started from runtime spec 105 or later has version 1, so the version 0 → 1 migration is
//! gone (it is in the history, with the layout it read).

pub mod v2;
pub mod v3;
pub mod v4;

/// Whether a migration of `weight` fits in one block's normal share: else it must be made
/// multi-block.
#[cfg(feature = "try-runtime")]
pub(crate) fn fits_in_a_block<T: crate::Config>(weight: frame_support::weights::Weight) -> bool {
	use frame_support::{dispatch::DispatchClass, traits::Get};
	let limits = <T as frame_system::Config>::BlockWeights::get();
	let budget = limits.get(DispatchClass::Normal).max_total.unwrap_or(limits.max_block);
	weight.all_lte(budget)
}

/// The weight of a migration that rewrites `records` agent records: a read and a write each.
pub fn records_weight<T: crate::Config>(records: u64) -> frame_support::weights::Weight {
	use frame_support::traits::Get;
	<T as frame_system::Config>::DbWeight::get().reads_writes(records, records)
}

/// `pre_upgrade` of a migration that rewrites every agent record: `old_layout` gives each record's
/// bytes in the layout the migration reads (or an error, for a record in no layout it knows),
/// whose hash is kept; refuses a registry of more records than migrate within a block's normal
/// share ([`records_weight`]).
#[cfg(feature = "try-runtime")]
pub(crate) fn hash_records<T: crate::Config>(
	old_layout: impl Fn(alloc::vec::Vec<u8>) -> Result<alloc::vec::Vec<u8>, &'static str>,
) -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
	use codec::Encode;
	let mut records: alloc::vec::Vec<(T::AccountId, [u8; 32])> = alloc::vec::Vec::new();
	for key in crate::Registry::<T>::iter_keys() {
		let raw =
			frame_support::storage::unhashed::get_raw(&crate::Registry::<T>::hashed_key_for(&key))
				.ok_or("an agent record vanished while being read")?;
		records.push((key, sp_io::hashing::blake2_256(&old_layout(raw)?)));
	}
	frame_support::ensure!(
		fits_in_a_block::<T>(records_weight::<T>(records.len() as u64)),
		"the agent registry is too large to migrate in one block: make this migration multi-block"
	);
	Ok(records.encode())
}

/// `post_upgrade` of a migration that rewrites every agent record: every record kept by
/// [`hash_records`] is still there, whole in the current layout, and `old_layout` (which checks
/// what the migration set) writes it back byte for byte as it was; no record was added.
#[cfg(feature = "try-runtime")]
pub(crate) fn check_records<T: crate::Config>(
	state: alloc::vec::Vec<u8>,
	old_layout: impl Fn(crate::AgentInfo<T>) -> Result<alloc::vec::Vec<u8>, &'static str>,
) -> Result<(), sp_runtime::TryRuntimeError> {
	use codec::{Decode, DecodeAll};
	let before = alloc::vec::Vec::<(T::AccountId, [u8; 32])>::decode(&mut &state[..])
		.map_err(|_| "undecodable pre-upgrade state")?;
	frame_support::ensure!(
		crate::Registry::<T>::iter_keys().count() == before.len(),
		"agent records were added or removed by the migration"
	);
	for (key, hash) in before {
		let raw =
			frame_support::storage::unhashed::get_raw(&crate::Registry::<T>::hashed_key_for(&key))
				.ok_or("an agent record was lost in the migration")?;
		let info = crate::AgentInfo::<T>::decode_all(&mut &raw[..])
			.map_err(|_| "a migrated agent record is not whole in the current layout")?;
		frame_support::ensure!(
			sp_io::hashing::blake2_256(&old_layout(info)?) == hash,
			"an agent record changed in the migration"
		);
	}
	Ok(())
}

/// Tests: registers agent 1 (an executor of model `[1; 32]` with 100 of its 500 unbonding) and
/// agent 2 (a curator), the registry the migrations' tests rewrite in older layouts.
#[cfg(test)]
pub(crate) fn register_executor_and_curator() {
	use crate::mock::*;
	use frame_support::assert_ok;
	assert_ok!(Agents::register(
		RuntimeOrigin::signed(1),
		b"executor".to_vec(),
		alloc::vec![],
		alloc::vec![],
		alloc::vec![[1u8; 32].into()],
		alloc::vec![crate::Role::Executor],
		500,
	));
	assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 100));
	assert_ok!(Agents::register(
		RuntimeOrigin::signed(2),
		b"curator".to_vec(),
		alloc::vec![],
		alloc::vec![],
		alloc::vec![],
		alloc::vec![crate::Role::Curator],
		MIN_CURATOR_STAKE,
	));
}
