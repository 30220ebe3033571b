//! Runtime APIs for clients: an agent, the agents serving a model, a task, and the tasks assigned
//! to an executor, as complete views.
//!
//! The node serves them as JSON-RPC methods (`agents_*`, `inference_*`); the view types serialise
//! to JSON with camelCase fields, balances as decimal strings (they exceed what JSON numbers hold
//! exactly in JavaScript), hashes as `0x` hex and accounts in SS58.
//!
//! Why runtime APIs rather than view functions: the node needs typed results to serve JSON-RPC
//! with clear errors (an unknown id is an RPC error, not an empty SCALE blob), and runtime APIs are
//! versioned, so the node can tell which version a runtime implements across upgrades.

use alloc::{string::String, vec::Vec};
use codec::{Codec, Decode, Encode};
use scale_info::TypeInfo;
use sp_core::H256;

use crate::{
	agents::Role,
	inference::{TaskId, VerificationMode},
	ModelId,
};

/// Most tasks one `tasks_for` page returns.
pub const MAX_TASKS_PER_PAGE: u32 = 64;

/// Most agents one `agents_serving` answer returns.
pub const MAX_AGENTS_PER_ANSWER: u32 = 64;

#[cfg(feature = "serde")]
mod balance_string {
	//! u128 balances as decimal strings in JSON.
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
		serializer.collect_str(value)
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
		let text = alloc::string::String::deserialize(deserializer)?;
		text.parse().map_err(D::Error::custom)
	}
}

/// Whether an agent takes work.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AgentState {
	/// Selectable for new work (when live and staked enough).
	Active,
	/// Takes no new work until resumed.
	Paused,
	/// Deregistered; its stake is unbonding.
	Leaving,
}

/// What happened to an agent's work so far.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, Default, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ReputationView {
	/// Tasks completed and finalised.
	pub completed: u32,
	/// Results challenged.
	pub challenged: u32,
	/// Challenges lost.
	pub challenges_lost: u32,
	/// Protocol audits passed.
	pub audits_passed: u32,
}

/// An agent, as clients see it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct AgentView<AccountId> {
	/// The owner account (the agent's identity).
	pub owner: AccountId,
	/// The operator key its node signs with, if set.
	pub operator: Option<AccountId>,
	/// Name (UTF-8; invalid bytes replaced).
	pub name: String,
	/// Advertised endpoint (UTF-8; invalid bytes replaced).
	pub endpoint: String,
	/// Software version (UTF-8; invalid bytes replaced).
	pub version: String,
	/// Models served.
	pub models: Vec<ModelId>,
	/// Roles held.
	pub roles: Vec<Role>,
	/// Bonded stake.
	#[cfg_attr(feature = "serde", serde(with = "balance_string"))]
	pub stake: u128,
	/// Stake unbonding (still slashable).
	#[cfg_attr(feature = "serde", serde(with = "balance_string"))]
	pub unbonding: u128,
	/// Bonded stake reserved as collateral by open work (tasks, jury seats).
	#[cfg_attr(feature = "serde", serde(with = "balance_string"))]
	pub collateral: u128,
	/// Whether it takes work.
	pub state: AgentState,
	/// Whether it can be selected now for at least one of its roles (active, live, staked and,
	/// for executors and verifiers, seated in the candidate set of a model it serves).
	pub selectable: bool,
	/// Block of registration.
	pub registered_at: u64,
	/// Last sign of life.
	pub last_seen: u64,
	/// Pieces of work taken on and not over.
	pub open_work: u32,
	/// Its record.
	pub reputation: ReputationView,
}

/// Where a task stands.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TaskState {
	/// Executors may commit.
	Assigned,
	/// Committed executors may reveal.
	Committed,
	/// A result stands, open to challenges.
	Revealed,
	/// Its result is disputed (executors disagreed, it was challenged, or it is audited).
	Disputed,
	/// Paid out.
	Finalised,
	/// Ended without a result; refunded.
	Expired,
	/// Waiting for its executors, drawn at the next block.
	Submitted,
}

/// The input of a task.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub enum TaskInputView {
	/// The prompt itself (UTF-8; invalid bytes replaced).
	Inline(String),
	/// A large input kept off chain.
	Reference {
		/// blake2-256 of the input.
		hash: H256,
		/// Where to fetch it.
		uri: String,
	},
}

/// An executor's part in a task.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct AssignmentView<AccountId> {
	/// The executor (agent owner account).
	pub executor: AccountId,
	/// Whether it committed.
	pub committed: bool,
	/// The output hash it revealed, if it did.
	pub output: Option<H256>,
}

/// A revealed output.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct OutputView {
	/// blake2-256 of the output.
	pub hash: H256,
	/// The output, when kept on chain (UTF-8; invalid bytes replaced).
	pub text: Option<String>,
	/// Where the output can be fetched, if given.
	pub uri: Option<String>,
}

/// A task, as clients see it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct TaskView<AccountId> {
	/// The task's id.
	pub id: TaskId,
	/// Who pays.
	pub requester: AccountId,
	/// The model to run.
	pub model: ModelId,
	/// The prompt, or where to fetch it.
	pub input: TaskInputView,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// Sampling temperature in thousandths.
	pub temperature_milli: u32,
	/// Seed of the sampler.
	pub seed: u64,
	/// How the result is checked.
	pub mode: VerificationMode,
	/// Fee offered, for all executors together.
	#[cfg_attr(feature = "serde", serde(with = "balance_string"))]
	pub fee: u128,
	/// Part of the fee still in escrow.
	#[cfg_attr(feature = "serde", serde(with = "balance_string"))]
	pub escrow: u128,
	/// Executors asked for.
	pub redundancy: u32,
	/// Where it stands.
	pub state: TaskState,
	/// Block at which the current phase ends (or, once finished, the task is pruned).
	pub phase_ends: u64,
	/// Block of submission.
	pub submitted_at: u64,
	/// Times it was reassigned.
	pub reassignments: u32,
	/// The current executors.
	pub assignments: Vec<AssignmentView<AccountId>>,
	/// The agreed output hash, once there is one.
	pub result: Option<H256>,
	/// The revealed outputs.
	pub outputs: Vec<OutputView>,
}

/// One page of the tasks assigned to an executor.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct TaskPage<AccountId> {
	/// The tasks, at most the page size.
	pub tasks: Vec<TaskView<AccountId>>,
	/// Pass as `start_after` for the next page; `None` on the last page.
	pub next: Option<TaskId>,
}

/// Most disputes one `duties` answer returns.
pub const MAX_DUTIES_PER_ANSWER: u32 = 64;

/// Why a result is disputed.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DisputeKindView {
	/// Someone bonded a challenge.
	Challenge,
	/// Redundant executors disagreed.
	Disagreement,
	/// A random protocol audit.
	Audit,
}

/// Where the current round of a dispute stands.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DisputePhaseView {
	/// Jurors commit to votes.
	Committing,
	/// Jurors reveal votes.
	Revealing,
	/// Counted; the losing side may appeal.
	Appealable,
	/// The round's jury is drawn when the phase ends.
	Drawing,
}

/// A juror's seat in the current round.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct JurorView<AccountId> {
	/// The juror (a verifier agent's owner account).
	pub juror: AccountId,
	/// Whether it committed to a vote.
	pub committed: bool,
	/// Its vote, once revealed.
	pub vote: Option<H256>,
}

/// A bond posted in a dispute.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct BondView<AccountId> {
	/// Who posted it.
	pub who: AccountId,
	/// How much is held.
	#[cfg_attr(feature = "serde", serde(with = "balance_string"))]
	pub amount: u128,
	/// The output it claims is correct, or `None` for a challenger's claim that the result is
	/// wrong.
	pub backs_output: Option<H256>,
}

/// A dispute, as clients see it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct DisputeView<AccountId> {
	/// The disputed task.
	pub task: TaskId,
	/// Why it is disputed.
	pub kind: DisputeKindView,
	/// The challenger, for a challenge.
	pub challenger: Option<AccountId>,
	/// The model of the task.
	pub model: ModelId,
	/// How results are compared, and so what jurors vote.
	pub mode: VerificationMode,
	/// The disputed result (`None` for a disagreement).
	pub result: Option<H256>,
	/// Each executor that revealed, with its output hash.
	pub revealed: Vec<(AccountId, H256)>,
	/// 0 for the first jury, one more per appeal.
	pub round: u32,
	/// Where the current round stands.
	pub phase: DisputePhaseView,
	/// The block at which the current phase ends.
	pub phase_ends: u64,
	/// The jurors of the current round (empty once counted).
	pub jurors: Vec<JurorView<AccountId>>,
	/// The verdict of the last round counted.
	pub verdict: Option<H256>,
	/// The bonds posted.
	pub bonds: Vec<BondView<AccountId>>,
}

/// The disputes a juror sits on in their current round.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct DutiesView<AccountId> {
	/// The juror (the agent's owner account).
	pub juror: AccountId,
	/// The disputed tasks, at most [`MAX_DUTIES_PER_ANSWER`].
	pub tasks: Vec<TaskId>,
}

sp_api::decl_runtime_apis! {
	/// Queries of the agent registry.
	#[api_version(1)]
	pub trait AgentsApi<AccountId: Codec> {
		/// The agent owned by `who`, or the agent whose operator key `who` is.
		fn agent(who: AccountId) -> Option<AgentView<AccountId>>;

		/// The selectable agents serving `model` in `role` (executors or verifiers), at most
		/// [`MAX_AGENTS_PER_ANSWER`].
		fn agents_serving(model: ModelId, role: Role) -> Vec<AgentView<AccountId>>;
	}

	/// Queries of the inference-task market.
	#[api_version(1)]
	pub trait InferenceApi<AccountId: Codec> {
		/// A task, with its assignments and revealed outputs.
		fn task(id: TaskId) -> Option<TaskView<AccountId>>;

		/// The open tasks assigned to `executor` (an agent's owner account), `limit` at most
		/// (capped at [`MAX_TASKS_PER_PAGE`]), after `start_after` (the previous page's `next`).
		/// Reads one storage prefix, never all tasks.
		fn tasks_for(executor: AccountId, start_after: Option<TaskId>, limit: u32) -> TaskPage<AccountId>;
	}

	/// Queries of the challenge games.
	#[api_version(1)]
	pub trait ChallengesApi<AccountId: Codec> {
		/// The open dispute over task `task`.
		fn dispute(task: TaskId) -> Option<DisputeView<AccountId>>;

		/// The disputes the agent of `who` (its owner account or operator key) sits on as a
		/// juror in the current round; `None` if `who` is no agent.
		fn duties(who: AccountId) -> Option<DutiesView<AccountId>>;
	}
}
