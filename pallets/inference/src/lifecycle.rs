//! The life of a task as the per-block hook and `advance` drive it: executors drawn, commit
//! and reveal phases, results settled and paid, deadlines missed and extended, tasks expired
//! and pruned.

use super::*;

impl<T: Config> Pallet<T> {
	/// The challenge window of a task: [`Config::ChallengePeriod`], and for a batch a quarter
	/// of its commit period more, time for a watcher or the requester to re-execute a sample of
	/// its items.
	pub(crate) fn challenge_period(task: &TaskInfo<T>) -> BlockNumberFor<T> {
		let base = T::ChallengePeriod::get();
		match task.input {
			TaskInput::Batch { .. } => base.saturating_add(task.commit_period / 4u32.into()),
			_ => base,
		}
	}

	/// The role a task's executors are drawn from: batches go only to agents that opted in to
	/// them ([`Role::BatchExecutor`], whose nodes publish outputs documents), single tasks to
	/// [`Role::Executor`]s.
	pub(crate) fn executor_role<Input>(input: &TaskInput<Input>) -> Role {
		match input {
			TaskInput::Batch { .. } => Role::BatchExecutor,
			_ => Role::Executor,
		}
	}

	/// The executor's time a batch takes, which its draw counts against each executor's open
	/// batches: its shortest commit period (the blocks of work its items need,
	/// [`Self::batch_blocks`]), within [`Config::MaxBatchStretch`] times its commit period (at
	/// most [`Config::MaxBatchCommitPeriod`]). `None` for a single task. Recomputed from the
	/// task where it is released: a runtime that changes `ItemsPerBlock` or `TokensPerBlock`
	/// releases, for the batches drawn before it, other counts than were added (saturating; an
	/// executor with no open work counts none).
	pub(crate) fn batch_work(task: &TaskInfo<T>) -> Option<BatchWork> {
		Self::batch_work_of(Self::batch_items(&task.input), &task.params, task.commit_period)
	}

	/// [`Self::batch_work`] of a batch of `items` (`None`: a single task) with `params` and
	/// `commit_period`.
	pub(crate) fn batch_work_of(
		items: Option<u32>,
		params: &TaskParams,
		commit_period: BlockNumberFor<T>,
	) -> Option<BatchWork> {
		let stretched = commit_period.saturating_mul(T::MaxBatchStretch::get().max(1).into());
		Some(BatchWork {
			blocks: Self::batch_blocks(items?, params).saturated_into(),
			within: stretched.min(T::MaxBatchCommitPeriod::get()).saturated_into(),
		})
	}

	/// The commit phase of a batch with `commit_period` for an executor whose open batches,
	/// this one's included, take `busy` blocks at its declared speed: `busy` and a margin (two
	/// blocks, and a sixteenth) for what the count does not see, or its commit period when that
	/// is longer. The node learns of the draw in its block and commits in a later one, and a
	/// declared speed is an estimate: without the margin, an executor whose work fills the
	/// commit period exactly (a batch given its shortest commit period, at the reference speed)
	/// could not commit in time.
	pub(crate) fn batch_commit_phase(
		commit_period: BlockNumberFor<T>,
		busy: u32,
	) -> BlockNumberFor<T> {
		let busy: BlockNumberFor<T> = busy.into();
		commit_period.max(busy.saturating_add(busy / 16u32.into()).saturating_add(2u32.into()))
	}

	/// The blocks of batch work an executor's assignment still counts in its record: the
	/// batch's until the executor committed, none after (nor for a single task).
	pub(crate) fn batch_blocks_held(task: &TaskInfo<T>, executor: &T::AccountId) -> u32 {
		let running = task
			.assignments
			.iter()
			.any(|a| &a.executor == executor && a.commitment.is_none());
		match Self::batch_work(task) {
			Some(work) if running => work.blocks,
			_ => 0,
		}
	}

	/// The fee share of one executor.
	pub(crate) fn share(task: &TaskInfo<T>) -> BalanceOf<T> {
		task.fee / BalanceOf::<T>::from(task.redundancy.max(1))
	}

	/// One executor's pay for one item of a batch: its share over the batch's items (the whole
	/// share for a task, an item of one).
	pub(crate) fn item_share(task: &TaskInfo<T>) -> BalanceOf<T> {
		Self::share(task) / BalanceOf::<T>::from(Self::batch_items(&task.input).unwrap_or(1).max(1))
	}

	/// Shrinks what batch `id` reserves of each executor still in it by an item slash, after
	/// a root was found wrong on an item: what is left covers the item disputes the batch may
	/// still have, and never exceeds the stake the slashed executors have left. Every executor
	/// still assigned is reduced alike, slashed or not (one that answered that the input was
	/// unavailable, or whose root was not accused), since `task.collateral` is what each of
	/// them releases at the end.
	pub(crate) fn reduce_item_collateral(id: TaskId, task: &mut TaskInfo<T>) {
		let items = Self::batch_items(&task.input).unwrap_or(1);
		let slash = Self::batch_item_slash(Self::share(task), items);
		let reduced = task.collateral.saturating_sub(slash);
		for assignment in task.assignments.iter() {
			if AssignedTasks::<T>::contains_key(&assignment.executor, id) {
				T::AgentRegistry::note_collateral_reduced(
					&assignment.executor,
					task.collateral,
					reduced,
				);
			}
		}
		task.collateral = reduced;
	}

	/// Draws the task's executors, reserves their collateral and opens a commit phase. Changes
	/// nothing when too few executors are available.
	///
	/// The draw weighs free stake, not the executors' declared speeds. A batch's commit phase
	/// lasts its commit period, or longer when a drawn executor needs it: the time its open
	/// batches and this one take at its declared speed (`AgentRegistry::note_work_opened`),
	/// with a margin ([`Self::batch_commit_phase`]), so that, running its batches the earliest
	/// deadline first, it meets every deadline. The draw takes only executors for whom that
	/// time fits in [`Config::MaxBatchStretch`] commit periods ([`Self::batch_work`]).
	///
	/// Run only by the hook of block `now`, before any transaction of it, and seeded by the hash
	/// of block `now - 1`: nobody acting in that block or before it knew the hash, and nothing
	/// after it can change the state the draw reads. A draw the queue defers to a later block
	/// takes that block's parent hash, never one known while the state could still change.
	pub(crate) fn assign(
		id: TaskId,
		task: &mut TaskInfo<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let seed_block = now.saturating_sub(One::one());
		let Some(seed) = T::Randomness::random_at(
			&(b"inference/assign", id, task.reassignments).encode(),
			seed_block,
		) else {
			defensive!("the parent block's hash is unknown");
			return Err(Error::<T>::NoExecutors.into());
		};
		let mut exclude = Self::requester_and_its_agent(&task.requester);
		exclude.extend(task.excluded.iter().cloned());
		// Outside the layer: what a draw writes (the seats it corrected) stands even if it
		// finds too few executors.
		let work = Self::batch_work(task);
		let drawn = T::AgentRegistry::select(
			Self::executor_role(&task.input),
			&task.model,
			task.redundancy,
			seed,
			&exclude,
			task.collateral,
			work,
		);
		frame_support::storage::with_storage_layer(|| {
			let executors = drawn.map_err(|_| Error::<T>::NoExecutors)?;
			let mut assignments = BoundedVec::new();
			let mut commit_period = task.commit_period;
			let blocks = work.map_or(0, |work| work.blocks);
			for executor in &executors {
				let busy = T::AgentRegistry::note_work_opened(executor, task.collateral, blocks)?;
				if work.is_some() {
					commit_period =
						commit_period.max(Self::batch_commit_phase(task.commit_period, busy));
				}
				AssignedTasks::<T>::insert(executor, id, ());
				assignments
					.try_push(Assignment::<T> {
						executor: executor.clone(),
						commitment: None,
						output: None,
					})
					.map_err(|_| Error::<T>::InvalidRedundancy)?;
			}
			task.assignments = assignments;
			task.excluded = Default::default();
			task.extended = false;
			task.status = TaskStatus::Assigned;
			task.phase_ends = Queue::<T>::schedule(&id, now.saturating_add(commit_period));
			Self::deposit_event(Event::TaskAssigned {
				task: id,
				executors,
				commit_deadline: task.phase_ends,
			});
			Ok(())
		})
	}

	/// Opens the reveal phase.
	pub(crate) fn start_reveal_phase(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		task.status = TaskStatus::Committed;
		task.extended = false;
		task.phase_ends = Queue::<T>::schedule(&id, now.saturating_add(T::RevealPeriod::get()));
		Self::deposit_event(Event::RevealPhaseStarted {
			task: id,
			reveal_deadline: task.phase_ends,
		});
	}

	/// Compares the revealed outputs. Executors that could not obtain the input
	/// ([`INPUT_UNAVAILABLE`]) are set aside when others delivered an output; when none did,
	/// the task is paid as an attempt. One result opens the challenge window; different
	/// results (several executors, exact-match mode) open a dispute. The hook's, at the end of
	/// a reveal phase.
	pub(crate) fn conclude_reveals(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		let delivered: Vec<H256> = task
			.assignments
			.iter()
			.filter_map(|a| a.output)
			.filter(|output| *output != INPUT_UNAVAILABLE)
			.collect();
		let Some(first) = delivered.first().copied() else {
			// Nobody could obtain the input. Two or more executors saying so corroborate each
			// other: the requester pays for their attempts. A lone executor's word proves
			// nothing either way: it is neither paid nor slashed, and the fee is refunded.
			let unavailable =
				task.assignments.iter().filter(|a| a.output == Some(INPUT_UNAVAILABLE)).count();
			if unavailable >= 2 {
				Self::finalise_unavailable(id, task, now);
			} else {
				Self::expire(id, task, now);
			}
			return;
		};
		if delivered.iter().all(|output| *output == first) {
			// One executor in jury mode, or agreeing executors in exact-match mode.
			let challenge_end =
				Queue::<T>::schedule(&id, now.saturating_add(Self::challenge_period(task)));
			task.status = TaskStatus::Revealed;
			task.result = Some(first);
			task.phase_ends = challenge_end;
			Self::deposit_event(Event::TaskRevealed {
				task: id,
				output_hash: first,
				challenge_end: task.phase_ends,
			});
		} else {
			Self::start_dispute(id, task, now);
			if let Err(error) = T::Disputes::on_disagreement(id, &Self::disputed_view(id, task)) {
				log::info!(target: LOG_TARGET, "disagreement on task {id} not judged: {error:?}");
				Queue::<T>::unschedule(&id, task.phase_ends);
				if matches!(task.input, TaskInput::Batch { .. }) {
					// Two roots the handler cannot bisect (too few verifiers to judge the item
					// they differ on): neither is paid, the requester is refunded.
					Self::expire(id, task, now);
				} else {
					// No jury can judge it (too few verifiers): nobody can tell who was right.
					Self::pay_every_delivered(id, task, now);
				}
			}
		}
	}

	/// Slashes an executor that missed a deadline and releases it from the task. The slash goes
	/// to the protocol account, not to the requester: a requester could otherwise profit from
	/// tasks designed to fail (an input nobody can fetch, a model that cannot finish in time).
	pub(crate) fn penalise_missed(
		id: TaskId,
		task: &TaskInfo<T>,
		executor: &T::AccountId,
		slash: BalanceOf<T>,
	) {
		let protocol = Self::account_id();
		let before = T::Currency::balance(&protocol);
		let slashed =
			T::AgentRegistry::slash(executor, slash.min(task.collateral), Some(&protocol));
		Self::note_received(
			ProtocolFlow::MissedDeadlines,
			T::Currency::balance(&protocol).saturating_sub(before),
		);
		Self::release_executor(id, task, executor);
		T::AgentRegistry::record(executor, Outcome::DeadlineMissed);
		Self::deposit_event(Event::ExecutorMissedDeadline {
			task: id,
			executor: executor.clone(),
			slashed,
		});
	}

	/// Ends an executor's part in a task, releasing its collateral, and for a batch it had not
	/// committed to, the blocks of work it counted. Call it before the executor's assignment
	/// is removed from `task`.
	pub(crate) fn release_executor(id: TaskId, task: &TaskInfo<T>, executor: &T::AccountId) {
		if AssignedTasks::<T>::take(executor, id).is_some() {
			let blocks = Self::batch_blocks_held(task, executor);
			T::AgentRegistry::note_work_closed(executor, task.collateral, blocks);
		}
	}

	/// Has new executors drawn at the next block for a task nobody delivered, excluding those
	/// that failed; or expires it when it was reassigned too often.
	pub(crate) fn reassign_or_expire(
		id: TaskId,
		task: &mut TaskInfo<T>,
		failed: Vec<T::AccountId>,
		now: BlockNumberFor<T>,
	) {
		if task.reassignments >= T::MaxReassignments::get() {
			return Self::expire(id, task, now);
		}
		task.reassignments = task.reassignments.saturating_add(1);
		task.assignments = Default::default();
		task.excluded = BoundedVec::truncate_from(failed.clone());
		task.status = TaskStatus::Submitted;
		task.phase_ends = Queue::<T>::schedule(&id, now.saturating_add(One::one()));
		Self::deposit_event(Event::TaskReassigned { task: id, excluded: failed });
	}

	/// Ends a task without a result: refunds the escrow and schedules pruning.
	pub(crate) fn expire(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		let refunded = Self::end_unpaid(id, task, now);
		Self::deposit_event(Event::TaskExpired { task: id, refunded });
	}

	/// Ends a disputed task nobody could judge ([`Resolution::Unjudged`]): its executors are
	/// released unpaid and unslashed, and the rest of its escrow goes to the protocol account.
	pub(crate) fn forfeit_unjudged(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		let escrow = task.escrow;
		let forfeited = Self::forfeit_to_protocol(task, escrow);
		task.result = None;
		// Nothing stays held: what a failed transfer left goes back to the requester.
		Self::end_unpaid(id, task, now);
		Self::deposit_event(Event::TaskUnjudged { task: id, forfeited });
	}

	/// Pays up to `amount` of the task's escrow to the protocol account, neither the executors'
	/// nor refunded: the pay of answers nobody could judge (a task unjudged, or answers a jury
	/// whose endpoints refused the prompt outvoted, `Resolution::Refused`). Returns what it paid.
	pub(crate) fn forfeit_to_protocol(
		task: &mut TaskInfo<T>,
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		let protocol = Self::account_id();
		let forfeited = Self::pay(task, &protocol, amount);
		Self::note_received(ProtocolFlow::UnjudgedFees, forfeited);
		forfeited
	}

	/// What every end without payment does: releases the executors' collateral, refunds what is
	/// left of the escrow (returned), marks the task expired and schedules its pruning.
	fn end_unpaid(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) -> BalanceOf<T> {
		for assignment in task.assignments.iter() {
			Self::release_executor(id, task, &assignment.executor);
		}
		let refunded = Self::refund(task);
		task.status = TaskStatus::Expired;
		task.phase_ends = Self::schedule_prune(id, now);
		refunded
	}

	/// Releases a pruned task's storage deposit to its requester: what its requester holds
	/// apart as deposits (tasks submitted before runtime spec 126) first, up to the deposit,
	/// then the rest from the escrow hold, where deposits are held since. Its deposit hold is
	/// then never more than its tasks' deposits, so its escrow hold always covers their escrow
	/// and its prepaid funds.
	fn release_deposit(task: &TaskInfo<T>) {
		let (requester, deposit) = (&task.requester, task.deposit);
		let apart = Self::release_up_to(HoldReason::TaskDeposit, requester, deposit);
		let rest = deposit.saturating_sub(apart);
		let released =
			apart.saturating_add(Self::release_up_to(HoldReason::TaskEscrow, requester, rest));
		if released < deposit {
			defensive!("a pruned task's deposit was not all on hold");
		}
	}

	/// Returns the rest of the escrow to the requester.
	pub(crate) fn refund(task: &mut TaskInfo<T>) -> BalanceOf<T> {
		let refunded = Self::release_up_to(HoldReason::TaskEscrow, &task.requester, task.escrow);
		task.escrow = task.escrow.saturating_sub(refunded);
		refunded
	}

	/// Releases up to `amount` of what `who` holds under `reason`; returns what was released
	/// (nothing when nothing is held, or the release fails).
	fn release_up_to(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		let reason = reason.into();
		if amount.is_zero() || T::Currency::balance_on_hold(&reason, who).is_zero() {
			return Zero::zero();
		}
		T::Currency::release(&reason, who, amount, Precision::BestEffort)
			.unwrap_or_else(|_| Zero::zero())
	}

	/// Pays `amount` from the task's escrow to `to`. Returns what was paid.
	pub(crate) fn pay(
		task: &mut TaskInfo<T>,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		let paid = T::Currency::transfer_on_hold(
			&HoldReason::TaskEscrow.into(),
			&task.requester,
			to,
			amount.min(task.escrow),
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|error| {
			log::warn!(target: LOG_TARGET, "payment of {amount:?} to {to:?} failed: {error:?}");
			Zero::zero()
		});
		task.escrow = task.escrow.saturating_sub(paid);
		paid
	}

	/// Pays the executors that revealed the result, takes the protocol cut, refunds the rest.
	pub(crate) fn finalise(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		let Some(result) = task.result else {
			return Self::expire(id, task, now);
		};
		if matches!(task.input, TaskInput::Batch { .. }) {
			return Self::settle_batch(id, task, now, &[]);
		}
		let share = Self::share(task);
		Self::settle(id, task, now, result, |_, output| (output == result).then_some(share));
	}

	/// Finalises a batch: pays each executor whose root is the result its share less the items
	/// its root was found wrong on, and nothing to those in `unpaid` (found wrong by the audit);
	/// the requester is refunded the rest.
	pub(crate) fn settle_batch(
		id: TaskId,
		task: &mut TaskInfo<T>,
		now: BlockNumberFor<T>,
		unpaid: &[T::AccountId],
	) {
		let Some(result) = task.result else {
			return Self::expire(id, task, now);
		};
		let share = Self::share(task);
		let items = Self::batch_items(&task.input).unwrap_or(1).max(1);
		let per_item = Self::item_share(task);
		let answers: Vec<T::AccountId> = task
			.assignments
			.iter()
			.filter(|a| Self::answers_for_result(id, task, a))
			.map(|a| a.executor.clone())
			.collect();
		Self::settle(id, task, now, result, |executor, _| {
			// A root reconciled with the result is paid as the result's, for the items it was
			// not found wrong on.
			if !answers.contains(executor) || unpaid.contains(executor) {
				return None;
			}
			let wrong = (WrongItems::<T>::decode_len(id, executor).unwrap_or(0) as u32)
				.saturating_add(RefusedItems::<T>::decode_len(id, executor).unwrap_or(0) as u32)
				.min(items);
			Some(share.saturating_sub(per_item.saturating_mul(wrong.into())))
		});
	}

	/// Pays the executors that could not obtain a referenced input the price of an attempt
	/// (`MinFeePerExecutor` each, within their share), refunds the rest: the requester, who
	/// keeps the input, pays for its unavailability, and nobody is slashed. Only when at least
	/// two executors said so: one alone could be saving itself the work.
	pub(crate) fn finalise_unavailable(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		task.result = Some(INPUT_UNAVAILABLE);
		let attempt = T::MinFeePerExecutor::get().min(Self::share(task));
		Self::settle(id, task, now, INPUT_UNAVAILABLE, |_, output| {
			(output == INPUT_UNAVAILABLE).then_some(attempt)
		});
	}

	/// Pays each executor the amount `paid_for` gives for its revealed output (`None`: nothing),
	/// minus the protocol cut, refunds the rest of the escrow, releases every executor, and
	/// schedules pruning.
	pub(crate) fn settle(
		id: TaskId,
		task: &mut TaskInfo<T>,
		now: BlockNumberFor<T>,
		output_hash: H256,
		paid_for: impl Fn(&T::AccountId, H256) -> Option<BalanceOf<T>>,
	) {
		let protocol = Self::account_id();
		let mut paid = BalanceOf::<T>::zero();
		let mut protocol_cut = BalanceOf::<T>::zero();
		let assignments = task.assignments.clone();
		for assignment in assignments.iter() {
			let amount =
				assignment.output.and_then(|output| paid_for(&assignment.executor, output));
			if let Some(amount) = amount {
				let cut = T::ProtocolCut::get().mul_floor(amount);
				paid = paid.saturating_add(Self::pay(
					task,
					&assignment.executor,
					amount.saturating_sub(cut),
				));
				protocol_cut = protocol_cut.saturating_add(Self::pay(task, &protocol, cut));
				T::AgentRegistry::record(&assignment.executor, Outcome::Completed);
			}
			Self::release_executor(id, task, &assignment.executor);
		}
		Self::note_received(ProtocolFlow::ProtocolCut, protocol_cut);
		let refunded = Self::refund(task);
		task.status = TaskStatus::Finalised;
		task.phase_ends = Self::schedule_prune(id, now);
		T::OnFinalised::on_task_finalised(id, &task.model, &protocol, protocol_cut);
		Self::deposit_event(Event::TaskFinalised {
			task: id,
			output_hash,
			paid,
			protocol_cut,
			refunded,
		});
	}

	/// A disagreement between the two roots of a batch ended at `item`, the last item judged
	/// of those they differ on (or the first under the node of a bisection step a side did not
	/// complete; `wrong` were found wrong on it), with `root` the batch's result and the roots
	/// of the executors in `out` out of the batch: unpaid, their collateral released. The
	/// result goes to the challenge window, open to the item disputes left and the audit like
	/// any revealed batch; a root neither the result nor out stays in the batch, reconciled
	/// with it ([`Self::answers_for_result`]).
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn disagreement_judged(
		id: TaskId,
		task: &mut TaskInfo<T>,
		item: u32,
		root: H256,
		out: &[T::AccountId],
		wrong: Vec<T::AccountId>,
		now: BlockNumberFor<T>,
	) {
		for executor in out {
			Self::release_executor(id, task, executor);
		}
		task.result = Some(root);
		task.status = TaskStatus::Revealed;
		task.phase_ends =
			Queue::<T>::schedule(&id, now.saturating_add(Self::challenge_period(task)));
		Self::deposit_event(Event::DisputeResolved { task: id, output_hash: Some(root) });
		Self::deposit_event(Event::BatchResumed {
			task: id,
			item,
			wrong,
			challenge_end: task.phase_ends,
		});
	}

	/// Ends a disagreement nobody could judge: every output was delivered and is public, so
	/// each executor that delivered one is paid its share. The requester does not get them for
	/// free (it could otherwise have its own executor disagree with an honest one), and nobody
	/// is slashed.
	pub(crate) fn pay_every_delivered(id: TaskId, task: &mut TaskInfo<T>, now: BlockNumberFor<T>) {
		Self::deposit_event(Event::DisputeResolved { task: id, output_hash: None });
		let share = Self::share(task);
		let first = task
			.assignments
			.iter()
			.filter_map(|a| a.output)
			.find(|output| *output != INPUT_UNAVAILABLE)
			.unwrap_or_default();
		Self::settle(id, task, now, first, |_, output| {
			(output != INPUT_UNAVAILABLE).then_some(share)
		});
	}

	/// At a commit or reveal deadline: whether it is extended because the
	/// [`Config::CongestionGrace`] blocks before it were all full while an executor has not
	/// acted, once per phase. Moves `phase_ends` on by
	/// [`Config::CongestionGrace`] if so (the caller schedules it). Bounded: a phase is extended
	/// at most once, so no flood stalls a task for long.
	pub(crate) fn extend_if_congested(task: &mut TaskInfo<T>) -> bool {
		let grace = T::CongestionGrace::get();
		let waiting = task.assignments.iter().any(|a| match task.status {
			TaskStatus::Assigned => a.commitment.is_none(),
			_ => a.output.is_none(),
		});
		if task.extended
			|| !waiting
			|| !FullBlockLog::<T>::get().full_before(task.phase_ends, grace)
		{
			return false;
		}
		task.extended = true;
		task.phase_ends = task.phase_ends.saturating_add(grace);
		true
	}

	/// The seed of a batch's audit at its window's end (`block_seed`: from the hash of the
	/// block before the window's original end), or `None` while its requester's audit secret
	/// is awaited (the deadline moved to the wait's end; the caller stores `task`).
	///
	/// At the window's end the secret is awaited for [`Config::AuditSecretPeriod`] blocks,
	/// once moved on by [`Config::CongestionGrace`] when the blocks before it were full. Once
	/// revealed, the seed is [`Self::batch_audit_seed_of`] the secret and `block_seed`:
	/// whoever authored the seed's block knew the block, not the secret, and the requester
	/// knew the secret, not the block (and revealed it only once the block was sealed), so
	/// neither can steer the draw without the other. Not revealed, the batch is audited
	/// whatever the draw, on the item drawn from the block before the wait's end (the
	/// requester chose to withhold before it was sealed), its requester not compensated; the
	/// jury deposit it paid at submission goes to the protocol account, which pays an audit's
	/// jurors (the caller forfeits it once the audit is open).
	pub(crate) fn batch_audit_seed(
		id: TaskId,
		task: &mut TaskInfo<T>,
		block_seed: Option<[u8; 32]>,
		now: BlockNumberFor<T>,
	) -> Option<AuditSeed> {
		let Some(awaited) = AwaitedAuditSecrets::<T>::get(id) else {
			// The audit stays seeded by the block before the window's end (its original end
			// if item disputes paused the window, unless that block's hash is gone: then the
			// one before this end, sealed before anyone knew the secret), read now, once.
			let seed_block = task.phase_ends.saturating_sub(One::one());
			let block_seed = block_seed.or_else(|| {
				AuditSeedBlocks::<T>::insert(id, seed_block);
				T::Randomness::random_at(&(b"inference/audit", id).encode(), seed_block)
			});
			AwaitedAuditSecrets::<T>::insert(id, AwaitedSecret { extended: false, block_seed });
			task.phase_ends =
				Queue::<T>::schedule(&id, now.saturating_add(T::AuditSecretPeriod::get()));
			Self::deposit_event(Event::AuditSecretAwaited { task: id, until: task.phase_ends });
			return None;
		};
		if let Some(secret) = AuditSecrets::<T>::get(id) {
			return Some(AuditSeed::Drawn(
				awaited.block_seed.map(|seed| Self::batch_audit_seed_of(secret, seed)),
			));
		}
		let grace = T::CongestionGrace::get();
		if !awaited.extended && FullBlockLog::<T>::get().full_before(task.phase_ends, grace) {
			AwaitedAuditSecrets::<T>::insert(id, AwaitedSecret { extended: true, ..awaited });
			// From now if the hook runs late: the requester gets the grace whatever the queue.
			let end = task.phase_ends.max(now).saturating_add(grace);
			task.phase_ends = Queue::<T>::schedule(&id, end);
			Self::deposit_event(Event::DeadlineExtended { task: id, phase_ends: task.phase_ends });
			return None;
		}
		// Withheld. The item from the block before the wait's end: fixed whenever the deadline
		// is processed, and sealed after the requester's last chance to reveal (its author
		// could leave a last-moment reveal out and choose the item: a requester that cares
		// reveals early in the wait).
		let item_seed = T::Randomness::random_at(
			&(b"inference/withheld-audit", id).encode(),
			task.phase_ends.saturating_sub(One::one()),
		)
		.or_else(|| {
			T::Randomness::random_at(
				&(b"inference/withheld-audit", id).encode(),
				now.saturating_sub(One::one()),
			)
		})
		.unwrap_or_default();
		Some(AuditSeed::Withheld(item_seed))
	}

	/// The seed of a batch's audit from its requester's revealed `secret` and `block_seed`
	/// (from the hash of the block before its window's original end):
	/// `blake2_256("inference/batch-audit" ‖ secret ‖ block_seed)`.
	pub fn batch_audit_seed_of(secret: H256, block_seed: [u8; 32]) -> [u8; 32] {
		sp_io::hashing::blake2_256(&(b"inference/batch-audit", secret, block_seed).encode())
	}

	/// Moves `amount` of `task`'s storage deposit to the protocol account (as
	/// [`ProtocolFlow::WithheldAuditSecrets`]); returns what was moved. The deposit is held
	/// apart (tasks submitted before runtime spec 126) or under the escrow hold, as
	/// [`Self::release_deposit`] finds it.
	fn forfeit_deposit(task: &mut TaskInfo<T>, amount: BalanceOf<T>) -> BalanceOf<T> {
		let protocol = Self::account_id();
		let mut moved: BalanceOf<T> = Zero::zero();
		for reason in [HoldReason::TaskDeposit, HoldReason::TaskEscrow] {
			let left = amount.saturating_sub(moved);
			let reason = reason.into();
			let take = left.min(T::Currency::balance_on_hold(&reason, &task.requester));
			if take.is_zero() {
				continue;
			}
			moved = moved.saturating_add(
				T::Currency::transfer_on_hold(
					&reason,
					&task.requester,
					&protocol,
					take,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				)
				.unwrap_or_else(|_| Zero::zero()),
			);
		}
		task.deposit = task.deposit.saturating_sub(moved);
		Self::note_received(ProtocolFlow::WithheldAuditSecrets, moved);
		moved
	}

	/// Schedules the pruning of a finished task.
	pub(crate) fn schedule_prune(id: TaskId, now: BlockNumberFor<T>) -> BlockNumberFor<T> {
		Queue::<T>::schedule(&id, now.saturating_add(T::RetentionPeriod::get()))
	}

	/// The transition due when a task's current phase ends. Returns its weight: that of the
	/// transition it made (see [`Self::transition_cost`]), at most
	/// [`Self::transition_weight`].
	pub(crate) fn process_deadline(id: TaskId, now: BlockNumberFor<T>) -> Weight {
		let Some(task) = Tasks::<T>::get(id) else {
			defensive!("a deadline of a task that is gone");
			return T::DbWeight::get().reads(1);
		};
		let before = task.clone();
		Self::transition(id, task, now);
		// The task as the transition left it (in the overlay: the read is charged as any).
		let after = Tasks::<T>::get(id).map(|task| task.status);
		Self::transition_cost(&before, after).saturating_add(T::DbWeight::get().reads(2))
	}

	/// The weight of the transition from `before` (a task as its deadline found it) to a task
	/// in status `after` (`None`: pruned), each part measured by its benchmark for the task's
	/// redundancy: a draw, slashes for a missed deadline, the comparison of revealed results, a
	/// window's end, a pruning; plus what the path taken adds (a dispute opened, every
	/// executor paid and the usage credited, a task expired or reassigned, which releases at
	/// most what a window's end pays).
	pub fn transition_cost(before: &TaskInfo<T>, after: Option<TaskStatus>) -> Weight {
		let r = before.redundancy.clamp(1, T::MaxRedundancy::get());
		let ended = T::WeightInfo::process_window_end(r);
		match before.status {
			TaskStatus::Submitted => T::WeightInfo::process_draw(r).saturating_add(
				if after == Some(TaskStatus::Expired) {
					T::WeightInfo::process_window_end(1)
				} else {
					Weight::zero()
				},
			),
			// A commit deadline (or its extension): slashes, then a new draw scheduled, the
			// reveal phase started, or the task expired.
			TaskStatus::Assigned => T::WeightInfo::process_missed(r).saturating_add(
				if after == Some(TaskStatus::Expired) {
					T::WeightInfo::process_window_end(1)
				} else {
					Weight::zero()
				},
			),
			// A reveal phase's end (or its extension): slashes for reveals withheld, the
			// results compared, and what the comparison led to.
			TaskStatus::Committed => {
				let missed = before.assignments.iter().any(|a| a.output.is_none());
				let slashes =
					if missed { T::WeightInfo::process_missed(r) } else { Weight::zero() };
				let outcome = match after {
					Some(TaskStatus::Committed | TaskStatus::Revealed) => Weight::zero(),
					Some(TaskStatus::Disputed) => T::Disputes::max_weight(),
					Some(TaskStatus::Finalised) => {
						T::WeightInfo::finalize().saturating_add(T::OnFinalised::max_weight())
					},
					_ => ended,
				};
				slashes
					.saturating_add(T::WeightInfo::process_reveals(r))
					.saturating_add(outcome)
			},
			// An audit tried, then the executors paid; for a batch, its audit secret read or
			// awaited, or a jury deposit forfeited (two holds, the protocol account, the flows).
			TaskStatus::Revealed => ended
				.saturating_add(Self::handler_weight())
				.saturating_add(Self::audit_secret_weight()),
			// Still judged (rescheduled), or expired.
			TaskStatus::Disputed => ended,
			TaskStatus::Finalised | TaskStatus::Expired => Self::prune_weight(),
		}
	}

	/// What a batch's window end adds for its audit secret, at most: the secret, the wait, the
	/// congestion log, the batch terms and two blocks' hashes read, or the wait recorded;
	/// withheld, the jury deposit forfeited (both holds read and moved from, both accounts,
	/// the flows' ledger) and its event.
	pub(crate) fn audit_secret_weight() -> Weight {
		T::DbWeight::get().reads_writes(16, 8)
	}

	/// What pruning a task is charged: its benchmark (a task storing `MaxRedundancy` outputs of
	/// the longest length), plus the removals only a batch makes (its executors' items found
	/// wrong and refused, its paused window and its audit seed's block), which that benchmark
	/// does not make, and its audit secret; a batch's output URIs, at most `MAX_BATCH_REDUNDANCY`, take the place of
	/// a task's outputs.
	pub(crate) fn prune_weight() -> Weight {
		T::WeightInfo::process_prune()
			.saturating_add(T::DbWeight::get().writes(u64::from(2 * MAX_BATCH_REDUNDANCY) + 6))
	}

	/// Makes the transition due when `task`'s current phase ends.
	fn transition(id: TaskId, mut task: TaskInfo<T>, now: BlockNumberFor<T>) {
		if matches!(task.status, TaskStatus::Assigned | TaskStatus::Committed)
			&& Self::extend_if_congested(&mut task)
		{
			task.phase_ends = Queue::<T>::schedule(&id, task.phase_ends);
			Self::deposit_event(Event::DeadlineExtended { task: id, phase_ends: task.phase_ends });
			Tasks::<T>::insert(id, task);
			return;
		}
		match task.status {
			TaskStatus::Submitted => {
				if Self::assign(id, &mut task, now).is_err() {
					// The executors that were available when it was submitted are not now
					// (paused, gone, or their stake taken by other work): refunded.
					Self::expire(id, &mut task, now);
				}
			},
			TaskStatus::Assigned => {
				let (committed, missed): (Vec<_>, Vec<_>) =
					task.assignments.iter().cloned().partition(|a| a.commitment.is_some());
				for assignment in &missed {
					Self::penalise_missed(
						id,
						&task,
						&assignment.executor,
						T::MissedDeadlineSlash::get(),
					);
				}
				task.assignments.retain(|a| a.commitment.is_some());
				if committed.is_empty() {
					let failed = missed.into_iter().map(|a| a.executor).collect();
					Self::reassign_or_expire(id, &mut task, failed, now);
				} else {
					Self::start_reveal_phase(id, &mut task, now);
				}
			},
			TaskStatus::Committed => {
				let (revealed, missed): (Vec<_>, Vec<_>) =
					task.assignments.iter().cloned().partition(|a| a.output.is_some());
				let slash = Self::missed_reveal_slash(Self::share(&task));
				for assignment in &missed {
					Self::penalise_missed(id, &task, &assignment.executor, slash);
				}
				task.assignments.retain(|a| a.output.is_some());
				if revealed.is_empty() {
					let failed = missed.into_iter().map(|a| a.executor).collect();
					Self::reassign_or_expire(id, &mut task, failed, now);
				} else {
					Self::conclude_reveals(id, &mut task, now);
				}
			},
			TaskStatus::Revealed => {
				// A random share of results is audited instead of finalised at once, drawn from
				// the hash of the block before the window's end: unknown when the result was
				// revealed, and the same whenever the deadline is processed (processed so late
				// that the hash is gone, the result is audited). The task must be disputed
				// before the handler opens the audit, which may resolve it.
				// A batch whose window item disputes paused keeps its window's original seed.
				let seed_block = AuditSeedBlocks::<T>::get(id)
					.unwrap_or_else(|| task.phase_ends.saturating_sub(One::one()));
				let seed = T::Randomness::random_at(&(b"inference/audit", id).encode(), seed_block);
				// A batch's seed mixes in its requester's secret, revealed after the window's
				// end: first awaited, then drawn with it, or the batch audited without it.
				let seed = match &task.input {
					TaskInput::Batch { .. } => {
						match Self::batch_audit_seed(id, &mut task, seed, now) {
							Some(seed) => seed,
							None => {
								Tasks::<T>::insert(id, task);
								return;
							},
						}
					},
					_ => AuditSeed::Drawn(seed),
				};
				let view = Self::disputed_view(id, &task);
				let withheld = matches!(seed, AuditSeed::Withheld(_));
				let audited = frame_support::storage::with_storage_layer(|| {
					let mut candidate = task.clone();
					Self::start_dispute(id, &mut candidate, now);
					if withheld {
						// The audit's jury is paid by the requester that withheld its secret:
						// out of its deposit, once the audit is open (none may be left to
						// open: every item judged already).
						let deposit =
							T::Disputes::batch_terms().jury_deposit.min(candidate.deposit);
						let forfeited = Self::forfeit_deposit(&mut candidate, deposit);
						Self::deposit_event(Event::AuditSecretWithheld { task: id, forfeited });
					}
					Tasks::<T>::insert(id, &candidate);
					if T::Disputes::audit(id, &view, seed) {
						Ok(())
					} else {
						Err(DispatchError::Other("not audited"))
					}
				});
				if audited.is_ok() {
					return;
				}
				if withheld {
					Self::deposit_event(Event::AuditSecretWithheld {
						task: id,
						forfeited: Zero::zero(),
					});
				}
				Self::finalise(id, &mut task, now)
			},
			TaskStatus::Disputed => {
				if T::Disputes::is_judging(id) {
					// A dispute still being judged (its queue may run late) is not cut short:
					// the timeout waits, and a full queue never decides the outcome.
					task.phase_ends =
						Queue::<T>::schedule(&id, now.saturating_add(T::DisputeTimeout::get()));
				} else {
					Self::expire(id, &mut task, now)
				}
			},
			TaskStatus::Finalised | TaskStatus::Expired => {
				let _ = Outputs::<T>::clear_prefix(id, T::MaxRedundancy::get(), None);
				if matches!(task.input, TaskInput::Batch { .. }) {
					// A batch stores no output, and at most `MAX_BATCH_REDUNDANCY` URIs: fewer
					// removals than a task's `MaxRedundancy` outputs, which the pruning's weight
					// is measured with; the rest is charged on top (`prune_weight`).
					let _ = OutputUris::<T>::clear_prefix(id, MAX_BATCH_REDUNDANCY, None);
					let _ = WrongItems::<T>::clear_prefix(id, MAX_BATCH_REDUNDANCY, None);
					let _ = RefusedItems::<T>::clear_prefix(id, MAX_BATCH_REDUNDANCY, None);
					DisagreedItems::<T>::remove(id);
					ReconciledRoots::<T>::remove(id);
					PausedWindows::<T>::remove(id);
					AuditSeedBlocks::<T>::remove(id);
					AwaitedAuditSecrets::<T>::remove(id);
					AuditSecrets::<T>::remove(id);
				}
				Self::release_deposit(&task);
				Tasks::<T>::remove(id);
				Self::deposit_event(Event::TaskPruned { task: id });
				return;
			},
		}
		Tasks::<T>::insert(id, task);
	}
}
