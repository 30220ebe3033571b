//! What the agent registry provides to the other pallets ([`AgentRegistry`]): who acts for
//! whom, selection, collateral for open work, outcomes and slashing.

use super::*;
use agentchain_primitives::agents::batch_time;

impl<T: Config> AgentRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn agent_of(signer: &T::AccountId) -> Option<T::AccountId> {
		Operators::<T>::get(signer)
			.or_else(|| Registry::<T>::contains_key(signer).then(|| signer.clone()))
	}

	fn is_active(agent: &T::AccountId, role: Role, model: Option<&ModelId>) -> bool {
		let Some(info) = Registry::<T>::get(agent) else { return false };
		let now = frame_system::Pallet::<T>::block_number();
		Self::is_eligible(&info, role, now)
			&& (!role.is_model_specific() || model.map_or(true, |model| info.serves(model)))
	}

	fn stake_of(agent: &T::AccountId) -> BalanceOf<T> {
		Registry::<T>::get(agent).map(|info| info.stake).unwrap_or_else(Zero::zero)
	}

	fn free_stake_of(agent: &T::AccountId) -> BalanceOf<T> {
		Registry::<T>::get(agent)
			.map(|info| info.free_stake())
			.unwrap_or_else(Zero::zero)
	}

	fn select(
		role: Role,
		model: &ModelId,
		n: u32,
		seed: [u8; 32],
		exclude: &[T::AccountId],
		collateral: BalanceOf<T>,
		batch: Option<BatchWork>,
	) -> Result<Vec<T::AccountId>, SelectionError> {
		Self::draw_candidates(role, model, n, &seed, exclude, collateral, batch)
			.map(|(picked, _)| picked)
	}

	fn available(
		role: Role,
		model: &ModelId,
		exclude: &[T::AccountId],
		collateral: BalanceOf<T>,
		batch: Option<BatchWork>,
	) -> u32 {
		Self::selectable(role, model, exclude, collateral, batch).len() as u32
	}

	fn has_available(
		role: Role,
		model: &ModelId,
		n: u32,
		exclude: &[T::AccountId],
		collateral: BalanceOf<T>,
		batch: Option<BatchWork>,
	) -> (bool, u32) {
		Self::has_selectable(role, model, n, exclude, collateral, batch)
	}

	fn max_candidates() -> u32 {
		T::MaxCandidates::get()
	}

	fn slash(
		agent: &T::AccountId,
		amount: BalanceOf<T>,
		beneficiary: Option<&T::AccountId>,
	) -> BalanceOf<T> {
		let Some(mut info) = Registry::<T>::get(agent) else { return Zero::zero() };
		let wanted = amount.min(info.total_held());
		if wanted.is_zero() {
			return Zero::zero();
		}
		let reason = HoldReason::AgentStake.into();
		let moved = beneficiary.and_then(|to| {
			T::Currency::transfer_on_hold(
				&reason,
				agent,
				to,
				wanted,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.ok()
		});
		// Without a beneficiary, or when it cannot receive (say, below the existential deposit),
		// the slashed stake is burned.
		let (taken, paid_to) = match moved {
			Some(taken) => (taken, beneficiary.cloned()),
			None => (
				T::Currency::burn_held(
					&reason,
					agent,
					wanted,
					Precision::BestEffort,
					Fortitude::Force,
				)
				.unwrap_or_else(|_| Zero::zero()),
				None,
			),
		};

		let mut left = taken;
		let from_stake = left.min(info.stake);
		info.stake = info.stake.saturating_sub(from_stake);
		left = left.saturating_sub(from_stake);
		for chunk in info.unbonding.iter_mut().rev() {
			let part = left.min(chunk.value);
			chunk.value = chunk.value.saturating_sub(part);
			left = left.saturating_sub(part);
		}
		info.unbonding.retain(|chunk| !chunk.value.is_zero());
		Registry::<T>::insert(agent, info);
		if !left.is_zero() {
			defensive!("a slash took more than the agent's recorded stake and unbonding");
		}
		Self::deposit_event(Event::AgentSlashed {
			agent: agent.clone(),
			amount: taken,
			beneficiary: paid_to,
		});
		taken
	}

	fn record(agent: &T::AccountId, outcome: Outcome) {
		let updated = Registry::<T>::mutate(agent, |maybe_info| {
			let Some(info) = maybe_info else { return false };
			let reputation = &mut info.reputation;
			match outcome {
				Outcome::Completed => {
					reputation.completed = reputation.completed.saturating_add(1);
					// Delivered work keeps a live agent live. A silent one comes back by a
					// heartbeat, which restores the seats that draws emptied meanwhile.
					let now = frame_system::Pallet::<T>::block_number();
					if !Self::is_silent(info, now) {
						info.last_seen = now;
					}
				},
				Outcome::Challenged => {
					reputation.challenged = reputation.challenged.saturating_add(1)
				},
				Outcome::ChallengeLost => {
					reputation.challenges_lost = reputation.challenges_lost.saturating_add(1)
				},
				Outcome::AuditPassed => {
					reputation.audits_passed = reputation.audits_passed.saturating_add(1)
				},
				Outcome::DeadlineMissed => {
					reputation.deadlines_missed = reputation.deadlines_missed.saturating_add(1)
				},
			}
			true
		});
		if updated {
			Self::deposit_event(Event::ReputationUpdated { agent: agent.clone(), outcome });
		}
	}

	fn note_work_opened(
		agent: &T::AccountId,
		collateral: BalanceOf<T>,
		batch_blocks: u32,
	) -> Result<u32, DispatchError> {
		Registry::<T>::try_mutate(agent, |maybe_info| {
			let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.free_stake() >= collateral, Error::<T>::InsufficientFreeStake);
			info.open_work = info.open_work.checked_add(1).ok_or(Error::<T>::TooMuchOpenWork)?;
			info.collateral = info.collateral.saturating_add(collateral);
			info.batch_blocks = info.batch_blocks.saturating_add(batch_blocks);
			Ok(batch_time(info.batch_blocks, info.batch_speed))
		})
	}

	fn note_work_closed(agent: &T::AccountId, collateral: BalanceOf<T>, batch_blocks: u32) {
		Registry::<T>::mutate(agent, |maybe_info| {
			let Some(info) = maybe_info else {
				defensive!("work closed for an agent that is not registered");
				return;
			};
			if info.open_work == 0 || info.collateral < collateral {
				defensive!("work closed that was not opened");
			}
			info.open_work = info.open_work.saturating_sub(1);
			info.collateral = info.collateral.saturating_sub(collateral);
			// Batches taken before the count was kept (runtime spec 129) release blocks that
			// were never counted: saturating. With no work open, none is counted.
			info.batch_blocks = match info.open_work {
				0 => 0,
				_ => info.batch_blocks.saturating_sub(batch_blocks),
			};
		});
	}

	fn note_collateral_reduced(agent: &T::AccountId, from: BalanceOf<T>, to: BalanceOf<T>) {
		Registry::<T>::mutate(agent, |maybe_info| {
			let Some(info) = maybe_info else {
				defensive!("collateral reduced for an agent that is not registered");
				return;
			};
			if to > from || info.collateral < from || info.open_work == 0 {
				defensive!("collateral reduced that was not reserved");
			}
			info.collateral = info.collateral.saturating_sub(from.saturating_sub(to));
			if info.collateral > info.stake {
				defensive!("a slash left less stake than the collateral of the agent's work");
			}
		});
	}

	fn batch_blocks_of(agent: &T::AccountId) -> u32 {
		Registry::<T>::get(agent).map_or(0, |info| info.batch_blocks)
	}

	fn note_batch_work_done(agent: &T::AccountId, blocks: u32) {
		Registry::<T>::mutate(agent, |maybe_info| {
			if let Some(info) = maybe_info {
				info.batch_blocks = info.batch_blocks.saturating_sub(blocks);
			}
		});
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn register_for_benchmark(who: &T::AccountId, model: ModelId, role: Role) {
		Self::register_staked_for_benchmark(who, model, role, 10);
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn register_locked_heavyweight_for_benchmark(who: &T::AccountId, model: ModelId, role: Role) {
		Self::register_staked_for_benchmark(who, model, role, 10_000);
		// Its seats now weigh a unit more than its stake, which a draw that reads it corrects.
		let slashed = Self::slash(who, sp_runtime::traits::One::one(), None);
		assert!(!slashed.is_zero(), "benchmark agent is slashed");
		let stake = Registry::<T>::get(who).map(|info| info.stake).unwrap_or_default();
		let locked = Self::note_work_opened(who, stake, 0);
		assert!(locked.is_ok(), "benchmark agent's stake is taken as collateral: {locked:?}");
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn deregister_for_benchmark(who: &T::AccountId) {
		let deregistered = Self::deregister(frame_system::RawOrigin::Signed(who.clone()).into());
		assert!(deregistered.is_ok(), "benchmark agent deregisters: {deregistered:?}");
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// Funds `who` and registers it in `role` serving `model`, staked `times` the role's
	/// minimum stake.
	fn register_staked_for_benchmark(who: &T::AccountId, model: ModelId, role: Role, times: u32) {
		use frame_support::traits::fungible::Mutate;
		let stake = Self::min_stake(&[role]).saturating_mul(times.into());
		let _ = T::Currency::set_balance(who, stake.saturating_mul(1_000u32.into()));
		let registered = Self::register(
			frame_system::RawOrigin::Signed(who.clone()).into(),
			Vec::new(),
			Vec::new(),
			Vec::new(),
			alloc::vec![model],
			alloc::vec![role],
			stake,
		);
		assert!(registered.is_ok(), "benchmark agent registers: {registered:?}");
	}
}
