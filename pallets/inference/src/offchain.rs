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
//! **Batches** (`docs/batches.md`) are run by a node given an outputs URL
//! ([`OUTPUTS_URL_KEY`], `--inference-outputs-url`); without one it leaves them
//! (its record says it gave up). The node fetches the inputs document once and checks it
//! against the chain's root, count and bounds (a document that fails is answered
//! `INPUT_UNAVAILABLE`, as a referenced input is), keeps it, and runs the items in order with
//! [`run_items`], after every single task of the run, for a block (five sixths while it sits on
//! juries) and at most `BatchCallsPerRun` calls a run. Batches go the earliest commit deadline
//! first ([`deadline_order`]), but a batch that the node, at the speed it measured
//! ([`call_time_us`]), can no longer finish in time after those before it goes after them all. Outputs are stored by pages of [`OUTPUTS_PAGE`]
//! items, each page when full or when the run stops, then the progress: across blocks and
//! restarts no item is run twice but those of a page the node had not written when it stopped.
//! A transient fault is called again at a later block
//! while the commit phase lasts; any other gives up. With the last item done, it commits to the
//! outputs root; in the reveal phase it publishes the outputs document with `PUT` under the
//! outputs URL (at a name unique to the assignment) and reveals the root with the document's
//! URI. The batch's inputs and outputs are cleared with its record (not when the record is
//! dropped as the oldest of more than [`MAX_WORK_RECORDS`]).
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
//! - **A prompt the endpoint refuses on its content policy** (a 400 or 422 whose error is
//!   `content_filter` or `content_policy_violation`, or a choice finished by `content_filter`)
//!   is answered with the output [`REFUSED`](agentchain_execution::REFUSED), judged as any other
//!   output: a jury whose endpoints answer the prompt finds it wrong. Any other error status (a
//!   401, 403, 404 or 413: the node's own setup) is a fault, never an answer.

use crate::{
	commitment_of, AgentRegistry, AssignedTasks, Call, Config, Pallet, TaskId, TaskInfo, TaskInput,
	TaskParams, TaskStatus, LOG_TARGET,
};
pub use agentchain_execution::{
	answer_hash, completion_output, parse_completion, truncate_output, Answer, Fault, WorkRecord,
	RESUBMIT_AFTER, SUBMISSION_MARGIN_MS,
};
use agentchain_execution::{
	batch::{deadline_order, run_items, BatchPause, BatchProgress},
	call_budget_ms, calls_again, checked_input, cut_by_run_end, fetchable_uri, Sampling,
};
use agentchain_primitives::offchain::{
	forget_records, note_block, noted_lately, remember_record, store_if_absent, work_lock_key,
	EndpointConfig, ENDPOINT_CONFIG_KEY, JURY_DUTIES_SEEN_KEY, OUTPUTS_URL_KEY,
};
use agentchain_support::offchain::{send_signed_logged, Attempt};
use alloc::{
	format,
	string::{String, ToString},
	vec,
	vec::Vec,
};
use codec::{Decode, Encode};
use frame_support::{ensure, traits::Get};
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

/// Most endpoint calls one run makes for single tasks: more than a block's hook draws (as many
/// draws as the runtime's `MaxDeadlineWeight` holds, about a hundred), so that a fast endpoint
/// keeps up with its draws. A run also starts no call once it has lasted a block time; tasks
/// left over are taken by the next block's run. Batches' calls are counted apart
/// ([`Config::BatchCallsPerRun`]).
pub const MAX_CALLS_PER_RUN: u32 = 256;

/// Most work records the node keeps track of; the oldest are dropped beyond it.
pub const MAX_WORK_RECORDS: usize = 1024;

/// Prefix of the offchain storage keys of work records.
const WORK_PREFIX: &[u8] = b"agentchain::inference::work::";
/// Prefix of the offchain storage keys of the time a batch item of a model takes this node
/// ([`model_call_time_key`]).
const MODEL_CALL_TIME_PREFIX: &[u8] = b"agentchain::inference::item-call-time::";
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

/// The headers of an endpoint call whose JSON body is `length` bytes long. The length is
/// declared: without it the node's HTTP client sends the body chunked and ends it with a segment
/// of its own, which TCP holds back until the server acknowledges the one before (Nagle's
/// algorithm against a delayed ACK, 40 ms on Linux), a wait longer than a small model's answer,
/// on every call.
pub fn completion_headers(config: &EndpointConfig, length: usize) -> Vec<(&'static str, String)> {
	let mut headers = vec![
		("Content-Type", String::from("application/json")),
		("Content-Length", length.to_string()),
		("Accept", String::from("application/json")),
	];
	if let Some(key) = &config.api_key {
		headers.push(("Authorization", format!("Bearer {}", String::from_utf8_lossy(key))));
	}
	headers
}

/// Sends a request and reads its response body, bounded by `max_bytes` and `deadline`: the body
/// of a 200 answer, or the status of any other as a [`Fault::Status`].
fn http_call<Body, Chunks>(
	request: http::Request<'_, Chunks>,
	max_bytes: u32,
	deadline: Timestamp,
) -> Result<Vec<u8>, Fault>
where
	Body: AsRef<[u8]>,
	Chunks: Default + IntoIterator<Item = Body> + Clone,
{
	match http_answer(request, max_bytes, deadline, false)? {
		(200, body) => Ok(body),
		(status, _) => Err(Fault::Status(status)),
	}
}

/// Sends a request and reads its answer: its status, and its body when the status is 200, or,
/// with `error_bodies`, 400 or 422 (which may refuse the prompt on the endpoint's content
/// policy, [`agentchain_execution::is_content_refusal`]), bounded by `max_bytes` and
/// `deadline`. The body of any other status is not read (empty).
///
/// A request whose connection fails (no response, or a response cut off) is sent once more
/// while time remains. The node's HTTP client keeps connections alive between calls, and servers
/// close idle ones after a timeout of their own (30 s for hyper's, 75 s for nginx's): a call made
/// as the server closes the connection it would reuse fails at once, though the endpoint is up.
/// The second attempt goes out on a new connection. Completion and input requests are
/// idempotent, so a second attempt costs the endpoint at most one more answer.
fn http_answer<Body, Chunks>(
	request: http::Request<'_, Chunks>,
	max_bytes: u32,
	deadline: Timestamp,
	error_bodies: bool,
) -> Result<(u16, Vec<u8>), Fault>
where
	Body: AsRef<[u8]>,
	Chunks: Default + IntoIterator<Item = Body> + Clone,
{
	match http_answer_once(request.clone(), max_bytes, deadline, error_bodies) {
		Err(Fault::Unreachable) if sp_io::offchain::timestamp() < deadline => {
			http_answer_once(request, max_bytes, deadline, error_bodies)
		},
		result => result,
	}
}

/// One attempt of [`http_answer`].
fn http_answer_once<Body: AsRef<[u8]>, Chunks: Default + IntoIterator<Item = Body>>(
	request: http::Request<'_, Chunks>,
	max_bytes: u32,
	deadline: Timestamp,
	error_bodies: bool,
) -> Result<(u16, Vec<u8>), Fault> {
	let pending = request.deadline(deadline).send().map_err(|_| Fault::Unreachable)?;
	let mut response = pending
		.try_wait(deadline)
		.map_err(|_| Fault::Timeout)?
		.map_err(|error| failure(error == http::Error::DeadlineReached, deadline))?;
	let status = response.code;
	if status != 200 && !(error_bodies && matches!(status, 400 | 422)) {
		return Ok((status, Vec::new()));
	}
	// An error's body that cannot be read whole is an error without a body: only a 200's
	// failures are the call's.
	let error_body =
		|fault: Fault| if status == 200 { Err(fault) } else { Ok((status, Vec::new())) };
	// A body declared longer than the limit is refused before any of it is read: the same
	// fault whatever becomes of the connection while a huge body streams in.
	let mut headers = response.headers().into_iter();
	while headers.next() {
		let Some((name, value)) = headers.current() else { continue };
		if name.eq_ignore_ascii_case("content-length")
			&& value.trim().parse::<u64>().is_ok_and(|len| len > u64::from(max_bytes))
		{
			return error_body(Fault::Oversized);
		}
	}
	let mut body = Vec::new();
	let mut reader = response.body();
	reader.deadline(deadline);
	for byte in reader.by_ref() {
		if body.len() >= max_bytes as usize {
			return error_body(Fault::Oversized);
		}
		body.push(byte);
	}
	match reader.error() {
		None => Ok((status, body)),
		Some(error) => error_body(failure(*error == HttpError::DeadlineReached, deadline)),
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
		let outputs_url =
			StorageValueRef::persistent(OUTPUTS_URL_KEY).get::<Vec<u8>>().ok().flatten();
		let mut run = Run {
			config,
			outputs_url,
			now: now.saturated_into(),
			// Counted from the block's start: another pallet's worker may have run before this
			// one in the same block.
			started: agentchain_primitives::offchain::block_work_started(now.saturated_into()),
			calls: 0,
			batch_calls: 0,
		};
		Self::forget_finished_work();
		let operators: Vec<_> = Signer::<T, T::OperatorCrypto>::keystore_accounts()
			.filter_map(|operator| {
				T::AgentRegistry::agent_of(&operator.id).map(|agent| (operator, agent))
			})
			.collect();
		// Every key's single tasks first: a batch takes the time a run has left, never a task's.
		let mut batches = Vec::new();
		for (index, (operator, agent)) in operators.iter().enumerate() {
			for id in AssignedTasks::<T>::iter_key_prefix(agent).take(MAX_TASKS_SCANNED) {
				let Some(task) = crate::Tasks::<T>::get(id) else { continue };
				if !matches!(task.input, TaskInput::Batch { .. }) {
					Self::work_on(&mut run, operator, agent, id, task);
					continue;
				}
				let key = work_key::<T>(id, agent, task.reassignments);
				batches.push((task.phase_ends.saturated_into::<u64>(), id, index, key, task));
			}
		}
		// Then the batches: first those to reveal (their outputs to publish, at most one call
		// each), then those still to run, the earliest commit deadline first but a batch that
		// cannot finish in time after those before it after them all (`deadline_order`), and
		// last any whose call faulted in the last run: an item that keeps timing out takes only
		// the time the others leave.
		batches.sort_unstable_by_key(|(phase_ends, id, ..)| (*phase_ends, *id));
		let (to_reveal, to_run): (Vec<_>, Vec<_>) =
			batches.into_iter().partition(|(.., task)| task.status != TaskStatus::Assigned);
		let (faulted, to_run): (Vec<_>, Vec<_>) = to_run
			.into_iter()
			.partition(|(_, _, _, key, _)| noted_lately(&batch_key(key, BATCH_FAULTED), run.now));
		let block_time_ms = run.config.block_time_ms;
		let batch_ms = batch_time_ms(run.now, block_time_ms);
		let needs: Vec<(u64, u64)> = to_run
			.iter()
			.map(|(phase_ends, _, _, key, task)| {
				let budget = call_budget_ms(*phase_ends, run.now, block_time_ms);
				let time = (u128::from(budget) * u128::from(batch_ms))
					.checked_div(block_time_ms.into())
					.unwrap_or_default();
				(time.saturated_into(), Self::batch_work_left_ms(key, task))
			})
			.collect();
		let mut to_run: Vec<Option<_>> = to_run.into_iter().map(Some).collect();
		let to_run = deadline_order(&needs).into_iter().filter_map(|at| to_run[at].take());
		for (_, id, index, _, task) in to_reveal.into_iter().chain(to_run).chain(faulted) {
			let Some((operator, agent)) = operators.get(index) else { continue };
			Self::work_on(&mut run, operator, agent, id, task);
		}
	}

	/// How long this node still needs for the items of the batch `task`, whose work is kept
	/// under `key`, in milliseconds: the items its progress does not count, at the time an item
	/// of this batch took in its last runs, or before it ran, an item of its model in the node's
	/// last batch runs ([`call_time_us`]; items of a model take longer the more tokens they may
	/// ask). Before any was measured, none: the node has nothing to tell a batch it cannot
	/// finish by, and runs them the earliest deadline first (the chain sizes commit periods so
	/// that a node as fast as it assumes finishes each).
	fn batch_work_left_ms(key: &[u8], task: &TaskInfo<T>) -> u64 {
		let TaskInput::Batch { items, .. } = &task.input else { return 0 };
		// Work this node no longer does (answered, committed or given up) takes no time.
		if !matches!(StorageValueRef::persistent(key).get::<WorkRecord>(), Ok(None)) {
			return 0;
		}
		let measured = call_time_us(&batch_key(key, BATCH_CALL_TIME))
			.or_else(|| call_time_us(&model_call_time_key(&task.model, &task.params)));
		let Some(per_call_us) = measured else { return 0 };
		let done = match StorageValueRef::persistent(&batch_key(key, BATCH_PROGRESS))
			.get::<BatchProgress>()
		{
			Ok(Some(progress)) if progress.count == *items => progress.done.min(*items),
			_ => 0,
		};
		u64::from(items.saturating_sub(done)).saturating_mul(per_call_us) / 1000
	}

	/// Moves one assigned task `id`, read as `task`, on, as far as this node can in this run.
	fn work_on(
		run: &mut Run,
		operator: &Account<T>,
		agent: &T::AccountId,
		id: TaskId,
		task: TaskInfo<T>,
	) {
		let now = run.now;
		let Some(assignment) = task.assignments.iter().find(|a| &a.executor == agent) else {
			return;
		};
		let key = work_key::<T>(id, agent, task.reassignments);
		let record = StorageValueRef::persistent(&key);
		let phase_ends: u64 = task.phase_ends.saturated_into();
		// Answers the task, to commit (`None`), or to open the commitment on chain whose record
		// was lost (killed before the database wrote it).
		let answer = |run: &mut Run, on_chain| match &task.input {
			TaskInput::Batch { .. } => {
				Self::execute_batch(run, operator, agent, id, &task, &key, phase_ends, on_chain)
			},
			_ => Self::execute(run, operator, agent, id, &task, &key, phase_ends, on_chain),
		};
		// The answer a record holds (a task's output, or a batch's outputs root), if due to be
		// sent again.
		let resend_due = |work: &WorkRecord, sent: fn(&Answer) -> Option<u64>| {
			work.answer().is_some_and(|answer| {
				sent(&answer).is_none_or(|at| now >= at.saturating_add(RESUBMIT_AFTER))
			})
		};
		match (task.status, assignment.commitment, assignment.output) {
			(TaskStatus::Assigned, None, _) => match record.get::<WorkRecord>() {
				Ok(None) => answer(run, None),
				Ok(Some(work)) if resend_due(&work, |answer| Some(answer.commit_sent_at)) => {
					let Some(answer) = work.answer() else { return };
					let commitment = commitment_of(&answer.hash, &answer.salt, agent);
					log::info!(target: LOG_TARGET, "task {id}: commitment not on chain yet, submitting it again");
					record.set(&work.sent(now, None));
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
				Ok(Some(work)) if resend_due(&work, |answer| answer.reveal_sent_at) => {
					let Some(answer) = work.answer() else { return };
					let attempt = if answer.reveal_sent_at.is_some() {
						Attempt::Resend
					} else {
						Attempt::First
					};
					if commitment_of(&answer.hash, &answer.salt, agent) != commitment {
						log::error!(target: LOG_TARGET, "task {id}: the commitment on chain is not this node's; cannot reveal");
						record.set(&WorkRecord::Failed);
						return;
					}
					// A batch's outputs, published now that every executor has committed (or
					// the commit phase is over), and before the reveal points at them.
					if let (TaskInput::Batch { items, .. }, Some(uri)) = (&task.input, &answer.uri)
					{
						run.calls += 1;
						let deadline =
							run.started.add(Duration::from_millis(run.config.block_time_ms));
						if let Err(fault) = Self::publish_batch(&key, *items, uri, deadline) {
							log::warn!(target: LOG_TARGET, "task {id}: publishing the outputs failed: {fault}; trying again at a later block");
							return;
						}
					}
					record.set(&work.sent(answer.commit_sent_at, Some(now)));
					Self::submit(
						operator,
						id,
						Call::reveal {
							task: id,
							output_hash: answer.hash,
							salt: answer.salt,
							output: answer.output,
							uri: answer.uri,
						},
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
				if matches!(
					record.get::<WorkRecord>(),
					Ok(Some(WorkRecord::Working { .. } | WorkRecord::BatchWorking { .. }))
				) {
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
		let first_block = Self::first_block(task, phase_ends);
		// The commitment must be in a block before `phase_ends`; the earliest it can be in is
		// the next one. The call gets what is left, minus a margin, within the node's timeout,
		// counted from the start of this run (whose state is that of block `now`).
		let blocks_left = agentchain_execution::blocks_left(phase_ends, now);
		let budget_ms =
			call_budget_ms(phase_ends, now, config.block_time_ms).min(config.timeout_ms);
		let lock_key = work_lock_key(LOCK_PREFIX, &key[WORK_PREFIX.len()..]);
		let mut lock = work_lock::<T>(&lock_key, blocks_left, budget_ms);
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
		Self::store_and_commit(operator, agent, id, key, now, on_chain, |salt| {
			WorkRecord::Working { output, salt, commit_sent_at: now, reveal_sent_at: None }
		});
	}

	/// Works on a batch assigned to `agent`, as far as this run can, before `phase_ends` (see
	/// the module's documentation): fetches and checks its inputs document once, runs its items
	/// in order across runs (the outputs stored by pages, then the progress, for a block, five
	/// sixths while the node sits on juries, and at most `BatchCallsPerRun` calls a run),
	/// and commits to the outputs root. The outputs document is published
	/// at the reveal ([`Self::publish_batch`]), once every executor committed: published before,
	/// a co-executor could commit to it without running anything. `on_chain` as for
	/// [`Self::execute`]: with the record lost, the root is rebuilt from the stored outputs.
	#[allow(clippy::too_many_arguments)]
	fn execute_batch(
		run: &mut Run,
		operator: &Account<T>,
		agent: &T::AccountId,
		id: TaskId,
		task: &TaskInfo<T>,
		key: &[u8],
		phase_ends: u64,
		on_chain: Option<sp_core::H256>,
	) {
		let TaskInput::Batch { root, uri, items, .. } = &task.input else { return };
		let (now, block_time_ms) = (run.now, run.config.block_time_ms);
		let budget_ms = call_budget_ms(phase_ends, now, block_time_ms).min(run.config.timeout_ms);
		let blocks_left = agentchain_execution::blocks_left(phase_ends, now);
		let lock_key = work_lock_key(LOCK_PREFIX, &key[WORK_PREFIX.len()..]);
		let mut lock = work_lock::<T>(&lock_key, blocks_left, block_time_ms);
		let Ok(_guard) = lock.try_lock() else { return };
		let record = StorageValueRef::persistent(key);
		if !matches!(record.get::<WorkRecord>(), Ok(None)) {
			return;
		}
		Self::remember_work(key);
		// Only while no answer is stored: a run on older state never overwrites one.
		let give_up = |fault: &dyn core::fmt::Display| {
			log::warn!(target: LOG_TARGET, "task {id}: {fault}; no result committed, the batch will expire for this executor");
			store_if_absent(&record, WorkRecord::Failed);
		};
		let outputs_uri = match &run.outputs_url {
			Some(url) => [&url[..], &batch_document_name(key)[..]].concat(),
			None => return give_up(&"this node publishes no outputs (no --inference-outputs-url)"),
		};
		if outputs_uri.len() > T::MaxUriLen::get() as usize {
			return give_up(&"the outputs URL is too long for the chain's MaxUriLen");
		}
		if budget_ms == 0 {
			return give_up(&Fault::TooLate);
		}
		// The time this run may spend: a block from its start, five sixths of it while the node
		// sits on juries (the rest is the juror's worker's, which runs after this one), never past
		// the commit phase's budget, at most `BatchCallsPerRun` calls for batches, and none once a
		// newer block's work started. The chain sizes the commit period for `ItemsPerBlock` items
		// a block; a faster node runs as many as its run's time allows and commits early. Batches
		// are ordered by their deadlines and the time they still need (see `run_executor`).
		let phase_deadline = run.started.add(Duration::from_millis(budget_ms));
		let run_deadline = run
			.started
			.add(Duration::from_millis(batch_time_ms(now, block_time_ms)))
			.min(phase_deadline);
		let max_calls = T::BatchCallsPerRun::get();
		let has_time = |calls: u32| {
			calls < max_calls
				&& sp_io::offchain::timestamp() < run_deadline
				&& !agentchain_primitives::offchain::newer_block_started(now)
		};
		if !has_time(run.batch_calls) {
			return;
		}

		// The inputs, fetched and checked once, and kept for the whole task.
		let inputs_key = batch_key(key, BATCH_INPUTS);
		let inputs_record = StorageValueRef::persistent(&inputs_key);
		let inputs = match inputs_record.get::<Vec<String>>() {
			Ok(Some(inputs)) => inputs,
			_ => {
				run.batch_calls += 1;
				match Self::fetch_batch_inputs(&run.config, uri, root, *items, run_deadline) {
					Ok(inputs) => {
						inputs_record.set(&inputs);
						inputs
					},
					// As for a task's call: once more at a later block when the commit phase's
					// first block saw a fault a second call may not have.
					Err(fault) if calls_again(&fault, now, Self::first_block(task, phase_ends)) => {
						log::warn!(target: LOG_TARGET, "task {id}: fetching the inputs: {fault}; trying again at a later block");
						note_block(&batch_key(key, BATCH_FAULTED), now);
						return;
					},
					Err(fault) => {
						log::warn!(target: LOG_TARGET, "task {id}: the inputs: {fault}; answering that the input is unavailable");
						Self::store_and_commit(operator, agent, id, key, now, on_chain, |salt| {
							WorkRecord::Working {
								output: None,
								salt,
								commit_sent_at: now,
								reveal_sent_at: None,
							}
						});
						return;
					},
				}
			},
		};

		// Its items, in order, from the first one not done.
		let Some(model) = run
			.config
			.model_name(&task.model)
			.and_then(|name| core::str::from_utf8(name).ok())
			.map(String::from)
		else {
			return give_up(&Fault::UnknownModel);
		};
		let binding = batch_binding::<T>(key, task, &run.config);
		let progress_key = batch_key(key, BATCH_PROGRESS);
		let progress_record = StorageValueRef::persistent(&progress_key);
		let mut progress = match progress_record.get::<BatchProgress>() {
			Ok(Some(progress)) if progress.is_for(&binding, *items) => progress,
			// Started over, and said so before any page is written: a page written under this
			// binding is never counted by a progress of another.
			_ => {
				let progress = BatchProgress::new(binding, *items);
				progress_record.set(&progress);
				progress
			},
		};
		let was_faulted = noted_lately(&batch_key(key, BATCH_FAULTED), now);
		// Outputs are kept by pages of `OUTPUTS_PAGE` items, written when full and when the run
		// stops, the progress after them: two writes a page rather than two an item, a
		// database commit each. The page being filled is read back to go on with it; the items
		// it lacks (lost in a crash) are run again.
		let mut page = outputs_page(key, progress.done / OUTPUTS_PAGE);
		page.truncate((progress.done % OUTPUTS_PAGE) as usize);
		progress.done =
			progress.done.saturating_sub(progress.done % OUTPUTS_PAGE - page.len() as u32);
		let calls = core::cell::Cell::new(run.batch_calls);
		let cut_short = core::cell::Cell::new(false);
		// The items answered, and when the last was: what the node's time for an item is
		// measured on (a call that failed, or that the run's end cut short, is left out).
		let answered = core::cell::Cell::new(0u32);
		let items_started = sp_io::offchain::timestamp();
		let last_answered = core::cell::Cell::new(items_started);
		let config = &run.config;
		let store_page = |page: &mut Vec<Vec<u8>>, progress: &BatchProgress| {
			let first = progress.done.saturating_sub(page.len() as u32);
			StorageValueRef::persistent(&batch_outputs_page_key(key, first / OUTPUTS_PAGE))
				.set(page);
			progress_record.set(progress);
			if progress.done % OUTPUTS_PAGE == 0 {
				page.clear();
			}
		};
		let paused = run_items(
			&mut progress,
			&inputs,
			T::MaxOutputLen::get() as usize,
			|| has_time(calls.get()),
			|_, prompt| {
				calls.set(calls.get().saturating_add(1));
				let call_started = sp_io::offchain::timestamp();
				let item_deadline =
					call_started.add(Duration::from_millis(config.timeout_ms)).min(run_deadline);
				let result = Self::complete(config, &model, prompt, &task.params, item_deadline);
				if result.is_ok() {
					answered.set(answered.get().saturating_add(1));
					last_answered.set(sp_io::offchain::timestamp());
				}
				if result == Err(Fault::Timeout)
					&& cut_by_run_end(
						call_started.unix_millis(),
						item_deadline.unix_millis(),
						run_deadline.unix_millis(),
						block_time_ms,
					) {
					cut_short.set(true);
				}
				result
			},
			|_, output, progress| {
				page.push(output.to_vec());
				if progress.done % OUTPUTS_PAGE == 0 || progress.is_complete() {
					store_page(&mut page, progress);
				}
			},
		);
		if !page.is_empty() && !progress.is_complete() {
			store_page(&mut page, &progress);
		}
		run.batch_calls = calls.get();
		let millis = last_answered.get().diff(&items_started).millis();
		note_call_time(&batch_key(key, BATCH_CALL_TIME), millis, answered.get());
		note_call_time(&model_call_time_key(&task.model, &task.params), millis, answered.get());
		// A call the run's end cut short is the run out of time, not a fault of the endpoint's;
		// but a batch whose call faulted in the last run stays faulted until an item is
		// answered, so that an item the endpoint hangs on, cut short when the batch's turn
		// comes late in a run, does not win the batch its place back.
		let paused = match paused {
			BatchPause::Failed { .. } if cut_short.get() => {
				if was_faulted && answered.get() == 0 {
					note_block(&batch_key(key, BATCH_FAULTED), now);
				}
				BatchPause::OutOfTime
			},
			paused => paused,
		};
		match paused {
			BatchPause::Complete => {},
			BatchPause::OutOfTime => return,
			// Called again by a later run, until the commit phase's budget runs out.
			BatchPause::Failed { item, fault } if fault.is_transient() => {
				log::warn!(target: LOG_TARGET, "task {id}: item {item}: {fault}; calling it again at a later block");
				note_block(&batch_key(key, BATCH_FAULTED), now);
				return;
			},
			BatchPause::Failed { item, fault } => {
				return give_up(&format_args!("item {item}: {fault}"));
			},
		}

		// Every item done: the commitment to the outputs root.
		let outputs = match stored_outputs(key, *items) {
			Ok(outputs) => outputs,
			Err(index) => {
				return give_up(&format_args!(
					"the stored output of item {index} is lost or unreadable"
				))
			},
		};
		let hashes = agentchain_execution::batch::item_hashes(&outputs);
		let Some(outputs_root) = agentchain_execution::batch::outputs_root(&progress, &hashes)
		else {
			return give_up(&"the batch's outputs do not make a root");
		};
		Self::store_and_commit(operator, agent, id, key, now, on_chain, |salt| {
			WorkRecord::BatchWorking {
				root: outputs_root,
				uri: outputs_uri,
				salt,
				commit_sent_at: now,
				reveal_sent_at: None,
			}
		});
	}

	/// The block a task's commit phase started in, if its deadline was not extended: a
	/// transient fault there gets one more call ([`calls_again`]). For a batch whose commit
	/// phase was made longer than its commit period (its executor's open batches needed the
	/// time), the block its commit period before its deadline: a fault gets calls again while
	/// the batch has its whole commit period left.
	fn first_block(task: &TaskInfo<T>, phase_ends: u64) -> Option<u64> {
		(task.status == TaskStatus::Assigned && !task.extended)
			.then(|| phase_ends.saturating_sub(task.commit_period.saturated_into::<u64>()))
	}

	/// Publishes the outputs document of the batch whose work is kept under `key` at `uri`,
	/// from the outputs stored: at the reveal, once every executor has committed.
	fn publish_batch(key: &[u8], items: u32, uri: &[u8], deadline: Timestamp) -> Result<(), Fault> {
		let outputs = stored_outputs(key, items).map_err(|_| Fault::Malformed)?;
		publish(uri, agentchain_execution::batch::document(&outputs), deadline)
	}

	/// Stores an answer and submits its commitment. The salt is derived, the same each time
	/// this node answers the assignment; `work` makes the record from it. The record is stored
	/// before the commitment is sent (a node restarted after this point reveals this answer and
	/// never commits to another), and only if none is stored yet (only the first answer stored
	/// is ever committed). With `on_chain` (the record was lost), it is stored only if it opens
	/// that commitment, and nothing is submitted.
	fn store_and_commit(
		operator: &Account<T>,
		agent: &T::AccountId,
		id: TaskId,
		key: &[u8],
		now: u64,
		on_chain: Option<sp_core::H256>,
		work: impl FnOnce([u8; 32]) -> WorkRecord,
	) {
		let record = StorageValueRef::persistent(key);
		let work = work(agentchain_primitives::offchain::commitment_salt(key));
		let Some(answer) = work.answer() else { return };
		let commitment = commitment_of(&answer.hash, &answer.salt, agent);
		if on_chain.is_some_and(|made| made != commitment) {
			log::error!(target: LOG_TARGET, "task {id}: this node lost its record of the result, and its answer now does not open the commitment on chain; cannot reveal");
			record.set(&WorkRecord::Failed);
			return;
		}
		if !store_if_absent(&record, work) {
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

	/// A batch's inputs document, fetched from `uri` and checked against the chain's root,
	/// count and bounds (the chain's, not this node's response limit: every honest executor
	/// refuses the same documents).
	fn fetch_batch_inputs(
		config: &EndpointConfig,
		uri: &[u8],
		root: &sp_core::H256,
		items: u32,
		deadline: Timestamp,
	) -> Result<Vec<String>, Fault> {
		let uri = fetchable_uri(uri).ok_or(Fault::InputUnavailable)?;
		let max_bytes = agentchain_execution::batch::max_document_bytes(
			T::MaxBatchItems::get(),
			T::MaxInputLen::get(),
		);
		let deadline = deadline
			.min(sp_io::offchain::timestamp().add(Duration::from_millis(config.timeout_ms)));
		// A transient fault is kept as it is, to be tried again; any other is the input's.
		let bytes = http_call(http::Request::get(uri), max_bytes, deadline).map_err(|fault| {
			if fault.is_transient() {
				fault
			} else {
				Fault::InputUnavailable
			}
		})?;
		agentchain_execution::batch::checked_items(
			&bytes,
			root,
			items,
			T::MaxInputLen::get() as usize,
		)
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
		Self::complete(config, model, prompt, &task.params, deadline)
	}

	/// The endpoint's output for `prompt`, cut to `MaxOutputLen` bytes.
	fn complete(
		config: &EndpointConfig,
		model: &str,
		prompt: &str,
		params: &TaskParams,
		deadline: Timestamp,
	) -> Result<Vec<u8>, Fault> {
		let (url, body) = completion_request(config, model, prompt, params);
		let headers = completion_headers(config, body.len());
		let mut request = http::Request::post(&url, vec![body]);
		for (name, value) in &headers {
			request = request.add_header(name, value);
		}
		let (status, body) = http_answer(request, config.max_response_bytes, deadline, true)?;
		let output = completion_output(status, &body, model)?;
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

	/// Runs one item of batch `id`, whose input is `input`, against this node's endpoint as its
	/// executors ran each item (the request a single task of that prompt makes), for a verifier
	/// judging an item dispute: the output, cut to `MaxOutputLen`, or why there is none.
	pub fn execute_item_for_verification(
		id: TaskId,
		input: &[u8],
		timeout_ms: u64,
	) -> Result<Vec<u8>, Fault> {
		let config = match StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).get::<EndpointConfig>()
		{
			Ok(Some(config)) => config,
			_ => return Err(Fault::NoEndpoint),
		};
		let task = crate::Tasks::<T>::get(id).ok_or(Fault::UnknownTask)?;
		ensure!(matches!(task.input, TaskInput::Batch { .. }), Fault::UnknownTask);
		let deadline = sp_io::offchain::timestamp()
			.add(Duration::from_millis(timeout_ms.min(config.timeout_ms)));
		let model = config.model_name(&task.model).ok_or(Fault::UnknownModel)?;
		let model = core::str::from_utf8(model).map_err(|_| Fault::UnknownModel)?;
		let prompt = core::str::from_utf8(input).map_err(|_| Fault::InputNotText)?;
		Self::complete(&config, model, prompt, &task.params, deadline)
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
	/// [`MAX_WORK_RECORDS`] with what a batch's work stored beside them (its inputs, progress
	/// and outputs: up to `MaxBatchItems` entries that nothing would clear later).
	fn remember_work(key: &[u8]) {
		for dropped in remember_record(WORK_INDEX_KEY, key, MAX_WORK_RECORDS) {
			clear_batch_work(&dropped);
		}
	}

	/// Clears the records of tasks no longer assigned to the agents they were kept for.
	fn forget_finished_work() {
		forget_records(WORK_INDEX_KEY, |key| {
			let finished = !decode_work_key::<T>(key)
				.is_some_and(|(task, agent)| AssignedTasks::<T>::contains_key(&agent, task));
			// A batch's inputs and outputs go with its record (nothing for a task).
			if finished {
				clear_batch_work(key);
			}
			finished
		});
	}
}

/// One run of the worker: the endpoint, the block it runs after, when it started, and how many
/// endpoint calls it made.
struct Run {
	config: EndpointConfig,
	/// Where batch outputs are published (`OUTPUTS_URL_KEY`), if anywhere.
	outputs_url: Option<Vec<u8>>,
	now: u64,
	started: Timestamp,
	/// Endpoint calls made for single tasks and batches' outputs published, at most
	/// [`MAX_CALLS_PER_RUN`].
	calls: u32,
	/// Endpoint calls made for batches, at most [`Config::BatchCallsPerRun`].
	batch_calls: u32,
}

/// The offchain storage key of the work record of `agent` on round `round` of task `id`.
pub fn work_key<T: Config>(id: TaskId, agent: &T::AccountId, round: u32) -> Vec<u8> {
	[WORK_PREFIX, &(id, agent, round).encode()].concat()
}

/// The persistent lock on a piece of work of this run of the node (`lock_key`, from
/// [`work_lock_key`]): held by the run that takes it until `blocks_left + 1` blocks pass, or
/// `millis` and the submission margin.
fn work_lock<T: Config>(
	lock_key: &[u8],
	blocks_left: u64,
	millis: u64,
) -> StorageLock<'_, BlockAndTime<frame_system::Pallet<T>>> {
	StorageLock::with_block_and_time_deadline(
		lock_key,
		blocks_left.saturating_add(1).saturated_into(),
		Duration::from_millis(millis.saturating_add(SUBMISSION_MARGIN_MS)),
	)
}

/// Suffixes of the offchain storage keys of a batch's work, after its work record's key: the
/// checked inputs, the progress, and each page of outputs (then its index, see
/// [`OUTPUTS_PAGE`]). The layout is public
/// for what reads a node's batch work besides this worker: the item an executor shows in a
/// dispute ([`OffchainExecution::item_showing`]), and tests.
pub const BATCH_INPUTS: &[u8] = b"/batch-inputs";
const BATCH_PROGRESS: &[u8] = b"/batch-progress";
/// The block of the run whose call for the batch last faulted (transiently): noted with
/// [`note_block`], the batch goes after the others while [`noted_lately`].
const BATCH_FAULTED: &[u8] = b"/batch-faulted";
/// The time an item of the batch took this node ([`call_time_us`]).
const BATCH_CALL_TIME: &[u8] = b"/batch-call-time";
const BATCH_OUTPUTS_PAGE: &[u8] = b"/batch-outputs/";
/// Each item's output under its index, as a node of runtime spec 122 or before stored them.
const LEGACY_BATCH_OUTPUT: &[u8] = b"/batch-output/";

/// Items whose outputs a node keeps under one offchain storage key: page `p` holds the outputs
/// of items `p × OUTPUTS_PAGE` on, in order, as many as are done. A database write costs the
/// node about as much as a call to a fast endpoint, so outputs are written a page at a time.
/// Unit tests use pages of 5, so that their batches of 20 items, run 7 or 8 items a run, fill
/// pages across runs and end runs within a page.
pub const OUTPUTS_PAGE: u32 = if cfg!(test) { 5 } else { 64 };

/// The offchain storage key of a part of a batch's work.
pub fn batch_key(key: &[u8], part: &[u8]) -> Vec<u8> {
	[key, part].concat()
}

/// How long a run of this node's executor worker at block `now` may work on batches, counted
/// from the block's start: a block, or five sixths of it while the node sits on juries (the rest
/// is its juror's worker's, which runs after the executor's and notes that it found duties).
fn batch_time_ms(now: u64, block_time_ms: u64) -> u64 {
	let juror_share = if noted_lately(JURY_DUTIES_SEEN_KEY, now) { block_time_ms / 6 } else { 0 };
	block_time_ms.saturating_sub(juror_share)
}

/// The time one batch item took this node, in microseconds, as measured over its last batch
/// runs ([`note_call_time`]) and kept under `key`: a batch's own, under its work's key, or its
/// model's ([`model_call_time_key`]). `None` before any was measured.
pub fn call_time_us(key: &[u8]) -> Option<u64> {
	StorageValueRef::persistent(key).get::<u64>().ok().flatten()
}

/// Notes under `key` that `calls` batch items took `millis` milliseconds: the measure is moved a
/// quarter of the way towards it, so that one slow or fast run moves the node's estimate only
/// partly. It orders the node's batches ([`deadline_order`]), never gives one up.
fn note_call_time(key: &[u8], millis: u64, calls: u32) {
	let Some(measured) = millis.saturating_mul(1000).checked_div(calls.into()) else { return };
	let estimate = match call_time_us(key) {
		Some(before) => before.saturating_mul(3).saturating_add(measured) / 4,
		None => measured,
	};
	StorageValueRef::persistent(key).set(&estimate);
}

/// The offchain storage key of the time a batch item of `model`, called with `params`, takes
/// this node: per `max_tokens`, since an item takes longer the more tokens it may ask, and one
/// requester's long items must not make every batch of the model look longer.
pub fn model_call_time_key(model: &crate::ModelId, params: &TaskParams) -> Vec<u8> {
	[MODEL_CALL_TIME_PREFIX, model.as_ref(), &params.max_tokens.to_le_bytes()[..]].concat()
}

/// The offchain storage key of page `page` of a batch's outputs ([`OUTPUTS_PAGE`]).
pub fn batch_outputs_page_key(key: &[u8], page: u32) -> Vec<u8> {
	[key, BATCH_OUTPUTS_PAGE, &page.to_le_bytes()[..]].concat()
}

/// The outputs stored in page `page` of the batch whose work is kept under `key`: none when it
/// is missing or unreadable. A page never written is read from the keys a node of runtime spec
/// 122 or before stored each output under ([`legacy_output_key`]), as far as they go, so that a
/// batch in flight when the node's runtime is upgraded is continued, committed and revealed.
fn outputs_page(key: &[u8], page: u32) -> Vec<Vec<u8>> {
	match StorageValueRef::persistent(&batch_outputs_page_key(key, page)).get::<Vec<Vec<u8>>>() {
		Ok(Some(outputs)) => outputs,
		_ => {
			let first = page.saturating_mul(OUTPUTS_PAGE);
			(first..first.saturating_add(OUTPUTS_PAGE))
				.map_while(|index| {
					StorageValueRef::persistent(&legacy_output_key(key, index))
						.get::<Vec<u8>>()
						.ok()
						.flatten()
				})
				.collect()
		},
	}
}

/// The key a node of runtime spec 122 or before stored the output of item `index` of a batch
/// under, one key an item; read by [`outputs_page`] and cleared by [`clear_batch_work`].
fn legacy_output_key(key: &[u8], index: u32) -> Vec<u8> {
	[key, LEGACY_BATCH_OUTPUT, &index.to_le_bytes()[..]].concat()
}

/// Clears what a batch's work stored besides its record: its inputs, its progress and the
/// outputs it counts.
fn clear_batch_work(key: &[u8]) {
	let progress_key = batch_key(key, BATCH_PROGRESS);
	let mut progress = StorageValueRef::persistent(&progress_key);
	if let Ok(Some(progress)) = progress.get::<BatchProgress>() {
		for page in 0..progress.count.div_ceil(OUTPUTS_PAGE) {
			StorageValueRef::persistent(&batch_outputs_page_key(key, page)).clear();
		}
		// Outputs a node of runtime spec 122 or before stored, one key an item.
		for index in 0..progress.count {
			let legacy_key = legacy_output_key(key, index);
			let mut legacy = StorageValueRef::persistent(&legacy_key);
			if matches!(legacy.get::<Vec<u8>>(), Ok(Some(_))) {
				legacy.clear();
			}
		}
	}
	progress.clear();
	StorageValueRef::persistent(&batch_key(key, BATCH_INPUTS)).clear();
	StorageValueRef::persistent(&batch_key(key, BATCH_FAULTED)).clear();
	StorageValueRef::persistent(&batch_key(key, BATCH_CALL_TIME)).clear();
}

/// What a batch's outputs depend on besides its work key (the task, the agent, the round):
/// the model, the parameters, the inputs, the endpoint and the output cap. A progress is
/// continued only under the same binding: a node whose endpoint changed starts over.
fn batch_binding<T: Config>(
	key: &[u8],
	task: &TaskInfo<T>,
	config: &EndpointConfig,
) -> sp_core::H256 {
	let binding = (
		key,
		&task.model,
		&task.params,
		&task.input,
		&config.base_url,
		config.api,
		config.model_name(&task.model),
		T::MaxOutputLen::get(),
	);
	sp_core::H256(sp_io::hashing::blake2_256(&binding.encode()))
}

/// The name of a batch's outputs document under the node's outputs URL: unique to the
/// assignment (8 bytes of the hash of its work key), so that rounds and agents never overwrite
/// each other, and short, so that the URI fits the chain's `MaxUriLen`.
fn batch_document_name(key: &[u8]) -> Vec<u8> {
	let hash = sp_io::hashing::blake2_256(key);
	let hex: String = hash[..8].iter().map(|byte| format!("{byte:02x}")).collect();
	format!("o-{hex}.json").into_bytes()
}

/// The outputs of the `items` items of the batch whose work is kept under `key`, in order; the
/// index of the first one lost or not UTF-8, if any.
fn stored_outputs(key: &[u8], items: u32) -> Result<Vec<String>, u32> {
	let mut outputs = Vec::with_capacity(items as usize);
	for page in 0..items.div_ceil(OUTPUTS_PAGE) {
		let first = page * OUTPUTS_PAGE;
		let stored = outputs_page(key, page);
		for index in first..first.saturating_add(OUTPUTS_PAGE).min(items) {
			let output = stored.get((index - first) as usize).cloned().map(String::from_utf8);
			match output {
				Some(Ok(output)) => outputs.push(output),
				_ => return Err(index),
			}
		}
	}
	Ok(outputs)
}

/// Writes a document to `uri` with `PUT`; any 2xx status is success.
fn publish(uri: &[u8], document: Vec<u8>, deadline: Timestamp) -> Result<(), Fault> {
	let uri = core::str::from_utf8(uri).map_err(|_| Fault::Unreachable)?;
	// Declared, as a completion request's is (see `completion_headers`).
	let length = document.len().to_string();
	let request = http::Request::new(uri)
		.method(http::Method::Put)
		.body(vec![document])
		.add_header("Content-Type", "application/json")
		.add_header("Content-Length", &length);
	match http_call(request, 1024, deadline) {
		Ok(_) => Ok(()),
		Err(Fault::Status(code)) if (200..300).contains(&code) => Ok(()),
		// A body longer than expected still means the document was accepted.
		Err(Fault::Oversized) => Ok(()),
		Err(fault) => Err(fault),
	}
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

	fn execute_item_offchain(id: TaskId, input: &[u8], timeout_ms: u64) -> Result<Vec<u8>, Fault> {
		Self::execute_item_for_verification(id, input, timeout_ms)
	}

	fn item_showing<AccountId: Encode>(
		id: TaskId,
		executor: &AccountId,
		item: u32,
	) -> Option<agentchain_primitives::inference::ItemShowing> {
		use agentchain_execution::{batch::item_hashes, merkle::MerkleTree};
		let task = crate::Tasks::<T>::get(id)?;
		let TaskInput::Batch { items, .. } = task.input else { return None };
		// The key of the work this node did for `executor` (see `work_key`).
		let key = [WORK_PREFIX, &(id, executor, task.reassignments).encode()].concat();
		let inputs = StorageValueRef::persistent(&batch_key(&key, BATCH_INPUTS))
			.get::<Vec<String>>()
			.ok()
			.flatten()?;
		let outputs = stored_outputs(&key, items).ok()?;
		let output_hashes = item_hashes(&outputs);
		let index = item as usize;
		Some(agentchain_primitives::inference::ItemShowing {
			input: inputs.get(index)?.clone().into_bytes(),
			input_proof: MerkleTree::new(&item_hashes(&inputs))?.proof(item)?,
			output: *output_hashes.get(index)?,
			output_proof: MerkleTree::new(&output_hashes)?.proof(item)?,
		})
	}

	fn batch_output_hashes<AccountId: Encode>(
		id: TaskId,
		executor: &AccountId,
	) -> Option<Vec<sp_core::H256>> {
		let task = crate::Tasks::<T>::get(id)?;
		let TaskInput::Batch { items, .. } = task.input else { return None };
		let key = [WORK_PREFIX, &(id, executor, task.reassignments).encode()].concat();
		let outputs = stored_outputs(&key, items).ok()?;
		Some(agentchain_execution::batch::item_hashes(&outputs))
	}

	fn assigned_tasks<AccountId: Encode>(executor: &AccountId, limit: usize) -> Vec<TaskId> {
		let Ok(executor) = T::AccountId::decode(&mut &executor.encode()[..]) else {
			return Vec::new();
		};
		crate::AssignedTasks::<T>::iter_key_prefix(&executor).take(limit).collect()
	}
}

#[cfg(test)]
mod tests;
