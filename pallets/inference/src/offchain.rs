//! The executor off-chain worker: an agent node's bridge from its assigned tasks to its model.
//!
//! After every block it imports, a node that was given an inference endpoint (see
//! [`EndpointConfig`], written by the node from its `--inference-*` options) and holds an
//! operator key (key type `agnt`) in its keystore runs [`Pallet::run_executor`]:
//!
//! 1. For each operator key, the agent it acts for ([`AgentRegistry::agent_of`]) and that agent's
//!    open tasks, read from the [`AssignedTasks`] index: one prefix, never a scan of all tasks.
//! 2. A task in its commit phase that this node has not worked on yet: the node takes a
//!    persistent lock on it, calls the endpoint (with a deadline that ends before the commit
//!    deadline), hashes the output, derives a salt (secret, and the same each time the node
//!    answers this assignment: [`commitment_salt`](agentchain_primitives::offchain::commitment_salt)),
//!    writes all of it to offchain local storage, and only then submits `commit` as a signed
//!    transaction from the operator key.
//! 3. Once the task is in its reveal phase, it submits `reveal` with the stored output and salt.
//!
//! What the node did for a task is kept in offchain local storage ([`WorkRecord`], persistent
//! kind), so nothing is submitted twice across blocks or node restarts: a submission is repeated
//! only when it has not reached the chain [`RESUBMIT_AFTER`] blocks later. A call made in the
//! commit phase's first block that fails for a reason a second call may not have (the endpoint
//! unreachable, timed out, or answering 429 or 5xx: [`calls_again`]) is made once more by a later
//! block's run; a timeout also covers the node's clock stepped forward during the call. One more
//! call at most: a task whose calls keep failing cannot hold the worker's calls, and starve its
//! other tasks, for the whole commit phase. Any other failure (a 4xx status, malformed JSON, an
//! oversized body, an answer for another model, no time left, the second call) is logged with the
//! task id and not retried: the executor misses the deadline and the pallet reassigns or refunds
//! the task, as it does for any executor that fails.
//!
//! What decides the bytes committed to (the endpoint call, truncation, hashes, the budget of a
//! call) is [`agentchain_execution`]'s, shared with the edge agent (`agentchain agent run`).
//! Two rules make every honest node commit the same thing for the same task:
//!
//! - **Outputs longer than the chain keeps** (`MaxOutputLen` bytes) are cut to their longest
//!   prefix of at most `MaxOutputLen` bytes that ends on a character boundary
//!   ([`truncate_output`]).
//! - **A referenced input the node cannot obtain** (the URI fails or times out, serves bytes
//!   that do not hash to the task's input hash, or that are not UTF-8 text) is answered with
//!   [`INPUT_UNAVAILABLE`](crate::INPUT_UNAVAILABLE): the requester, who keeps the input, pays the attempt, and the
//!   executor is not slashed. The node's own faults (its endpoint) are never answered so.

use crate::{
	commitment_of, AgentRegistry, AssignedTasks, Call, Config, Pallet, TaskId, TaskInfo, TaskInput,
	TaskParams, TaskStatus, LOG_TARGET,
};
pub use agentchain_execution::{
	answer_hash, parse_completion, truncate_output, Fault, WorkRecord, RESUBMIT_AFTER,
	SUBMISSION_MARGIN_MS,
};
use agentchain_execution::{call_budget_ms, calls_again, checked_input, fetchable_uri, Sampling};
use agentchain_primitives::offchain::{
	forget_records, remember_record, store_if_absent, work_lock_key, EndpointConfig,
	ENDPOINT_CONFIG_KEY,
};
use agentchain_support::offchain::{send_signed_logged, Attempt};
use alloc::{format, string::String, vec, vec::Vec};
use codec::{Decode, Encode};
use frame_support::traits::Get;
use frame_system::{
	offchain::{Account, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_runtime::{
	offchain::{
		http,
		storage::{StorageRetrievalError, StorageValueRef},
		storage_lock::{BlockAndTime, StorageLock},
		Duration, HttpError, Timestamp,
	},
	SaturatedConversion,
};

/// Most tasks one run looks at per operator key (reading them costs the node, not the chain).
pub const MAX_TASKS_SCANNED: usize = 1024;

/// Most endpoint calls one run makes: as many tasks as a block's hook draws
/// (`MaxDeadlinesPerBlock` in the runtime), so that a fast endpoint keeps up with its draws. A run
/// also starts no call once it has lasted a block time; tasks left over are taken by the next
/// block's run.
pub const MAX_CALLS_PER_RUN: u32 = 64;

/// Most work records the node keeps track of; the oldest are dropped beyond it.
pub const MAX_WORK_RECORDS: usize = 1024;

/// Prefix of the offchain storage keys of work records.
const WORK_PREFIX: &[u8] = b"agentchain::inference::work::";
/// Prefix of the offchain storage keys of per-task locks.
const LOCK_PREFIX: &[u8] = b"agentchain::inference::lock::";
/// Offchain storage key of the list of live work records.
const WORK_INDEX_KEY: &[u8] = b"agentchain::inference::work-index";

/// The URL and JSON body of the endpoint call for a prompt (see
/// [`agentchain_execution::completion_request`]).
pub fn completion_request(
	config: &EndpointConfig,
	model: &str,
	prompt: &str,
	params: &TaskParams,
) -> (String, Vec<u8>) {
	let base = core::str::from_utf8(&config.base_url).unwrap_or_default();
	let sampling = Sampling {
		max_tokens: params.max_tokens,
		temperature_milli: params.temperature_milli,
		seed: params.seed,
	};
	agentchain_execution::completion_request(base, config.api, model, prompt, &sampling)
}

/// Sends a request and reads its response body, bounded by `max_bytes` and `deadline`.
///
/// A request whose connection fails (no response, or a response cut off) is sent once more
/// while time remains. The node's HTTP client keeps connections alive between calls, and servers
/// close idle ones after a timeout of their own (30 s for hyper's, 75 s for nginx's): a call made
/// as the server closes the connection it would reuse fails at once, though the endpoint is up.
/// The second attempt goes out on a new connection. Completion and input requests are
/// idempotent, so a second attempt costs the endpoint at most one more answer.
fn http_call<Body, Chunks>(
	request: http::Request<'_, Chunks>,
	max_bytes: u32,
	deadline: Timestamp,
) -> Result<Vec<u8>, Fault>
where
	Body: AsRef<[u8]>,
	Chunks: Default + IntoIterator<Item = Body> + Clone,
{
	match http_call_once(request.clone(), max_bytes, deadline) {
		Err(Fault::Unreachable) if sp_io::offchain::timestamp() < deadline => {
			http_call_once(request, max_bytes, deadline)
		},
		result => result,
	}
}

/// One attempt of [`http_call`].
fn http_call_once<Body: AsRef<[u8]>, Chunks: Default + IntoIterator<Item = Body>>(
	request: http::Request<'_, Chunks>,
	max_bytes: u32,
	deadline: Timestamp,
) -> Result<Vec<u8>, Fault> {
	let pending = request.deadline(deadline).send().map_err(|_| Fault::Unreachable)?;
	let mut response = pending
		.try_wait(deadline)
		.map_err(|_| Fault::Timeout)?
		.map_err(|error| failure(error == http::Error::DeadlineReached, deadline))?;
	if response.code != 200 {
		return Err(Fault::Status(response.code));
	}
	// A body declared longer than the limit is refused before any of it is read: the same
	// fault whatever becomes of the connection while a huge body streams in.
	let mut headers = response.headers().into_iter();
	while headers.next() {
		let Some((name, value)) = headers.current() else { continue };
		if name.eq_ignore_ascii_case("content-length")
			&& value.trim().parse::<u64>().is_ok_and(|len| len > u64::from(max_bytes))
		{
			return Err(Fault::Oversized);
		}
	}
	let mut body = Vec::new();
	let mut reader = response.body();
	reader.deadline(deadline);
	for byte in reader.by_ref() {
		if body.len() >= max_bytes as usize {
			return Err(Fault::Oversized);
		}
		body.push(byte);
	}
	match reader.error() {
		None => Ok(body),
		Some(error) => Err(failure(*error == HttpError::DeadlineReached, deadline)),
	}
}

/// The fault of a request that failed: past its deadline it timed out, however the HTTP layer
/// names the failure; before it, the endpoint could not be reached.
fn failure(deadline_reached: bool, deadline: Timestamp) -> Fault {
	if deadline_reached || sp_io::offchain::timestamp() >= deadline {
		Fault::Timeout
	} else {
		Fault::Unreachable
	}
}

impl<T: Config> Pallet<T> {
	/// One run of the executor off-chain worker, after block `now` was imported. Does nothing on
	/// a node without an endpoint configuration or without an operator key.
	pub fn run_executor(now: BlockNumberFor<T>) {
		let config = match StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).get::<EndpointConfig>()
		{
			Ok(Some(config)) => config,
			Ok(None) => return,
			Err(StorageRetrievalError::Undecodable) => {
				log::error!(target: LOG_TARGET, "the stored inference endpoint configuration is unreadable");
				return;
			},
		};
		let mut run = Run {
			config,
			now: now.saturated_into(),
			// Counted from the block's start: another pallet's worker may have run before this
			// one in the same block.
			started: agentchain_primitives::offchain::block_work_started(now.saturated_into()),
			calls: 0,
		};
		Self::forget_finished_work();
		for operator in Signer::<T, T::OperatorCrypto>::keystore_accounts() {
			let Some(agent) = T::AgentRegistry::agent_of(&operator.id) else { continue };
			for task in AssignedTasks::<T>::iter_key_prefix(&agent).take(MAX_TASKS_SCANNED) {
				Self::work_on(&mut run, &operator, &agent, task);
			}
		}
	}

	/// Moves one assigned task on, as far as this node can in this run.
	fn work_on(run: &mut Run, operator: &Account<T>, agent: &T::AccountId, id: TaskId) {
		let now = run.now;
		let Some(task) = crate::Tasks::<T>::get(id) else { return };
		let Some(assignment) = task.assignments.iter().find(|a| &a.executor == agent) else {
			return;
		};
		let key = work_key::<T>(id, agent, task.reassignments);
		let record = StorageValueRef::persistent(&key);
		let phase_ends: u64 = task.phase_ends.saturated_into();
		// Answers the task, to commit (`None`), or to open the commitment on chain whose record
		// was lost (killed before the database wrote it).
		let answer = |run: &mut Run, on_chain| {
			Self::execute(run, operator, agent, id, &task, &key, phase_ends, on_chain)
		};
		match (task.status, assignment.commitment, assignment.output) {
			(TaskStatus::Assigned, None, _) => match record.get::<WorkRecord>() {
				Ok(None) => answer(run, None),
				Ok(Some(WorkRecord::Working { output, salt, commit_sent_at, .. }))
					if now >= commit_sent_at.saturating_add(RESUBMIT_AFTER) =>
				{
					let commitment = commitment_of(&answer_hash(&output), &salt, agent);
					log::info!(target: LOG_TARGET, "task {id}: commitment not on chain yet, submitting it again");
					record.set(&WorkRecord::Working {
						output,
						salt,
						commit_sent_at: now,
						reveal_sent_at: None,
					});
					Self::submit(
						operator,
						id,
						Call::commit { task: id, commitment },
						now,
						Attempt::Resend,
					);
				},
				Ok(Some(_)) => {},
				Err(_) => {
					Self::remember_work(&key);
					record.set(&WorkRecord::Failed);
				},
			},
			(TaskStatus::Committed, Some(commitment), None) => match record.get::<WorkRecord>() {
				Ok(Some(WorkRecord::Working { output, salt, commit_sent_at, reveal_sent_at }))
					if reveal_sent_at
						.is_none_or(|sent| now >= sent.saturating_add(RESUBMIT_AFTER)) =>
				{
					let attempt =
						if reveal_sent_at.is_some() { Attempt::Resend } else { Attempt::First };
					let output_hash = answer_hash(&output);
					if commitment_of(&output_hash, &salt, agent) != commitment {
						log::error!(target: LOG_TARGET, "task {id}: the commitment on chain is not this node's; cannot reveal");
						record.set(&WorkRecord::Failed);
						return;
					}
					record.set(&WorkRecord::Working {
						output: output.clone(),
						salt,
						commit_sent_at,
						reveal_sent_at: Some(now),
					});
					Self::submit(
						operator,
						id,
						Call::reveal { task: id, output_hash, salt, output, uri: None },
						now,
						attempt,
					);
				},
				Ok(Some(_)) => {},
				// Committed, and the record lost: answer again, and reveal if the answer opens
				// the commitment.
				Ok(None) => answer(run, Some(commitment)),
				Err(_) => {
					log::error!(target: LOG_TARGET, "task {id}: committed, but this node's record of the result is unreadable; cannot reveal");
					Self::remember_work(&key);
					record.set(&WorkRecord::Failed);
				},
			},
			// Committed while other executors have not yet, and the record lost: the same.
			(TaskStatus::Assigned, Some(commitment), None) => {
				if matches!(record.get::<WorkRecord>(), Ok(None)) {
					answer(run, Some(commitment));
				}
			},
			// Revealed: done. The record stays (as `Done`) until the task leaves the index.
			(_, _, Some(_)) => {
				if matches!(record.get::<WorkRecord>(), Ok(Some(WorkRecord::Working { .. }))) {
					record.set(&WorkRecord::Done);
				}
			},
			_ => {},
		}
	}

	/// Calls the endpoint for a task and submits the commitment, before `phase_ends`. With
	/// `on_chain`, the commitment this node already made, and whose record it lost: stores the
	/// answer if it opens that commitment (the same answer: the salt is derived, not drawn), to
	/// be revealed, and submits nothing.
	#[allow(clippy::too_many_arguments)]
	fn execute(
		run: &mut Run,
		operator: &Account<T>,
		agent: &T::AccountId,
		id: TaskId,
		task: &TaskInfo<T>,
		key: &[u8],
		phase_ends: u64,
		on_chain: Option<sp_core::H256>,
	) {
		let (config, now) = (&run.config, run.now);
		// The block the commit phase started in: a transient fault there gets one more call.
		let first_block = (task.status == TaskStatus::Assigned && !task.extended)
			.then(|| phase_ends.saturating_sub(task.commit_period.saturated_into::<u64>()));
		// The commitment must be in a block before `phase_ends`; the earliest it can be in is
		// the next one. The call gets what is left, minus a margin, within the node's timeout,
		// counted from the start of this run (whose state is that of block `now`).
		let blocks_left = agentchain_execution::blocks_left(phase_ends, now);
		let budget_ms =
			call_budget_ms(phase_ends, now, config.block_time_ms).min(config.timeout_ms);
		let lock_key = work_lock_key(LOCK_PREFIX, &key[WORK_PREFIX.len()..]);
		let mut lock =
			StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
				&lock_key,
				blocks_left.saturating_add(1).saturated_into(),
				Duration::from_millis(budget_ms.saturating_add(SUBMISSION_MARGIN_MS)),
			);
		let deadline = run.started.add(Duration::from_millis(budget_ms));
		let clock = sp_io::offchain::timestamp();
		// This run has made its calls, or has run for a block already: a later run, on fresher
		// state, takes the task (the deadline is not lost: it is counted from that run's start).
		if budget_ms > 0
			&& (run.calls >= MAX_CALLS_PER_RUN
				|| clock.diff(&run.started).millis() >= config.block_time_ms
				|| clock >= deadline)
		{
			return;
		}
		// Another run of the worker holds the task: it is working on it.
		let Ok(_guard) = lock.try_lock() else { return };
		let record = StorageValueRef::persistent(key);
		if !matches!(record.get::<WorkRecord>(), Ok(None)) {
			return;
		}
		Self::remember_work(key);

		let result = if budget_ms == 0 {
			Err(Fault::TooLate)
		} else {
			run.calls += 1;
			Self::infer(&run.config, task, deadline)
		};
		let output = match result {
			Ok(output) => Some(output),
			Err(fault) if fault.is_input_fault() => {
				log::warn!(
					target: LOG_TARGET,
					"task {id}: {fault}; answering that the input is unavailable",
				);
				None
			},
			// Not given up: a later block's run calls once more, with the time then left (none
			// left is `TooLate`, which gives up).
			Err(fault) if calls_again(&fault, now, first_block) => {
				log::warn!(target: LOG_TARGET, "task {id}: {fault}; calling once more at a later block");
				return;
			},
			Err(fault) => {
				log::warn!(
					target: LOG_TARGET,
					"task {id}: {fault}; no result committed, the task will expire for this executor",
				);
				record.set(&WorkRecord::Failed);
				return;
			},
		};
		// The same for the same assignment, each time this node answers it.
		let salt = agentchain_primitives::offchain::commitment_salt(key);
		let commitment = commitment_of(&answer_hash(&output), &salt, agent);
		if on_chain.is_some_and(|made| made != commitment) {
			log::error!(target: LOG_TARGET, "task {id}: this node lost its record of the result, and its answer now does not open the commitment on chain; cannot reveal");
			record.set(&WorkRecord::Failed);
			return;
		}
		// Stored before the commitment is sent: a node restarted after this point reveals this
		// output, and never commits to another. Stored only if no result is stored yet: only the
		// first result stored is ever committed.
		let working =
			WorkRecord::Working { output, salt, commit_sent_at: now, reveal_sent_at: None };
		if !store_if_absent(&record, working) {
			log::info!(target: LOG_TARGET, "task {id}: another worker stored its result first; this one is dropped");
			return;
		}
		if on_chain.is_some() {
			log::info!(target: LOG_TARGET, "task {id}: lost record of the result restored: the answer opens the commitment on chain");
			return;
		}
		log::info!(target: LOG_TARGET, "task {id}: result ready, submitting the commitment");
		Self::submit(operator, id, Call::commit { task: id, commitment }, now, Attempt::First);
	}

	/// The task's output from the endpoint.
	fn infer(
		config: &EndpointConfig,
		task: &TaskInfo<T>,
		deadline: Timestamp,
	) -> Result<Vec<u8>, Fault> {
		let model = config.model_name(&task.model).ok_or(Fault::UnknownModel)?;
		let model = core::str::from_utf8(model).map_err(|_| Fault::UnknownModel)?;
		let prompt = match &task.input {
			TaskInput::Inline(bytes) => bytes.to_vec(),
			TaskInput::Reference { hash, uri } => {
				let uri = fetchable_uri(uri).ok_or(Fault::InputUnavailable)?;
				let bytes = http_call(http::Request::get(uri), config.max_response_bytes, deadline)
					.map_err(|_| Fault::InputUnavailable)?;
				checked_input(bytes, hash)?.into_bytes()
			},
			TaskInput::Batch { .. } => return Err(Fault::Batch),
		};
		let prompt = core::str::from_utf8(&prompt).map_err(|_| Fault::InputNotText)?;
		let (url, body) = completion_request(config, model, prompt, &task.params);
		let mut request = http::Request::post(&url, vec![body])
			.add_header("Content-Type", "application/json")
			.add_header("Accept", "application/json");
		let authorization;
		if let Some(key) = &config.api_key {
			authorization = format!("Bearer {}", String::from_utf8_lossy(key));
			request = request.add_header("Authorization", &authorization);
		}
		let body = http_call(request, config.max_response_bytes, deadline)?;
		let output = parse_completion(&body, model)?;
		Ok(truncate_output(output, T::MaxOutputLen::get() as usize))
	}

	/// Runs task `id` against this node's endpoint as its executors were asked to, for a
	/// verifier re-executing a disputed task (see `pallet-challenges`): the output, or `None`
	/// when the referenced input cannot be obtained.
	pub fn execute_for_verification(id: TaskId, timeout_ms: u64) -> Result<Option<Vec<u8>>, Fault> {
		let config = match StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).get::<EndpointConfig>()
		{
			Ok(Some(config)) => config,
			_ => return Err(Fault::NoEndpoint),
		};
		let task = crate::Tasks::<T>::get(id).ok_or(Fault::UnknownTask)?;
		let deadline = sp_io::offchain::timestamp()
			.add(Duration::from_millis(timeout_ms.min(config.timeout_ms)));
		match Self::infer(&config, &task, deadline) {
			Ok(output) => Ok(Some(output)),
			Err(fault) if fault.is_input_fault() => Ok(None),
			Err(fault) => Err(fault),
		}
	}

	/// Submits a call as a signed transaction from the operator key (see
	/// [`agentchain_support::offchain`]): a first attempt at the next reserved nonce, a resend at
	/// the lowest nonce the chain has not used.
	fn submit(operator: &Account<T>, id: TaskId, call: Call<T>, now: u64, attempt: Attempt) {
		// The outcome is logged; a transaction not sent is sent again by the next block's worker
		// while the duty is still due.
		let _ = send_signed_logged::<T, T::OperatorCrypto, _>(
			operator,
			call,
			attempt,
			now,
			format_args!("task {id}"),
		);
	}

	/// Adds a work record to the index of live records, dropping the oldest beyond
	/// [`MAX_WORK_RECORDS`].
	fn remember_work(key: &[u8]) {
		remember_record(WORK_INDEX_KEY, key, MAX_WORK_RECORDS);
	}

	/// Clears the records of tasks no longer assigned to the agents they were kept for.
	fn forget_finished_work() {
		forget_records(WORK_INDEX_KEY, |key| {
			!decode_work_key::<T>(key)
				.is_some_and(|(task, agent)| AssignedTasks::<T>::contains_key(&agent, task))
		});
	}
}

/// One run of the worker: the endpoint, the block it runs after, when it started, and how many
/// endpoint calls it made.
struct Run {
	config: EndpointConfig,
	now: u64,
	started: Timestamp,
	calls: u32,
}

/// The offchain storage key of the work record of `agent` on round `round` of task `id`.
fn work_key<T: Config>(id: TaskId, agent: &T::AccountId, round: u32) -> Vec<u8> {
	[WORK_PREFIX, &(id, agent, round).encode()].concat()
}

/// The task and agent of a work record's key.
fn decode_work_key<T: Config>(key: &[u8]) -> Option<(TaskId, T::AccountId)> {
	let mut encoded = key.strip_prefix(WORK_PREFIX)?;
	let (id, agent, _round) = <(TaskId, T::AccountId, u32)>::decode(&mut encoded).ok()?;
	Some((id, agent))
}

/// What a juror's off-chain worker (`pallet-challenges`) asks of this pallet.
impl<T: Config> agentchain_primitives::inference::OffchainExecution for Pallet<T> {
	fn execute_offchain(id: TaskId, timeout_ms: u64) -> Result<Option<Vec<u8>>, Fault> {
		Self::execute_for_verification(id, timeout_ms)
	}
}

#[cfg(test)]
mod tests;
