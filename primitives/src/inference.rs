//! Inference tasks, as pallets other than `pallet-inference` see them.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::{DispatchError, DispatchResult, Weight};

use crate::ModelId;
use alloc::vec::Vec;

/// Identifier of an inference task: a counter, assigned in submission order.
pub type TaskId = u64;

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
	/// Each executor that revealed, with the output hash it revealed.
	pub revealed: Vec<(AccountId, H256)>,
	/// The result that stands unless a dispute overturns it (`None` when executors disagreed).
	pub result: Option<H256>,
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

	/// The challenge window of `id` ended without a challenge. Returning `true` opens an audit:
	/// the task stays disputed until the handler reports its verdict.
	fn audit(id: TaskId, task: &DisputedTask<AccountId, Balance>) -> bool;

	/// The most weight that one call of `on_disagreement` or `audit` may use.
	fn max_weight() -> Weight;
}

/// No dispute resolution at all: every dispute is left to time out, which refunds the requester
/// and pays no executor, and nothing is audited.
pub struct NoDisputeResolution;

impl<AccountId, Balance> DisputeHandler<AccountId, Balance> for NoDisputeResolution {
	fn on_disagreement(_id: TaskId, _task: &DisputedTask<AccountId, Balance>) -> DispatchResult {
		Ok(())
	}

	fn audit(_id: TaskId, _task: &DisputedTask<AccountId, Balance>) -> bool {
		false
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}
}

/// What a dispute handler may ask of `pallet-inference`.
pub trait InferenceTasks<AccountId, Balance> {
	/// Takes a revealed task out of its challenge window into dispute, so that it is not
	/// finalised while it is judged. Fails unless the task is revealed and its window open.
	fn open_challenge(id: TaskId) -> Result<DisputedTask<AccountId, Balance>, DispatchError>;

	/// The verdict on a disputed task: `Some(output)` is the correct output (the executors
	/// that revealed it are paid, the fee of the others is refunded); `None`: no revealed
	/// output was correct, and the whole fee is refunded. Fails unless the task is disputed.
	fn resolve(id: TaskId, verdict: Option<H256>) -> DispatchResult;

	/// Whether the task exists and is disputed.
	fn is_disputed(id: TaskId) -> bool;

	/// The most weight one call of `resolve` may use.
	fn max_resolve_weight() -> Weight;

	/// The output bytes revealed inline for `output` of task `id`, if any.
	fn revealed_output(id: TaskId, output: &H256) -> Option<Vec<u8>>;

	/// Off chain only (in an off-chain worker): runs task `id` against this node's inference
	/// endpoint exactly as its executors were asked to, within `timeout_ms`, and returns the
	/// output, or why there is none.
	fn execute_offchain(id: TaskId, timeout_ms: u64) -> Result<Vec<u8>, alloc::string::String>;
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
