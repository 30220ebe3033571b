//! Storage version 0 → 1.
//!
//! - Disputes gain `share` (the fee share of one executor: the fee over the executors that
//!   revealed), `input_is_reference` (unknown under version 0: taken as inline), `unpaid` and
//!   `juror_collateral` (none reserved by seats drawn under version 0).
//! - The deadline queues move from one bounded list per block to one key per
//!   `(block, dispute)`, with a cursor at the earliest block holding an entry (or the current
//!   block).

use crate::{
	BalanceOf, Bond, Config, Dispute, DisputeKind, DisputePhase, Disputes, MaxBonds,
	MaxJurorsPerDispute, Pallet, Queue, Seat,
};
use agentchain_primitives::{inference::TaskId, inference::VerificationMode, ModelId};
use alloc::vec::Vec;
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

	/// A dispute as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct OldDispute<T: Config> {
		pub kind: DisputeKind<T::AccountId>,
		pub requester: T::AccountId,
		pub model: ModelId,
		pub mode: VerificationMode,
		pub fee: BalanceOf<T>,
		pub revealed: BoundedVec<(T::AccountId, H256), T::MaxExecutors>,
		pub result: Option<H256>,
		pub round: u32,
		pub phase: DisputePhase,
		pub phase_ends: BlockNumberFor<T>,
		pub jury: BoundedVec<Seat<T::AccountId>, T::MaxJurySize>,
		pub verdict: Option<H256>,
		pub bonds: BoundedVec<Bond<T::AccountId, BalanceOf<T>>, MaxBonds<T>>,
		pub owed: BoundedVec<(T::AccountId, H256), MaxJurorsPerDispute<T>>,
		pub past_jurors: BoundedVec<T::AccountId, MaxJurorsPerDispute<T>>,
	}

	/// The deadline queues of version 0: one bounded list of disputes per block.
	#[storage_alias]
	pub type Deadlines<T: Config> = StorageMap<
		Pallet<T>,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<TaskId, <T as Config>::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;
}

/// Rewrites the disputes and the deadline queues in the version 1 layout. Use
/// [`MigrateV0ToV1`].
pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut reads = 0u64;
		let mut writes = 0u64;
		Disputes::<T>::translate::<v0::OldDispute<T>, _>(|_, old| {
			reads += 1;
			writes += 1;
			let executors = BalanceOf::<T>::from((old.revealed.len() as u32).max(1));
			Some(Dispute {
				kind: old.kind,
				requester: old.requester,
				model: old.model,
				mode: old.mode,
				input_is_reference: false,
				fee: old.fee,
				share: old.fee / executors,
				revealed: old.revealed,
				result: old.result,
				round: old.round,
				phase: old.phase,
				phase_ends: old.phase_ends,
				jury: old.jury,
				verdict: old.verdict,
				bonds: old.bonds,
				owed: old.owed,
				unpaid: Default::default(),
				past_jurors: old.past_jurors,
				juror_collateral: Zero::zero(),
				extended: false,
			})
		});
		// Both layouts share the storage prefix: take every old list out before writing a key.
		let queues: Vec<_> = v0::Deadlines::<T>::drain().collect();
		let (blocks, entries) =
			Queue::<T>::import(queues, frame_system::Pallet::<T>::block_number());
		T::DbWeight::get()
			.reads_writes(reads.saturating_add(blocks), writes.saturating_add(entries))
	}
}

/// Storage version 0 → 1 of the challenges pallet.
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
	use crate::{mock::*, DeadlineCursor, Deadlines};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	#[test]
	fn version_0_disputes_and_queues_become_version_1() {
		new_test_ext().execute_with(|| {
			StorageVersion::new(0).put::<Pallet<Test>>();
			System::set_block_number(9);
			let old = v0::OldDispute::<Test> {
				kind: DisputeKind::Challenge { challenger: 2 },
				requester: 1,
				model: model(),
				mode: VerificationMode::ExactMatch,
				fee: 100,
				revealed: BoundedVec::truncate_from(vec![(11, H256::repeat_byte(1))]),
				result: Some(H256::repeat_byte(1)),
				round: 0,
				phase: DisputePhase::Committing,
				phase_ends: 12,
				jury: Default::default(),
				verdict: None,
				bonds: Default::default(),
				owed: Default::default(),
				past_jurors: Default::default(),
			};
			frame_support::storage::unhashed::put(&Disputes::<Test>::hashed_key_for(7), &old);
			v0::Deadlines::<Test>::insert(12, BoundedVec::truncate_from(vec![7]));

			MigrateV0ToV1::<Test>::on_runtime_upgrade();

			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 1);
			let dispute = Disputes::<Test>::get(7).expect("the dispute decodes");
			assert_eq!((dispute.fee, dispute.share, dispute.juror_collateral), (100, 100, 0));
			assert_eq!(dispute.phase_ends, 12);
			assert_eq!(Deadlines::<Test>::iter_keys().collect::<Vec<_>>(), vec![(12, 7)]);
			assert_eq!(DeadlineCursor::<Test>::get(), 9);
		});
	}
}
