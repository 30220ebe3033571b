//! Storage version 2 → 3: each seat of a candidate set gains a weight, the bound on its agent's
//! stake that a draw sums (`docs/draw.md`). Every member keeps its set and its place, seated
//! with its bonded stake; a member without a record (a broken invariant) is dropped, and a set
//! left empty removed. Agent records are not changed.
//!
//! One read and one write per set and one record read per member, in one block: with the
//! runtime's ParityDB weights (8 µs a read, 50 µs a write) 500 sets of 2 members take 37 ms of a
//! block's 1 s. `pre_upgrade` (try-runtime) refuses sets whose migration would not fit in a
//! block's normal share; such a chain needs this migration as a multi-block one.

use crate::{BalanceOf, Candidate, CandidateOf, Candidates, Config, Pallet, Registry};
use codec::DecodeAll;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
	BoundedVec,
};
#[cfg(feature = "try-runtime")]
use {
	agentchain_primitives::{agents::Role, ModelId},
	alloc::vec::Vec,
	codec::{Decode, Encode},
	sp_runtime::traits::Zero,
};

/// The layouts of storage version 2.
pub mod v2 {
	use crate::{Config, Pallet};
	use agentchain_primitives::{agents::Role, ModelId};
	use frame_support::{storage_alias, Blake2_128Concat, BoundedVec, Twox64Concat};

	/// The candidate sets as version 2 stored them: the members alone.
	#[storage_alias]
	pub type Candidates<T: Config> = StorageDoubleMap<
		Pallet<T>,
		Twox64Concat,
		Role,
		Blake2_128Concat,
		ModelId,
		BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxCandidates>,
	>;
}

/// The bonded stake in the record of `agent`, read in the layout of versions 2 and 3 or in the
/// current one: a chain on version 2 has its records in the first (the version 3 → 4 migration,
/// run after this one, rewrites them), a chain upgraded from version 1 in the same upgrade in the
/// second (the version 1 → 2 migration writes the current layout).
fn stake_of<T: Config>(agent: &T::AccountId) -> Option<BalanceOf<T>> {
	let raw = frame_support::storage::unhashed::get_raw(&Registry::<T>::hashed_key_for(agent))?;
	super::v4::v3::AgentInfo::<T>::decode_all(&mut &raw[..])
		.map(|info| info.stake)
		.or_else(|_| crate::AgentInfo::<T>::decode_all(&mut &raw[..]).map(|info| info.stake))
		.ok()
}

/// The weight of migrating `sets` candidate sets of `members` members in all.
pub fn weight_for<T: Config>(sets: u64, members: u64) -> Weight {
	<T as frame_system::Config>::DbWeight::get().reads_writes(sets.saturating_add(members), sets)
}

/// Seats every member of every candidate set with its bonded stake. Use [`MigrateV2ToV3`],
/// which runs it only on storage version 2 and then sets version 3.
pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut sets, mut members) = (0u64, 0u64);
		Candidates::<T>::translate::<BoundedVec<T::AccountId, T::MaxCandidates>, _>(|_, _, old| {
			sets = sets.saturating_add(1);
			members = members.saturating_add(old.len() as u64);
			let seated: alloc::vec::Vec<CandidateOf<T>> = old
				.into_iter()
				.filter_map(|agent| {
					let stake: BalanceOf<T> = match stake_of::<T>(&agent) {
						Some(stake) => stake,
						None => {
							log::warn!(
								target: crate::LOG_TARGET,
								"a candidate without a record is dropped: {agent:?}"
							);
							return None;
						},
					};
					Some(Candidate { agent, weight: stake })
				})
				.collect();
			// As many seats as members, or fewer: within the same bound.
			let seated = BoundedVec::truncate_from(seated);
			(!seated.is_empty()).then_some(seated)
		});
		log::info!(
			target: crate::LOG_TARGET,
			"candidate sets migrated to version 3: {sets} sets, {members} members"
		);
		weight_for::<T>(sets, members)
	}

	/// Keeps every set's members, and refuses sets too many to migrate within a block's normal
	/// share.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let sets: Vec<(Role, ModelId, Vec<T::AccountId>)> = v2::Candidates::<T>::iter()
			.map(|(role, model, members)| (role, model, members.into_inner()))
			.collect();
		let members = sets.iter().map(|(_, _, m)| m.len() as u64).sum::<u64>();
		frame_support::ensure!(
			super::fits_in_a_block::<T>(weight_for::<T>(sets.len() as u64, members)),
			"the candidate sets are too many to migrate in one block: make this migration \
			 multi-block"
		);
		Ok(sets.encode())
	}

	/// Checks that every set holds the same members with a record, in the same order, each
	/// seated with its bonded stake, and that only sets left without such members are gone.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let mut before = Vec::<(Role, ModelId, Vec<T::AccountId>)>::decode(&mut &state[..])
			.map_err(|_| "undecodable pre-upgrade state")?;
		for (_, _, members) in before.iter_mut() {
			members.retain(|member| Registry::<T>::contains_key(member));
		}
		before.retain(|(_, _, members)| !members.is_empty());
		frame_support::ensure!(
			Candidates::<T>::iter_keys().count() == before.len(),
			"candidate sets were added or removed by the migration"
		);
		for (role, model, members) in before {
			let set = Candidates::<T>::get(role, model);
			frame_support::ensure!(
				set.iter().map(|seat| &seat.agent).eq(members.iter()),
				"a candidate set's members changed in the migration"
			);
			for seat in set.iter() {
				let stake = stake_of::<T>(&seat.agent).unwrap_or_else(Zero::zero);
				frame_support::ensure!(
					seat.weight == stake,
					"a seat was not weighted with its agent's stake"
				);
			}
		}
		Ok(())
	}
}

/// Storage version 2 → 3 of the agent registry.
pub type MigrateV2ToV3<T> = VersionedMigration<
	2,
	3,
	InnerMigrateV2ToV3<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use agentchain_primitives::{agents::Role, ModelId};
	use frame_support::{
		assert_ok,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};

	fn register(who: u64, models: &[u8], stake: u64) {
		assert_ok!(Agents::register(
			RuntimeOrigin::signed(who),
			vec![],
			vec![],
			vec![],
			models.iter().map(|m| [*m; 32].into()).collect(),
			vec![Role::Executor, Role::Verifier],
			stake,
		));
	}

	/// Agents 1 (two models) and 2, agent 1 with part of its stake unbonding and agent 2 with
	/// more bonded since it joined; then every set written back as version 2 stored it.
	fn version_2_sets() -> alloc::vec::Vec<(Role, ModelId, alloc::vec::Vec<u64>)> {
		register(1, &[1, 2], 500);
		register(2, &[1], 600);
		assert_ok!(Agents::unbond(RuntimeOrigin::signed(1), 100));
		assert_ok!(Agents::bond_extra(RuntimeOrigin::signed(2), 50));
		let mut sets = alloc::vec::Vec::new();
		for (role, model, set) in Candidates::<Test>::iter().collect::<alloc::vec::Vec<_>>() {
			let members: alloc::vec::Vec<u64> = set.iter().map(|seat| seat.agent).collect();
			v2::Candidates::<Test>::insert(
				role,
				model,
				BoundedVec::<u64, <Test as Config>::MaxCandidates>::truncate_from(members.clone()),
			);
			sets.push((role, model, members));
		}
		StorageVersion::new(2).put::<Pallet<Test>>();
		sets
	}

	#[test]
	fn every_member_keeps_its_seat_weighted_with_its_bonded_stake() {
		new_test_ext().execute_with(|| {
			let sets = version_2_sets();
			assert_eq!(sets.len(), 4, "two roles, two models, one of them shared");

			MigrateV2ToV3::<Test>::on_runtime_upgrade();

			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 3);
			for (role, model, members) in &sets {
				let set = Candidates::<Test>::get(role, model);
				let seated: alloc::vec::Vec<(u64, u64)> =
					set.iter().map(|seat| (seat.agent, seat.weight)).collect();
				let expected: alloc::vec::Vec<(u64, u64)> =
					members.iter().map(|who| (*who, if *who == 1 { 400 } else { 650 })).collect();
				assert_eq!(seated, expected);
			}
			Agents::do_try_state().expect("invariants hold after the migration");

			// A second run does nothing.
			let after: alloc::vec::Vec<_> = Candidates::<Test>::iter().collect();
			MigrateV2ToV3::<Test>::on_runtime_upgrade();
			assert_eq!(Candidates::<Test>::iter().collect::<alloc::vec::Vec<_>>(), after);
		});
	}

	/// A chain on version 2 keeps its records in the layout of versions 2 and 3 until the
	/// version 3 → 4 migration, which runs after this one in the same upgrade: the seats are
	/// weighted from those records (read in the current layout, they decoded as none, and
	/// every member was dropped), and the records read after both migrations.
	#[test]
	fn records_in_the_version_3_layout_weight_the_seats_and_migrate_after() {
		new_test_ext().execute_with(|| {
			let sets = version_2_sets();
			for who in [1u64, 2] {
				let info = Registry::<Test>::get(who).unwrap();
				frame_support::storage::unhashed::put(
					&Registry::<Test>::hashed_key_for(who),
					&super::super::v4::v3::AgentInfo::<Test>::from(info),
				);
			}
			assert!(Registry::<Test>::get(1).is_none(), "not the current layout");

			MigrateV2ToV3::<Test>::on_runtime_upgrade();

			for (role, model, members) in &sets {
				let seated: alloc::vec::Vec<(u64, u64)> = Candidates::<Test>::get(role, model)
					.iter()
					.map(|seat| (seat.agent, seat.weight))
					.collect();
				let expected: alloc::vec::Vec<(u64, u64)> =
					members.iter().map(|who| (*who, if *who == 1 { 400 } else { 650 })).collect();
				assert_eq!(seated, expected);
			}
			super::super::v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();
			assert_eq!(Pallet::<Test>::on_chain_storage_version(), 4);
			assert_eq!(Registry::<Test>::get(1).map(|info| info.stake), Some(400));
			Agents::do_try_state().expect("invariants hold after both migrations");
		});
	}

	#[test]
	fn a_member_without_a_record_is_dropped_and_a_set_left_empty_removed() {
		new_test_ext().execute_with(|| {
			version_2_sets();
			let (one, two): (ModelId, ModelId) = ([1u8; 32].into(), [2u8; 32].into());
			// Agent 9 was never registered: a broken invariant the migration does not carry.
			v2::Candidates::<Test>::insert(
				Role::Executor,
				one,
				BoundedVec::<u64, <Test as Config>::MaxCandidates>::truncate_from(vec![1, 9, 2]),
			);
			v2::Candidates::<Test>::insert(
				Role::Verifier,
				two,
				BoundedVec::<u64, <Test as Config>::MaxCandidates>::truncate_from(vec![9]),
			);
			#[cfg(feature = "try-runtime")]
			let state = InnerMigrateV2ToV3::<Test>::pre_upgrade().expect("pre_upgrade passes");

			MigrateV2ToV3::<Test>::on_runtime_upgrade();

			let seated: alloc::vec::Vec<(u64, u64)> = Candidates::<Test>::get(Role::Executor, one)
				.iter()
				.map(|seat| (seat.agent, seat.weight))
				.collect();
			assert_eq!(seated, vec![(1, 400), (2, 650)]);
			assert!(!Candidates::<Test>::contains_key(Role::Verifier, two));
			#[cfg(feature = "try-runtime")]
			InnerMigrateV2ToV3::<Test>::post_upgrade(state).expect("post_upgrade passes");
		});
	}

	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_try_runtime_checks_pass_on_version_2_sets_and_catch_a_lost_member() {
		new_test_ext().execute_with(|| {
			version_2_sets();
			let state = InnerMigrateV2ToV3::<Test>::pre_upgrade().expect("pre_upgrade passes");
			MigrateV2ToV3::<Test>::try_on_runtime_upgrade(true).expect("the checks pass");
			Agents::do_try_state().expect("invariants hold after the migration");

			let model: ModelId = [1u8; 32].into();
			let whole = Candidates::<Test>::get(Role::Executor, model);
			Candidates::<Test>::mutate(Role::Executor, model, |set| {
				set.retain(|seat| seat.agent != 2)
			});
			assert!(InnerMigrateV2ToV3::<Test>::post_upgrade(state.clone()).is_err());
			Candidates::<Test>::insert(Role::Executor, model, whole.clone());
			Candidates::<Test>::mutate(Role::Executor, model, |set| set[0].weight += 1);
			assert!(InnerMigrateV2ToV3::<Test>::post_upgrade(state.clone()).is_err());
			Candidates::<Test>::insert(Role::Executor, model, whole);
			InnerMigrateV2ToV3::<Test>::post_upgrade(state).expect("restored, the sets pass");
		});
	}
}
