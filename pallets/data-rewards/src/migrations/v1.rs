//! Storage version 0 → 1.
//!
//! - Ledgers keep their epoch's scores as a tally (stake per score bucket) instead of a
//!   stake-weighted sum: the version 0 sums become one bucket holding the mean score, counted as
//!   a quorum, so every dataset keeps the weight it had.
//! - Attestations record the curator's reserved collateral (none under version 0).
//! - `PruneCursor` becomes `AttestationCursor`.

use crate::{
	Attestation, AttestationCursor, Attestations, BalanceOf, Config, DatasetInfo, DatasetStatus,
	Datasets, EpochIndex, Ledger, Pallet, ScoreTally,
};
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::Zero;

/// The layouts of storage version 0.
pub mod v0 {
	use super::*;

	/// A ledger as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct OldLedger<Balance> {
		pub epoch: EpochIndex,
		pub usage: Balance,
		pub cut: Balance,
		pub score_sum: u128,
		pub stake_sum: u128,
		pub owed: Balance,
	}

	/// A dataset as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct OldDatasetInfo<T: Config> {
		pub owner: T::AccountId,
		pub content_hash: H256,
		pub size: u64,
		pub deposit: BalanceOf<T>,
		pub status: DatasetStatus,
		pub models: u32,
		pub registered_at: BlockNumberFor<T>,
		pub ledger: OldLedger<BalanceOf<T>>,
	}

	/// The attestation cursor of version 0.
	#[storage_alias]
	pub type PruneCursor<T: Config> = StorageValue<Pallet<T>, EpochIndex, ValueQuery>;
}

/// The tally that gives the same score as the version 0 sums: all the stake in the bucket of
/// their mean, with the sum of the scores, counted as a quorum.
fn tally_of<T: Config>(score_sum: u128, stake_sum: u128) -> ScoreTally {
	let mut tally = ScoreTally::default();
	if stake_sum > 0 {
		let mean = (score_sum / stake_sum).min(u128::from(crate::MAX_SCORE)) as u8;
		let bucket = ScoreTally::bucket(mean);
		if let (Some(stake), Some(weighted)) =
			(tally.stake.get_mut(bucket), tally.weighted.get_mut(bucket))
		{
			*stake = stake_sum;
			*weighted = score_sum;
		}
		tally.curators = T::MinCurators::get();
	}
	tally
}

/// Rewrites ledgers and attestations in the version 1 layout. Use [`MigrateV0ToV1`].
pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut count = 0u64;
		Datasets::<T>::translate::<v0::OldDatasetInfo<T>, _>(|_, old| {
			count += 1;
			Some(DatasetInfo {
				owner: old.owner,
				content_hash: old.content_hash,
				size: old.size,
				deposit: old.deposit,
				status: old.status,
				models: old.models,
				registered_at: old.registered_at,
				ledger: Ledger {
					epoch: old.ledger.epoch,
					usage: old.ledger.usage,
					cut: old.ledger.cut,
					scores: tally_of::<T>(old.ledger.score_sum, old.ledger.stake_sum),
					owed: old.ledger.owed,
				},
			})
		});
		Attestations::<T>::translate_values::<u8, _>(|score| {
			count += 1;
			Some(Attestation { score, collateral: Zero::zero() })
		});
		AttestationCursor::<T>::put(v0::PruneCursor::<T>::take());
		T::DbWeight::get().reads_writes(count.saturating_add(1), count.saturating_add(2))
	}
}

/// Storage version 0 → 1 of the data-rewards pallet.
pub type MigrateV0ToV1<T> = VersionedMigration<
	0,
	1,
	InnerMigrateV0ToV1<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	#[test]
	fn version_0_ledgers_keep_their_weight() {
		new_test_ext().execute_with(|| {
			StorageVersion::new(0).put::<Pallet<Test>>();
			MinCurators::set(3);
			let old = v0::OldDatasetInfo::<Test> {
				owner: ALICE,
				content_hash: H256::repeat_byte(1),
				size: 1,
				deposit: DATASET_DEPOSIT,
				status: DatasetStatus::Active,
				models: 0,
				registered_at: 1,
				ledger: v0::OldLedger {
					epoch: 0,
					usage: 100,
					cut: 200,
					score_sum: 100 * 80 + 300 * 40,
					stake_sum: 400,
					owed: 7,
				},
			};
			frame_support::storage::unhashed::put(&Datasets::<Test>::hashed_key_for(0), &old);
			let marker = Attestations::<Test>::hashed_key_for(0, (0u64, CURATOR));
			frame_support::storage::unhashed::put(&marker, &55u8);
			v0::PruneCursor::<Test>::put(3);

			MigrateV0ToV1::<Test>::on_runtime_upgrade();

			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 1);
			let ledger = Datasets::<Test>::get(0).expect("the dataset decodes").ledger;
			// The mean of version 0 was 50: the weight is the same.
			assert_eq!(ledger.weight(MinCurators::get()), 50);
			assert_eq!(ledger.owed, 7);
			assert_eq!(
				Attestations::<Test>::get(0, (0u64, CURATOR)),
				Some(Attestation { score: 55, collateral: 0 })
			);
			assert_eq!(AttestationCursor::<Test>::get(), 3);
		});
	}
}
