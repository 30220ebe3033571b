//! Storage version 1 → 2: each agent's reputation gains `deadlines_missed`, the commit and
//! reveal deadlines it missed on tasks assigned to it. Nothing counted misses before, so every
//! record starts at zero; everything else in the record (stake, unbonding chunks, collateral
//! reserved by open work, operator keys, deposit) is carried over unchanged.
//!
//! One read and one write per agent, in one block: with the runtime's ParityDB weights (8 µs a
//! read, 50 µs a write) that is 58 µs per agent against a block's 1 s of compute, so a registry of
//! 4,000 agents takes under a quarter of a block. `pre_upgrade` (try-runtime) refuses a registry
//! whose migration would not fit in a block's normal share (750 ms: about 12,900 agents); such a
//! chain needs this migration as a multi-block one (`pallet-migrations`) instead.

use crate::{AgentInfo, Config, Pallet, Registry, Reputation};
use frame_support::{
	migrations::VersionedMigration, traits::UncheckedOnRuntimeUpgrade, weights::Weight,
};
#[cfg(feature = "try-runtime")]
use {
	alloc::vec::Vec,
	codec::{DecodeAll, Encode},
};

/// The layouts of storage version 1.
pub mod v1 {
	use crate::{AgentMetadata, AgentStatus, BalanceOf, Config, ModelsOf, Roles, UnbondingOf};
	use codec::{Decode, Encode};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// An agent's reputation as version 1 stored it.
	#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, Default)]
	pub struct Reputation {
		pub completed: u32,
		pub challenged: u32,
		pub challenges_lost: u32,
		pub audits_passed: u32,
	}

	/// An agent record as version 1 stored it.
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

	/// A version 2 record in the version 1 layout (without `deadlines_missed`): what the
	/// try-runtime checks compare, and how tests write a chain's state as version 1 had it.
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
				reputation: Reputation {
					completed: info.reputation.completed,
					challenged: info.reputation.challenged,
					challenges_lost: info.reputation.challenges_lost,
					audits_passed: info.reputation.audits_passed,
				},
				deposit: info.deposit,
			}
		}
	}
}

/// Rewrites every agent record in the version 2 layout. Use [`MigrateV1ToV2`], which runs it
/// only on storage version 1 and then sets version 2.
pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut records = 0u64;
		Registry::<T>::translate::<v1::AgentInfo<T>, _>(|_, old| {
			records = records.saturating_add(1);
			Some(AgentInfo {
				operator: old.operator,
				proposed_operator: old.proposed_operator,
				metadata: old.metadata,
				models: old.models,
				roles: old.roles,
				stake: old.stake,
				unbonding: old.unbonding,
				status: old.status,
				registered_at: old.registered_at,
				last_seen: old.last_seen,
				open_work: old.open_work,
				collateral: old.collateral,
				// The version 4 layout (the current one, which the next migrations read): the
				// version 3 → 4 migration leaves these records as they are.
				batch_blocks: 0,
				batch_speed: 1,
				reputation: Reputation {
					completed: old.reputation.completed,
					challenged: old.reputation.challenged,
					challenges_lost: old.reputation.challenges_lost,
					audits_passed: old.reputation.audits_passed,
					deadlines_missed: 0,
				},
				deposit: old.deposit,
			})
		});
		log::info!(target: crate::LOG_TARGET, "agent records migrated to version 2: {records}");
		super::records_weight::<T>(records)
	}

	/// Checks that every record is, whole, a version 1 record (no bytes left over), keeps the
	/// hash of each, and refuses a registry too large to migrate within a block's normal share.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		super::hash_records::<T>(|raw| {
			v1::AgentInfo::<T>::decode_all(&mut &raw[..])
				.map(|_| raw)
				.map_err(|_| "an agent record is not a whole version 1 record")
		})
	}

	/// Checks that every record is, whole, a current record with no missed deadline counted,
	/// and that written back in the version 1 layout it is byte for byte what it was.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		super::check_records::<T>(state, |info| {
			frame_support::ensure!(
				info.reputation.deadlines_missed == 0,
				"a migrated record counts missed deadlines"
			);
			Ok(v1::AgentInfo::from(info).encode())
		})
	}
}

/// Storage version 1 → 2 of the agent registry.
pub type MigrateV1ToV2<T> = VersionedMigration<
	1,
	2,
	InnerMigrateV1ToV2<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{mock::*, AgentRegistry, Outcome};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	/// Registers agent 1 (an executor with an unbonding chunk) and agent 2 (a curator), then
	/// rewrites both records as version 1 stored them. Returns the records as they should read
	/// after the migration.
	fn version_1_registry() -> alloc::vec::Vec<(u64, AgentInfo<Test>)> {
		super::super::register_executor_and_curator();
		Agents::record(&1, Outcome::Completed);
		let mut expected = alloc::vec::Vec::new();
		for who in [1u64, 2] {
			let new = Registry::<Test>::get(who).unwrap();
			let old = v1::AgentInfo::<Test>::from(new.clone());
			frame_support::storage::unhashed::put(&Registry::<Test>::hashed_key_for(who), &old);
			expected.push((who, new));
		}
		StorageVersion::new(1).put::<Pallet<Test>>();
		expected
	}

	#[test]
	fn version_1_records_keep_everything_and_count_no_missed_deadline() {
		new_test_ext().execute_with(|| {
			let expected = version_1_registry();

			MigrateV1ToV2::<Test>::on_runtime_upgrade();

			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 2);
			for (who, record) in &expected {
				let migrated = Registry::<Test>::get(who).expect("the record decodes");
				assert_eq!(migrated.reputation.deadlines_missed, 0);
				assert_eq!(&migrated, record);
			}
			assert_eq!(Agents::stake_of(&1), 400);
			Agents::do_try_state().expect("invariants hold after the migration");

			// A second run does nothing: version 2 records are not read as version 1 again.
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			for (who, record) in &expected {
				assert_eq!(Registry::<Test>::get(who).as_ref(), Some(record));
			}
		});
	}

	/// The checks `try-runtime` runs on a live chain's state: `try_state` before and after,
	/// `pre_upgrade` and `post_upgrade` around the migration.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_try_runtime_checks_pass_on_a_version_1_registry_and_catch_a_changed_record() {
		new_test_ext().execute_with(|| {
			version_1_registry();
			let state = InnerMigrateV1ToV2::<Test>::pre_upgrade().expect("pre_upgrade passes");
			MigrateV1ToV2::<Test>::try_on_runtime_upgrade(true).expect("the checks pass");
			Agents::do_try_state().expect("invariants hold after the migration");

			// post_upgrade notices a record that lost stake, or a counter moved to another.
			Registry::<Test>::mutate(1, |info| info.as_mut().unwrap().stake -= 1);
			assert!(InnerMigrateV1ToV2::<Test>::post_upgrade(state.clone()).is_err());
			Registry::<Test>::mutate(1, |info| {
				let info = info.as_mut().unwrap();
				info.stake += 1;
				info.reputation.completed -= 1;
				info.reputation.challenged += 1;
			});
			assert!(InnerMigrateV1ToV2::<Test>::post_upgrade(state.clone()).is_err());
			Registry::<Test>::mutate(1, |info| {
				let info = info.as_mut().unwrap();
				info.reputation.completed += 1;
				info.reputation.challenged -= 1;
			});
			InnerMigrateV1ToV2::<Test>::post_upgrade(state).expect("restored, the record passes");
		});
	}

	/// A value that decodes as a version 1 record with bytes left over is not one.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn pre_upgrade_refuses_a_record_with_bytes_left_over() {
		new_test_ext().execute_with(|| {
			version_1_registry();
			let key = Registry::<Test>::hashed_key_for(2);
			let mut raw = frame_support::storage::unhashed::get_raw(&key).unwrap();
			raw.extend_from_slice(&[0, 0, 0, 0]);
			frame_support::storage::unhashed::put_raw(&key, &raw);
			assert!(InnerMigrateV1ToV2::<Test>::pre_upgrade().is_err());
		});
	}
}
