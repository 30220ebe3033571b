//! What pallets other than `pallet-agents` may ask of the agent registry.
//!
//! `pallet-inference`, `pallet-challenges` and `pallet-data-rewards` depend on this trait, never
//! on `pallet-agents` itself; the runtime plugs the registry in.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::DispatchError;

use crate::ModelId;

/// What an agent offers to do. An agent holds one or more roles, each with its minimum stake.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
	/// Runs inference tasks for the models it serves.
	Executor,
	/// Sits on juries: re-executes disputed tasks and votes.
	Verifier,
	/// Attests the quality of registered datasets.
	Curator,
	/// Runs batches (`docs/batches.md`) for the models it serves: fetches a batch's inputs
	/// document, runs every item, and publishes the outputs document its root commits to (the
	/// agent node's `--inference-outputs-url`). Batches are drawn from agents in this role
	/// only, and single tasks from [`Role::Executor`]s only: an agent opts in to each.
	BatchExecutor,
}

impl Role {
	/// Every role, in a fixed order.
	pub const ALL: [Role; 4] = [Role::Executor, Role::Verifier, Role::Curator, Role::BatchExecutor];

	/// Whether agents in this role are selected per model (executors, batch executors and
	/// verifiers are; curators judge datasets, not model outputs).
	pub fn is_model_specific(self) -> bool {
		matches!(self, Role::Executor | Role::Verifier | Role::BatchExecutor)
	}
}

/// Something that happened to an agent's work, counted in its reputation.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Outcome {
	/// A task the agent executed was finalised (a sign of life for an agent still live; a silent
	/// one comes back by a heartbeat only).
	Completed,
	/// A result of the agent was challenged.
	Challenged,
	/// The agent lost a challenge (its result was judged wrong).
	ChallengeLost,
	/// A protocol audit confirmed the agent's result.
	AuditPassed,
	/// The agent missed a commit or reveal deadline of a task assigned to it (and was slashed).
	DeadlineMissed,
}

/// The executor's time a batch takes, which a draw for it counts against the batches each
/// executor was already drawn for. The draw weighs free stake, not the declared speeds; the
/// batch's commit deadline is then its commit period, or the time its drawn executor takes
/// for its open batches and this one at the speed its agent declared ([`batch_time`], with a
/// margin), whichever is longer. An executor is drawn only while that time fits in `within`:
/// a few of the batch's commit periods (the inference pallet's `MaxBatchStretch`). Its node
/// runs one batch at a time, the earliest deadline first; without the count, a requester
/// could give one executor more batches than it can run before their deadlines, and have it
/// slashed for each it misses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BatchWork {
	/// Blocks of an executor's work the batch needs: its shortest commit period.
	pub blocks: u32,
	/// The most blocks the executor may take for its open batches and this one: a few of the
	/// batch's commit periods, at most the longest commit period of a batch.
	pub within: u32,
}

impl BatchWork {
	/// Whether an executor whose open batches need `open` blocks of its work, and whose node
	/// does `speed` blocks of that work a block, may take this one: whether it can do them all
	/// within `within` blocks (`open + blocks ≤ within × speed`).
	pub fn fits(&self, open: u32, speed: u32) -> bool {
		u64::from(open).saturating_add(self.blocks.into())
			<= u64::from(self.within).saturating_mul(speed.into())
	}
}

/// The blocks an executor takes for `open` blocks of batch work at `speed` blocks of it a
/// block: `⌈open / speed⌉` (a speed of 0 counts as 1).
pub fn batch_time(open: u32, speed: u32) -> u32 {
	open.div_ceil(speed.max(1))
}

/// Whether `speed` may be declared of a node's batch speed: 1 to [`MAX_BATCH_SPEED`].
pub fn is_valid_batch_speed(speed: u32) -> bool {
	(1..=MAX_BATCH_SPEED).contains(&speed)
}

/// The most an agent may declare of its node's batch speed (`set_batch_speed`): blocks of the
/// chain's reference batch work (`ItemsPerBlock` items, `TokensPerBlock` tokens) its node does
/// in a block.
pub const MAX_BATCH_SPEED: u32 = 10_000;

/// Why stake-weighted selection could not return as many agents as asked for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SelectionError {
	/// Fewer eligible agents serve the model in that role than were asked for.
	NotEnoughCandidates {
		/// How many eligible agents there were.
		available: u32,
	},
}

/// Counters of what happened to an agent's work.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Reputation {
	/// Tasks completed and finalised.
	pub completed: u32,
	/// Results challenged.
	pub challenged: u32,
	/// Challenges lost (results judged wrong).
	pub challenges_lost: u32,
	/// Protocol audits passed.
	pub audits_passed: u32,
	/// Commit or reveal deadlines missed on assigned tasks: work an agent accepted and did not
	/// deliver. Counted from storage version 2 of the agents pallet (runtime spec 106); agents
	/// registered earlier start at zero.
	pub deadlines_missed: u32,
}

/// Whether an agent takes new work.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum AgentStatus {
	/// Selectable for new work (when live and staked enough).
	Active,
	/// Registered, but takes no new work until resumed.
	Paused,
	/// Deregistered: its stake is unbonding and slashable until the unbonding period ends, then
	/// the record is removed on withdrawal.
	Leaving,
}

/// The agent registry, as other pallets see it. An agent is identified by its owner's account.
pub trait AgentRegistry<AccountId, Balance> {
	/// The agent that `signer` acts for: the agent whose operator key `signer` is, or the agent
	/// that `signer` owns.
	fn agent_of(signer: &AccountId) -> Option<AccountId>;

	/// Whether `agent` is registered, not paused or leaving, staked at least the minimum of
	/// `role`, live (a recent heartbeat, or work delivered while live), and — for a
	/// model-specific role —
	/// serves `model`.
	fn is_active(agent: &AccountId, role: Role, model: Option<&ModelId>) -> bool;

	/// The agent's bonded stake (not counting stake that is unbonding).
	fn stake_of(agent: &AccountId) -> Balance;

	/// The agent's bonded stake that open work has not reserved as collateral: what new work
	/// can still be backed by.
	fn free_stake_of(agent: &AccountId) -> Balance;

	/// Draws `n` distinct active agents in `role` serving `model` whose free stake (bonded stake
	/// not reserved as collateral by open work) covers `collateral`, and who have the time for
	/// `batch` if it is one ([`BatchWork::fits`]), each with probability proportional to its
	/// free stake, without replacement, from `seed`; never one in `exclude`.
	///
	/// Cost: reads at most `max_candidates()` agent records, whatever the number of agents on
	/// chain (often only the `n` drawn, never more than a scan of every member), plus at most
	/// `4n + 16 + exclude.len()` hashed attempts and `O(n × max_candidates())` arithmetic.
	fn select(
		role: Role,
		model: &ModelId,
		n: u32,
		seed: [u8; 32],
		exclude: &[AccountId],
		collateral: Balance,
		batch: Option<BatchWork>,
	) -> Result<Vec<AccountId>, SelectionError>;

	/// How many agents [`select`](Self::select) could draw from now with these arguments: the
	/// same filter, without the draw. Same cost bound: every candidate's record is read; to know
	/// only whether there are enough, [`has_available`](Self::has_available) reads fewer.
	fn available(
		role: Role,
		model: &ModelId,
		exclude: &[AccountId],
		collateral: Balance,
		batch: Option<BatchWork>,
	) -> u32;

	/// Whether [`select`](Self::select) could draw `n` agents now with these arguments, and how
	/// many agent records the check read to know (at most `max_candidates()`): it stops at the
	/// `n`th agent it finds, so a set whose first members are selectable costs `n` reads.
	fn has_available(
		role: Role,
		model: &ModelId,
		n: u32,
		exclude: &[AccountId],
		collateral: Balance,
		batch: Option<BatchWork>,
	) -> (bool, u32);

	/// The most candidates kept per role and model: the bound on the cost of `select`.
	fn max_candidates() -> u32;

	/// Takes up to `amount` of the agent's stake (bonded first, then unbonding) and gives it to
	/// `beneficiary`, or burns it when there is none. Returns the amount actually taken.
	fn slash(agent: &AccountId, amount: Balance, beneficiary: Option<&AccountId>) -> Balance;

	/// Counts `outcome` in the agent's reputation.
	fn record(agent: &AccountId, outcome: Outcome);

	/// Notes that the agent took on a piece of work (a task, a jury seat) and reserves
	/// `collateral` of its bonded stake for it: the most that work can cost the agent in
	/// slashes. Reserved stake backs that work alone: it cannot be unbonded, nor promised to
	/// other work, until [`note_work_closed`](Self::note_work_closed) releases it. A batch's
	/// executor also takes on `batch_blocks` blocks of work (0 for other work), counted against
	/// its next batches ([`BatchWork`]) until its commit
	/// ([`note_batch_work_done`](Self::note_batch_work_done)) or the work's end. Returns the
	/// blocks the agent's open batches, this work's included, take at its declared speed
	/// ([`batch_time`]). Fails, changing nothing, when the agent's free stake is below
	/// `collateral`. An agent with open work cannot deregister.
	fn note_work_opened(
		agent: &AccountId,
		collateral: Balance,
		batch_blocks: u32,
	) -> Result<u32, DispatchError>;

	/// Notes that a piece of work the agent took on is over, and releases the `collateral` it
	/// reserved and the `batch_blocks` of batch work still counted (0 once it committed).
	/// Slashes for that work must be taken before this call.
	fn note_work_closed(agent: &AccountId, collateral: Balance, batch_blocks: u32);

	/// Notes that a piece of work the agent took on, which reserved `from` of its bonded stake,
	/// now reserves `to` (`to ≤ from`): a slash for it took the difference, and what is left
	/// covers what the work may still cost. The work stays open.
	fn note_collateral_reduced(agent: &AccountId, from: Balance, to: Balance);

	/// Notes that a batch's executor committed its root: the `blocks` of work the batch took
	/// no longer count against its next batches.
	fn note_batch_work_done(agent: &AccountId, blocks: u32);

	/// The blocks of batch work counted for the agent ([`BatchWork`]): those of the batches it
	/// was drawn for and has not committed to.
	fn batch_blocks_of(agent: &AccountId) -> u32;

	/// Benchmarks only: makes `who` an active agent in `role` serving `model`, registered as
	/// `register` registers it, funded and staked ten times the role's minimum stake.
	#[cfg(feature = "runtime-benchmarks")]
	fn register_for_benchmark(who: &AccountId, model: ModelId, role: Role);

	/// Benchmarks only: registers `who` as [`register_for_benchmark`](Self::register_for_benchmark)
	/// does but staked 1,000 times as much, slashes it by the smallest unit and holds all its
	/// stake left as collateral for open work: a candidate that no draw picks (it has no free
	/// stake), on which nearly every point of a draw lands, and whose seats weigh more than its
	/// stake, so that a draw among such members takes its most expensive path (its attempts
	/// rejected, then a scan of every record, and the set written with their seats corrected).
	#[cfg(feature = "runtime-benchmarks")]
	fn register_locked_heavyweight_for_benchmark(who: &AccountId, model: ModelId, role: Role);

	/// Benchmarks only: deregisters the agent of `who`, as `deregister` does.
	#[cfg(feature = "runtime-benchmarks")]
	fn deregister_for_benchmark(who: &AccountId);
}
