//! Storage version 0 → 1.
//!
//! - Tasks gain `collateral` (stake reserved by each executor: none for tasks opened under
//!   version 0), `excluded` and `deposit` (none held for them). A missed deadline is slashed at
//!   most the task's collateral, so tasks open across the upgrade finish without deadline
//!   slashes: nothing was reserved to back them. A dispute over such a task still slashes a
//!   wrong result from whatever stake is bonded.
//! - The deadline queues move from one bounded list per block to one key per `(block, task)`,
//!   with a cursor at the earliest block holding an entry (or the current block).

use crate::{Config, Pallet, Queue, TaskInfo, Tasks};
use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Zero;

/// The layouts of storage version 0.
pub mod v0 {
	use super::*;
	use crate::{Assignment, BalanceOf, TaskInputOf, TaskParams, TaskStatus};
	use agentchain_primitives::{inference::TaskId, ModelId};
	use codec::{Decode, Encode};
	use sp_core::H256;

	/// A task as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct OldTaskInfo<T: Config> {
		pub requester: T::AccountId,
		pub model: ModelId,
		pub input: TaskInputOf<T>,
		pub params: TaskParams,
		pub fee: BalanceOf<T>,
		pub escrow: BalanceOf<T>,
		pub redundancy: u32,
		pub commit_period: BlockNumberFor<T>,
		pub status: TaskStatus,
		pub phase_ends: BlockNumberFor<T>,
		pub assignments: BoundedVec<Assignment<T>, <T as Config>::MaxRedundancy>,
		pub reassignments: u32,
		pub result: Option<H256>,
		pub submitted_at: BlockNumberFor<T>,
	}

	/// The deadline queues of version 0: one bounded list of tasks per block.
	#[storage_alias]
	pub type Deadlines<T: Config> = StorageMap<
		Pallet<T>,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<TaskId, <T as Config>::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;
}

/// Rewrites the tasks and the deadline queues in the version 1 layout. Use [`MigrateV0ToV1`].
pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut reads = 0u64;
		let mut writes = 0u64;
		Tasks::<T>::translate::<v0::OldTaskInfo<T>, _>(|_, old| {
			reads += 1;
			writes += 1;
			Some(TaskInfo {
				requester: old.requester,
				model: old.model,
				input: old.input,
				params: old.params,
				fee: old.fee,
				escrow: old.escrow,
				redundancy: old.redundancy,
				commit_period: old.commit_period,
				status: old.status,
				phase_ends: old.phase_ends,
				assignments: old.assignments,
				reassignments: old.reassignments,
				result: old.result,
				submitted_at: old.submitted_at,
				collateral: Zero::zero(),
				excluded: Default::default(),
				deposit: Zero::zero(),
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

/// Storage version 0 → 1 of the inference pallet.
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
	use crate::{
		mock::*, Assignment, DeadlineCursor, Deadlines, TaskInput, TaskParams, TaskStatus,
		VerificationMode,
	};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	#[test]
	fn version_0_tasks_and_queues_become_version_1() {
		new_test_ext().execute_with(|| {
			StorageVersion::new(0).put::<Pallet<Test>>();
			System::set_block_number(5);
			let old = v0::OldTaskInfo::<Test> {
				requester: 1,
				model: model(),
				input: TaskInput::Inline(b"2+2".to_vec().try_into().unwrap()),
				params: TaskParams {
					max_tokens: 8,
					temperature_milli: 0,
					seed: 1,
					mode: VerificationMode::ExactMatch,
				},
				fee: 10,
				escrow: 10,
				redundancy: 1,
				commit_period: 3,
				status: TaskStatus::Assigned,
				phase_ends: 7,
				assignments: vec![Assignment::<Test> {
					executor: 11,
					commitment: None,
					output: None,
				}]
				.try_into()
				.unwrap(),
				reassignments: 0,
				result: None,
				submitted_at: 4,
			};
			frame_support::storage::unhashed::put(&Tasks::<Test>::hashed_key_for(0), &old);
			v0::Deadlines::<Test>::insert(7, BoundedVec::truncate_from(vec![0, 3]));
			v0::Deadlines::<Test>::insert(4, BoundedVec::truncate_from(vec![9]));

			MigrateV0ToV1::<Test>::on_runtime_upgrade();

			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 1);
			let task = Tasks::<Test>::get(0).expect("the task decodes");
			assert_eq!((task.fee, task.phase_ends, task.collateral, task.deposit), (10, 7, 0, 0));
			let mut queued: Vec<_> = Deadlines::<Test>::iter_keys().collect();
			queued.sort();
			assert_eq!(queued, vec![(4, 9), (7, 0), (7, 3)]);
			// The earliest queued block is not skipped.
			assert_eq!(DeadlineCursor::<Test>::get(), 4);
		});
	}
}
