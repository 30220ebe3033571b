//! What the inference pallet provides to the other pallets: the protocol account
//! ([`ProtocolTreasury`]) and the tasks that disputes judge ([`InferenceTasks`]).

use super::*;

impl<T: Config> Pallet<T> {
	/// Adds `amount` to what `flow` brought into the protocol account.
	pub(crate) fn note_received(flow: ProtocolFlow, amount: BalanceOf<T>) {
		if !amount.is_zero() {
			ProtocolFlows::<T>::mutate(flow, |totals| {
				totals.received = totals.received.saturating_add(amount)
			});
		}
	}
}

impl<T: Config> ProtocolTreasury<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn account() -> T::AccountId {
		Self::account_id()
	}

	fn note_received(flow: ProtocolFlow, amount: BalanceOf<T>) {
		Self::note_received(flow, amount)
	}

	fn note_paid(flow: ProtocolFlow, amount: BalanceOf<T>) {
		if !amount.is_zero() {
			ProtocolFlows::<T>::mutate(flow, |totals| {
				totals.paid = totals.paid.saturating_add(amount)
			});
		}
	}
}

impl<T: Config> InferenceTasks<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn open_challenge(
		id: TaskId,
	) -> Result<DisputedTask<T::AccountId, BalanceOf<T>>, DispatchError> {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		ensure!(task.status == TaskStatus::Revealed, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < task.phase_ends, Error::<T>::DeadlinePassed);
		// A batch whose window has ended waits for its audit secret: no challenge after it.
		ensure!(!AwaitedAuditSecrets::<T>::contains_key(id), Error::<T>::DeadlinePassed);
		Queue::<T>::unschedule(&id, task.phase_ends);
		if matches!(task.input, TaskInput::Batch { .. }) {
			// Given back when the item dispute ends: a dispute neither shortens nor ends the
			// window of the rest of the items.
			PausedWindows::<T>::insert(id, task.phase_ends.saturating_sub(now));
			if !AuditSeedBlocks::<T>::contains_key(id) {
				AuditSeedBlocks::<T>::insert(id, task.phase_ends.saturating_sub(One::one()));
			}
		}
		Self::start_dispute(id, &mut task, now);
		Tasks::<T>::insert(id, &task);
		Ok(Self::disputed_view(id, &task))
	}

	fn item_judged(
		id: TaskId,
		item: u32,
		wrong: &[T::AccountId],
		refused: &[T::AccountId],
		judgment: ItemJudgment,
	) -> DispatchResult {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		ensure!(
			task.status == TaskStatus::Disputed && matches!(task.input, TaskInput::Batch { .. }),
			Error::<T>::WrongPhase
		);
		// Only two roots without a result differ; a standing result is challenged or audited.
		ensure!(
			matches!(judgment, ItemJudgment::Difference { .. }) == task.result.is_none(),
			Error::<T>::WrongPhase
		);
		let now = frame_system::Pallet::<T>::block_number();
		Queue::<T>::unschedule(&id, task.phase_ends);
		let executors = |accounts: &[T::AccountId]| -> Vec<T::AccountId> {
			accounts
				.iter()
				.filter(|executor| task.assignments.iter().any(|a| &a.executor == *executor))
				.cloned()
				.collect()
		};
		let (wrong, refused) = (executors(wrong), executors(refused));
		let left = PausedWindows::<T>::take(id);
		// Records the item in a root's list unless it is there: whether it was added, or an
		// error when the list is full.
		fn record<S: Get<u32>>(items: &mut BoundedVec<u32, S>, item: u32) -> Result<bool, u32> {
			if items.contains(&item) {
				return Ok(false);
			}
			items.try_push(item).map(|()| true)
		}
		// A root found wrong on the item is not paid for it (and was slashed for it).
		let item_wrong = |executor: &T::AccountId| {
			if WrongItems::<T>::mutate(id, executor, |items| record(items, item)).is_err() {
				defensive!("a root was found wrong on more items than disputes allow");
			}
		};
		// An answer the jury's endpoints refused is not paid for its item, and not slashed: the
		// item's pay goes to the protocol account (`Resolution::Refused`), once.
		let per_item = Self::item_share(&task);
		let refused_unpaid = |task: &mut TaskInfo<T>| {
			for executor in &refused {
				// An item this root was already found wrong on (an audit may draw it again) was
				// not paid already.
				if WrongItems::<T>::get(id, executor).contains(&item) {
					continue;
				}
				match RefusedItems::<T>::mutate(id, executor, |items| record(items, item)) {
					Ok(true) => {
						Self::forfeit_to_protocol(task, per_item);
					},
					Ok(false) => {},
					Err(_) => {
						defensive!("a root was refused on more items than its batch has");
					},
				}
			}
		};
		if let ItemJudgment::Difference { judged, then: after } = judgment {
			// An item two roots of a disagreement differ on, judged: it uses one of the batch's
			// item disputes, whichever root lost it; each root found wrong on it paid its slash,
			// and is paid one item fewer. (Not judged, a side was silent: it is out.)
			let used =
				judged && DisagreedItems::<T>::mutate(id, |items| record(items, item)) == Ok(true);
			if judged {
				for executor in &wrong {
					item_wrong(executor);
				}
				refused_unpaid(&mut task);
			}
			let unpaid: Vec<T::AccountId> = wrong.iter().chain(refused.iter()).cloned().collect();
			// The executors of the roots other than `root`.
			let others = |task: &TaskInfo<T>, root: H256| -> Vec<T::AccountId> {
				task.assignments
					.iter()
					.filter(|a| a.output.is_some() && a.output != Some(root))
					.map(|a| a.executor.clone())
					.collect()
			};
			match after {
				AfterDifference::Continues => {
					// The bisection goes on: the task waits for its next verdict.
					task.phase_ends =
						Queue::<T>::schedule(&id, now.saturating_add(T::DisputeTimeout::get()));
					let used = DisagreedItems::<T>::decode_len(id).unwrap_or(0) as u32;
					Self::deposit_event(Event::DifferenceJudged {
						task: id,
						item,
						wrong: unpaid,
						item_disputes_left: MAX_ITEMS_FOUND_WRONG.saturating_sub(used),
					});
				},
				AfterDifference::Reconciled(root) => {
					// The other root stays in the batch, answering for the result.
					let other = task.assignments.iter().find_map(|a| {
						a.output.filter(|output| *output != root && *output != INPUT_UNAVAILABLE)
					});
					if let Some(other) = other {
						ReconciledRoots::<T>::insert(id, other);
					}
					Self::disagreement_judged(id, &mut task, item, root, &[], unpaid, now)
				},
				AfterDifference::Result(root) => {
					let out = others(&task, root);
					Self::disagreement_judged(id, &mut task, item, root, &out, unpaid, now);
				},
				AfterDifference::NoResult => {
					Self::deposit_event(Event::DisputeResolved { task: id, output_hash: None });
					Self::expire(id, &mut task, now);
				},
				AfterDifference::NoneFoundWrong => Self::forfeit_unjudged(id, &mut task, now),
				AfterDifference::FirstDifference => {
					// As before games were kept: an answer the jury refused is out of the batch,
					// its whole share to the protocol account (its item's pay went already).
					let rest = Self::share(&task).saturating_sub(per_item);
					for _ in &refused {
						Self::forfeit_to_protocol(&mut task, rest);
					}
					let right = task
						.assignments
						.iter()
						.filter(|a| !unpaid.contains(&a.executor))
						.filter_map(|a| a.output)
						.find(|output| *output != INPUT_UNAVAILABLE);
					match right {
						_ if unpaid.is_empty() => Self::pay_every_delivered(id, &mut task, now),
						Some(root) => {
							let out = others(&task, root);
							Self::disagreement_judged(id, &mut task, item, root, &out, unpaid, now);
						},
						None => {
							Self::deposit_event(Event::DisputeResolved {
								task: id,
								output_hash: None,
							});
							Self::expire(id, &mut task, now);
						},
					}
				},
			}
			// What the executors still in the batch reserve shrinks by an item slash (what is left
			// covers the item disputes left); those out of it were released above with what they
			// reserved, and their slash may have been a withheld reveal's, more than an item's.
			if used && task.status.has_executors() {
				Self::reduce_item_collateral(id, &mut task);
			}
		} else if judgment == ItemJudgment::Audit {
			// The audit's item puts the whole batch at stake: a root found wrong on it is paid
			// nothing. The window is over (the audit is decided at its end).
			refused_unpaid(&mut task);
			let output_hash = if wrong.is_empty() { task.result } else { None };
			Self::deposit_event(Event::DisputeResolved { task: id, output_hash });
			Self::settle_batch(id, &mut task, now, &wrong);
		} else {
			// Each root found wrong paid an item slash out of the collateral its executor
			// reserved for the batch: the reservation shrinks by as much, so that it never
			// exceeds the stake left. A challenge accuses the one root every executor still in
			// the batch answers for (an executor whose root lost a disagreement is out of it; one
			// reconciled with the result answers for it).
			let accused: Vec<&T::AccountId> = task
				.assignments
				.iter()
				.filter(|a| Self::answers_for_result(id, &task, a))
				.map(|a| &a.executor)
				.collect();
			if !wrong.is_empty() && accused.iter().all(|executor| wrong.contains(executor)) {
				Self::reduce_item_collateral(id, &mut task);
			}
			for executor in &wrong {
				item_wrong(executor);
			}
			refused_unpaid(&mut task);
			let left = left.unwrap_or_else(|| Self::challenge_period(&task));
			task.status = TaskStatus::Revealed;
			task.phase_ends = Queue::<T>::schedule(&id, now.saturating_add(left.max(One::one())));
			Self::deposit_event(Event::BatchResumed {
				task: id,
				item,
				wrong: wrong.into_iter().chain(refused).collect(),
				challenge_end: task.phase_ends,
			});
		}
		Tasks::<T>::insert(id, task);
		Ok(())
	}

	fn resolve(id: TaskId, resolution: Resolution) -> DispatchResult {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		ensure!(task.status == TaskStatus::Disputed, Error::<T>::WrongPhase);
		// Only a batch's item dispute ends unjudged: a task's dispute without a jury is undecided.
		ensure!(
			resolution != Resolution::Unjudged || Self::batch_items(&task.input).is_some(),
			Error::<T>::WrongPhase
		);
		let now = frame_system::Pallet::<T>::block_number();
		Queue::<T>::unschedule(&id, task.phase_ends);
		let revealed = |output: &H256| {
			*output != INPUT_UNAVAILABLE
				&& task.assignments.iter().any(|a| a.output == Some(*output))
		};
		let outcome = match resolution {
			Resolution::Unjudged => {
				Self::forfeit_unjudged(id, &mut task, now);
				Tasks::<T>::insert(id, task);
				return Ok(());
			},
			Resolution::Refused => {
				let outcome = revealed(&REFUSED_HASH).then_some(REFUSED_HASH);
				let answered = task
					.assignments
					.iter()
					.filter(|a| {
						a.output.is_some_and(|o| o != REFUSED_HASH && o != INPUT_UNAVAILABLE)
					})
					.count() as u32;
				let share = Self::share(&task);
				Self::forfeit_to_protocol(&mut task, share.saturating_mul(answered.into()));
				outcome
			},
			Resolution::Correct(output) if revealed(&output) => Some(output),
			Resolution::Correct(_) | Resolution::NoneCorrect => None,
			Resolution::Undecided => match task.result {
				// A challenged or audited result stands.
				Some(result) => Some(result),
				None => {
					Self::pay_every_delivered(id, &mut task, now);
					Tasks::<T>::insert(id, task);
					return Ok(());
				},
			},
		};
		Self::deposit_event(Event::DisputeResolved { task: id, output_hash: outcome });
		match outcome {
			Some(output) => {
				task.result = Some(output);
				Self::finalise(id, &mut task, now);
			},
			None => {
				task.result = None;
				Self::expire(id, &mut task, now);
			},
		}
		Tasks::<T>::insert(id, task);
		Ok(())
	}

	fn is_disputed(id: TaskId) -> bool {
		Tasks::<T>::get(id).is_some_and(|task| task.status == TaskStatus::Disputed)
	}

	fn max_resolve_weight() -> Weight {
		// Plus, for a batch's item the jury refused, each executor's items found wrong and
		// refused read, the refused written, and its pay moved to the protocol account (the
		// requester's hold and account, the protocol account, its ledger of flows).
		// And for an item two roots differ on, the items disagreed on and the reconciled root
		// read and written, and each executor's assignment read twice (also when it is paid)
		// and its collateral reduced (its agent record read and written once, counted twice:
		// an overestimate kept from when the reduction closed and reopened the work).
		let refused = u64::from(MAX_BATCH_REDUNDANCY);
		T::WeightInfo::finalize()
			.saturating_add(T::OnFinalised::max_weight())
			.saturating_add(T::DbWeight::get().reads_writes(2 * refused + 4, refused + 4))
			.saturating_add(T::DbWeight::get().reads_writes(2 + 4 * refused, 2 + 2 * refused))
	}

	fn reconciled_root(id: TaskId) -> Option<H256> {
		ReconciledRoots::<T>::get(id)
	}

	fn revealed_output(id: TaskId, output: &H256) -> Option<Vec<u8>> {
		Outputs::<T>::get(id, output)
			.and_then(|data| data.inline)
			.map(|bytes| bytes.into_inner())
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn revealed_task_for_benchmark(
		requester: &T::AccountId,
		model: ModelId,
		outputs: &[Vec<u8>],
	) -> TaskId {
		use frame_system::RawOrigin;
		let id = NextTaskId::<T>::get();
		let redundancy = outputs.len() as u32;
		let fee = T::MinFeePerExecutor::get()
			.saturating_mul(10u32.into())
			.saturating_mul(redundancy.into());
		let submitted = Self::submit_task(
			RawOrigin::Signed(requester.clone()).into(),
			model,
			TaskInput::Inline(alloc::vec![b'p'; 64]),
			TaskParams {
				max_tokens: 8,
				temperature_milli: 0,
				seed: 1,
				mode: VerificationMode::ExactMatch,
			},
			fee,
			redundancy,
			// Eight blocks give at least the eight tokens' worth of time.
			8u32.into(),
		);
		assert!(submitted.is_ok(), "benchmark task submitted: {submitted:?}");
		// Executors are drawn at the next block.
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(next);
		<Self as Hooks<BlockNumberFor<T>>>::on_initialize(next);
		let executors: Vec<T::AccountId> = Tasks::<T>::get(id)
			.map(|task| task.assignments.iter().map(|a| a.executor.clone()).collect())
			.unwrap_or_default();
		let salt = [3u8; 32];
		let hash = |bytes: &[u8]| H256(sp_io::hashing::blake2_256(bytes));
		for (executor, output) in executors.iter().zip(outputs) {
			let committed = Self::commit(
				RawOrigin::Signed(executor.clone()).into(),
				id,
				commitment_of(&hash(output), &salt, executor),
			);
			assert!(committed.is_ok(), "benchmark executor commits: {committed:?}");
		}
		for (executor, output) in executors.iter().zip(outputs) {
			let revealed = Self::reveal(
				RawOrigin::Signed(executor.clone()).into(),
				id,
				hash(output),
				salt,
				Some(output.clone()),
				None,
			);
			assert!(revealed.is_ok(), "benchmark executor reveals: {revealed:?}");
		}
		// The results are compared at the next block.
		let next = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(next);
		<Self as Hooks<BlockNumberFor<T>>>::on_initialize(next);
		id
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn reconcile_for_benchmark(id: TaskId, root: H256) {
		ReconciledRoots::<T>::insert(id, root);
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn disagreed_items_for_benchmark(id: TaskId) -> u32 {
		DisagreedItems::<T>::decode_len(id).unwrap_or(0) as u32
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn make_batch_for_benchmark(id: TaskId, items: u32, inputs_root: H256, outputs_root: H256) {
		let Some(mut task) = Tasks::<T>::get(id) else { return };
		task.input = TaskInput::Batch {
			root: inputs_root,
			uri: BoundedVec::truncate_from(b"https://inputs.example/batch.json".to_vec()),
			items,
			audit_commitment: H256::zero(),
		};
		let first = task.assignments.iter().find_map(|a| a.output);
		for assignment in task.assignments.iter_mut() {
			if let Some(output) = assignment.output {
				assignment.output = Some(if Some(output) == first {
					outputs_root
				} else {
					H256(sp_io::hashing::blake2_256(&(outputs_root, output).encode()))
				});
			}
		}
		if task.result.is_some() {
			task.result = Some(outputs_root);
		}
		Tasks::<T>::insert(id, task);
	}
}
