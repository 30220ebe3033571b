//! Closing a dispute: the verdict applied, executors slashed, the requester compensated,
//! bonds returned or forfeited, jurors paid.

use super::*;
use agentchain_execution::merkle;

impl<T: Config> Pallet<T> {
	/// Pays `amount` from this pallet's account to `to`; returns what was paid.
	pub(crate) fn pay_out(to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		match T::Currency::transfer(&Self::account_id(), to, amount, Preservation::Expendable) {
			Ok(_) => amount,
			Err(error) => {
				defensive!("a payment from the dispute pot failed", error);
				Zero::zero()
			},
		}
	}

	/// Returns a bond to whoever posted it.
	pub(crate) fn return_bond(task: TaskId, bond: &Bond<T::AccountId, BalanceOf<T>>) {
		let returned = T::Currency::release(
			&HoldReason::DisputeBond.into(),
			&bond.who,
			bond.amount,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero());
		Self::deposit_event(Event::BondReturned { task, who: bond.who.clone(), amount: returned });
	}

	/// Moves up to `amount` of a bond into this pallet's account; returns what was moved.
	pub(crate) fn forfeit(task: TaskId, who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		let forfeited = T::Currency::transfer_on_hold(
			&HoldReason::DisputeBond.into(),
			who,
			&Self::account_id(),
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|_| Zero::zero());
		Self::deposit_event(Event::BondForfeited { task, who: who.clone(), amount: forfeited });
		forfeited
	}

	/// Enacts the final verdict: slashes, bonds, rewards, and the task's payment or refund.
	///
	/// `unjudged`: the first round's jury could not be drawn, so nobody judged the task; no one
	/// pays for a judgment that did not happen. A batch's item dispute closes so only after
	/// [`Config::JuryWaitLimit`]: its bonds are forfeited and the batch ends unjudged
	/// (`Resolution::Unjudged`).
	pub(crate) fn close(task: TaskId, dispute: Dispute<T>, unjudged: bool) {
		Disputes::<T>::remove(task);
		JuryWaitingSince::<T>::remove(task);
		// The item of a batch judged: the item dispute's, or, for a bisection that ended on a
		// side that did not open its node, the first item under that node.
		let judged = ItemDisputes::<T>::take(task).map(|shown| shown.item);
		let uncompensated = UncompensatedAudits::<T>::take(task).is_some();
		let item = judged.or_else(|| {
			Bisections::<T>::take(task).map(|bisection| {
				agentchain_execution::merkle::first_item(
					bisection.items,
					bisection.level,
					bisection.position,
				)
			})
		});
		let verdict = dispute.verdict;
		let overturned = dispute.result_overturned();
		// What the losers forfeit, gathered in this pallet's account.
		// A judged item is priced as a task of its own, but an audited one puts the whole batch
		// at stake, as does a bisection step a side did not complete.
		let item_priced = judged.is_some() && dispute.kind != DisputeKind::Audit;
		let (mut pool, wrong, refused) = Self::slash_wrong_executors(task, &dispute, item_priced);
		// A disagreement between two roots of a batch: the item judged is one they differ on
		// (or the first under the node a side did not open); the game goes on past it, or ends.
		let (after, resume) = match item {
			Some(_) if dispute.kind == DisputeKind::Disagreement => {
				let (then, resume) =
					Self::after_difference(task, &dispute, judged.is_some(), &wrong, unjudged);
				(Some(ItemJudgment::Difference { judged: judged.is_some(), then }), resume)
			},
			_ => (None, None),
		};
		let pay_revealers = verdict.is_none() && !unjudged;
		// The jury's endpoints refused the prompt an executor answered: the answer is not
		// paid, and not slashed either, so nobody forfeits anything for the jurors; whoever
		// asked for the judgment pays for it, each bond its own round; what no bond pays (a
		// disagreement has none) comes out of the answer's pay, which goes to the protocol
		// account. (A refusal the jury confirms is a result found right: its challenger's bond
		// is forfeited as any.)
		let refused_verdict = !refused.is_empty();
		let refused_pay = if refused_verdict {
			dispute.share.saturating_mul((refused.len() as u32).into())
		} else {
			Zero::zero()
		};
		// A batch's item nobody could judge: whoever asked for the judgment loses its bond to
		// the protocol account, as the requester its fee and the executors their pay, so that
		// starving the jury gains nobody, a challenger griefing an honest batch included.
		let forfeit_all = unjudged && item.is_some();
		let bonds = if forfeit_all {
			BondSettlement::ForfeitAll
		} else if pay_revealers {
			BondSettlement::PayJury { by_round: false }
		} else if refused_verdict {
			// Either side may appeal a refusal: each bond pays for the round it asked for.
			BondSettlement::PayJury { by_round: true }
		} else {
			BondSettlement::ByVerdict
		};
		pool = pool.saturating_add(Self::settle_bonds(task, &dispute, bonds));
		if refused_verdict {
			// First: the answers' pay reaches the protocol account before it pays the jurors
			// no bond paid out of it.
			Self::apply_verdict(task, &dispute, item, unjudged, &wrong, &refused, after);
		}

		if pay_revealers {
			// No verdict: the bonds of whoever asked for a judgment pay the jurors who gave one.
			for juror in dispute.unpaid.iter() {
				let paid = Self::pay_out(juror, T::JurorReward::get().min(pool));
				pool = pool.saturating_sub(paid);
				Self::deposit_event(Event::RewardPaid { task, who: juror.clone(), amount: paid });
			}
		} else {
			// An audit that overturns a result compensates its requester before paying its
			// jurors (who may draw on the protocol account when the slash runs short).
			// Not when the requester of a batch withheld its audit secret: it chose the audit,
			// knowing whether the draw would have made one (`AuditSeed::Withheld`).
			if dispute.kind == DisputeKind::Audit && !refused_verdict && !uncompensated {
				pool = Self::compensate_requester(task, &dispute, pool);
			}
			pool = Self::pay_majority_jurors(task, &dispute, pool, refused_pay);
		}

		// Then the winners: an upheld challenge earns its challenger a share of what is left
		// (never all of it, so that a guilty executor's own challenge cannot recover its
		// slash), and its requester compensation out of the rest; a rejected challenge
		// compensates the executors it accused; in a disagreement nobody profits from
		// another's slash. The rest funds the protocol.
		let winners: Vec<(T::AccountId, BalanceOf<T>)> = match (&dispute.kind, verdict) {
			// Nobody was slashed: nothing to win.
			_ if refused_verdict => Vec::new(),
			(DisputeKind::Challenge { challenger }, Some(_)) if overturned => {
				alloc::vec![(challenger.clone(), T::ChallengerShare::get().mul_floor(pool))]
			},
			(DisputeKind::Challenge { .. }, Some(correct)) => {
				let accused: Vec<&T::AccountId> = dispute
					.revealed
					.iter()
					.filter(|(_, output)| *output == correct)
					.map(|(executor, _)| executor)
					.collect();
				let share = pool / BalanceOf::<T>::from((accused.len() as u32).max(1));
				accused.into_iter().map(|executor| (executor.clone(), share)).collect()
			},
			_ => Vec::new(),
		};
		for (winner, amount) in winners {
			let paid = Self::pay_out(&winner, amount.min(pool));
			pool = pool.saturating_sub(paid);
			Self::deposit_event(Event::RewardPaid { task, who: winner, amount: paid });
		}
		if matches!(dispute.kind, DisputeKind::Challenge { .. }) && !refused_verdict {
			pool = Self::compensate_requester(task, &dispute, pool);
		}
		let surplus = Self::pay_out(&T::Treasury::account(), pool);
		T::Treasury::note_received(ProtocolFlow::DisputeSurplus, surplus);

		if !refused_verdict {
			Self::apply_verdict(task, &dispute, item, unjudged, &wrong, &refused, after);
		}
		// A refusal finds nothing wrong: the result is not overturned, only unpaid.
		Self::deposit_event(Event::DisputeClosed {
			task,
			verdict,
			result_overturned: overturned && !refused_verdict,
		});
		if let Some((bisection, fork)) = resume {
			Self::resume_bisection(task, &dispute, bisection, fork);
		}
	}

	/// Where a disagreement between two roots of a batch goes once the item `dispute` was
	/// over is judged (`judged`), or a side did not open its node (not `judged`; the verdict is
	/// then the other side's root, or none): what follows for the batch, and, when the game goes
	/// on, the bisection to resume and the fork to resume it at. Records the item in the game.
	///
	/// The game goes on while it has forks left and item disputes left (the batch's
	/// [`MAX_ITEMS_FOUND_WRONG`]), whatever the verdict: an item no jury decided, or one whose
	/// answer a refusing jury outvoted, counts against neither side. Once every item the roots
	/// differ on is judged, both roots stay in the batch, reconciled
	/// (`AfterDifference::Reconciled`): each is paid for the items it was not found wrong on,
	/// the one found wrong on fewer (the first side if as few) the result. With items left
	/// unjudged, the root found wrong on fewer of the items judged is the result and the other
	/// is out; as many, neither is (`NoResult`, or `NoneFoundWrong` when neither was found
	/// wrong on any). A side that does not open its node is out, and the other's root is the
	/// result unless it was found wrong on more of the items judged (then neither is). Nothing
	/// fails open: the items left unjudged never count for either side.
	pub(crate) fn after_difference(
		task: TaskId,
		dispute: &Dispute<T>,
		judged: bool,
		wrong: &[T::AccountId],
		unjudged: bool,
	) -> (AfterDifference, Option<(Bisection<T::AccountId>, merkle::Place)>) {
		let game = BisectionGames::<T>::take(task);
		let suspended = SuspendedBisections::<T>::take(task);
		if unjudged {
			// The batch ends unjudged (`apply_verdict`).
			return (AfterDifference::NoResult, None);
		}
		let Some(mut game) = game else {
			// Begun before games were kept (a runtime upgrade): it may have passed differences
			// by unrecorded, so it ends at this item, as it did then.
			return (AfterDifference::FirstDifference, None);
		};
		if !judged {
			// A side withheld its node: the other side's root (the verdict) stands, unless it
			// was found wrong on more of the items judged than the silent one.
			let answered = dispute
				.revealed
				.iter()
				.position(|(_, root)| Some(*root) == dispute.verdict)
				.filter(|side| *side < 2);
			let after = match answered {
				Some(side) if game.lost[side] <= game.lost[1 - side] => {
					AfterDifference::Result(dispute.revealed[side].1)
				},
				_ => AfterDifference::NoResult,
			};
			return (after, None);
		}
		let Some(bisection) = suspended else {
			defensive!("an item of a disagreement judged without its bisection");
			return (AfterDifference::NoResult, None);
		};
		game.judged = game.judged.saturating_add(1);
		for (lost, side) in game.lost.iter_mut().zip(bisection.sides.iter()) {
			if wrong.contains(&side.executor) {
				*lost = lost.saturating_add(1);
			}
		}
		let [a, b] = game.lost;
		if game.forks.is_empty() {
			// Every item the roots differ on was judged.
			let result = bisection.sides[usize::from(b < a)].root;
			return (AfterDifference::Reconciled(result), None);
		}
		if game.judged < MAX_ITEMS_FOUND_WRONG {
			if let Some(fork) = game.forks.pop() {
				BisectionGames::<T>::insert(task, game);
				return (AfterDifference::Continues, Some((bisection, fork)));
			}
		}
		let after = if a < b {
			AfterDifference::Result(bisection.sides[0].root)
		} else if b < a {
			AfterDifference::Result(bisection.sides[1].root)
		} else if a == 0 {
			AfterDifference::NoneFoundWrong
		} else {
			AfterDifference::NoResult
		};
		(after, None)
	}

	/// Takes up `bisection` again at `fork` once the item it was suspended at is judged: a new
	/// round of the disagreement `closed` was, each side accused by its root again, with no
	/// bond, jury or verdict, in the step of the fork's node.
	pub(crate) fn resume_bisection(
		task: TaskId,
		closed: &Dispute<T>,
		mut bisection: Bisection<T::AccountId>,
		(level, position, a_node, b_node): merkle::Place,
	) {
		let now = frame_system::Pallet::<T>::block_number();
		bisection.level = level;
		bisection.position = position;
		for (side, node) in bisection.sides.iter_mut().zip([a_node, b_node]) {
			side.node = node;
			side.opening = None;
		}
		let revealed = bisection.sides.iter().map(|side| (side.executor.clone(), side.root));
		let mut dispute = Dispute::<T> {
			kind: DisputeKind::Disagreement,
			requester: closed.requester.clone(),
			model: closed.model,
			mode: closed.mode,
			// A batch's inputs are published off chain; the item's is shown before its jury.
			input_is_reference: true,
			fee: closed.fee,
			share: closed.share,
			revealed: BoundedVec::truncate_from(revealed.collect::<Vec<_>>()),
			result: None,
			round: 0,
			phase: DisputePhase::Drawing,
			phase_ends: now,
			jury: Default::default(),
			verdict: None,
			bonds: Default::default(),
			owed: Default::default(),
			unpaid: Default::default(),
			past_jurors: Default::default(),
			juror_collateral: T::JurorPenalty::get(),
			extended: false,
		};
		Self::begin_bisection_step(task, &mut dispute, bisection, now);
		Self::deposit_event(Event::DisputeOpened {
			task,
			kind: DisputeKind::Disagreement,
			bond: Zero::zero(),
			draw_at: dispute.phase_ends.saturating_add(One::one()),
		});
		Disputes::<T>::insert(task, dispute);
	}

	/// Applies the final verdict to the disputed task or item (`pallet-inference`).
	fn apply_verdict(
		task: TaskId,
		dispute: &Dispute<T>,
		item: Option<u32>,
		unjudged: bool,
		wrong: &[T::AccountId],
		refused: &[T::AccountId],
		difference: Option<ItemJudgment>,
	) {
		let verdict = dispute.verdict;
		// Without a verdict (no quorum, or no jury at all), a challenged or audited result stands
		// and every output of a disagreement is paid: a requester cannot get its executors'
		// work for free by having one of its own disagree where no jury can be drawn.
		let resolved = match item {
			// An item no jury could be drawn for (`JuryWaitLimit`): the batch ends unjudged,
			// nobody paid, since whoever starved the jury must not gain by it.
			Some(_) if unjudged => T::Tasks::resolve(task, Resolution::Unjudged),
			// A verdict on an item settles the item, not the batch: a challenged batch goes
			// back to its window, an audited one is finalised; without a verdict nothing is
			// found wrong.
			Some(item) => {
				let judgment = match (&dispute.kind, difference) {
					(DisputeKind::Audit, _) => ItemJudgment::Audit,
					(_, Some(difference)) => difference,
					_ => ItemJudgment::Challenge,
				};
				T::Tasks::item_judged(task, item, wrong, refused, judgment)
			},
			None => T::Tasks::resolve(
				task,
				match verdict {
					Some(verdict) if verdict == REFUSED_HASH => Resolution::Refused,
					Some(correct) => Resolution::Correct(correct),
					None => Resolution::Undecided,
				},
			),
		};
		if let Err(error) = resolved {
			defensive!("the verdict on a disputed task was not applied", error);
		}
	}

	/// What the requester pays for the outputs delivered (executors that answered
	/// `INPUT_UNAVAILABLE` are neither paid nor accused): their fee shares, at most the fee.
	pub(crate) fn delivered(dispute: &Dispute<T>) -> BalanceOf<T> {
		dispute
			.share
			.saturating_mul((dispute.revealed.len() as u32).into())
			.min(dispute.fee)
	}

	/// When the verdict overturns the disputed result (an upheld challenge or audit), pays its
	/// requester up to [`Config::CompensationFeeMultiple`] times what it paid for the delivered
	/// outputs, out of `pool`; returns what is left. The compensation comes only out of what the
	/// losers forfeited, and always leaves enough of their slashes for the jurors (each wrong
	/// executor forfeits `SlashFeeMultiple` > `CompensationFeeMultiple` times its share).
	pub(crate) fn compensate_requester(
		task: TaskId,
		dispute: &Dispute<T>,
		pool: BalanceOf<T>,
	) -> BalanceOf<T> {
		if !dispute.result_overturned() {
			return pool;
		}
		let due = Self::delivered(dispute).saturating_mul(T::CompensationFeeMultiple::get().into());
		let paid = Self::pay_out(&dispute.requester, due.min(pool));
		if !paid.is_zero() {
			Self::deposit_event(Event::RequesterCompensated {
				task,
				requester: dispute.requester.clone(),
				amount: paid,
			});
		}
		pool.saturating_sub(paid)
	}

	/// Slashes each executor whose accused output the verdict contradicts into this pallet's
	/// account, [`Self::wrong_result_slash`] of its share, or for an item of a batch
	/// (`item_priced`, the share being the item's) [`Self::item_slash`]; returns what the slashes
	/// really brought in (a slash whose transfer fails is burned instead), whom they took, and
	/// whose answer was outvoted by a jury whose endpoints refused the prompt
	/// ([`REFUSED_HASH`]): those are not slashed (their answer may be right; the jury could not
	/// judge it) and lose their pay.
	pub(crate) fn slash_wrong_executors(
		task: TaskId,
		dispute: &Dispute<T>,
		item_priced: bool,
	) -> (BalanceOf<T>, Vec<T::AccountId>, Vec<T::AccountId>) {
		let slash = if item_priced {
			Self::item_slash(dispute.share)
		} else {
			Self::wrong_result_slash(dispute.share)
		};
		let pot = Self::account_id();
		let pot_before = T::Currency::balance(&pot);
		let (mut wrong, mut refused) = (Vec::new(), Vec::new());
		for (executor, output) in dispute.revealed.iter() {
			match dispute.verdict {
				Some(verdict)
					if verdict == REFUSED_HASH
						&& dispute.accuses(output)
						&& *output != REFUSED_HASH =>
				{
					refused.push(executor.clone());
					Self::deposit_event(Event::AnswerRefusedByJury {
						task,
						executor: executor.clone(),
					});
				},
				Some(correct) if dispute.accuses(output) && *output != correct => {
					wrong.push(executor.clone());
					let slashed = T::AgentRegistry::slash(executor, slash, Some(&pot));
					T::AgentRegistry::record(executor, Outcome::ChallengeLost);
					Self::deposit_event(Event::ExecutorSlashed {
						task,
						executor: executor.clone(),
						slashed,
					});
				},
				Some(correct) if *output == correct && dispute.kind == DisputeKind::Audit => {
					T::AgentRegistry::record(executor, Outcome::AuditPassed);
				},
				_ => {},
			}
		}
		(T::Currency::balance(&pot).saturating_sub(pot_before), wrong, refused)
	}

	/// Settles the dispute's bonds as `settlement` says; returns what was forfeited into this
	/// pallet's account.
	///
	/// - [`BondSettlement::ByVerdict`]: returns the bonds whose claim the verdict agrees with,
	///   forfeits the others (without a verdict, all are returned).
	/// - [`BondSettlement::PayJury`]: the bonds pay for the judgment they asked for: the reward
	///   of every seat of every round, whether or not its juror revealed, each bond up to its
	///   amount, the rest of each returned. In bond order, or, `by_round`, each bond first for
	///   the round it opened (the last bond the last round), then, latest first, for what the
	///   bonds of later rounds left unpaid; a round no bond opened (the first of an audit or a
	///   disagreement) is charged to none.
	/// - [`BondSettlement::ForfeitAll`]: every bond is forfeited whole.
	pub(crate) fn settle_bonds(
		task: TaskId,
		dispute: &Dispute<T>,
		settlement: BondSettlement,
	) -> BalanceOf<T> {
		let mut pool = BalanceOf::<T>::zero();
		if let BondSettlement::PayJury { by_round } = settlement {
			let round_cost =
				|round: u32| T::JurorReward::get().saturating_mul(Self::jury_size(round).into());
			// What each bond is charged: by round, the latest bond the latest round.
			let bonds = dispute.bonds.len() as u32;
			let mut charges: Vec<BalanceOf<T>> = Vec::new();
			if by_round {
				let mut short = BalanceOf::<T>::zero();
				for (i, bond) in dispute.bonds.iter().enumerate().rev() {
					let round = dispute.round.saturating_sub(bonds.saturating_sub(1 + i as u32));
					let due = round_cost(round).saturating_add(short);
					let charged = due.min(bond.amount);
					short = due.saturating_sub(charged);
					charges.push(charged);
				}
				charges.reverse();
			} else {
				let mut owed = (0..=dispute.round).fold(BalanceOf::<T>::zero(), |owed, round| {
					owed.saturating_add(round_cost(round))
				});
				for bond in dispute.bonds.iter() {
					let charged = owed.min(bond.amount);
					owed = owed.saturating_sub(charged);
					charges.push(charged);
				}
			}
			for (bond, charged) in dispute.bonds.iter().zip(charges) {
				let charged = Self::forfeit(task, &bond.who, charged);
				pool = pool.saturating_add(charged);
				Self::return_bond(
					task,
					&Bond { amount: bond.amount.saturating_sub(charged), ..bond.clone() },
				);
			}
			return pool;
		}
		let forfeit_all = settlement == BondSettlement::ForfeitAll;
		let overturned = dispute.result_overturned();
		for bond in dispute.bonds.iter() {
			let won = match (dispute.verdict, bond.claim) {
				_ if forfeit_all => false,
				(None, _) => true,
				(Some(_), Claim::ResultWrong) => overturned,
				(Some(correct), Claim::OutputRight(output)) => correct == output,
			};
			if won {
				Self::return_bond(task, bond);
			} else {
				pool = pool.saturating_add(Self::forfeit(task, &bond.who, bond.amount));
			}
		}
		pool
	}

	/// Pays [`Config::JurorReward`] to each owed juror whose vote is the final verdict, from
	/// `pool` (pro rata if it runs short: juror pay comes only from what losers forfeit), or,
	/// for an audit that found nothing to forfeit, from the protocol account, never more than
	/// the task's fee in all. Returns what is left of the pool.
	///
	/// A verdict of refusal against an answer forfeits nothing; what the bonds do not pay (a
	/// disagreement has none) is paid from the protocol account up to `refused_pay`, the
	/// answers' pay, which goes there at the close (never more: one party owning both sides
	/// and the jury gets back at most the fee it paid).
	pub(crate) fn pay_majority_jurors(
		task: TaskId,
		dispute: &Dispute<T>,
		mut pool: BalanceOf<T>,
		refused_pay: BalanceOf<T>,
	) -> BalanceOf<T> {
		let paid_jurors: Vec<&T::AccountId> = dispute
			.owed
			.iter()
			.filter(|(_, vote)| Some(*vote) == dispute.verdict)
			.map(|(juror, _)| juror)
			.collect();
		if paid_jurors.is_empty() {
			return pool;
		}
		let reward = T::JurorReward::get();
		let due = reward.saturating_mul((paid_jurors.len() as u32).into());
		let each_from_pool = if pool >= due {
			reward
		} else {
			pool / BalanceOf::<T>::from(paid_jurors.len() as u32)
		};
		// Only an audit (or a refusal, up to the answers' pay) may draw on the protocol account,
		// and an audit only up to what the requester paid for the delivered outputs (the
		// protocol cut is taken on those alone): audits then cost it less in expectation
		// (`AuditProbability` × that) than the cut it keeps.
		let mut fund_budget = if dispute.kind == DisputeKind::Audit {
			Self::delivered(dispute).max(refused_pay)
		} else {
			refused_pay
		};
		let fund = T::Treasury::account();
		for juror in paid_jurors {
			let from_pool = Self::pay_out(juror, each_from_pool.min(pool));
			pool = pool.saturating_sub(from_pool);
			let short = reward.saturating_sub(from_pool).min(fund_budget);
			let from_fund = if short.is_zero() {
				Zero::zero()
			} else {
				T::Currency::transfer(&fund, juror, short, Preservation::Preserve)
					.unwrap_or_else(|_| Zero::zero())
			};
			fund_budget = fund_budget.saturating_sub(from_fund);
			let flow = if dispute.kind == DisputeKind::Audit {
				ProtocolFlow::AuditJurors
			} else {
				ProtocolFlow::RefusalJurors
			};
			T::Treasury::note_paid(flow, from_fund);
			Self::deposit_event(Event::RewardPaid {
				task,
				who: juror.clone(),
				amount: from_pool.saturating_add(from_fund),
			});
		}
		pool
	}
}

/// How a dispute's bonds are settled at its close: see [`Pallet::settle_bonds`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum BondSettlement {
	/// Each bond won or lost with its claim.
	ByVerdict,
	/// The bonds pay the jurors of every round (no verdict, or a verdict of refusal against an
	/// answer: nobody forfeits anything else).
	PayJury {
		/// Each bond pays for the round it opened first.
		by_round: bool,
	},
	/// Every bond forfeited whole (a batch's item nobody could judge).
	ForfeitAll,
}
