//! Inference tasks, as pallets other than `pallet-inference` see them.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::{DispatchError, DispatchResult, Weight};

use crate::ModelId;
use alloc::vec::Vec;

/// Identifier of an inference task: a counter, assigned in submission order.
pub type TaskId = u64;

/// Where a task stands.
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
pub enum TaskStatus {
	/// Executors are assigned and may commit to a result until the commit deadline.
	Assigned,
	/// The commit phase is over; executors that committed may reveal until the reveal deadline.
	Committed,
	/// A result is revealed; it may be challenged until the challenge window ends.
	Revealed,
	/// Executors disagreed; the dispute handler judges, or the task times out.
	Disputed,
	/// The executors were paid. Kept for the retention period, then pruned.
	Finalised,
	/// No result: the fee was refunded. Kept for the retention period, then pruned.
	Expired,
	/// Waiting for its executors to be drawn, at the next block: from the hash of a block that
	/// did not exist when the task was submitted (or its executors failed).
	Submitted,
}

impl TaskStatus {
	/// Whether the task is over (finalised or expired).
	pub fn is_finished(self) -> bool {
		matches!(self, TaskStatus::Finalised | TaskStatus::Expired)
	}

	/// Whether executors are assigned and hold the task (as open work, with collateral).
	pub fn has_executors(self) -> bool {
		!self.is_finished() && self != TaskStatus::Submitted
	}
}

/// How the result of a task is checked.
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum VerificationMode {
	/// The model is deterministic (greedy decoding, fixed seed): honest executors produce the
	/// same output, so results are compared by output hash.
	ExactMatch,
	/// The model is not deterministic: a jury of verifiers judges whether a result is acceptable.
	Jury,
}

pub use agentchain_execution::{INPUT_UNAVAILABLE, REFUSED_HASH};

/// A task whose result is open to dispute, as a dispute handler sees it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DisputedTask<AccountId, Balance> {
	/// Who paid for the task.
	pub requester: AccountId,
	/// The model that was run.
	pub model: ModelId,
	/// How results are compared.
	pub mode: VerificationMode,
	/// The fee, for all executors together.
	pub fee: Balance,
	/// The fee share of one executor: what a wrong result risks, and so what it is slashed.
	pub share: Balance,
	/// Each executor that revealed an output, with its hash ([`INPUT_UNAVAILABLE`] excluded:
	/// an executor that could not obtain the input is neither accused nor paid).
	pub revealed: Vec<(AccountId, H256)>,
	/// Whether the input is a reference kept off chain (then jurors who cannot obtain it vote
	/// [`INPUT_UNAVAILABLE`]); an inline input is always available.
	pub input_is_reference: bool,
	/// The result that stands unless a dispute overturns it (`None` when executors disagreed).
	pub result: Option<H256>,
	/// For a batch, its items: its outputs are roots, disputed one item at a time.
	pub batch: Option<BatchItems>,
}

/// What decides whether a result whose challenge window ended is audited, and which item of a
/// batch: see [`DisputeHandler::audit`] and `docs/batches.md` (*The audit's seed*).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuditSeed {
	/// Randomness nobody could predict when the result was revealed: for a task, from the hash
	/// of the block before its window's end; for a batch, that hash mixed with the secret its
	/// requester committed to at submission and revealed once the window had ended. `None`
	/// when the block's hash is no longer known (the deadline was processed very late): the
	/// result is then audited, as nobody may pick the seed instead.
	Drawn(Option<[u8; 32]>),
	/// The requester of a batch did not reveal its audit secret in time: the batch is audited
	/// whatever the probability, on the item this seed draws (from a block after the
	/// requester chose to withhold), and the requester is not compensated if the audit finds
	/// the result wrong (it is still refunded what the wrong result is not paid).
	Withheld([u8; 32]),
}

/// Most items of a batch one root can be found wrong on by item disputes: the item slashes its
/// executor's collateral covers (`docs/batches.md`).
pub const MAX_ITEMS_FOUND_WRONG: u32 = 15;

/// A batch's items, as a dispute handler sees them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BatchItems {
	/// How many items.
	pub items: u32,
	/// The Merkle root of the items' input hashes.
	pub inputs_root: H256,
	/// The items the standing root has been found wrong on so far (at most
	/// [`MAX_ITEMS_FOUND_WRONG`]): each cost it an item slash, and none is judged again.
	pub found_wrong: Vec<u32>,
	/// The items whose answer by the standing root a jury whose endpoints refused them
	/// outvoted ([`REFUSED_HASH`]): each cost it the item's pay, not a slash, so they do not
	/// count against [`MAX_ITEMS_FOUND_WRONG`]; none is judged again.
	pub refused: Vec<u32>,
	/// The items a disagreement between the batch's two roots judged (at most
	/// [`MAX_ITEMS_FOUND_WRONG`]): none is judged again, and each used one of the batch's item
	/// disputes, whichever root lost it.
	pub disagreed: Vec<u32>,
}

/// What judged an item of a batch, and what follows (see [`InferenceTasks::item_judged`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ItemJudgment {
	/// A challenge of one item of the standing root: the batch goes back to its window.
	Challenge,
	/// The audit: the batch is settled.
	Audit,
	/// One of the items two roots of a disagreement differ on, found by their bisection:
	/// `judged` by an item dispute, or not (a side did not open its node in a step: the item is
	/// the first under that node, and neither recorded as judged nor counted against the
	/// batch's item disputes); `then` says what follows.
	Difference {
		/// Whether a jury's item dispute judged it.
		judged: bool,
		/// What follows for the batch.
		then: AfterDifference,
	},
}

/// Where a disagreement between the two roots of a batch stands once one of the items they
/// differ on is judged (`docs/batches.md`, problem 9).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AfterDifference {
	/// The bisection goes on to the next item the roots differ on: the batch stays disputed.
	Continues,
	/// Every item the two roots differ on was judged: this root, which was found wrong on
	/// fewer of them (or as few), is the batch's result, and the other stays in the batch,
	/// reconciled with it: each executor is paid its share less the items it was found wrong
	/// on, and both are accused by the item disputes left and the audit (they agree on every
	/// item not judged).
	Reconciled(H256),
	/// The game is over with items the roots differ on left unjudged (the batch's item
	/// disputes ran out, or a side did not open its node), and this root, found wrong on no
	/// more of the items judged, is the batch's result: it goes to its challenge window (open
	/// to the item disputes the game left, and to the audit); the other root is out of the
	/// batch, unpaid.
	Result(H256),
	/// The game is over with items left unjudged and neither root the result (both were found
	/// wrong on as many items, at least one): both executors are released unpaid, and the
	/// requester is refunded what is left of the fee.
	NoResult,
	/// The game is over with items left unjudged and neither root found wrong on any item
	/// judged (every verdict a refusal or none): nobody is known to be wrong, nor right. Both
	/// executors are released unpaid, and what is left of the fee goes to the protocol
	/// account, as [`Resolution::Unjudged`]: a requester with an executor of its own cannot
	/// get an honest executor's work for free by keeping the jury from finding either wrong.
	NoneFoundWrong,
	/// The item of a disagreement whose bisection began before games were kept (a runtime
	/// upgrade) was judged: as before, the roots found wrong on it (or whose answer was
	/// refused) are out of the batch and the other is the result; none left, the requester is
	/// refunded; none out, every root is paid.
	FirstDifference,
}

/// How a dispute over a task ended, as its handler reports it to `pallet-inference`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Resolution {
	/// This output is the correct one: the executors that revealed it are paid, the fee of the
	/// others is refunded.
	Correct(H256),
	/// No revealed output is correct: the whole fee is refunded.
	NoneCorrect,
	/// The judges reached no verdict. A challenged or audited result stands and is paid. In a
	/// disagreement every executor that revealed an output is paid its share: the outputs are
	/// public, and a requester does not get them for free.
	Undecided,
	/// Nobody judged the task and nobody may: the first jury of a batch's item dispute could not
	/// be drawn for the dispute handler's timeout. No output is paid, nobody is slashed, and the
	/// fee goes to the protocol account, not back to the requester: whoever starved the jury
	/// (a requester, or an executor keeping the verifiers it controls paused) gains nothing.
	Unjudged,
	/// The jury's endpoints refused the prompt on their content policy ([`REFUSED_HASH`]):
	/// the executors that revealed the refusal are paid (it is the result), and the shares of
	/// those that answered go to the protocol account, neither paid nor refunded: their answer
	/// could not be judged, and a requester gains nothing by having it judged. Nobody is
	/// slashed.
	Refused,
}

/// What the dispute handler asks of a batch (many items under one Merkle root of outputs): the
/// numbers `pallet-inference` sizes a batch's collateral, deposit, parameters and submission
/// check with. See `docs/batches.md`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BatchTerms<Balance> {
	/// Whether the handler judges a batch's disputes item by item. Until it does, the chain takes
	/// no batch: a batch whose disputes could not be judged item by item would pay its executors
	/// whatever they committed to. A handler that sets it judges one item in every dispute over
	/// a batch (a challenge, an audit, a disagreement), never the batch's root as a task's output.
	pub items_judged: bool,
	/// The least a root found wrong on one item is slashed: what a lost item dispute costs its
	/// jurors, and as much again.
	pub item_slash_floor: Balance,
	/// A root found wrong on an item is slashed this multiple of the item's fee share
	/// (`share / items`) when that is more than the floor.
	pub slash_fee_multiple: u32,
	/// Items a batch's root may be found wrong on besides its audit ([`MAX_ITEMS_FOUND_WRONG`]):
	/// how many item slashes one root's collateral must cover.
	pub item_disputes: u32,
	/// Verifiers of the model that must be selectable (the requester's agent excluded), besides
	/// one per executor (executors never judge their own task), when a batch is submitted:
	/// enough for its first jury and every appeal.
	pub jurors_needed: u32,
	/// The stake a juror reserves for its seat: a verifier counts towards `jurors_needed` only
	/// with that much free stake.
	pub juror_collateral: Balance,
	/// Held from the requester with a batch, returned with its storage deposit: what the audit's
	/// jury is paid when the requester withholds its audit secret.
	pub jury_deposit: Balance,
	/// Blocks a juror has to re-execute an item: an item asks at most this many blocks of
	/// tokens.
	pub jury_commit_blocks: u32,
}

/// Receives the disputes that `pallet-inference` opens, and decides which results are audited.
///
/// `pallet-challenges` implements it. With [`NoDisputeResolution`] a disputed task times out and
/// its fee is refunded, and nothing is audited.
pub trait DisputeHandler<AccountId, Balance> {
	/// Executors of `id` revealed different outputs. The handler takes the dispute over and
	/// later reports its verdict through [`InferenceTasks::resolve`]; an error leaves the task
	/// to time out.
	fn on_disagreement(id: TaskId, task: &DisputedTask<AccountId, Balance>) -> DispatchResult;

	/// The challenge window of `id` ended without a challenge: the handler audits it with
	/// the probability it sets, or, when the requester of a batch withheld its audit secret,
	/// whatever that probability (see [`AuditSeed`]). Returning `true` opens an audit: the task
	/// stays disputed until the handler reports its verdict.
	fn audit(id: TaskId, task: &DisputedTask<AccountId, Balance>, seed: AuditSeed) -> bool;

	/// Whether the handler is still judging `id`: a disputed task does not time out while it is.
	fn is_judging(id: TaskId) -> bool;

	/// The most a dispute can slash one executor of a task whose fee share is `share`: part of
	/// the collateral each assignment reserves.
	fn max_executor_slash(share: Balance) -> Balance;

	/// The most weight that one call of `on_disagreement` or `audit` may use.
	fn max_weight() -> Weight;

	/// What a batch must provide for its disputes to be judged (see [`BatchTerms`]).
	fn batch_terms() -> BatchTerms<Balance>;
}

/// No dispute resolution at all: every dispute is left to time out, which refunds the requester
/// and pays no executor, and nothing is audited.
pub struct NoDisputeResolution;

impl<AccountId, Balance: Default> DisputeHandler<AccountId, Balance> for NoDisputeResolution {
	fn on_disagreement(_id: TaskId, _task: &DisputedTask<AccountId, Balance>) -> DispatchResult {
		Ok(())
	}

	fn audit(_id: TaskId, _task: &DisputedTask<AccountId, Balance>, _seed: AuditSeed) -> bool {
		false
	}

	fn is_judging(_id: TaskId) -> bool {
		false
	}

	fn max_executor_slash(_share: Balance) -> Balance {
		Balance::default()
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}

	/// Judges nothing, so takes no batch.
	fn batch_terms() -> BatchTerms<Balance> {
		BatchTerms::default()
	}
}

/// What a dispute handler may ask of `pallet-inference`.
pub trait InferenceTasks<AccountId, Balance> {
	/// Takes a revealed task out of its challenge window into dispute, so that it is not
	/// finalised while it is judged. Fails unless the task is revealed and its window open.
	fn open_challenge(id: TaskId) -> Result<DisputedTask<AccountId, Balance>, DispatchError>;

	/// How the dispute over task `id` ended (see [`Resolution`]). Fails unless the task is
	/// disputed.
	fn resolve(id: TaskId, resolution: Resolution) -> DispatchResult;

	/// Whether the task exists and is disputed.
	fn is_disputed(id: TaskId) -> bool;

	/// The most weight one call of `resolve` may use.
	fn max_resolve_weight() -> Weight;

	/// The output bytes revealed inline for `output` of task `id`, if any.
	fn revealed_output(id: TaskId, output: &H256) -> Option<Vec<u8>>;

	/// For batch `id`, the root reconciled with its result
	/// ([`AfterDifference::Reconciled`]): it answers for the result, and agrees with it on every
	/// item its item disputes may be over, so an item's output hash may be shown with its proof
	/// against either.
	fn reconciled_root(id: TaskId) -> Option<H256>;

	/// A dispute over item `item` of batch `id` ended; the roots of the executors in `wrong`
	/// were found wrong on it. What follows depends on `judgment`:
	/// - [`ItemJudgment::Challenge`] (opened by [`open_challenge`](Self::open_challenge)): each
	///   of them is paid one item fewer (the requester refunded it), and the batch goes back to
	///   its challenge window for the blocks the window had left when the dispute opened: its
	///   other items stay open to challenges, and its audit.
	/// - [`ItemJudgment::Audit`] (opened at the window's end): the batch is finalised, each of
	///   them paid nothing (the requester refunded its whole share), the others their share
	///   less the items found wrong.
	/// - [`ItemJudgment::Difference`]: the item is one the two roots of a disagreement differ
	///   on. Judged by a jury, it is recorded against the roots found wrong on it (each paid one
	///   item fewer, if paid at all) and uses one of the batch's item disputes; then the batch
	///   stays disputed while the bisection goes on, or takes the result the dispute handler
	///   decided ([`AfterDifference`]).
	///
	/// Fails unless the batch is disputed.
	///
	/// `refused`: the executors whose answer was outvoted by jurors whose endpoints refused
	/// the item ([`REFUSED_HASH`]): not slashed, and paid one item fewer, that item's pay going
	/// to the protocol account (as [`Resolution::Refused`]).
	fn item_judged(
		id: TaskId,
		item: u32,
		wrong: &[AccountId],
		refused: &[AccountId],
		judgment: ItemJudgment,
	) -> DispatchResult;

	/// Benchmarks only: submits an exact-match task for `model` with one executor per output
	/// (executors already registered), moves to the next block so that they are drawn, has
	/// executor `i` commit to and reveal `outputs[i]`, and returns the task: revealed when the
	/// outputs agree, disputed when they differ.
	#[cfg(feature = "runtime-benchmarks")]
	fn revealed_task_for_benchmark(
		requester: &AccountId,
		model: ModelId,
		outputs: &[Vec<u8>],
	) -> TaskId;

	/// Benchmarks only: makes task `id` (from
	/// [`revealed_task_for_benchmark`](Self::revealed_task_for_benchmark)) a batch of `items`
	/// items under `inputs_root`, the result and every revealed output the first executor's is
	/// `outputs_root`, any other `blake2_256(outputs_root ‖ output)`.
	#[cfg(feature = "runtime-benchmarks")]
	fn make_batch_for_benchmark(id: TaskId, items: u32, inputs_root: H256, outputs_root: H256);

	/// Benchmarks only: records `root` as the root reconciled with batch `id`'s result
	/// ([`reconciled_root`](Self::reconciled_root)).
	#[cfg(feature = "runtime-benchmarks")]
	fn reconcile_for_benchmark(id: TaskId, root: H256);

	/// Benchmarks only: how many items of batch `id` a disagreement judged.
	#[cfg(feature = "runtime-benchmarks")]
	fn disagreed_items_for_benchmark(id: TaskId) -> u32;
}

/// What a juror's off-chain worker asks of `pallet-inference`: never called on chain.
pub trait OffchainExecution {
	/// In an off-chain worker: runs task `id` against this node's inference endpoint exactly as
	/// its executors were asked to, within `timeout_ms`, and returns the output (`None`: the
	/// task's referenced input could not be obtained), or why there is none.
	fn execute_offchain(
		id: TaskId,
		timeout_ms: u64,
	) -> Result<Option<Vec<u8>>, agentchain_execution::Fault>;

	/// In an off-chain worker: runs one item of batch `id`, whose input is `input`, against
	/// this node's endpoint exactly as its executors were asked to run each item, within
	/// `timeout_ms`, and returns the output, or why there is none.
	fn execute_item_offchain(
		id: TaskId,
		input: &[u8],
		timeout_ms: u64,
	) -> Result<Vec<u8>, agentchain_execution::Fault>;

	/// In an off-chain worker of an executor's node: what it shows of item `item` of batch `id`,
	/// which it ran for agent `executor`, from the batch's work it keeps (`None` when it keeps
	/// none, or not that item).
	fn item_showing<AccountId: Encode>(
		id: TaskId,
		executor: &AccountId,
		item: u32,
	) -> Option<ItemShowing>;

	/// In an off-chain worker of an executor's node: the output hashes of batch `id`'s items,
	/// in order, as it ran them for agent `executor` (the leaves of the root it revealed), from
	/// the work it keeps; what it opens a bisection's nodes from. `None` when it keeps none.
	fn batch_output_hashes<AccountId: Encode>(
		id: TaskId,
		executor: &AccountId,
	) -> Option<Vec<H256>>;

	/// In an off-chain worker: up to `limit` of the tasks agent `executor` is assigned to and
	/// not released from (its own index: a node looks for its disputes there, not among every
	/// open dispute, which anyone may multiply).
	fn assigned_tasks<AccountId: Encode>(executor: &AccountId, limit: usize) -> Vec<TaskId>;
}

/// What an executor shows of one item of its batch in an item dispute.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ItemShowing {
	/// The item's input.
	pub input: Vec<u8>,
	/// Its Merkle proof against the batch's inputs root.
	pub input_proof: Vec<H256>,
	/// The hash of the executor's output of the item: the leaf of its outputs root.
	pub output: H256,
	/// Its Merkle proof against the outputs root.
	pub output_proof: Vec<H256>,
}

/// Told when a task is finalised and its executors paid, with the protocol cut it paid.
///
/// `pallet-data-rewards` implements it to credit the datasets behind the model.
pub trait OnTaskFinalised<AccountId, Balance> {
	/// `id`, a task for `model`, was finalised; `protocol_cut` was paid into `protocol_account`.
	fn on_task_finalised(
		id: TaskId,
		model: &ModelId,
		protocol_account: &AccountId,
		protocol_cut: Balance,
	);

	/// The most weight that one call of `on_task_finalised` may use.
	fn max_weight() -> Weight;
}

impl<AccountId, Balance> OnTaskFinalised<AccountId, Balance> for () {
	fn on_task_finalised(
		_id: TaskId,
		_model: &ModelId,
		_protocol_account: &AccountId,
		_protocol_cut: Balance,
	) {
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}
}

/// What moves money into or out of the protocol account.
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
pub enum ProtocolFlow {
	/// In: the protocol's cut of every fee paid to executors.
	ProtocolCut,
	/// In: executors slashed for a missed commit or reveal deadline.
	MissedDeadlines,
	/// In: jurors penalised for not revealing or voting against the majority.
	JurorPenalties,
	/// In: what a dispute's losers forfeited beyond what its jurors and winners were paid.
	DisputeSurplus,
	/// Out: jurors of audits that found nothing wrong (capped at the task's fee).
	AuditJurors,
	/// Out: the share of the protocol cut that funds data rewards.
	DataRewards,
	/// In: the fees of batches whose item dispute no jury could be drawn for
	/// ([`Resolution::Unjudged`]), and the pay of answers a jury could not judge because its
	/// endpoints refused the prompt ([`Resolution::Refused`], and `refused` of
	/// `InferenceTasks::item_judged`).
	UnjudgedFees,
	/// Out: jurors of a verdict of refusal against an answer that no bond paid, out of the
	/// answers' pay, which came in as `UnjudgedFees` (never more than it).
	RefusalJurors,
	/// In: the jury deposits of batches whose requester withheld its audit secret (the batch
	/// is audited whatever the draw, its jurors paid as any audit's: `AuditJurors`).
	WithheldAuditSecrets,
}

/// The protocol account (it funds audits and data rewards) and the ledger of its flows.
///
/// `pallet-inference` keeps the account and the ledger; every pallet that moves money into or
/// out of the account says so here, so that `try_state` can check the account against what
/// each source paid in and each purpose took out.
pub trait ProtocolTreasury<AccountId, Balance> {
	/// The protocol account.
	fn account() -> AccountId;
	/// Records that `amount` came into the protocol account through `flow`.
	fn note_received(flow: ProtocolFlow, amount: Balance);
	/// Records that `amount` left the protocol account for `flow`.
	fn note_paid(flow: ProtocolFlow, amount: Balance);
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn input_unavailable_is_the_hash_of_its_name() {
		use sp_runtime::traits::{BlakeTwo256, Hash};
		assert_eq!(INPUT_UNAVAILABLE, BlakeTwo256::hash(b"agentchain/input-unavailable"));
	}
}
