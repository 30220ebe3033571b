//! Inference tasks, as pallets other than `pallet-inference` see them.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::DispatchResult;

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

/// Receives the disputes that `pallet-inference` opens when redundant executors disagree.
///
/// `pallet-challenges` implements it; until then the runtime uses [`NoDisputeResolution`], under
/// which a disputed task times out and its fee is refunded.
pub trait DisputeHandler<AccountId> {
	/// Executors of `task` revealed different outputs (`outputs[i]` revealed by `executors[i]`).
	/// The handler takes the dispute over and later reports its verdict through
	/// [`InferenceVerdicts::resolve`]; an error leaves the task to time out.
	fn on_disagreement(task: TaskId, executors: &[AccountId], outputs: &[H256]) -> DispatchResult;
}

/// No dispute resolution at all: every dispute is left to time out, which refunds the requester
/// and pays no executor. A stand-in until `pallet-challenges` is in the runtime.
pub struct NoDisputeResolution;

impl<AccountId> DisputeHandler<AccountId> for NoDisputeResolution {
	fn on_disagreement(
		_task: TaskId,
		_executors: &[AccountId],
		_outputs: &[H256],
	) -> DispatchResult {
		Ok(())
	}
}

/// What a dispute handler may tell `pallet-inference` once it has judged a disputed task.
pub trait InferenceVerdicts {
	/// The correct output of `task` is `output` (`None`: no output was acceptable). Executors
	/// who revealed it are paid; the others are not.
	fn resolve(task: TaskId, output: Option<H256>) -> DispatchResult;
}
