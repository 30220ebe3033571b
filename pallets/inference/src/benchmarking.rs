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

fn params<T: Config>() -> TaskParams {
	let max_tokens = T::MaxTokens::get()
		.min(T::TokensPerBlock::get().saturating_mul(T::MinCommitPeriod::get().saturated_into()));
	TaskParams { max_tokens, temperature_milli: 0, seed: 1, mode: VerificationMode::ExactMatch }
}

fn fee<T: Config>() -> BalanceOf<T> {
	T::MinFeePerExecutor::get()
		.saturating_mul(T::MaxRedundancy::get().into())
		.saturating_mul(10u32.into())
}

/// Fills the model's candidate set with active executors.
fn executors<T: Config>() {
	for i in 0..T::AgentRegistry::max_candidates() {
		let who: T::AccountId = account("executor", i, SEED);
		T::AgentRegistry::register_for_benchmark(&who, model(), Role::Executor);
	}
}

/// Fills the model's candidate set with `live` active executors and, before them, ones staked
/// 1,000 times more, slashed a unit and with all their stake held for open work: a draw of
/// `live` executors lands on these, is rejected, ends with a scan of every record and writes
/// the set with their seats corrected, its most expensive path.
fn crowded_executors<T: Config>(live: u32) {
	let max = T::AgentRegistry::max_candidates();
	for i in live..max {
		let who: T::AccountId = account("executor", i, SEED);
		T::AgentRegistry::register_locked_heavyweight_for_benchmark(&who, model(), Role::Executor);
	}
	for i in 0..live.min(max) {
		let who: T::AccountId = account("executor", i, SEED);
		T::AgentRegistry::register_for_benchmark(&who, model(), Role::Executor);
	}
}

fn requester<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("requester", 0, SEED);
	T::Currency::set_balance(&who, fee::<T>().saturating_mul(1_000u32.into()));
	who
}

/// Submits a task with `r` executors and returns its id (waiting for its draw).
fn submitted_with<T: Config>(requester: &T::AccountId, r: u32) -> TaskId {
	let id = NextTaskId::<T>::get();
	Pallet::<T>::submit_task(
		RawOrigin::Signed(requester.clone()).into(),
		model(),
		TaskInput::Inline(vec![b'p'; T::MaxInputLen::get() as usize]),
		params::<T>(),
		fee::<T>(),
		r,
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

fn assigned<T: Config>(id: TaskId) -> Vec<T::AccountId> {
	Tasks::<T>::get(id)
		.map(|task| task.assignments.iter().map(|a| a.executor.clone()).collect())
		.unwrap_or_default()
}

/// Moves on to the block where task `id` is due and takes it out of its queue, as the hook
/// does before processing it; returns that block.
fn due<T: Config>(id: TaskId) -> BlockNumberFor<T> {
	let block = Tasks::<T>::get(id).map(|t| t.phase_ends).unwrap_or_default();
	Queue::<T>::unschedule(&id, block);
	frame_system::Pallet::<T>::set_block_number(block);
	block
}

/// Processes task `id`'s deadline as the hook would at its block.
fn process<T: Config>(id: TaskId) {
	let block = due::<T>(id);
	Pallet::<T>::process_deadline(id, block);
}

/// A task with `r` executors, drawn from a full candidate set, in its commit phase.
fn assigned_task<T: Config>(r: u32) -> TaskId {
	let id = NextTaskId::<T>::get();
	Pallet::<T>::submit_task(
		RawOrigin::Signed(requester::<T>()).into(),
		model(),
		TaskInput::Inline(vec![b'p'; T::MaxInputLen::get() as usize]),
		params::<T>(),
		fee::<T>(),
		r,
		T::MinCommitPeriod::get(),
	)
	.expect("task can be submitted");
	process::<T>(id);
	id
}

/// A task with `r` executors that all revealed the same output: in its challenge window.
fn revealed_task<T: Config>(r: u32) -> TaskId {
	let id = assigned_task::<T>(r);
	let chosen = assigned::<T>(id);
	let bytes = output(T::MaxOutputLen::get());
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
			Some(vec![b'u'; T::MaxUriLen::get() as usize]),
		)
		.expect("committed executor reveals");
	}
	// The hook compares the results at the next block.
	process::<T>(id);
	id
}

/// A task whose `r` executors all revealed a different output of `o` bytes (the last with the
/// longest URI): its reveal phase over, its results not yet compared.
fn disagreeing_reveals<T: Config>(r: u32, o: u32, last_reveals: bool) -> (TaskId, T::AccountId) {
	let id = assigned_task::<T>(r);
	let chosen = assigned::<T>(id);
	let outputs: Vec<Vec<u8>> = (0..chosen.len())
		.map(|i| {
			let mut bytes = output(o);
			bytes[0] = b'a' + i as u8;
			bytes
		})
		.collect();
	let hashes: Vec<H256> =
		outputs.iter().map(|bytes| H256(sp_io::hashing::blake2_256(bytes))).collect();
	for (executor, hash) in chosen.iter().zip(&hashes) {
		commit_as::<T>(id, executor, *hash);
	}
	let last = chosen.len() - 1;
	let revealing = if last_reveals { chosen.len() } else { last };
	for i in 0..revealing {
		let uri = (i == last).then(|| vec![b'u'; T::MaxUriLen::get() as usize]);
		Pallet::<T>::reveal(
			RawOrigin::Signed(chosen[i].clone()).into(),
			id,
			hashes[i],
			salt(),
			Some(outputs[i].clone()),
			uri,
		)
		.expect("committed executor reveals");
	}
	(id, chosen[last].clone())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `r` executors checked for in a full candidate set, found after passing over `c` members
	/// whose stake is all reserved by other work (`r + c` records read); an inline input of `i`
	/// bytes; the fee and deposit held from the free balance (`h` = 1) or taken from prepaid
	/// funds (`h` = 0).
	#[benchmark]
	fn submit_task(
		r: Linear<1, { T::MaxRedundancy::get() }>,
		i: Linear<0, { T::MaxInputLen::get() }>,
		c: Linear<
			0,
			{ T::AgentRegistry::max_candidates().saturating_sub(T::MaxRedundancy::get()) },
		>,
		h: Linear<0, 1>,
	) {
		executors::<T>();
		for n in 0..c {
			let member: T::AccountId = account("executor", n, SEED);
			let free = T::AgentRegistry::free_stake_of(&member);
			T::AgentRegistry::note_work_opened(&member, free, 0).expect("the stake is free");
		}
		let requester = requester::<T>();
		let collateral = Pallet::<T>::executor_collateral(fee::<T>() / r.into());
		assert_eq!(
			T::AgentRegistry::has_available(Role::Executor, &model(), r, &[], collateral, None),
			(true, r + c),
			"the check reads the c members passed over and the r found"
		);
		if h == 0 {
			Pallet::<T>::prepay(
				RawOrigin::Signed(requester.clone()).into(),
				fee::<T>().saturating_mul(100u32.into()),
			)
			.expect("the requester can prepay");
		}
		let free = T::Currency::balance(&requester);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(requester.clone()),
			model(),
			TaskInput::Inline(vec![b'p'; i as usize]),
			params::<T>(),
			fee::<T>(),
			r,
			T::MinCommitPeriod::get(),
		);

		assert_eq!(Tasks::<T>::get(0).map(|t| t.status), Some(TaskStatus::Submitted));
		assert_eq!(
			T::Currency::balance(&requester) < free,
			h == 1,
			"held only without prepaid funds"
		);
	}

	/// Funds prepaid by a requester holding nothing yet (its first hold).
	#[benchmark]
	fn prepay() {
		let requester = requester::<T>();
		let amount = fee::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(requester.clone()), amount);

		assert_eq!(Prepaid::<T>::get(&requester), amount);
	}

	/// All of a requester's prepaid funds withdrawn (its hold and record removed).
	#[benchmark]
	fn withdraw_prepaid() {
		let requester = requester::<T>();
		let amount = fee::<T>();
		Pallet::<T>::prepay(RawOrigin::Signed(requester.clone()).into(), amount)
			.expect("the requester can prepay");

		#[extrinsic_call]
		_(RawOrigin::Signed(requester.clone()), amount);

		assert!(!Prepaid::<T>::contains_key(&requester));
	}

	/// A batch's requester revealing its audit secret once the window has ended: the task read
	/// and written, the secret stored, its deadline moved to the next block. (The batch is a
	/// revealed task given a batch's input: drawing a batch needs its verifiers registered,
	/// and the call reads nothing else of it.)
	#[benchmark]
	fn reveal_audit_secret() {
		executors::<T>();
		let id = revealed_task::<T>(1);
		let secret = H256::repeat_byte(5);
		Tasks::<T>::mutate(id, |task| {
			if let Some(task) = task {
				task.input = TaskInput::Batch {
					root: H256::repeat_byte(1),
					uri: BoundedVec::truncate_from(vec![b'u'; T::MaxUriLen::get() as usize]),
					items: 2,
					audit_commitment: hash_of(secret.as_bytes()),
				};
			}
		});
		// Its window ended at this block: the secret is awaited until the wait's end.
		let block = due::<T>(id);
		let until = Queue::<T>::schedule(&id, block.saturating_add(T::AuditSecretPeriod::get()));
		Tasks::<T>::mutate(id, |task| {
			if let Some(task) = task {
				task.phase_ends = until;
			}
		});
		AwaitedAuditSecrets::<T>::insert(id, AwaitedSecret::default());
		let requester = Tasks::<T>::get(id).expect("the task is stored").requester;

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), id, secret);

		assert_eq!(AuditSecrets::<T>::get(id), Some(secret));
	}

	/// The last commitment, which moves the task to its reveal phase.
	#[benchmark]
	fn commit() {
		executors::<T>();
		let id = assigned_task::<T>(T::MaxRedundancy::get());
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
	/// different output, so each reveal stores its output; the last one ends the reveal phase.
	#[benchmark]
	fn reveal(o: Linear<1, { T::MaxOutputLen::get() }>) {
		executors::<T>();
		let (id, last) = disagreeing_reveals::<T>(T::MaxRedundancy::get(), o, false);
		let task = Tasks::<T>::get(id).expect("the task is stored");
		let assignment = task.assignments.iter().find(|a| a.executor == last);
		let commitment = assignment.and_then(|a| a.commitment).expect("the last one committed");
		let mut bytes = output(o);
		bytes[0] = b'a' + (task.assignments.len() - 1) as u8;
		let hash = H256(sp_io::hashing::blake2_256(&bytes));
		assert_eq!(commitment_of(&hash, &salt(), &last), commitment);
		let uri = vec![b'u'; T::MaxUriLen::get() as usize];
		let now = frame_system::Pallet::<T>::block_number();

		#[extrinsic_call]
		_(RawOrigin::Signed(last), id, hash, salt(), Some(bytes), Some(uri));

		let task = Tasks::<T>::get(id).expect("the task is stored");
		assert_eq!(task.status, TaskStatus::Committed);
		assert_eq!(task.phase_ends, now + 1u32.into());
	}

	/// The end of a reveal phase in which the `r` executors revealed different outputs of the
	/// longest length: the hook compares them and opens a dispute, or, where no jury can be
	/// drawn, pays every output (the handlers' weights are charged on top of this measure).
	#[benchmark]
	fn process_reveals(r: Linear<1, { T::MaxRedundancy::get() }>) {
		executors::<T>();
		let (id, _) = disagreeing_reveals::<T>(r, T::MaxOutputLen::get(), true);
		let block = due::<T>(id);

		#[block]
		{
			Pallet::<T>::process_deadline(id, block);
		}

		let status = Tasks::<T>::get(id).map(|t| t.status);
		if r > 1 {
			assert!(matches!(status, Some(TaskStatus::Disputed | TaskStatus::Finalised)));
		} else {
			assert_eq!(status, Some(TaskStatus::Revealed));
		}
	}

	/// A revealed task left over past its challenge window, finalised by anyone through
	/// `advance`: every executor paid.
	#[benchmark]
	fn finalize() {
		executors::<T>();
		let id = revealed_task::<T>(T::MaxRedundancy::get());
		let ends = Tasks::<T>::get(id).map(|t| t.phase_ends).unwrap_or_default();
		frame_system::Pallet::<T>::set_block_number(ends.saturating_add(1u32.into()));
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		advance(RawOrigin::Signed(caller), id);

		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(TaskStatus::Finalised));
	}

	/// A block with no task due, while tasks are open: the hook reads its empty queue.
	#[benchmark]
	fn on_initialize_idle() {
		executors::<T>();
		let id = assigned_task::<T>(T::MaxRedundancy::get());
		let block = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::on_initialize(block);
		}

		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(TaskStatus::Assigned));
	}

	/// A submitted task's draw: `r` executors from a full candidate set whose other members
	/// have 1,000 times their stake, all of it held for open work and their seats a unit above
	/// it (every record read, the set written), each reserving its collateral.
	#[benchmark]
	fn process_draw(r: Linear<1, { T::MaxRedundancy::get() }>) {
		crowded_executors::<T>(r);
		let id = submitted_with::<T>(&requester::<T>(), r);
		let block = due::<T>(id);

		#[block]
		{
			Pallet::<T>::process_deadline(id, block);
		}

		assert_eq!(assigned::<T>(id).len() as u32, r);
	}

	/// A commit deadline that none of the `r` executors met: each is slashed and released, and
	/// the task waits for a new draw.
	#[benchmark]
	fn process_missed(r: Linear<1, { T::MaxRedundancy::get() }>) {
		executors::<T>();
		let id = assigned_task::<T>(r);
		let block = due::<T>(id);

		#[block]
		{
			Pallet::<T>::process_deadline(id, block);
		}

		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(TaskStatus::Submitted));
	}

	/// The end of a challenge window without an audit: the `r` executors that revealed the
	/// result are paid, with the protocol cut.
	#[benchmark]
	fn process_window_end(r: Linear<1, { T::MaxRedundancy::get() }>) {
		executors::<T>();
		let id = revealed_task::<T>(r);
		let block = due::<T>(id);

		#[block]
		{
			Pallet::<T>::process_deadline(id, block);
		}

		assert_eq!(Tasks::<T>::get(id).map(|t| t.status), Some(TaskStatus::Finalised));
	}

	/// Pruning a finished task with the most outputs stored: as many different outputs, of the
	/// longest length, as it had executors (a disagreement, judged or paid without a jury);
	/// its deposit held apart but for a unit, as a task submitted before runtime spec 126
	/// beside a later one, so that both holds are released from.
	#[benchmark]
	fn process_prune() {
		executors::<T>();
		let r = T::MaxRedundancy::get();
		let (id, _) = disagreeing_reveals::<T>(r, T::MaxOutputLen::get(), true);
		assert_eq!(Outputs::<T>::iter_prefix(id).count() as u32, r);
		let task = Tasks::<T>::get(id).expect("the task is stored");
		let apart = task.deposit.saturating_sub(1u32.into());
		if !apart.is_zero() {
			T::Currency::release(
				&HoldReason::TaskEscrow.into(),
				&task.requester,
				apart,
				Precision::Exact,
			)
			.expect("the deposit is held");
			T::Currency::hold(&HoldReason::TaskDeposit.into(), &task.requester, apart)
				.expect("the deposit was just released");
		}
		let block = frame_system::Pallet::<T>::block_number();
		Tasks::<T>::mutate(id, |task| {
			if let Some(task) = task {
				task.status = TaskStatus::Expired;
			}
		});

		#[block]
		{
			Pallet::<T>::process_deadline(id, block);
		}

		assert!(!Tasks::<T>::contains_key(id));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_bench_ext(), crate::mock::Test);
}
