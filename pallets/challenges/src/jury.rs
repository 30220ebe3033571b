//! Juries: who may sit, the draw, and the count of the votes.

use super::*;

impl<T: Config> Pallet<T> {
	/// Fails with `NotEnoughJurors` unless enough verifiers are available now for the jury of the
	/// dispute's current round (drawn a block later).
	pub(crate) fn ensure_jury_available(dispute: &Dispute<T>) -> DispatchResult {
		let available = T::AgentRegistry::available(
			Role::Verifier,
			&dispute.model,
			&Self::never_jurors(dispute),
			dispute.juror_collateral,
			None,
		);
		ensure!(available >= Self::jury_size(dispute.round), Error::<T>::NotEnoughJurors);
		Ok(())
	}

	/// Who may never sit on the dispute's jury: the requester, the executors, whoever posted a
	/// bond (and the agents they act for), and the jurors of earlier rounds.
	pub(crate) fn never_jurors(dispute: &Dispute<T>) -> Vec<T::AccountId> {
		let mut exclude: Vec<T::AccountId> =
			dispute.revealed.iter().map(|(executor, _)| executor.clone()).collect();
		let mut party = |who: &T::AccountId| {
			exclude.push(who.clone());
			if let Some(agent) = T::AgentRegistry::agent_of(who) {
				exclude.push(agent);
			}
		};
		party(&dispute.requester);
		for bond in dispute.bonds.iter() {
			party(&bond.who);
		}
		exclude.extend(dispute.past_jurors.iter().cloned());
		exclude
	}

	/// Draws the jury of the dispute's current round, reserving each juror's collateral, and
	/// opens its commit phase. Changes nothing when too few verifiers are available.
	///
	/// Run only by the hook of block `now`, before any transaction of it, and seeded by the hash
	/// of block `now - 1` (the block the dispute or appeal opened in, unless the queue deferred
	/// the draw): nobody acting in that block or before it knew the hash, and nothing after it
	/// can change the candidates the draw reads.
	pub(crate) fn draw_jury(
		task: TaskId,
		dispute: &mut Dispute<T>,
		now: BlockNumberFor<T>,
	) -> Result<Vec<T::AccountId>, DispatchError> {
		let exclude = Self::never_jurors(dispute);
		let Some(seed) = T::Randomness::random_at(
			&(b"challenges/jury", task, dispute.round).encode(),
			now.saturating_sub(One::one()),
		) else {
			defensive!("the parent block's hash is unknown");
			return Err(Error::<T>::NotEnoughJurors.into());
		};
		// Outside the layer: what a draw writes (the seats it corrected) stands even if it
		// finds too few jurors.
		let drawn = T::AgentRegistry::select(
			Role::Verifier,
			&dispute.model,
			Self::jury_size(dispute.round),
			seed,
			&exclude,
			dispute.juror_collateral,
			None,
		);
		frame_support::storage::with_storage_layer(|| {
			let jurors = drawn.map_err(|_| Error::<T>::NotEnoughJurors)?;
			let mut jury = BoundedVec::new();
			for juror in &jurors {
				T::AgentRegistry::note_work_opened(juror, dispute.juror_collateral, 0)?;
				JurorDuties::<T>::insert(juror, task, ());
				jury.try_push(Seat { juror: juror.clone(), commitment: None, vote: None })
					.map_err(|_| Error::<T>::NotEnoughJurors)?;
			}
			dispute.jury = jury;
			dispute.extended = false;
			dispute.phase = DisputePhase::Committing;
			dispute.phase_ends =
				Queue::<T>::schedule(&task, now.saturating_add(T::CommitPeriod::get()));
			Ok(jurors)
		})
	}

	/// The verdict of a round: the vote of an absolute majority of its jurors, counting every
	/// seat (revealed or not), so that a round is decided by a quorum and never by a lone
	/// revealed vote. [`INPUT_UNAVAILABLE`] is never a verdict.
	pub(crate) fn majority(jury: &[Seat<T::AccountId>]) -> Option<H256> {
		let seats = jury.len() as u32;
		jury.iter().filter_map(|seat| seat.vote).find(|candidate| {
			*candidate != INPUT_UNAVAILABLE && {
				let count = jury.iter().filter(|seat| seat.vote == Some(*candidate)).count() as u32;
				count.saturating_mul(2) > seats
			}
		})
	}

	/// Counts the votes of the current round and settles its jurors; opens the appeal window,
	/// or closes the dispute after the last round. Returns extra weight used by closing.
	pub(crate) fn count_votes(
		task: TaskId,
		mut dispute: Dispute<T>,
		now: BlockNumberFor<T>,
	) -> Weight {
		let revealed = dispute.jury.iter().filter(|seat| seat.vote.is_some()).count() as u32;
		let majority = Self::majority(&dispute.jury);
		// An appeal round that reaches no majority does not overturn the verdict appealed
		// against: the appeal is lost.
		let verdict = if dispute.round == 0 { majority } else { majority.or(dispute.verdict) };
		let fund = T::Treasury::account();
		let fund_before = T::Currency::balance(&fund);
		for seat in dispute.jury.iter() {
			match (seat.vote, majority) {
				(Some(vote), Some(majority)) if vote == majority => {
					let pushed = dispute.owed.try_push((seat.juror.clone(), vote));
					if pushed.is_err() {
						defensive!("more owed jurors than jurors in a dispute");
					}
				},
				// Without a majority, a revealed vote is not held against its juror: it is owed
				// by the bonds if no verdict ever comes.
				(Some(_), None) => {
					let pushed = dispute.unpaid.try_push(seat.juror.clone());
					if pushed.is_err() {
						defensive!("more revealed jurors than jurors in a dispute");
					}
				},
				// A juror that could not obtain the referenced input is present, not wrong.
				(Some(vote), Some(_)) if vote == INPUT_UNAVAILABLE => {},
				_ => {
					let slashed = T::AgentRegistry::slash(
						&seat.juror,
						T::JurorPenalty::get().min(dispute.juror_collateral),
						Some(&fund),
					);
					Self::deposit_event(Event::JurorPenalised {
						task,
						juror: seat.juror.clone(),
						slashed,
					});
				},
			}
			JurorDuties::<T>::remove(&seat.juror, task);
			T::AgentRegistry::note_work_closed(&seat.juror, dispute.juror_collateral, 0);
			if dispute.past_jurors.try_push(seat.juror.clone()).is_err() {
				defensive!("more past jurors than jurors in a dispute");
			}
		}
		T::Treasury::note_received(
			ProtocolFlow::JurorPenalties,
			T::Currency::balance(&fund).saturating_sub(fund_before),
		);
		let jurors = dispute.jury.len() as u32;
		dispute.jury = Default::default();
		dispute.verdict = verdict;
		let appeal_deadline = (dispute.round < T::MaxAppeals::get())
			.then(|| Queue::<T>::schedule(&task, now.saturating_add(T::AppealPeriod::get())));
		Self::deposit_event(Event::VotesCounted {
			task,
			round: dispute.round,
			verdict,
			revealed,
			jurors,
			appeal_deadline,
		});
		match appeal_deadline {
			Some(deadline) => {
				dispute.phase = DisputePhase::Appealable;
				dispute.phase_ends = deadline;
				Disputes::<T>::insert(task, dispute);
				Weight::zero()
			},
			None => {
				let (owed, executors) = (dispute.owed.len() as u32, dispute.revealed.len() as u32);
				Self::close(task, dispute, false);
				Self::close_weight(owed, executors)
			},
		}
	}
}
