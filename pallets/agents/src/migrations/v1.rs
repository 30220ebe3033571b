//! Storage version 0 → 1: agent records gain `proposed_operator` (operator keys must accept
//! before they act for an agent) and `collateral` (bonded stake reserved by open work).
//!
//! Work opened under version 0 reserved no collateral; records start with none reserved.

use crate::{AgentInfo, Config, Pallet, Registry};
#[cfg(feature = "try-runtime")]
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
use sp_runtime::traits::Zero;

/// The record as storage version 0 stored it.
mod v0 {
	use crate::{AgentMetadata, BalanceOf, Config, ModelsOf, Reputation, Roles, UnbondingOf};
	use codec::{Decode, Encode};
	use frame_system::pallet_prelude::BlockNumberFor;

	#[derive(Encode, Decode)]
	pub struct AgentInfo<T: Config> {
		pub operator: Option<T::AccountId>,
		pub metadata: AgentMetadata<T>,
		pub models: ModelsOf<T>,
		pub roles: Roles,
		pub stake: BalanceOf<T>,
		pub unbonding: UnbondingOf<T>,
		pub status: crate::AgentStatus,
		pub registered_at: BlockNumberFor<T>,
		pub last_seen: BlockNumberFor<T>,
		pub open_work: u32,
		pub reputation: Reputation,
		pub deposit: T::Consideration,
	}
}

/// Rewrites every agent record in the version 1 layout. Use [`MigrateV0ToV1`], which runs it
/// only on storage version 0 and then sets version 1.
pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut count = 0u64;
		Registry::<T>::translate::<v0::AgentInfo<T>, _>(|_, old| {
			count = count.saturating_add(1);
			Some(AgentInfo {
				operator: old.operator,
				proposed_operator: None,
				metadata: old.metadata,
				models: old.models,
				roles: old.roles,
				stake: old.stake,
				unbonding: old.unbonding,
				status: old.status,
				registered_at: old.registered_at,
				last_seen: old.last_seen,
				open_work: old.open_work,
				collateral: Zero::zero(),
				reputation: old.reputation,
				deposit: old.deposit,
			})
		});
		<T as frame_system::Config>::DbWeight::get().reads_writes(count, count)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		Ok((Registry::<T>::iter_keys().count() as u64).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let before = u64::decode(&mut &state[..]).map_err(|_| "undecodable pre-upgrade state")?;
		let after = Registry::<T>::iter_values().count() as u64;
		frame_support::ensure!(before == after, "agent records lost in the migration");
		Ok(())
	}
}

/// Storage version 0 → 1 of the agent registry.
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
	fn version_0_records_gain_no_proposed_operator_and_no_collateral() {
		new_test_ext().execute_with(|| {
			assert_ok!(crate::mock::Agents::register(
				RuntimeOrigin::signed(1),
				b"agent".to_vec(),
				vec![],
				vec![],
				vec![],
				vec![crate::Role::Curator],
				MIN_CURATOR_STAKE,
			));
			let new = crate::Registry::<Test>::get(1).unwrap();
			// Stored as version 0 had it.
			let old = v0::AgentInfo::<Test> {
				operator: new.operator.clone(),
				metadata: new.metadata.clone(),
				models: new.models.clone(),
				roles: new.roles.clone(),
				stake: new.stake,
				unbonding: new.unbonding.clone(),
				status: new.status,
				registered_at: new.registered_at,
				last_seen: new.last_seen,
				open_work: 0,
				reputation: new.reputation,
				deposit: new.deposit.clone(),
			};
			frame_support::storage::unhashed::put(
				&crate::Registry::<Test>::hashed_key_for(1),
				&old,
			);
			StorageVersion::new(0).put::<Pallet<Test>>();

			MigrateV0ToV1::<Test>::on_runtime_upgrade();

			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 1);
			let migrated = crate::Registry::<Test>::get(1).expect("the record decodes");
			assert_eq!(migrated, new);
			crate::mock::Agents::do_try_state().expect("invariants hold");
		});
	}

	use frame_support::assert_ok;
}
