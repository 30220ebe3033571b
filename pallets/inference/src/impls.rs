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
		Queue::<T>::unschedule(&id, task.phase_ends);
		Self::start_dispute(id, &mut task, now);
		Tasks::<T>::insert(id, &task);
		Ok(Self::disputed_view(&task))
	}

	fn resolve(id: TaskId, resolution: Resolution) -> DispatchResult {
		let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
		ensure!(task.status == TaskStatus::Disputed, Error::<T>::WrongPhase);
		let now = frame_system::Pallet::<T>::block_number();
		Queue::<T>::unschedule(&id, task.phase_ends);
		let revealed = |output: &H256| {
			*output != INPUT_UNAVAILABLE
				&& task.assignments.iter().any(|a| a.output == Some(*output))
		};
		let outcome = match resolution {
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
		T::WeightInfo::finalize().saturating_add(T::OnFinalised::max_weight())
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
}
