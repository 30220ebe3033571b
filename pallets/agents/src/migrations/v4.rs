//! Storage version 3 → 4: each agent record gains `batch_blocks`, the blocks of work of the
//! batches it was drawn for and has not committed yet, which a draw for a batch counts
//! ([`BatchWork`](agentchain_primitives::agents::BatchWork)), and `batch_speed`, the blocks of
//! that work its node declares it does in a block. Nothing counted them before, so every record
//! starts at zero batch work and a speed of 1; everything else is carried over unchanged. A batch executor
//! with a batch open at the upgrade has it uncounted until its commit (the release saturates).
//!
//! A record that is already whole in the version 4 layout is left as it is: the version 1 → 2
//! migration writes the current layout, so a chain upgraded from version 1 in one step has
//! records in both layouts when this one runs.
//!
//! One read and one write per agent, in one block, as the version 1 → 2 migration (58 µs per
//! agent with the runtime's ParityDB weights; about 12,900 agents fit a block's normal share).
//! `pre_upgrade` (try-runtime) refuses a registry that would not fit.

use crate::{AgentInfo, Config, Pallet, Registry};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use frame_support::{
	migrations::VersionedMigration, storage::unhashed, traits::UncheckedOnRuntimeUpgrade,
	weights::Weight,
};

/// The layouts of storage version 3.
pub mod v3 {
	use crate::{
		AgentMetadata, AgentStatus, BalanceOf, Config, ModelsOf, Reputation, Roles, UnbondingOf,
	};
	use codec::{Decode, Encode};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// An agent record as versions 2 and 3 stored it.
	#[derive(Encode, Decode)]
	pub struct AgentInfo<T: Config> {
		pub operator: Option<T::AccountId>,
		pub proposed_operator: Option<T::AccountId>,
		pub metadata: AgentMetadata<T>,
		pub models: ModelsOf<T>,
		pub roles: Roles,
		pub stake: BalanceOf<T>,
		pub unbonding: UnbondingOf<T>,
		pub status: AgentStatus,
		pub registered_at: BlockNumberFor<T>,
		pub last_seen: BlockNumberFor<T>,
		pub open_work: u32,
		pub collateral: BalanceOf<T>,
		pub reputation: Reputation,
		pub deposit: T::Consideration,
	}

	/// A version 4 record in the version 3 layout (without `batch_blocks` and `batch_speed`): what the
	/// try-runtime checks compare, and how tests write a chain's state as version 3 had it.
	impl<T: Config> From<crate::AgentInfo<T>> for AgentInfo<T> {
		fn from(info: crate::AgentInfo<T>) -> Self {
			Self {
				operator: info.operator,
				proposed_operator: info.proposed_operator,
				metadata: info.metadata,
				models: info.models,
				roles: info.roles,
				stake: info.stake,
				unbonding: info.unbonding,
				status: info.status,
				registered_at: info.registered_at,
				last_seen: info.last_seen,
				open_work: info.open_work,
				collateral: info.collateral,
				reputation: info.reputation,
				deposit: info.deposit,
			}
		}
	}

	impl<T: Config> AgentInfo<T> {
		/// The record in the version 4 layout, no batch work counted, at a batch speed of 1.
		pub fn migrated(self) -> crate::AgentInfo<T> {
			crate::AgentInfo {
				operator: self.operator,
				proposed_operator: self.proposed_operator,
				metadata: self.metadata,
				models: self.models,
				roles: self.roles,
				stake: self.stake,
				unbonding: self.unbonding,
				status: self.status,
				registered_at: self.registered_at,
				last_seen: self.last_seen,
				open_work: self.open_work,
				collateral: self.collateral,
				batch_blocks: 0,
				batch_speed: 1,
				reputation: self.reputation,
				deposit: self.deposit,
			}
		}
	}
}

/// Rewrites every agent record of the version 3 layout in the version 4 layout. Use
/// [`MigrateV3ToV4`], which runs it only on storage version 3 and then sets version 4.
pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut records, mut rewritten) = (0u64, 0u64);
		for key in Registry::<T>::iter_keys().collect::<alloc::vec::Vec<_>>() {
			records = records.saturating_add(1);
			let hashed = Registry::<T>::hashed_key_for(&key);
			let Some(raw) = unhashed::get_raw(&hashed) else { continue };
			if let Ok(old) = v3::AgentInfo::<T>::decode_all(&mut &raw[..]) {
				unhashed::put_raw(&hashed, &old.migrated().encode());
				rewritten = rewritten.saturating_add(1);
			} else if AgentInfo::<T>::decode_all(&mut &raw[..]).is_err() {
				log::warn!(
					target: crate::LOG_TARGET,
					"an agent record is in neither layout and is left as it is: {key:?}"
				);
			}
		}
		log::info!(
			target: crate::LOG_TARGET,
			"agent records migrated to version 4: {rewritten} of {records}"
		);
		super::records_weight::<T>(records)
	}

	/// Checks that every record is whole in the version 3 or the version 4 layout, keeps the
	/// hash of each in the version 3 layout, and refuses a registry too large to migrate
	/// within a block's normal share.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		super::hash_records::<T>(|raw| match v3::AgentInfo::<T>::decode_all(&mut &raw[..]) {
			Ok(_) => Ok(raw),
			Err(_) => AgentInfo::<T>::decode_all(&mut &raw[..])
				.map(|info| v3::AgentInfo::from(info).encode())
				.map_err(|_| "an agent record is in neither the version 3 nor 4 layout"),
		})
	}

	/// Checks that every record is whole in the version 4 layout with no batch work counted
	/// at the reference speed, and that written back in the version 3 layout it is byte for
	/// byte what it was.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		super::check_records::<T>(state, |info| {
			frame_support::ensure!(
				info.batch_blocks == 0 && info.batch_speed == 1,
				"a migrated record counts batch work, or a batch speed other than 1"
			);
			Ok(v3::AgentInfo::from(info).encode())
		})
	}
}

/// Storage version 3 → 4 of the agent registry.
pub type MigrateV3ToV4<T> = VersionedMigration<
	3,
	4,
	InnerMigrateV3ToV4<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{mock::*, AgentRegistry, Outcome};
	use frame_support::{
		assert_ok,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};

	/// Registers agent 1 (an executor with open work and an unbonding chunk) and agent 2 (a
	/// curator), then rewrites agent 1's record as version 3 stored it; agent 2's stays in the
	/// version 4 layout, as the version 1 → 2 migration leaves records. Returns the records as
	/// they should read after the migration.
	fn version_3_registry() -> alloc::vec::Vec<(u64, AgentInfo<Test>)> {
		super::super::register_executor_and_curator();
		assert_ok!(Agents::note_work_opened(&1, 50, 0));
		Agents::record(&1, Outcome::DeadlineMissed);
		let new = Registry::<Test>::get(1).unwrap();
		let old = v3::AgentInfo::<Test>::from(new.clone());
		unhashed::put(&Registry::<Test>::hashed_key_for(1), &old);
		StorageVersion::new(3).put::<Pallet<Test>>();
		vec![(1, new), (2, Registry::<Test>::get(2).unwrap())]
	}

	#[test]
	fn version_3_records_keep_everything_and_count_no_batch_work() {
		new_test_ext().execute_with(|| {
			let expected = version_3_registry();
			assert!(Registry::<Test>::get(1).is_none(), "a version 3 record does not decode");
			#[cfg(feature = "try-runtime")]
			let state = InnerMigrateV3ToV4::<Test>::pre_upgrade().expect("pre_upgrade passes");

			MigrateV3ToV4::<Test>::on_runtime_upgrade();

			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 4);
			for (who, record) in &expected {
				let migrated = Registry::<Test>::get(who).expect("the record decodes");
				assert_eq!((migrated.batch_blocks, migrated.batch_speed), (0, 1));
				assert_eq!(&migrated, record);
			}
			assert_eq!(Agents::stake_of(&1), 400);
			assert_eq!(Agents::free_stake_of(&1), 350);
			Agents::do_try_state().expect("invariants hold after the migration");
			#[cfg(feature = "try-runtime")]
			InnerMigrateV3ToV4::<Test>::post_upgrade(state).expect("post_upgrade passes");

			// A second run does nothing.
			MigrateV3ToV4::<Test>::on_runtime_upgrade();
			for (who, record) in &expected {
				assert_eq!(Registry::<Test>::get(who).as_ref(), Some(record));
			}
		});
	}

	/// The checks `try-runtime` runs catch a record the migration changed.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_try_runtime_checks_catch_a_changed_record() {
		new_test_ext().execute_with(|| {
			version_3_registry();
			let state = InnerMigrateV3ToV4::<Test>::pre_upgrade().expect("pre_upgrade passes");
			MigrateV3ToV4::<Test>::on_runtime_upgrade();
			InnerMigrateV3ToV4::<Test>::post_upgrade(state.clone()).expect("post_upgrade passes");
			Registry::<Test>::mutate(1, |info| {
				if let Some(info) = info {
					info.open_work = 0;
				}
			});
			assert!(InnerMigrateV3ToV4::<Test>::post_upgrade(state).is_err());
		});
	}
}
