//! Candidate sets: the agents eligible for each role and model, bounded, with eviction by
//! stake, each seated with a weight bounding its stake; and the stake-weighted draw that
//! selects from them (`docs/draw.md`).

use super::*;
use agentchain_support::draw::{self, Read, Seats, Stop};

impl<T: Config> Pallet<T> {
	/// Adds `agent` (whose record is `info`, stored or about to be) to the candidate set of
	/// every model-specific role in `roles` for every model in `models`, seated with
	/// [`Self::seat_weight`], and returns how many sets it joined. A seat it already holds in
	/// one of them is set to that weight (which counts as progress for `CandidateSetFull`).
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
		let weight = Self::seat_weight(info);
		let (mut joined, mut missing, mut reweighed) = (0u32, 0u32, 0u32);
		for role in roles.iter().copied().filter(|role| role.is_model_specific()) {
			let may_evict = Self::is_eligible(info, role, now);
			for model in models {
				let mut set = Candidates::<T>::get(role, model);
				if let Some(seat) = set.iter_mut().find(|seat| &seat.agent == agent) {
					// Already seated: its weight follows the record (a slash or a pause since).
					if seat.weight != weight {
						seat.weight = weight;
						Candidates::<T>::insert(role, model, set);
						reweighed = reweighed.saturating_add(1);
					}
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
				if set.try_push(Candidate { agent: agent.clone(), weight }).is_err() {
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
		ensure!(joined > 0 || reweighed > 0 || missing == 0, Error::<T>::CandidateSetFull);
		Ok(joined)
	}

	/// The member of a full candidate set that a newcomer eligible for `role` with bonded
	/// stake `stake` may replace, with its position: the first member not eligible for
	/// `role`, or else the member with the least stake if it has less than `stake`.
	pub(crate) fn eviction_victim(
		set: &[CandidateOf<T>],
		role: Role,
		now: BlockNumberFor<T>,
		stake: BalanceOf<T>,
	) -> Option<(usize, T::AccountId)> {
		let mut smallest: Option<(usize, BalanceOf<T>)> = None;
		for (index, Candidate { agent: member, .. }) in set.iter().enumerate() {
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
			set.get(index).map(|seat| (index, seat.agent.clone()))
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
						set.retain(|seat| &seat.agent != agent);
						if set.is_empty() {
							*maybe_set = None;
						}
					}
				});
			}
		}
	}

	/// Sets the weight of each seat of `agent` (whose record is `info`) to
	/// [`Self::seat_weight`], after its stake or status changed: raised at once so that no seat
	/// of an active agent weighs less than its stake, lowered at once so that unbonded stake and
	/// paused agents cost draws no rejections.
	pub(crate) fn reweigh_seats(agent: &T::AccountId, info: &AgentInfo<T>) {
		let weight = Self::seat_weight(info);
		for role in info.roles.iter().copied().filter(|role| role.is_model_specific()) {
			for model in info.models.iter() {
				let mut set = Candidates::<T>::get(role, model);
				let Some(seat) = set.iter_mut().find(|seat| &seat.agent == agent) else {
					continue;
				};
				if seat.weight != weight {
					seat.weight = weight;
					Candidates::<T>::insert(role, model, set);
				}
			}
		}
	}

	/// What the seats of the agent whose record is `info` weigh: its bonded stake while it is
	/// active, nothing while it is paused (it cannot be drawn) or leaving. A seat may weigh more
	/// (a slash lowers the stake, not the seats), never less while the agent is active.
	pub(crate) fn seat_weight(info: &AgentInfo<T>) -> BalanceOf<T> {
		if info.status == AgentStatus::Active {
			info.stake
		} else {
			Zero::zero()
		}
	}

	/// Whether `agent` holds a seat in the candidate set of `role` and `model`.
	pub(crate) fn is_candidate(agent: &T::AccountId, role: Role, model: &ModelId) -> bool {
		Candidates::<T>::get(role, model).iter().any(|seat| &seat.agent == agent)
	}

	/// Draws `n` selectable members of the candidate set of `role` and `model` (as
	/// [`Self::selectable`] filters them), weighted by free stake, without replacement, from
	/// `seed`: by rejection against the seats' weights (`agentchain_support::draw`), which reads
	/// the set and the records of the agents it lands on, and completes with a scan of the
	/// records not read yet when its attempts run out. The law is that of a scan of every
	/// record. Its storage reads are at most a scan's (the set, and each member's record at most
	/// once), its attempts at most `3n + 16` record reads plus `n` picks plus the excluded
	/// members landed on. It writes the set once if it read the record of an agent whose seat
	/// weighs more than it should: a silent or paused agent's is emptied, a slashed agent's
	/// lowered to its stake (a heartbeat, `resume`, `bond_extra` or `rejoin` set it back).
	///
	/// Returns the agents drawn and the records read, or how many were selectable when fewer
	/// than `n` were.
	pub(crate) fn draw_candidates(
		role: Role,
		model: &ModelId,
		n: u32,
		seed: &[u8; 32],
		exclude: &[T::AccountId],
		collateral: BalanceOf<T>,
		batch: Option<BatchWork>,
	) -> Result<(Vec<T::AccountId>, u32), SelectionError> {
		if n == 0 {
			return Ok((Vec::new(), 0));
		}
		let mut seats = SetSeats::<T> {
			role,
			set: Candidates::<T>::get(role, model),
			collateral,
			batch,
			now: frame_system::Pallet::<T>::block_number(),
		};
		// The scan may read every member (the set is bounded): a draw is never deferred.
		let drawn = draw::draw(&mut seats, n, seed, |agent| exclude.contains(agent), u32::MAX);
		if drawn.underweight > 0 {
			defensive!("a candidate's seat weighs less than its free stake");
		}
		// Seats the draw found heavier than they need be (a silent, paused or slashed agent's)
		// are lowered, so that the next draws do not land on them: one write of the set.
		let mut set = seats.set;
		let mut lowered = false;
		for (_, index, weight) in drawn.corrections.iter().copied() {
			let weight: BalanceOf<T> = weight.saturated_into();
			if let Some(seat) = set.get_mut(index) {
				if weight < seat.weight {
					seat.weight = weight;
					lowered = true;
				}
			}
		}
		if lowered {
			Candidates::<T>::insert(role, model, set);
		}
		match drawn.stopped {
			None => Ok((drawn.picked, drawn.record_reads)),
			Some(stop) => {
				if stop == Stop::Deferred {
					defensive!("a draw over a bounded set was deferred");
				}
				Err(SelectionError::NotEnoughCandidates { available: drawn.picked.len() as u32 })
			},
		}
	}

	/// Whether `info` may be selected for `role` now (the model is checked by membership of the
	/// candidate set).
	pub(crate) fn is_eligible(info: &AgentInfo<T>, role: Role, now: BlockNumberFor<T>) -> bool {
		info.status == AgentStatus::Active
			&& info.has_role(role)
			&& info.stake >= Self::min_stake_of(role)
			&& !Self::is_silent(info, now)
	}

	/// Whether the agent whose record is `info` has not been seen for more than
	/// [`Config::LivenessPeriod`] blocks at `now`: it is not selected, and a draw that reads its
	/// record empties its seat, until a heartbeat.
	pub fn is_silent(info: &AgentInfo<T>, now: BlockNumberFor<T>) -> bool {
		now.saturating_sub(info.last_seen) > T::LivenessPeriod::get()
	}

	/// The weight in a draw for `role` asking `collateral` of the agent whose record is `info`
	/// (and the time of `batch`, if it is one): its free stake if it is selectable (eligible,
	/// its free stake covers `collateral` and is not zero, and its open batches leave it the
	/// time, [`BatchWork::fits`]), `None` if it is not.
	pub(crate) fn draw_weight(
		info: &AgentInfo<T>,
		role: Role,
		now: BlockNumberFor<T>,
		collateral: BalanceOf<T>,
		batch: Option<BatchWork>,
	) -> Option<u128> {
		let free = info.free_stake();
		let has_time = batch.map_or(true, |batch| batch.fits(info.batch_blocks, info.batch_speed));
		(Self::is_eligible(info, role, now) && free >= collateral && !free.is_zero() && has_time)
			.then(|| free.saturated_into())
	}

	/// The eligible members of the candidate set of `role` and `model`, not in `exclude`, whose
	/// free stake covers `collateral`, each with its free stake (its weight in a draw).
	pub(crate) fn selectable(
		role: Role,
		model: &ModelId,
		exclude: &[T::AccountId],
		collateral: BalanceOf<T>,
		batch: Option<BatchWork>,
	) -> Vec<(T::AccountId, u128)> {
		Self::checked_candidates(role, model, exclude, collateral, batch)
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
		batch: Option<BatchWork>,
	) -> (bool, u32) {
		let (mut found, mut read) = (0u32, 0u32);
		if n == 0 {
			return (true, read);
		}
		for (_, free) in Self::checked_candidates(role, model, exclude, collateral, batch) {
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
		batch: Option<BatchWork>,
	) -> impl Iterator<Item = (T::AccountId, Option<u128>)> + 'a {
		let now = frame_system::Pallet::<T>::block_number();
		Candidates::<T>::get(role, model)
			.into_iter()
			.map(|seat| seat.agent)
			.filter(move |candidate| !exclude.contains(candidate))
			.map(move |candidate| {
				let free = Registry::<T>::get(&candidate)
					.and_then(|info| Self::draw_weight(&info, role, now, collateral, batch));
				(candidate, free)
			})
	}
}

/// A candidate set as a draw reads it: one chunk, the whole set.
struct SetSeats<T: Config> {
	role: Role,
	set: BoundedVec<CandidateOf<T>, T::MaxCandidates>,
	collateral: BalanceOf<T>,
	batch: Option<BatchWork>,
	now: BlockNumberFor<T>,
}

impl<T: Config> Seats for SetSeats<T> {
	type Agent = T::AccountId;

	fn chunk_sums(&mut self) -> Vec<u128> {
		let sum = self
			.set
			.iter()
			.fold(0u128, |sum, seat| sum.saturating_add(seat.weight.saturated_into()));
		alloc::vec![sum]
	}

	fn chunk(&mut self, _chunk: usize) -> Vec<Option<(T::AccountId, u128)>> {
		self.set
			.iter()
			.map(|seat| Some((seat.agent.clone(), seat.weight.saturated_into())))
			.collect()
	}

	fn read(&mut self, agent: &T::AccountId) -> Read {
		let Some(info) = Registry::<T>::get(agent) else {
			defensive!("a candidate is not registered");
			return Read { weight: 0, store: None };
		};
		let weight =
			Pallet::<T>::draw_weight(&info, self.role, self.now, self.collateral, self.batch);
		// What the seat needs to weigh from now on: nothing for an agent that cannot be drawn
		// until a call of its own restores the seat (paused, or silent until a heartbeat), its
		// bonded stake otherwise (collateral comes and goes without a write, so free stake
		// cannot be kept in the seat).
		let needed =
			if info.status != AgentStatus::Active || Pallet::<T>::is_silent(&info, self.now) {
				Zero::zero()
			} else {
				info.stake
			};
		let held = self.set.iter().find(|seat| &seat.agent == agent).map(|seat| seat.weight);
		let store = held.filter(|held| needed < *held).map(|_| needed.saturated_into());
		Read { weight: weight.unwrap_or(0), store }
	}
}
