//! Benchmarks of the inference pallet, each at its worst case.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate as _;
use frame_system::RawOrigin;

const SEED: u32 = 0;

fn model() -> ModelId {
	ModelId::repeat_byte(0x42)
}

fn params() -> TaskParams {
	TaskParams { max_tokens: 64, temperature_milli: 0, seed: 1, mode: VerificationMode::ExactMatch }
}

fn fee<T: Config>() -> BalanceOf<T> {
	T::MinFeePerExecutor::get()
		.saturating_mul(T::MaxRedundancy::get().into())
		.saturating_mul(10u32.into())
}

/// Fills the model's candidate set, so that every selection reads as many records as it can.
fn executors<T: Config>() {
	for i in 0..T::Agents::max_candidates() {
		let who: T::AccountId = account("executor", i, SEED);
		T::BenchmarkHelper::register_executor(&who, model());
	}
}

fn requester<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("requester", 0, SEED);
	T::Currency::set_balance(&who, fee::<T>().saturating_mul(1_000u32.into()));
	who
}

/// Submits a task with the largest redundancy and returns its id.
fn submitted<T: Config>(requester: &T::AccountId) -> TaskId {
	let id = NextTaskId::<T>::get();
	Pallet::<T>::submit_task(
		RawOrigin::Signed(requester.clone()).into(),
		model(),
		TaskInputOf::Inline(vec![b'p'; T::MaxInputLen::get() as usize]),
		params(),
		fee::<T>(),
		T::MaxRedundancy::get(),
		T::MinCommitPeriod::get(),
	)
	.expect("task can be submitted");
	id
}

fn output(n: u32) -> Vec<u8> {
	vec![b'o'; n as usize]
}

fn salt() -> [u8; 32] {
	[9u8; 32]
}

fn commit_as<T: Config>(id: TaskId, executor: &T::AccountId, output_hash: H256) {
	Pallet::<T>::commit(
		RawOrigin::Signed(executor.clone()).into(),
		id,
		commitment_of(&output_hash, &salt(), executor),
	)
	.expect("assigned executor commits");
}

/// Fills the deadline queues of the `SCHEDULE_SEARCH - 1` blocks from `from` to capacity with
/// placeholder ids (of no task), so that scheduling into them searches as far as it can.
fn fill_queues<T: Config>(from: BlockNumberFor<T>) {
	let mut placeholder = TaskId::MAX;
	for offset in 0..SCHEDULE_SEARCH.saturating_sub(1) {
		Deadlines::<T>::mutate(from.saturating_add(offset.into()), |queue| {
			while queue.try_push(placeholder).is_ok() {
				placeholder = placeholder.saturating_sub(1);
			}
		});
	}
}

fn now<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number()
}

fn assigned<T: Config>(id: TaskId) -> Vec<T::AccountId> {
	Tasks::<T>::get(id)
		.map(|task| task.assignments.iter().map(|a| a.executor.clone()).collect())
		.unwrap_or_default()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `r` executors drawn from a full candidate set; an inline input of `i` bytes; the commit
	/// deadline found after searching past full queues.
	#[benchmark]
	fn submit_task(
		r: Linear<1, { T::MaxRedundancy::get() }>,
		i: Linear<0, { T::MaxInputLen::get() }>,
	) {
		executors::<T>();
		let requester = requester::<T>();
		fill_queues::<T>(now::<T>().saturating_add(T::MinCommitPeriod::get()));

		#[extrinsic_call]
		_(
			RawOrigin::Signed(requester),
			model(),
			TaskInputOf::Inline(vec![b'p'; i as usize]),
			params(),
			fee::<T>(),
			r,
			T::MinCommitPeriod::get(),
		);

		assert_eq!(Tasks::<T>::get(0).map(|t| t.assignments.len() as u32), Some(r));
	}

	/// The last commitment, which moves the task to its reveal phase, whose deadline is found
	/// after searching past full queues.
	#[benchmark]
	fn commit() {
		executors::<T>();
		let id = submitted::<T>(&requester::<T>());
		fill_queues::<T>(now::<T>().saturating_add(T::RevealPeriod::get()));
		let chosen = assigned::<T>(id);
		let output_hash = H256(sp_io::hashing::blake2_256(&output(1)));
		let (last, others) = chosen.split_last().expect("at least one executor");
		for executor in others {
			commit_as::<T>(id, executor, output_hash);
		}
		let commitment = commitment_of(&output_hash, &salt(), last);

		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), id, commitment);

		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(TaskStatus::Committed));
	}

	/// The last reveal, with an inline output of `o` bytes and a URI: every executor revealed a
	/// different output, so each reveal stores its output and the last one opens a dispute.
	#[benchmark]
	fn reveal(o: Linear<1, { T::MaxOutputLen::get() }>) {
		executors::<T>();
		let id = submitted::<T>(&requester::<T>());
		let chosen = assigned::<T>(id);
		let outputs: Vec<Vec<u8>> = (0..chosen.len())
			.map(|i| {
				let mut bytes = output(o);
				bytes[0] = i as u8;
				bytes
			})
			.collect();
		let hashes: Vec<H256> =
			outputs.iter().map(|bytes| H256(sp_io::hashing::blake2_256(bytes))).collect();
		for (executor, hash) in chosen.iter().zip(&hashes) {
			commit_as::<T>(id, executor, *hash);
		}
		let last = chosen.len() - 1;
		for i in 0..last {
			Pallet::<T>::reveal(
				RawOrigin::Signed(chosen[i].clone()).into(),
				id,
				hashes[i],
				salt(),
				Some(outputs[i].clone()),
				None,
			)
			.expect("committed executor reveals");
		}
		let uri = vec![b'u'; T::MaxUriLen::get() as usize];
		fill_queues::<T>(now::<T>().saturating_add(T::DisputeTimeout::get()));

		#[extrinsic_call]
		_(
			RawOrigin::Signed(chosen[last].clone()),
			id,
			hashes[last],
			salt(),
			Some(outputs[last].clone()),
			Some(uri),
		);

		let expected = if last > 0 { TaskStatus::Disputed } else { TaskStatus::Revealed };
		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(expected));
	}

	/// A revealed task left over past its challenge window, finalised by anyone: every
	/// executor paid.
	#[benchmark]
	fn finalize() {
		executors::<T>();
		let id = submitted::<T>(&requester::<T>());
		let chosen = assigned::<T>(id);
		let bytes = output(1);
		let output_hash = H256(sp_io::hashing::blake2_256(&bytes));
		for executor in &chosen {
			commit_as::<T>(id, executor, output_hash);
		}
		for executor in &chosen {
			Pallet::<T>::reveal(
				RawOrigin::Signed(executor.clone()).into(),
				id,
				output_hash,
				salt(),
				Some(bytes.clone()),
				None,
			)
			.expect("committed executor reveals");
		}
		let ends = Tasks::<T>::get(id).map(|t| t.phase_ends).unwrap_or_default();
		frame_system::Pallet::<T>::set_block_number(ends.saturating_add(1u32.into()));
		fill_queues::<T>(now::<T>().saturating_add(T::RetentionPeriod::get()));
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(TaskStatus::Finalised));
	}

	/// A block with no task due, while tasks are open: the hook only reads its empty queue.
	#[benchmark]
	fn on_initialize_idle() {
		executors::<T>();
		let id = submitted::<T>(&requester::<T>());
		let block = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}

		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(TaskStatus::Assigned));
	}

	/// `n` tasks due in the block, each in the costliest transition: no executor committed, so
	/// every executor is slashed and the task is reassigned from a full candidate set.
	#[benchmark]
	fn on_initialize(n: Linear<1, { T::MaxDeadlinesPerBlock::get() }>) {
		executors::<T>();
		let requester = requester::<T>();
		let mut due = None;
		let mut ids = Vec::new();
		for _ in 0..n {
			let id = submitted::<T>(&requester);
			let ends = Tasks::<T>::get(id).map(|t| t.phase_ends).unwrap_or_default();
			// Keep every task in one block's queue.
			let block = *due.get_or_insert(ends);
			if ends != block {
				Pallet::<T>::unschedule(id, ends);
				Deadlines::<T>::mutate(block, |queue| queue.try_push(id).expect("queue has room"));
				Tasks::<T>::mutate(id, |t| {
					if let Some(t) = t {
						t.phase_ends = block;
					}
				});
			}
			ids.push(id);
		}
		let block = due.unwrap_or_else(|| frame_system::Pallet::<T>::block_number());
		frame_system::Pallet::<T>::set_block_number(block);
		// Every reassignment searches past full queues for its new commit deadline.
		fill_queues::<T>(block.saturating_add(T::MinCommitPeriod::get()));

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}

		for id in ids {
			assert_eq!(Tasks::<T>::get(id).map(|t| t.reassignments), Some(1));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
