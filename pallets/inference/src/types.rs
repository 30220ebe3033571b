//! Types stored by the inference pallet.

use crate::{BalanceOf, Config};
use agentchain_primitives::{
	inference::{TaskStatus, VerificationMode},
	ModelId,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;

/// Generation parameters of a task, passed to the model as they are.
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
pub struct TaskParams {
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// Sampling temperature in thousandths (0 = greedy decoding; at most 2000).
	pub temperature_milli: u32,
	/// Seed of the sampler.
	pub seed: u64,
	/// How the result is checked.
	pub mode: VerificationMode,
}

/// The input of a task as submitted: inline bytes, or a content hash and where to fetch it.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub enum TaskInput<Bytes> {
	/// The prompt itself (UTF-8 by convention).
	Inline(Bytes),
	/// A large input kept off chain: its blake2-256 hash and a URI to fetch it from.
	Reference {
		/// blake2-256 of the input bytes.
		hash: H256,
		/// Where to fetch them.
		uri: Bytes,
	},
	/// A batch: `items` inputs, published as a JSON array of strings at `uri` (item `i` at
	/// position `i`), run one by one and committed to by one Merkle root of their outputs
	/// (`docs/batches.md`).
	Batch {
		/// The Merkle root (`agentchain_execution::merkle::root_of`) of the items' blake2-256
		/// hashes. It commits to `items`.
		root: H256,
		/// Where the inputs document is: `http(s)://`, at most `MaxUriLen` bytes.
		uri: Bytes,
		/// How many items, 1..=`MaxBatchItems`.
		items: u32,
		/// `blake2_256(secret)` of the requester's audit secret, revealed after the challenge
		/// window so that nobody alone knows which item the audit draws.
		audit_commitment: H256,
	},
}

/// A stored task input, bounded.
pub type TaskInputOf<T> = TaskInput<BoundedVec<u8, <T as Config>::MaxInputLen>>;

/// One executor's part in a task.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Assignment<T: Config> {
	/// The executor (an agent, by its owner account).
	pub executor: T::AccountId,
	/// `blake2_256(output_hash ‖ salt ‖ executor)`, once committed.
	pub commitment: Option<H256>,
	/// The revealed output hash, once revealed.
	pub output: Option<H256>,
}

/// Everything the chain records about a task.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct TaskInfo<T: Config> {
	/// Who pays.
	pub requester: T::AccountId,
	/// The model to run.
	pub model: ModelId,
	/// The prompt, or where to fetch it.
	pub input: TaskInputOf<T>,
	/// Generation parameters and verification mode.
	pub params: TaskParams,
	/// The fee offered, for all executors together.
	pub fee: BalanceOf<T>,
	/// The part of the fee still held in escrow from the requester.
	pub escrow: BalanceOf<T>,
	/// How many executors run the task.
	pub redundancy: u32,
	/// Blocks the executors have to commit, from each assignment.
	pub commit_period: BlockNumberFor<T>,
	/// Where the task stands.
	pub status: TaskStatus,
	/// The block at which the current phase ends: the task sits in that block's deadline queue.
	/// For a finished task, the block at which it is pruned.
	pub phase_ends: BlockNumberFor<T>,
	/// The executors of the current assignment.
	pub assignments: BoundedVec<Assignment<T>, <T as Config>::MaxRedundancy>,
	/// How many times the task was reassigned after its executors failed.
	pub reassignments: u32,
	/// The agreed output hash, once there is one.
	pub result: Option<H256>,
	/// Block of submission.
	pub submitted_at: BlockNumberFor<T>,
	/// Stake each executor reserves as collateral while the task is open: the most the task
	/// can cost it in slashes.
	pub collateral: BalanceOf<T>,
	/// Executors that failed the previous assignment, never drawn again for the next.
	pub excluded: BoundedVec<T::AccountId, <T as Config>::MaxRedundancy>,
	/// The storage deposit held from the requester until the task is pruned.
	pub deposit: BalanceOf<T>,
	/// Whether the current phase's deadline was extended because blocks before it were full.
	pub extended: bool,
}

/// What one source paid into the protocol account, and what one purpose took out of it.
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
pub struct FlowTotals<Balance> {
	/// Paid in, in all.
	pub received: Balance,
	/// Taken out, in all.
	pub paid: Balance,
}

/// A revealed output: inline bytes, a URI, or both.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct OutputData<T: Config> {
	/// The output itself, when small enough to keep on chain.
	pub inline: Option<BoundedVec<u8, <T as Config>::MaxOutputLen>>,
	/// Where the output can be fetched.
	pub uri: Option<BoundedVec<u8, <T as Config>::MaxUriLen>>,
}

/// A batch whose challenge window has ended, waiting for its requester's audit secret.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct AwaitedSecret {
	/// Whether the wait was moved on once because the blocks before its end were full.
	pub extended: bool,
	/// The seed of the block the audit is drawn from (with the secret), read when the wait
	/// began: never read again, so that no block's hash is looked up after the secret may be
	/// known. `None`: that block's hash was gone (the batch is then audited).
	pub block_seed: Option<[u8; 32]>,
}
