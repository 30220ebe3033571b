//! Benchmarks of the agents pallet, each at its worst case.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate as _;
use frame_system::RawOrigin;
use sp_runtime::traits::One;

const SEED: u32 = 0;

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(<T as frame_system::Config>::RuntimeEvent::from(
		event,
	));
}

/// Enough stake for every role.
fn stake<T: Config>() -> BalanceOf<T> {
	Pallet::<T>::min_stake(&Role::ALL).saturating_mul(10u32.into())
}

/// An account with plenty of free balance.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	// Room for the stake several times over, and for the storage deposit.
	let amount = stake::<T>().saturating_mul(1_000u32.into());
	T::Currency::set_balance(&who, amount);
	who
}

fn model(n: u32) -> ModelId {
	let mut bytes = [0u8; 32];
	bytes[..4].copy_from_slice(&n.to_le_bytes());
	ModelId::from(bytes)
}

fn models(n: u32) -> Vec<ModelId> {
	(0..n).map(model).collect()
}

/// Fills the candidate sets of `roles` × `models` with registered, eligible agents staked the
/// minimum, each set with its own 64 (one role and one model each, as on a chain where every
/// member of every set is a different agent), so that joining one is at its most expensive:
/// every member's record is read to find the one to evict (the smallest, with less stake than a
/// newcomer staked [`stake`]), and no record read for one set is read again for another.
fn fill_candidate_sets<T: Config>(roles: &[Role], models: &[ModelId]) {
	let per_set = T::MaxCandidates::get();
	let mut index = 0u32;
	for role in roles.iter().filter(|role| role.is_model_specific()) {
		for model in models {
			for _ in 0..per_set {
				let filler = funded::<T>("filler", index);
				index = index.saturating_add(1);
				Pallet::<T>::register(
					RawOrigin::Signed(filler).into(),
					vec![],
					vec![],
					vec![],
					vec![*model],
					vec![*role],
					Pallet::<T>::min_stake(&[*role]),
				)
				.expect("filler registers");
			}
		}
	}
}

/// Names `operator` as `owner`'s operator key, and has it accept.
fn name_operator<T: Config>(owner: &T::AccountId, operator: &T::AccountId) {
	Pallet::<T>::set_operator(
		RawOrigin::Signed(owner.clone()).into(),
		T::Lookup::unlookup(operator.clone()),
	)
	.expect("operator can be proposed");
	Pallet::<T>::accept_operator(
		RawOrigin::Signed(operator.clone()).into(),
		T::Lookup::unlookup(owner.clone()),
	)
	.expect("operator accepts");
}

/// Registers `who` with metadata of maximal length.
fn register_agent<T: Config>(who: &T::AccountId, roles: Vec<Role>, models: Vec<ModelId>) {
	Pallet::<T>::register(
		RawOrigin::Signed(who.clone()).into(),
		vec![b'n'; T::MaxNameLen::get() as usize],
		vec![b'e'; T::MaxEndpointLen::get() as usize],
		vec![b'v'; T::MaxVersionLen::get() as usize],
		models,
		roles,
		stake::<T>(),
	)
	.expect("registration succeeds");
}

/// Every model-specific role: an agent holding them all has a seat per role and model.
fn model_roles() -> Vec<Role> {
	Role::ALL.into_iter().filter(|role| role.is_model_specific()).collect()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register(m: Linear<0, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models = models(m);
		fill_candidate_sets::<T>(&model_roles(), &models);
		let stake = stake::<T>();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner.clone()),
			vec![b'n'; T::MaxNameLen::get() as usize],
			vec![b'e'; T::MaxEndpointLen::get() as usize],
			vec![b'v'; T::MaxVersionLen::get() as usize],
			models,
			model_roles(),
			stake,
		);

		assert!(Registry::<T>::contains_key(&owner));
	}

	/// Worst case: every seat of the agent (each role, each of `m` models, in full sets) weighs
	/// less than the new stake and is rewritten.
	#[benchmark]
	fn bond_extra(m: Linear<1, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		// Full sets: every one read and written is at its largest.
		fill_candidate_sets::<T>(&model_roles(), &models(m));
		register_agent::<T>(&owner, model_roles(), models(m));
		let amount = stake::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), amount);

		assert_eq!(Registry::<T>::get(&owner).map(|i| i.stake), Some(stake::<T>() + amount));
	}

	/// Worst case: every seat of the agent (each role, each of `m` models, in full sets) is
	/// reweighed.
	#[benchmark]
	fn unbond(m: Linear<1, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		// Full sets: every one read and written is at its largest.
		fill_candidate_sets::<T>(&model_roles(), &models(m));
		register_agent::<T>(&owner, model_roles(), models(m));
		let amount = stake::<T>() - Pallet::<T>::min_stake(&model_roles());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), amount);

		assert_eq!(Registry::<T>::get(&owner).map(|i| i.unbonding.len()), Some(1));
	}

	/// Worst case: a leaving agent's last chunk is released, and the record removed.
	#[benchmark]
	fn withdraw_unbonded() {
		let owner = funded::<T>("owner", 0);
		register_agent::<T>(&owner, model_roles(), models(1));
		let operator = funded::<T>("operator", 0);
		name_operator::<T>(&owner, &operator);
		Pallet::<T>::deregister(RawOrigin::Signed(owner.clone()).into())
			.expect("agent can deregister");
		let unlock_at =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(unlock_at);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()));

		assert!(!Registry::<T>::contains_key(&owner));
		assert_last_event::<T>(Event::AgentRemoved { agent: owner });
	}

	#[benchmark]
	fn set_operator() {
		let owner = funded::<T>("owner", 0);
		register_agent::<T>(&owner, model_roles(), models(1));
		let operator = funded::<T>("operator", 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), T::Lookup::unlookup(operator.clone()));

		assert_last_event::<T>(Event::OperatorProposed { agent: owner, operator });
	}

	/// Worst case: a rotation, which frees the previous operator key.
	#[benchmark]
	fn accept_operator() {
		let owner = funded::<T>("owner", 0);
		register_agent::<T>(&owner, model_roles(), models(1));
		let previous = funded::<T>("operator", 0);
		name_operator::<T>(&owner, &previous);
		let operator = funded::<T>("operator", 1);
		Pallet::<T>::set_operator(
			RawOrigin::Signed(owner.clone()).into(),
			T::Lookup::unlookup(operator.clone()),
		)
		.expect("operator can be proposed");

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), T::Lookup::unlookup(owner.clone()));

		assert_last_event::<T>(Event::OperatorSet {
			agent: owner,
			operator,
			previous: Some(previous),
		});
	}

	/// Worst case: the agent holds a seat in each of its `3 m` candidate sets, all full, and
	/// every seat is rewritten to weigh nothing.
	#[benchmark]
	fn pause(m: Linear<1, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models = models(m);
		fill_candidate_sets::<T>(&model_roles(), &models);
		register_agent::<T>(&owner, model_roles(), models.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()));

		assert_last_event::<T>(Event::AgentPaused { agent: owner.clone() });
		assert!(models.iter().all(|model| Candidates::<T>::get(Role::Executor, model)
			.iter()
			.any(|seat| seat.agent == owner && seat.weight.is_zero())));
	}

	/// Worst case: the agent lost its seat in each of its `3 m` candidate sets while paused,
	/// each full of eligible agents staked less: every member of every set is read to find the
	/// one to replace.
	#[benchmark]
	fn resume(m: Linear<1, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models = models(m);
		register_agent::<T>(&owner, model_roles(), models.clone());
		Pallet::<T>::pause(RawOrigin::Signed(owner.clone()).into()).expect("agent can pause");
		// The fillers take every seat, the last of them the paused agent's.
		fill_candidate_sets::<T>(&model_roles(), &models);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()));

		assert!(models.iter().all(|model| model_roles()
			.into_iter()
			.all(|role| Pallet::<T>::is_candidate(&owner, role, model))));
	}

	/// Worst case: `m` models in every model-specific role, each candidate set nearly full.
	#[benchmark]
	fn deregister(m: Linear<0, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models = models(m);
		fill_candidate_sets::<T>(&model_roles(), &models);
		register_agent::<T>(&owner, model_roles(), models);
		Pallet::<T>::unbond(RawOrigin::Signed(owner.clone()).into(), One::one())
			.expect("agent can unbond");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()));

		assert_eq!(Registry::<T>::get(&owner).map(|i| i.status), Some(AgentStatus::Leaving));
	}

	#[benchmark]
	fn update_metadata() {
		let owner = funded::<T>("owner", 0);
		Pallet::<T>::register(
			RawOrigin::Signed(owner.clone()).into(),
			vec![],
			vec![],
			vec![],
			models(T::MaxModels::get()),
			model_roles(),
			stake::<T>(),
		)
		.expect("registration succeeds");

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner.clone()),
			vec![b'n'; T::MaxNameLen::get() as usize],
			vec![b'e'; T::MaxEndpointLen::get() as usize],
			vec![b'v'; T::MaxVersionLen::get() as usize],
		);

		assert_last_event::<T>(Event::MetadataUpdated { agent: owner });
	}

	/// Worst case: all `MaxModels` old models are left and `m` new ones joined, in every
	/// model-specific role, each new candidate set nearly full.
	#[benchmark]
	fn set_models(m: Linear<0, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let old = models(T::MaxModels::get());
		register_agent::<T>(&owner, model_roles(), old);
		let new: Vec<ModelId> = (0..m).map(|i| model(i + T::MaxModels::get())).collect();
		fill_candidate_sets::<T>(&model_roles(), &new);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), new);

		assert_last_event::<T>(Event::ModelsSet { agent: owner, models: m });
	}

	/// Worst case: with `m` models, a curator takes every model-specific role: it joins
	/// `3 m` full candidate sets, every member of each read to find the one to evict.
	#[benchmark]
	fn set_roles(m: Linear<0, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models = models(m);
		fill_candidate_sets::<T>(&model_roles(), &models);
		register_agent::<T>(&owner, vec![Role::Curator], models.clone());
		let roles = Role::ALL.to_vec();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), roles);

		assert_eq!(Registry::<T>::get(&owner).map(|i| i.roles.len()), Some(Role::ALL.len()));
		assert!(models.iter().all(|model| model_roles()
			.into_iter()
			.all(|role| Pallet::<T>::is_candidate(&owner, role, model))));
	}

	/// A live agent's heartbeat, signed by the operator key, which costs one more read than the
	/// owner.
	#[benchmark]
	fn heartbeat() {
		let owner = funded::<T>("owner", 0);
		register_agent::<T>(&owner, model_roles(), models(1));
		let operator = funded::<T>("operator", 0);
		name_operator::<T>(&owner, &operator);

		#[extrinsic_call]
		heartbeat(RawOrigin::Signed(operator));

		assert_last_event::<T>(Event::Heartbeat { agent: owner });
	}

	/// The heartbeat that ends a silence, signed by the operator key. Worst case: draws emptied
	/// the agent's seat in each of its `3 m` candidate sets, all full: every seat is rewritten
	/// with its stake.
	#[benchmark]
	fn heartbeat_after_silence(m: Linear<0, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models = models(m);
		fill_candidate_sets::<T>(&model_roles(), &models);
		register_agent::<T>(&owner, model_roles(), models.clone());
		let operator = funded::<T>("operator", 0);
		name_operator::<T>(&owner, &operator);
		let silent_at = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::LivenessPeriod::get())
			.saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(silent_at);
		for role in model_roles() {
			for model in &models {
				Candidates::<T>::mutate(role, model, |set| {
					set.iter_mut()
						.filter(|seat| seat.agent == owner)
						.for_each(|seat| seat.weight = Zero::zero())
				});
			}
		}

		#[extrinsic_call]
		heartbeat(RawOrigin::Signed(operator));

		assert_last_event::<T>(Event::Heartbeat { agent: owner.clone() });
		assert!(models.iter().all(|model| Candidates::<T>::get(Role::Executor, model)
			.iter()
			.any(|seat| seat.agent == owner && seat.weight == stake::<T>())));
	}

	/// `AgentRegistry::select` of `c` agents from a full candidate set whose other members have
	/// 1,000 times the stake, all of it held as collateral for open work, and seats a unit above
	/// it (a slash): nearly every attempt lands on one of them and is rejected, so the draw
	/// spends its attempts, then reads every record left (its scan), and writes the set with
	/// their seats corrected.
	#[benchmark]
	fn select(c: Linear<1, { T::MaxCandidates::get() }>) {
		let model = model(0);
		for i in c..T::MaxCandidates::get() {
			let agent: T::AccountId = account("agent", i, SEED);
			<Pallet<T> as AgentRegistry<_, _>>::register_locked_heavyweight_for_benchmark(
				&agent,
				model,
				Role::Executor,
			);
		}
		for i in 0..c {
			let agent = funded::<T>("agent", i);
			register_agent::<T>(&agent, vec![Role::Executor], vec![model]);
		}
		let chosen;

		#[block]
		{
			chosen = <Pallet<T> as AgentRegistry<_, _>>::select(
				Role::Executor,
				&model,
				c,
				[7u8; 32],
				&[],
				Zero::zero(),
				Some(BatchWork { blocks: 1, within: 1 }),
			);
		}

		assert_eq!(chosen.map(|agents| agents.len() as u32), Ok(c));
	}

	/// The operator declares its agent's batch speed.
	#[benchmark]
	fn set_batch_speed() {
		let owner = funded::<T>("owner", 0);
		register_agent::<T>(&owner, model_roles(), models(1));
		let operator = funded::<T>("operator", 0);
		name_operator::<T>(&owner, &operator);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), agentchain_primitives::agents::MAX_BATCH_SPEED);

		assert_last_event::<T>(Event::BatchSpeedSet {
			agent: owner,
			speed: agentchain_primitives::agents::MAX_BATCH_SPEED,
		});
	}

	/// Worst case: the agent is out of all `3 m` candidate sets of its models, each full of
	/// eligible agents staked less: every member of every set is read to find the one to evict.
	#[benchmark]
	fn rejoin(m: Linear<1, { T::MaxModels::get() }>) {
		let owner = funded::<T>("owner", 0);
		let models = models(m);
		register_agent::<T>(&owner, model_roles(), models.clone());
		Pallet::<T>::pause(RawOrigin::Signed(owner.clone()).into()).expect("agent can pause");
		// The fillers take every seat, the last of them the paused agent's.
		fill_candidate_sets::<T>(&model_roles(), &models);
		Registry::<T>::mutate(&owner, |info| {
			if let Some(info) = info {
				info.status = AgentStatus::Active;
			}
		});

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()));

		assert_last_event::<T>(Event::CandidateSetsJoined {
			agent: owner,
			joined: model_roles().len() as u32 * m,
		});
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
