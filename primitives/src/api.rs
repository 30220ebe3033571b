//! Runtime APIs for clients, one per pallet, answering with complete views: an agent and the
//! agents serving a model; a task and the tasks assigned to an executor; a dispute and a juror's
//! duties; a dataset's pending rewards and the current reward epoch.
//!
//! They are the chain's one query mechanism beyond plain storage. Clients call them through the
//! standard `state_call` RPC method; polkadot.js decodes them from the metadata
//! (`api.call.agentsApi.agent(who)`), as does `subxt`. Why runtime APIs rather than
//! `#[pallet::view_functions]` or a JSON-RPC layer of the node's own: see `docs/architecture.md`.

use alloc::{string::String, vec::Vec};
use codec::{Codec, Decode, Encode};
use scale_info::TypeInfo;
use sp_core::H256;

use crate::{
	agents::{AgentStatus, Reputation, Role},
	challenges::{DisputeKind, DisputePhase},
	inference::{TaskId, TaskStatus, VerificationMode},
	ModelId,
};

/// Most tasks one `tasks_for` page returns.
pub const MAX_TASKS_PER_PAGE: u32 = 64;

/// Most agents one `agents_serving` answer returns.
pub const MAX_AGENTS_PER_ANSWER: u32 = 64;

/// An agent, as clients see it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
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
	pub stake: u128,
	/// Stake unbonding (still slashable).
	pub unbonding: u128,
	/// Bonded stake reserved as collateral by open work (tasks, jury seats).
	pub collateral: u128,
	/// Whether it takes work.
	pub status: AgentStatus,
	/// Whether it can be selected now for at least one of its roles (active, live, staked and,
	/// for executors and verifiers, seated in the candidate set of a model it serves).
	pub selectable: bool,
	/// Block of registration.
	pub registered_at: u64,
	/// Last sign of life.
	pub last_seen: u64,
	/// Pieces of work taken on and not over.
	pub open_work: u32,
	/// Blocks of the chain's reference batch work of the batches it was drawn for and has not
	/// committed to.
	pub batch_blocks: u32,
	/// Blocks of reference batch work its node does in a block, as declared
	/// (`agents.set_batch_speed`; 1 until declared).
	pub batch_speed: u32,
	/// Its record.
	pub reputation: Reputation,
}

/// The input of a task.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
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
	/// A batch: `items` inputs published as a JSON array at `uri`, committed to by `root`.
	Batch {
		/// The Merkle root of the items' hashes.
		root: H256,
		/// Where the inputs document is.
		uri: String,
		/// How many items.
		items: u32,
	},
}

/// An executor's part in a task.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct AssignmentView<AccountId> {
	/// The executor (agent owner account).
	pub executor: AccountId,
	/// Whether it committed.
	pub committed: bool,
	/// The output hash it revealed, if it did.
	pub output: Option<H256>,
	/// For a batch: where it publishes its outputs document, as it revealed it.
	pub outputs_uri: Option<String>,
}

/// A revealed output.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
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
	pub fee: u128,
	/// Part of the fee still in escrow.
	pub escrow: u128,
	/// Executors asked for.
	pub redundancy: u32,
	/// Where it stands.
	pub status: TaskStatus,
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
pub struct TaskPage<AccountId> {
	/// The tasks, at most the page size.
	pub tasks: Vec<TaskView<AccountId>>,
	/// Pass as `start_after` for the next page; `None` on the last page.
	pub next: Option<TaskId>,
}

/// Most disputes one `duties` answer returns.
pub const MAX_DUTIES_PER_ANSWER: u32 = 64;

/// A juror's seat in the current round.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
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
pub struct BondView<AccountId> {
	/// Who posted it.
	pub who: AccountId,
	/// How much is held.
	pub amount: u128,
	/// The output it claims is correct, or `None` for a challenger's claim that the result is
	/// wrong.
	pub backs_output: Option<H256>,
}

/// A dispute, as clients see it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct DisputeView<AccountId> {
	/// The disputed task.
	pub task: TaskId,
	/// Why it is disputed (with the challenger, for a challenge).
	pub kind: DisputeKind<AccountId>,
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
	pub phase: DisputePhase,
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
pub struct DutiesView<AccountId> {
	/// The juror (the agent's owner account).
	pub juror: AccountId,
	/// The disputed tasks, at most [`MAX_DUTIES_PER_ANSWER`].
	pub tasks: Vec<TaskId>,
}

/// Identifier of a dataset: a counter, assigned in registration order and never reused.
pub type DatasetId = u64;

/// Index of a reward epoch, counted from genesis.
pub type EpochIndex = u32;

/// A reward epoch, as clients see it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct EpochView {
	/// The epoch's index.
	pub index: EpochIndex,
	/// The block it started at.
	pub start: u64,
	/// Funds moved into the reward pot by finalised tasks in the epoch.
	pub paid_in: u128,
	/// Protocol cut paid by those tasks: the most the epoch can pay out.
	pub cut: u128,
	/// Σ of the datasets' reward weights (usage × score).
	pub total_weight: u128,
	/// What the epoch pays out; set when it closes.
	pub pot: u128,
	/// Rewards of the epoch settled to datasets so far.
	pub settled: u128,
}

sp_api::decl_runtime_apis! {
	/// Queries of the agent registry. Version 3 (runtime spec 106): an agent's reputation
	/// counts the deadlines it missed (`Reputation::deadlines_missed`). Version 4 (runtime
	/// spec 130): an agent's view gives its open batch work and declared batch speed
	/// (`AgentView::batch_blocks`, `AgentView::batch_speed`).
	#[api_version(4)]
	pub trait AgentsApi<AccountId: Codec> {
		/// The agent owned by `who`, or the agent whose operator key `who` is.
		fn agent(who: AccountId) -> Option<AgentView<AccountId>>;

		/// The selectable agents serving `model` in `role` (executors or verifiers), at most
		/// [`MAX_AGENTS_PER_ANSWER`].
		fn agents_serving(model: ModelId, role: Role) -> Vec<AgentView<AccountId>>;
	}

	/// Queries of the inference-task market. Version 3 (runtime spec 117): a task's input may be
	/// a batch (`TaskInputView::Batch`), and each executor of a batch has its outputs URI
	/// (`AssignmentView::outputs_uri`).
	#[api_version(3)]
	pub trait InferenceApi<AccountId: Codec> {
		/// A task, with its assignments and revealed outputs.
		fn task(id: TaskId) -> Option<TaskView<AccountId>>;

		/// The open tasks assigned to `executor` (an agent's owner account or operator key),
		/// `limit` at most (clamped between 1 and [`MAX_TASKS_PER_PAGE`]), after `start_after`
		/// (the previous page's `next`).
		/// Reads one storage prefix, never all tasks.
		fn tasks_for(executor: AccountId, start_after: Option<TaskId>, limit: u32) -> TaskPage<AccountId>;
	}

	/// Queries of the challenge games.
	#[api_version(2)]
	pub trait ChallengesApi<AccountId: Codec> {
		/// The open dispute over task `task`.
		fn dispute(task: TaskId) -> Option<DisputeView<AccountId>>;

		/// The disputes the agent of `who` (its owner account or operator key) sits on as a
		/// juror in the current round; `None` if `who` is no agent.
		fn duties(who: AccountId) -> Option<DutiesView<AccountId>>;
	}

	/// Queries of the data-contribution rewards.
	#[api_version(1)]
	pub trait DataRewardsApi {
		/// What `claim` would pay the owner of `dataset` now; `None` if there is no such dataset.
		/// Rewards of the current epoch are not included: they are known once it closes.
		fn pending_rewards(dataset: DatasetId) -> Option<u128>;

		/// The current reward epoch: when it started and its totals so far.
		fn current_epoch() -> EpochView;
	}
}
