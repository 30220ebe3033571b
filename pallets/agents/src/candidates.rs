//! Candidate sets: the agents eligible for each role and model, bounded, with eviction by
//! stake; and the stake-weighted draw that selects from them.

use super::*;

impl<T: Config> Pallet<T> {
	/// Adds `agent` (whose record is `info`, stored or about to be) to the candidate set of
	/// every model-specific role in `roles` for every model in `models`, and returns how many
	/// sets it joined.
	///
	/// A full set takes the agent in place of a member that is not eligible for the role, or
	/// else of the member with the least bonded stake if the agent has strictly more; only an
	/// agent eligible for the role takes a seat from another. A set that has no such seat
	/// fails the call with `CandidateSetFull` when `all_or_nothing`, and is skipped otherwise
	/// (then `CandidateSetFull` only if sets are missing and none could be joined).
	///
	/// Cost: `MaxCandidates` record reads for each full set.
	pub(crate) fn join_candidate_sets(
		agent: &T::AccountId,
		info: &AgentInfo<T>,
		roles: &[Role],
		models: &[ModelId],
		all_or_nothing: bool,
	) -> Result<u32, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let (mut joined, mut missing) = (0u32, 0u32);
		for role in roles.iter().copied().filter(|role| role.is_model_specific()) {
			let may_evict = Self::is_eligible(info, role, now);
			for model in models {
				let mut set = Candidates::<T>::get(role, model);
				if set.contains(agent) {
					continue;
				}
				let evicted = if set.is_full() {
					let victim = may_evict
						.then(|| Self::eviction_victim(&set, role, now, info.stake))
						.flatten();
					let Some((index, victim)) = victim else {
						ensure!(!all_or_nothing, Error::<T>::CandidateSetFull);
						missing = missing.saturating_add(1);
						continue;
					};
					set.swap_remove(index);
					Some(victim)
				} else {
					None
				};
				if set.try_push(agent.clone()).is_err() {
					// A seat was free or was just freed.
					defensive!("a candidate set has no seat after an eviction");
					continue;
				}
				Candidates::<T>::insert(role, model, set);
				joined = joined.saturating_add(1);
				if let Some(victim) = evicted {
					Self::deposit_event(Event::CandidateEvicted {
						agent: victim,
						role,
						model: *model,
						by: agent.clone(),
					});
				}
			}
		}
		ensure!(joined > 0 || missing == 0, Error::<T>::CandidateSetFull);
		Ok(joined)
	}

	/// The member of a full candidate set that a newcomer eligible for `role` with bonded
	/// stake `stake` may replace, with its position: the first member not eligible for
	/// `role`, or else the member with the least stake if it has less than `stake`.
	pub(crate) fn eviction_victim(
		set: &[T::AccountId],
		role: Role,
		now: BlockNumberFor<T>,
		stake: BalanceOf<T>,
	) -> Option<(usize, T::AccountId)> {
		let mut smallest: Option<(usize, BalanceOf<T>)> = None;
		for (index, member) in set.iter().enumerate() {
			let Some(member_info) = Registry::<T>::get(member) else {
				defensive!("a candidate is not registered");
				return Some((index, member.clone()));
			};
			if !Self::is_eligible(&member_info, role, now) {
				return Some((index, member.clone()));
			}
			if smallest.is_none_or(|(_, least)| member_info.stake < least) {
				smallest = Some((index, member_info.stake));
			}
		}
		let (index, least) = smallest?;
		if least < stake {
			set.get(index).map(|member| (index, member.clone()))
		} else {
			None
		}
	}

	/// Removes `agent` from the candidate sets of `roles` × `models`.
	pub(crate) fn leave_candidate_sets(agent: &T::AccountId, roles: &[Role], models: &[ModelId]) {
		for role in roles.iter().filter(|role| role.is_model_specific()) {
			for model in models {
				Candidates::<T>::mutate_exists(role, model, |maybe_set| {
					if let Some(set) = maybe_set {
						set.retain(|member| member != agent);
						if set.is_empty() {
							*maybe_set = None;
						}
					}
				});
			}
		}
	}

	/// Whether `info` may be selected for `role` now (the model is checked by membership of the
	/// candidate set).
	pub(crate) fn is_eligible(info: &AgentInfo<T>, role: Role, now: BlockNumberFor<T>) -> bool {
		info.status == AgentStatus::Active
			&& info.has_role(role)
			&& info.stake >= Self::min_stake_of(role)
			&& now.saturating_sub(info.last_seen) <= T::LivenessPeriod::get()
	}

	/// The eligible members of the candidate set of `role` and `model`, not in `exclude`, whose
	/// free stake covers `collateral`, each with its free stake (its weight in a draw).
	pub(crate) fn selectable(
		role: Role,
		model: &ModelId,
		exclude: &[T::AccountId],
		collateral: BalanceOf<T>,
	) -> Vec<(T::AccountId, u128)> {
		Self::checked_candidates(role, model, exclude, collateral)
			.filter_map(|(candidate, free)| Some((candidate, free?)))
			.collect()
	}

	/// Whether at least `n` members of the candidate set of `role` and `model` are selectable
	/// (as [`Self::selectable`] filters them), and how many agent records were read to know: the
	/// check stops at the `n`th selectable member.
	pub(crate) fn has_selectable(
		role: Role,
		model: &ModelId,
		n: u32,
		exclude: &[T::AccountId],
		collateral: BalanceOf<T>,
	) -> (bool, u32) {
		let (mut found, mut read) = (0u32, 0u32);
		if n == 0 {
			return (true, read);
		}
		for (_, free) in Self::checked_candidates(role, model, exclude, collateral) {
			read = read.saturating_add(1);
			if free.is_some() {
				found = found.saturating_add(1);
				if found >= n {
					break;
				}
			}
		}
		(found >= n, read)
	}

	/// The members of the candidate set of `role` and `model` not in `exclude`, in the set's
	/// order, each with its free stake when it is selectable (eligible, and its free stake
	/// covers `collateral` and is not zero) and `None` when it is not. Each item reads the
	/// member's record when the caller takes it.
	fn checked_candidates<'a>(
		role: Role,
		model: &ModelId,
		exclude: &'a [T::AccountId],
		collateral: BalanceOf<T>,
	) -> impl Iterator<Item = (T::AccountId, Option<u128>)> + 'a {
		let now = frame_system::Pallet::<T>::block_number();
		Candidates::<T>::get(role, model)
			.into_iter()
			.filter(move |candidate| !exclude.contains(candidate))
			.map(move |candidate| {
				let free = Registry::<T>::get(&candidate).and_then(|info| {
					let free = info.free_stake();
					(Self::is_eligible(&info, role, now) && free >= collateral && !free.is_zero())
						.then(|| free.saturated_into::<u128>())
				});
				(candidate, free)
			})
	}

	/// A pseudo-random number below `bound` (> 0) from `seed` and `round`.
	pub(crate) fn draw(seed: &[u8; 32], round: u32, bound: u128) -> u128 {
		let hash = sp_io::hashing::blake2_256(&(seed, round).encode());
		let mut bytes = [0u8; 16];
		bytes.copy_from_slice(&hash[..16]);
		u128::from_le_bytes(bytes) % bound.max(1)
	}
}
