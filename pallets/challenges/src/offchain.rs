//! The juror off-chain worker: an agent node's verifiers re-execute disputed tasks and vote.
//!
//! After every block it imports, a node that was given an inference endpoint and holds operator
//! keys (key type `agnt`) runs [`Pallet::run_jurors`]:
//!
//! 1. For each operator key, the agent it acts for and that agent's seats on juries, read from
//!    the [`JurorDuties`] index (one prefix, never a scan of all disputes).
//! 2. A seat in a commit phase the node has not voted on yet: the node takes a persistent lock,
//!    re-executes the task against its own endpoint exactly as the executors were asked to
//!    ([`OffchainExecution::execute_offchain`]), forms its vote, derives a salt, stores both in
//!    offchain local storage and only then submits `commit_vote` from the operator key.
//! 3. Once the round is in its reveal phase, it submits `reveal_vote` from that record.
//!
//! The vote and its commitment follow [`agentchain_execution`]'s rules, shared with the edge
//! agent (`agentchain agent run`). The vote: in exact-match mode, the hash of the output the juror got. In jury mode, the
//! disputed result's hash when the juror's own output is the same, or shares at least
//! [`JURY_ACCEPT_SIMILARITY_PERCENT`] of its distinct words with the revealed output (Jaccard
//! similarity); otherwise [`REJECT`](crate::REJECT). A result whose output is not on chain
//! cannot be read, and is rejected.
//!
//! A juror that cannot obtain the task's referenced input votes
//! [`INPUT_UNAVAILABLE`](crate::INPUT_UNAVAILABLE): present, never a verdict. A juror whose
//! call, made in the commit phase's first block, fails in a way a second call may not
//! ([`calls_again`]: unreachable, timed out, 429 or 5xx) calls once more at a later block; one
//! whose endpoint fails otherwise, or twice, does not vote, and loses the juror penalty like any
//! juror that does not reveal: operators should serve the models they register as verifiers
//! for.
//!
//! An executor's node shows its items too: for each operator key, the agent's item disputes in
//! their showing phase (among the first [`MAX_ASSIGNED_TASKS_SCANNED`] tasks the agent is assigned
//! to: its own index, behind which nobody can hide them with other disputes) whose input or
//! output hash is not shown yet get `show_item_input` and `show_item_output`, from the batch's
//! work the node keeps ([`OffchainExecution::item_showing`]); sent again after
//! [`RESUBMIT_AFTER`] blocks while still missing.
//!
//! So does it open its nodes of a bisection: for each operator key, the bisections its agent is a
//! side of (among the first [`MAX_ASSIGNED_TASKS_SCANNED`] tasks it is assigned to) whose current step it has
//! not opened yet get `open_node`, from the tree of the output hashes its node kept of the batch
//! ([`OffchainExecution::batch_output_hashes`]), once it checked that tree's root is the one the
//! agent revealed; sent again after [`RESUBMIT_AFTER`] blocks while still missing.
//!
//! A node killed after committing a vote but before its database kept the vote's record (or
//! whose record was lost otherwise) votes again, and keeps the vote if it opens its commitment on
//! chain: the salt is derived from the node's secret and the seat, so the same vote gives the
//! same commitment, and the juror reveals it. A vote that does not (a model that answers
//! differently the second time) is logged and not revealed.

use crate::{
	vote_commitment, AgentRegistry, Call, Config, DisputePhase, Disputes, InferenceTasks,
	JurorDuties, OffchainExecution, Pallet, TaskId, VerificationMode, INPUT_UNAVAILABLE,
	LOG_TARGET,
};
pub use agentchain_execution::{
	accepts, VoteRecord, JURY_ACCEPT_SIMILARITY_PERCENT, RESUBMIT_AFTER, SUBMISSION_MARGIN_MS,
};
use agentchain_execution::{call_budget_ms, calls_again, due, exact_match_vote, jury_vote, Fault};
use agentchain_primitives::offchain::{
	forget_records, note_block, remember_record, store_if_absent, work_lock_key, EndpointConfig,
	ENDPOINT_CONFIG_KEY, JURY_DUTIES_SEEN_KEY,
};
use agentchain_support::offchain::{send_signed_logged, Attempt};
use alloc::vec::Vec;
use codec::Encode;
use frame_system::{
	offchain::{Account, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_core::H256;
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{BlockAndTime, StorageLock},
		Duration, Timestamp,
	},
	SaturatedConversion,
};

/// Most seats one run looks at per operator key.
pub const MAX_DUTIES_SCANNED: usize = 256;

/// Most re-executions one run makes; seats left over are taken by the next block's run.
pub const MAX_CALLS_PER_RUN: u32 = 2;

/// Most vote records the node keeps; the oldest are dropped beyond it.
pub const MAX_VOTE_RECORDS: usize = 256;

/// Most tasks of an agent one run looks at for items to show and bisection nodes to open.
pub const MAX_ASSIGNED_TASKS_SCANNED: usize = 256;

/// Prefix of the offchain storage keys of the blocks items were shown at.
const SHOW_PREFIX: &[u8] = b"agentchain::challenges::show::";
/// Prefix of the offchain storage keys of the blocks bisection nodes were opened at.
const OPEN_PREFIX: &[u8] = b"agentchain::challenges::open::";
/// Offchain storage key of the list of show (and open) records.
const SHOW_INDEX_KEY: &[u8] = b"agentchain::challenges::show-index";

/// Prefix of the offchain storage keys of vote records.
const VOTE_PREFIX: &[u8] = b"agentchain::challenges::vote::";
/// Prefix of the offchain storage keys of per-seat locks.
const LOCK_PREFIX: &[u8] = b"agentchain::challenges::lock::";
/// Offchain storage key of the list of live vote records.
const VOTE_INDEX_KEY: &[u8] = b"agentchain::challenges::vote-index";

impl<T: Config> Pallet<T> {
	/// One run of the juror off-chain worker, after block `now` was imported. Does nothing on a
	/// node without an endpoint configuration or without an operator key.
	pub fn run_jurors(now: BlockNumberFor<T>) {
		let Ok(Some(config)) =
			StorageValueRef::persistent(ENDPOINT_CONFIG_KEY).get::<EndpointConfig>()
		else {
			return;
		};
		let mut run = Run {
			config,
			now: now.saturated_into(),
			// Counted from the block's start: another pallet's worker may have run before this
			// one in the same block.
			started: agentchain_primitives::offchain::block_work_started(now.saturated_into()),
			calls: 0,
		};
		Self::forget_finished_votes();
		let mut on_juries = false;
		for operator in Signer::<T, T::OperatorCrypto>::keystore_accounts() {
			let Some(juror) = T::AgentRegistry::agent_of(&operator.id) else { continue };
			for task in JurorDuties::<T>::iter_key_prefix(&juror).take(MAX_DUTIES_SCANNED) {
				Self::sit(&mut run, &operator, &juror, task);
				on_juries = true;
			}
			Self::show_items(run.now, &operator, &juror);
			Self::open_nodes(run.now, &operator, &juror);
		}
		if on_juries {
			// The executor's worker of the next block, before this one, leaves part of it to it.
			note_block(JURY_DUTIES_SEEN_KEY, run.now);
		}
	}

	/// Opens `agent`'s nodes in the current steps of the bisections it is a side of (among the
	/// first [`MAX_ASSIGNED_TASKS_SCANNED`] tasks it is assigned to), from the batch's work its
	/// node keeps.
	fn open_nodes(now: u64, operator: &Account<T>, agent: &T::AccountId) {
		use agentchain_execution::merkle::MerkleTree;
		for task in T::Tasks::assigned_tasks(agent, MAX_ASSIGNED_TASKS_SCANNED) {
			let Some(bisection) = crate::Bisections::<T>::get(task) else { continue };
			let Some(side) = bisection.sides.iter().find(|side| &side.executor == agent) else {
				continue;
			};
			if side.opening.is_some() {
				continue;
			}
			let Some(dispute) = Disputes::<T>::get(task) else { continue };
			if now >= dispute.phase_ends.saturated_into::<u64>() {
				continue;
			}
			let (level, position) = (bisection.level, bisection.position);
			let key = [OPEN_PREFIX, &(task, level, position, agent).encode()].concat();
			let record = StorageValueRef::persistent(&key);
			let attempt = match record.get::<u64>() {
				Ok(Some(sent)) if now < sent.saturating_add(RESUBMIT_AFTER) => continue,
				Ok(Some(_)) => Attempt::Resend,
				_ => Attempt::First,
			};
			let opening = T::Tasks::batch_output_hashes(task, agent).and_then(|hashes| {
				let tree = MerkleTree::new(&hashes)?;
				// Only the tree of the root it revealed opens its nodes.
				(tree.root() == side.root).then_some(())?;
				tree.opening(&hashes, level, position)
			});
			let Some((left, right)) = opening else {
				log::warn!(target: LOG_TARGET, "dispute {task}: this node keeps no work of the root it bisects");
				continue;
			};
			record.set(&now);
			let _ = remember_record(SHOW_INDEX_KEY, &key, MAX_VOTE_RECORDS);
			log::info!(target: LOG_TARGET, "dispute {task}: opening node {position} of level {level}");
			Self::submit(operator, task, Call::open_node { task, left, right }, now, attempt);
		}
	}

	/// Shows the items `agent`'s roots are disputed on that are not shown yet, as its node ran
	/// them.
	fn show_items(now: u64, operator: &Account<T>, agent: &T::AccountId) {
		for task in T::Tasks::assigned_tasks(agent, MAX_ASSIGNED_TASKS_SCANNED) {
			let Some(shown) = crate::ItemDisputes::<T>::get(task) else { continue };
			if shown.input.is_some() && shown.output.is_some() {
				continue;
			}
			let Some(dispute) = Disputes::<T>::get(task) else { continue };
			let showing = dispute.phase == DisputePhase::Showing
				&& now < dispute.phase_ends.saturated_into::<u64>();
			if !showing || !dispute.revealed.iter().any(|(executor, _)| executor == agent) {
				continue;
			}
			let key = [SHOW_PREFIX, &(task, shown.item, agent).encode()].concat();
			let record = StorageValueRef::persistent(&key);
			let attempt = match record.get::<u64>() {
				Ok(Some(sent)) if now < sent.saturating_add(RESUBMIT_AFTER) => continue,
				Ok(Some(_)) => Attempt::Resend,
				_ => Attempt::First,
			};
			let Some(item) = T::Tasks::item_showing(task, agent, shown.item) else {
				log::warn!(target: LOG_TARGET, "dispute {task}: this node keeps no work of item {} to show", shown.item);
				continue;
			};
			record.set(&now);
			let _ = remember_record(SHOW_INDEX_KEY, &key, MAX_VOTE_RECORDS);
			log::info!(target: LOG_TARGET, "dispute {task}: showing item {}", shown.item);
			if shown.input.is_none() {
				let call =
					Call::show_item_input { task, input: item.input, proof: item.input_proof };
				Self::submit(operator, task, call, now, attempt);
			}
			if shown.output.is_none() {
				let call =
					Call::show_item_output { task, output: item.output, proof: item.output_proof };
				Self::submit(operator, task, call, now, attempt);
			}
		}
	}

	/// Moves one seat on, as far as this node can in this run.
	fn sit(run: &mut Run, operator: &Account<T>, juror: &T::AccountId, task: TaskId) {
		let now = run.now;
		let Some(dispute) = Disputes::<T>::get(task) else { return };
		let Some(seat) = dispute.jury.iter().find(|seat| &seat.juror == juror) else { return };
		let round = dispute.round;
		let key = vote_key::<T>(task, juror, round, Self::item_judged(task));
		let record = StorageValueRef::persistent(&key);
		match (dispute.phase, seat.commitment, seat.vote) {
			(DisputePhase::Committing, None, _) => match record.get::<VoteRecord>() {
				Ok(None) => Self::vote(run, operator, juror, task, &dispute, &key, None),
				Ok(Some(VoteRecord::Voted { vote, salt, commit_sent_at, .. }))
					if now >= commit_sent_at.saturating_add(RESUBMIT_AFTER) =>
				{
					let commitment = vote_commitment(task, round, &vote, &salt, juror);
					record.set(&VoteRecord::Voted {
						vote,
						salt,
						commit_sent_at: now,
						reveal_sent_at: None,
					});
					let call = Call::commit_vote { task, commitment };
					Self::submit(operator, task, call, now, Attempt::Resend);
				},
				_ => {},
			},
			// Committed, and the record lost (the node was killed before its database wrote
			// it): vote again, and keep the vote if it opens the commitment on chain (the salt
			// is derived, the same each time).
			(DisputePhase::Committing | DisputePhase::Revealing, Some(commitment), None)
				if matches!(record.get::<VoteRecord>(), Ok(None)) =>
			{
				Self::vote(run, operator, juror, task, &dispute, &key, Some(commitment))
			},
			(DisputePhase::Revealing, Some(commitment), None) => match record.get::<VoteRecord>() {
				Ok(Some(VoteRecord::Voted { vote, salt, commit_sent_at, reveal_sent_at }))
					if due(reveal_sent_at, now) =>
				{
					if vote_commitment(task, round, &vote, &salt, juror) != commitment {
						log::error!(target: LOG_TARGET, "dispute {task}: the commitment on chain is not this node's; cannot reveal");
						record.set(&VoteRecord::Failed);
						return;
					}
					let attempt =
						if reveal_sent_at.is_some() { Attempt::Resend } else { Attempt::First };
					record.set(&VoteRecord::Voted {
						vote,
						salt,
						commit_sent_at,
						reveal_sent_at: Some(now),
					});
					Self::submit(
						operator,
						task,
						Call::reveal_vote { task, vote, salt },
						now,
						attempt,
					);
				},
				_ => {},
			},
			_ => {},
		}
	}

	/// Re-executes the disputed task, forms this juror's vote, stores it, then commits it
	/// before the phase ends. With `on_chain`, the commitment this juror already made and whose
	/// record the node lost: stores the vote if it opens that commitment, to be revealed, and
	/// submits nothing.
	#[allow(clippy::too_many_arguments)]
	fn vote(
		run: &mut Run,
		operator: &Account<T>,
		juror: &T::AccountId,
		task: TaskId,
		dispute: &crate::Dispute<T>,
		key: &[u8],
		on_chain: Option<H256>,
	) {
		let now = run.now;
		let round = dispute.round;
		let record = StorageValueRef::persistent(key);
		let phase_ends: u64 = dispute.phase_ends.saturated_into();
		// The block the commit phase started in: a transient fault there gets one more call.
		let first_block =
			(dispute.phase == DisputePhase::Committing && !dispute.extended).then(|| {
				phase_ends.saturating_sub(
					<T::CommitPeriod as frame_support::traits::Get<_>>::get()
						.saturated_into::<u64>(),
				)
			});
		let blocks_left = agentchain_execution::blocks_left(phase_ends, now);
		// Counted from the start of this run (whose state is that of block `now`), not from
		// this call: earlier calls of the run used part of it.
		let elapsed = sp_io::offchain::timestamp().diff(&run.started).millis();
		let budget_ms =
			call_budget_ms(phase_ends, now, run.config.block_time_ms).saturating_sub(elapsed);
		if budget_ms == 0 || run.calls >= MAX_CALLS_PER_RUN {
			return;
		}
		let lock_key = work_lock_key(LOCK_PREFIX, &key[VOTE_PREFIX.len()..]);
		let mut lock =
			StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
				&lock_key,
				blocks_left.saturating_add(1).saturated_into(),
				Duration::from_millis(budget_ms.saturating_add(SUBMISSION_MARGIN_MS)),
			);
		let Ok(_guard) = lock.try_lock() else { return };
		if !matches!(record.get::<VoteRecord>(), Ok(None)) {
			return;
		}
		Self::remember_vote(key);
		run.calls += 1;
		let vote = match Self::form_vote(task, &dispute.mode, dispute.result, budget_ms) {
			Ok(Some(vote)) => vote,
			// Not given up: a later block's run calls once more.
			Err(fault) if calls_again(&fault, now, first_block) => {
				log::warn!(target: LOG_TARGET, "dispute {task}: {fault}; calling once more at a later block");
				return;
			},
			Err(fault) => {
				log::warn!(target: LOG_TARGET, "dispute {task}: {fault}; this juror cannot vote");
				record.set(&VoteRecord::Failed);
				return;
			},
			Ok(None) => {
				log::warn!(target: LOG_TARGET, "dispute {task}: no result to judge; this juror cannot vote");
				record.set(&VoteRecord::Failed);
				return;
			},
		};
		// The same for the same round, each time this node votes in it.
		let salt = agentchain_primitives::offchain::commitment_salt(key);
		let commitment = vote_commitment(task, round, &vote, &salt, juror);
		if on_chain.is_some_and(|made| made != commitment) {
			log::error!(target: LOG_TARGET, "dispute {task}: this node lost its record of the vote, and its vote now does not open the commitment on chain; cannot reveal");
			record.set(&VoteRecord::Failed);
			return;
		}
		// Only if no vote is stored yet: only the first stored is ever committed.
		let voted = VoteRecord::Voted { vote, salt, commit_sent_at: now, reveal_sent_at: None };
		if !store_if_absent(&record, voted) {
			return;
		}
		if on_chain.is_some() {
			log::info!(target: LOG_TARGET, "dispute {task}: lost record of the vote restored: the vote opens the commitment on chain");
			return;
		}
		log::info!(target: LOG_TARGET, "dispute {task}: vote ready, submitting the commitment");
		Self::submit(operator, task, Call::commit_vote { task, commitment }, now, Attempt::First);
	}

	/// The item of a batch that dispute `task` is over, if it is an item dispute.
	fn item_judged(task: TaskId) -> Option<u32> {
		crate::ItemDisputes::<T>::get(task).map(|shown| shown.item)
	}

	/// Re-executes the task and forms this juror's vote: `None` when there is nothing to judge
	/// (a jury-mode dispute without a result).
	fn form_vote(
		task: TaskId,
		mode: &VerificationMode,
		result: Option<H256>,
		budget_ms: u64,
	) -> Result<Option<H256>, Fault> {
		// A dispute over an item of a batch: the item's input is on chain, shown before the
		// jury was drawn; the vote is the output hash of that one item.
		if let Some(shown) = crate::ItemDisputes::<T>::get(task) {
			let Some(input) = shown.input else { return Ok(None) };
			let output = T::Tasks::execute_item_offchain(task, &input, budget_ms)?;
			return Ok(Some(exact_match_vote(&Some(output))));
		}
		let own = T::Tasks::execute_offchain(task, budget_ms)?;
		// The task's referenced input cannot be obtained: the juror says so
		// (`INPUT_UNAVAILABLE`), a vote that counts as present, never as a verdict.
		Ok(Some(match (mode, result) {
			_ if own.is_none() => INPUT_UNAVAILABLE,
			(VerificationMode::ExactMatch, _) => exact_match_vote(&own),
			(VerificationMode::Jury, Some(result)) => {
				jury_vote(&own, result, || T::Tasks::revealed_output(task, &result))
			},
			(VerificationMode::Jury, None) => return Ok(None),
		}))
	}

	/// Submits a call as a signed transaction from the operator key (see
	/// [`agentchain_support::offchain`]): a first attempt at the next reserved nonce, a resend at
	/// the lowest nonce the chain has not used.
	fn submit(operator: &Account<T>, task: TaskId, call: Call<T>, now: u64, attempt: Attempt) {
		// The outcome is logged; a transaction not sent is sent again by the next block's worker
		// while the duty is still due.
		let _ = send_signed_logged::<T, T::OperatorCrypto, _>(
			operator,
			call,
			attempt,
			now,
			format_args!("dispute {task}"),
		);
	}

	/// Adds a vote record to the index of live records, dropping the oldest beyond
	/// [`MAX_VOTE_RECORDS`].
	fn remember_vote(key: &[u8]) {
		let _ = remember_record(VOTE_INDEX_KEY, key, MAX_VOTE_RECORDS);
	}

	/// Clears the records of seats that are over.
	fn forget_finished_votes() {
		forget_records(VOTE_INDEX_KEY, |key| {
			!decode_vote_key::<T>(key).is_some_and(|(task, juror, round, item)| {
				JurorDuties::<T>::contains_key(&juror, task)
					&& Disputes::<T>::get(task).is_some_and(|d| d.round == round)
					&& Self::item_judged(task) == item
			})
		});
	}
}

/// One run of the worker.
struct Run {
	config: EndpointConfig,
	now: u64,
	started: Timestamp,
	calls: u32,
}

/// The offchain storage key of the vote record of `juror` in round `round` of dispute `task`,
/// and, for a dispute over an item of a batch, of `item`: the items of a disagreement's
/// bisection, judged one after the other, each in its own round 0, have a record and so a salt
/// each. (Two disputes over the same item, a challenge of an item found right and a later one,
/// or the audit drawing it, still share a key.) A task's dispute keeps the key it had before
/// items were keyed, so a vote in flight across that upgrade is still revealed; an item
/// dispute's vote in flight across it is not.
fn vote_key<T: Config>(
	task: TaskId,
	juror: &T::AccountId,
	round: u32,
	item: Option<u32>,
) -> Vec<u8> {
	match item {
		None => [VOTE_PREFIX, &(task, juror, round).encode()].concat(),
		Some(item) => [VOTE_PREFIX, &(task, juror, round, item).encode()].concat(),
	}
}

/// The dispute, juror, round and item of a vote record's key.
fn decode_vote_key<T: Config>(key: &[u8]) -> Option<(TaskId, T::AccountId, u32, Option<u32>)> {
	use codec::DecodeAll;
	let encoded = key.strip_prefix(VOTE_PREFIX)?;
	if let Ok((task, juror, round, item)) =
		<(TaskId, T::AccountId, u32, u32)>::decode_all(&mut &encoded[..])
	{
		return Some((task, juror, round, Some(item)));
	}
	let (task, juror, round) = <(TaskId, T::AccountId, u32)>::decode_all(&mut &encoded[..]).ok()?;
	Some((task, juror, round, None))
}

#[cfg(test)]
mod tests;
