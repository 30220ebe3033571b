//! Epochs: closing one (rewards settled from what the epoch brought in), expiring
//! unclaimed rewards into the reserve, judging curators' attestations.

use super::*;

impl<T: Config> Pallet<T> {
	/// Turns the ledger's activity in a closed epoch into what the dataset is owed, and starts
	/// it on `current`. O(1): one read (and write) of the epoch's totals.
	pub(crate) fn settle(
		dataset: DatasetId,
		ledger: &mut Ledger<BalanceOf<T>>,
		current: EpochIndex,
	) {
		if ledger.epoch >= current {
			return;
		}
		if !ledger.is_idle() {
			let epoch = ledger.epoch;
			// The epoch's attestations are judged against its median: keep it if some are
			// still to be judged.
			if let Some(median) = ledger.scores.median(T::MinCurators::get()) {
				if epoch >= AttestationCursor::<T>::get() {
					FinalScores::<T>::insert(epoch, dataset, median);
				}
			}
			match Epochs::<T>::get(epoch) {
				Some(mut totals) => {
					let reward = ledger.reward(&totals, T::MinCurators::get());
					if !reward.is_zero() {
						totals.settled = totals.settled.saturating_add(reward);
						Epochs::<T>::insert(epoch, totals);
						ledger.owed = ledger.owed.saturating_add(reward);
					}
					Self::deposit_event(Event::RewardSettled { dataset, epoch, reward });
				},
				None => Self::deposit_event(Event::RewardExpired { dataset, epoch }),
			}
		}
		ledger.reset(current);
	}

	/// Closes epoch `index` at block `now`: fixes its pot, starts the next epoch, and expires
	/// the epochs whose claim period is over. O(1).
	pub(crate) fn close_epoch(index: EpochIndex, now: BlockNumberFor<T>) {
		let mut pot = BalanceOf::<T>::zero();
		let mut from_reserve = BalanceOf::<T>::zero();
		let mut minted = BalanceOf::<T>::zero();
		if let Some(mut totals) = Epochs::<T>::get(index) {
			if totals.total_weight == 0 {
				// No dataset can claim anything of this epoch: its intake goes to the reserve.
				Reserve::<T>::mutate(|reserve| *reserve = reserve.saturating_add(totals.paid_in));
			} else {
				// Top the pot up to at most the protocol cut the epoch's tasks paid: from the
				// reserve first, then from issuance.
				let room = totals.cut.saturating_sub(totals.paid_in);
				let reserve = Reserve::<T>::get();
				from_reserve = reserve.min(room);
				Reserve::<T>::put(reserve.saturating_sub(from_reserve));
				let wanted = T::IssuancePerEpoch::get().min(room.saturating_sub(from_reserve));
				if !wanted.is_zero() {
					minted = T::Currency::mint_into(&Self::account_id(), wanted).unwrap_or_else(
						|error| {
							defensive!("issuance into the pot failed", error);
							Zero::zero()
						},
					);
				}
				pot = totals.paid_in.saturating_add(from_reserve).saturating_add(minted);
			}
			totals.pot = pot;
			Epochs::<T>::insert(index, totals);
		}
		let next = index.saturating_add(1);
		CurrentEpoch::<T>::put(EpochClock { index: next, start: now });
		Self::deposit_event(Event::EpochClosed { epoch: index, pot, from_reserve, minted });
		Self::expire_epochs(next);
	}

	/// Expires the epochs whose claim period ended before `current`: what they did not settle
	/// goes to the reserve. At most [`MAX_EXPIRIES_PER_CLOSE`] epochs.
	pub(crate) fn expire_epochs(current: EpochIndex) {
		let mut cursor = ExpiryCursor::<T>::get();
		let start = cursor;
		for _ in 0..MAX_EXPIRIES_PER_CLOSE {
			if cursor.saturating_add(T::ClaimPeriod::get()) >= current {
				break;
			}
			if let Some(totals) = Epochs::<T>::take(cursor) {
				let unclaimed = totals.pot.saturating_sub(totals.settled);
				Reserve::<T>::mutate(|reserve| *reserve = reserve.saturating_add(unclaimed));
				Self::deposit_event(Event::EpochExpired { epoch: cursor, unclaimed });
			}
			cursor = cursor.saturating_add(1);
		}
		if cursor != start {
			ExpiryCursor::<T>::put(cursor);
		}
	}

	/// Judges at most `limit` attestations of epochs before `current`, the earliest first:
	/// each curator whose score lies more than [`Config::OutlierDistance`] from the dataset's
	/// median (if its quorum was met) loses its reserved stake to the reserve; every judged
	/// curator's stake is released, and the marker removed. Returns how many were judged.
	pub(crate) fn judge_attestations(current: EpochIndex, limit: u32) -> u32 {
		let mut cursor = AttestationCursor::<T>::get();
		let mut judged = 0u32;
		while cursor < current && judged < limit {
			let batch: Vec<((DatasetId, T::AccountId), Attestation<BalanceOf<T>>)> =
				Attestations::<T>::iter_prefix(cursor)
					.take(limit.saturating_sub(judged) as usize)
					.collect();
			if batch.is_empty() {
				// Every attestation of the epoch is judged: its medians go too. One call per
				// prefix per block: a second one in the same block would see the same keys.
				let cleared = FinalScores::<T>::clear_prefix(cursor, limit, None);
				if cleared.maybe_cursor.is_none() {
					cursor = cursor.saturating_add(1);
					AttestationCursor::<T>::put(cursor);
				}
				break;
			}
			for ((dataset, curator), attestation) in batch {
				Self::judge(cursor, dataset, &curator, attestation);
				Attestations::<T>::remove(cursor, (dataset, curator));
				judged = judged.saturating_add(1);
			}
		}
		judged
	}

	/// Judges one attestation of `epoch` (see [`Self::judge_attestations`]).
	pub(crate) fn judge(
		epoch: EpochIndex,
		dataset: DatasetId,
		curator: &T::AccountId,
		attestation: Attestation<BalanceOf<T>>,
	) {
		let median = match Datasets::<T>::get(dataset) {
			Some(info) if info.ledger.epoch == epoch => {
				info.ledger.scores.median(T::MinCurators::get())
			},
			_ => FinalScores::<T>::get(epoch, dataset),
		};
		if let Some(median) = median {
			if attestation.score.abs_diff(median) > T::OutlierDistance::get() {
				let pot = Self::account_id();
				let before = T::Currency::balance(&pot);
				T::AgentRegistry::slash(curator, attestation.collateral, Some(&pot));
				let slashed = T::Currency::balance(&pot).saturating_sub(before);
				Reserve::<T>::mutate(|reserve| *reserve = reserve.saturating_add(slashed));
				Self::deposit_event(Event::CuratorPenalised {
					dataset,
					curator: curator.clone(),
					epoch,
					score: attestation.score,
					median,
					slashed,
				});
			}
		}
		T::AgentRegistry::note_work_closed(curator, attestation.collateral, 0);
	}
}
