//! # AgentChain runtime
//!
//! The state transition function of AgentChain: FRAME system pallets (block production with Aura,
//! finality with GRANDPA, balances, transaction payment, sudo) composed with AgentChain's own
//! pallets. Compiled to wasm by `substrate-wasm-builder`; the node embeds that blob in its chain
//! specs and executes it.
//!
//! - Pallet configurations live in [`configs`].
//! - Runtime APIs (what the node and clients may call) live in [`apis`].
//! - Genesis presets (`development`, `local_testnet`) live in [`genesis_config_presets`].

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` needs a lot of recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod duties;
pub mod genesis_config_presets;
#[cfg(test)]
mod tests;

extern crate alloc;

use alloc::vec::Vec;
use sp_runtime::{generic, impl_opaque_keys, traits::BlakeTwo256, MultiAddress};
use sp_version::RuntimeVersion;

pub use agentchain_primitives::{
	AccountId, Balance, BlockNumber, Hash, Nonce, Signature, MICRO_UNIT, MILLI_UNIT, UNIT,
};
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types, used by the node to handle blocks and extrinsics without knowing the runtime's
/// exact formats, so it keeps syncing across runtime upgrades that change them.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys of a validator: its Aura (block production) and GRANDPA (finality) keys.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. Bump `spec_version` with every change of runtime logic, and
/// `transaction_version` with every change of call indices or call arguments.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("agentchain"),
	impl_name: alloc::borrow::Cow::Borrowed("agentchain"),
	authoring_version: 1,
	spec_version: 132,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 4,
	system_version: 1,
};

/// Block time. AgentChain targets 3-second blocks: inference tasks move through several on-chain
/// phases (submit, commit, reveal, challenge window), so short blocks keep the protocol — and its
/// end-to-end tests — quick, while leaving ample room for the small extrinsics the chain verifies.
pub mod block_times {
	/// Target time between two blocks, in milliseconds. Aura produces one block per slot.
	pub const MILLI_SECS_PER_BLOCK: u64 = 3000;

	/// Aura slot duration. It cannot be changed once the chain has started: block production
	/// would stall.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
}
pub use block_times::*;

/// Number of blocks in a minute.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Number of blocks in an hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Number of blocks in a day.
pub const DAYS: BlockNumber = HOURS * 24;

/// The smallest balance an account may hold; below it the account is reaped.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A block signed with a justification.
pub type SignedBlock = generic::SignedBlock<Block>;

/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions: checks and payments applied to every signed transaction.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	duties::PrioritizeDuties,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// The storage migrations this runtime runs when a chain upgrades to it, each guarded by its
/// pallet's storage version (a migration whose version a chain has passed does nothing).
///
/// Spec 106: the agent registry's version 1 → 2 (reputation counts missed deadlines); spec 107
/// changes off-chain workers only (their locks are keyed by the node's start), no storage; spec
/// 108, no storage either: reveals return their actual weight, and off-chain workers derive their
/// commitment salts and restore a lost record of a result committed to; spec 109, off-chain
/// workers only: a call of a commit phase's first block that failed in a way a second may not
/// (unreachable, timed out, 429, 5xx) is made once more at a later block, and a juror restores a
/// lost vote record as an executor does; spec 110, no storage: the last reveal of a task ends its
/// reveal phase and the deadline hook compares the results at the next block (a task stored by
/// spec 109 never waits in that state: its last reveal concluded it); spec 111, no storage: the
/// deadline hook and `advance` charge each transition what its path did, not the costliest one;
/// spec 112, no storage: a task's submission is charged for the candidates' records it read;
/// spec 113, off-chain workers only: an agent node calls its endpoint for up to 64 tasks a run
/// (was 4), sends the duties it sends again in one block at consecutive nonces (they all took the
/// lowest unused one, of which one only lands a block), and counts every worker's call budgets
/// from the block's start; spec 114, the agent registry's storage version 3: each seat of a
/// candidate set holds a weight, the agent's bonded stake, and executors and jurors are drawn by
/// rejection against those weights, reading the records of the agents drawn instead of every
/// member's, with the law of the full scan (`docs/draw.md`); spec 115, no storage: a paused
/// agent's seats weigh nothing until it resumes (seats paused before keep their weight, an upper
/// bound, until then), `pause` and `resume` are charged for the agent's models, and `rejoin`
/// sets the seats it holds to its stake; spec 116, no storage: a draw that reads a silent or paused
/// agent's record empties its seat in that set, and a slashed agent's lowers to its stake (one
/// write of the set); a heartbeat after a silence sets every seat of the agent back to its stake
/// (charged for its models), and work recorded as completed no longer brings a silent agent back;
/// `set_roles` judges eligibility for a role with the new roles; spec 117, no migration (a task
/// input variant and a storage map added): the batch input and the rules a batch is submitted
/// under, refused while item disputes are not judged (`docs/batches.md`); `submit_task`'s input
/// gained a variant (transaction version 3) and the `InferenceApi` its batch fields (version 3);
/// spec 118, off-chain workers only: an agent node given an outputs URL runs batches (inputs
/// fetched and checked once, items across blocks, outputs published, their root committed);
/// spec 119, no migration: the role `BatchExecutor` (an agent opts in to batches, which are
/// drawn from it alone; single tasks from `Executor`s), so `register` and `set_roles` take a new
/// role (transaction version 4), and an agent node clears a batch's inputs and outputs with its
/// record when it drops the record as the oldest; challenges and audits of a batch judge one
/// item (`challenge_item`, `show_item_input`, `show_item_output`, the dispute phase `Showing`,
/// storage `ItemDisputes`, `WrongItems`, `PausedWindows`, `AuditSeedBlocks`), agent nodes show
/// their disputed items and judge item disputes, batches still refused (`BatchesTaken` false)
/// until a disagreement between two roots is judged item by item; spec 120, no migration (a
/// dispute phase, a call and a storage map added): a disagreement between the two roots of a
/// batch is bisected to the first item they differ on (`open_node`, the phase `Bisecting`,
/// storage `Bisections`), each step an opening checked on chain, and that item judged; agent
/// nodes open their nodes by themselves; `BatchesTaken` a storage parameter root may turn on;
/// spec 121, no migration (a storage map, a constant, an event and a protocol flow added): an
/// item dispute whose first jury cannot be drawn for `JuryWaitLimit` blocks (storage
/// `JuryWaitingSince`) ends its batch unjudged, the fee to the protocol account
/// (`TaskUnjudged`, flow `UnjudgedFees`), where it used to wait for a jury forever; spec 122,
/// no migration (a constant added): agent nodes run batches' items for as long as a run lasts,
/// at most `BatchCallsPerRun` calls, the earliest deadline first, where they ran `ItemsPerBlock`
/// items of each batch a block; spec 123, no migration (a constant raised; agent nodes read the
/// outputs of a batch begun under spec 122 from where it kept them): `BatchCallsPerRun` 16,384,
/// where it was 2,048; agent nodes keep a batch's outputs by pages of 64, set aside a batch they
/// measure they cannot finish in time after those due before it, and take a call the run's end
/// cuts short for the run out of time, not a fault; spec 124, no migration (an event and a
/// resolution added): a prompt an endpoint refuses on its content policy is answered with the
/// output `agentchain:refused`, judged as any other, and an answer a jury whose endpoints refused
/// the prompt outvotes is not slashed, its pay going to the protocol account; spec 125, no
/// migration (a constant added): the inference deadline hook takes due deadlines for as long as
/// the costliest transition fits in `MaxDeadlineWeight` (150 ms), where it took at most 64 a
/// block; spec 126, no migration (a storage map and two calls added): a requester may prepay
/// its tasks' fees and deposits (`Inference::prepay`, `withdraw_prepaid`), and a submission
/// covered by them holds nothing of its own; a task's deposit is held with its fee, under
/// `TaskEscrow`, and those held apart by earlier tasks (`TaskDeposit`) are released at their
/// pruning, before any of the escrow hold; spec 127, no migration (a constant added): the
/// challenges deadline hook takes due disputes for as long as the costliest transition fits in
/// its `MaxDeadlineWeight` (80 ms), and an executor's showing of its disputed item is a duty
/// (priority, the operational class, no fee when valid); spec 128, no migration (storage maps,
/// an event and a call weight added): a disagreement between the two roots of a batch is
/// bisected past each item they differ on (`BisectionGames`, `SuspendedBisections`,
/// `DisagreedItems`, `DifferenceJudged`), up to the batch's 15 item disputes; every difference
/// judged, both roots stay in the batch, each paid for the items it was not found wrong on; a
/// bisection opened under spec 127 ends at its item, as it did; spec 129, the agent registry
/// migrates to version 4 (each record gains `batch_blocks`, zero, and `batch_speed`, one): an
/// executor is drawn for a batch only while the blocks of work of the batches it has not
/// committed to, and this one's, fit in this one's commit period at the speed its agent declares
/// (`Agents::set_batch_speed`); spec 130, no migration (a constant added): a batch's commit
/// phase lasts its commit period or the time its executor's open batches and it take at its
/// declared speed (with a margin), whichever is longer, and an executor is drawn while that time
/// fits in `MaxBatchStretch` (4) commit periods; an item slash lowers the reservation of every
/// executor still in the batch; `AgentsApi` version 4 gives an agent's batch work and speed;
/// spec 131, no migration: a batch's commit phase always leaves the margin beyond its executor's
/// work (an executor at the reference speed meets a batch given its shortest commit period).
/// Chains
/// older than spec 105 cannot upgrade to this runtime: they have no session keys or validator
/// set, which spec 105 introduced in genesis only.
pub type Migrations = (
	pallet_agents::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_agents::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_agents::migrations::v4::MigrateV3ToV4<Runtime>,
	pallet_inference::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_challenges::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_data_rewards::migrations::v1::MigrateV0ToV1<Runtime>,
);

/// Executive: dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	// The validator set. Declared in this order: collator selection's genesis (the
	// invulnerables) comes before the session's, which asks it for the first validators.
	#[runtime::pallet_index(7)]
	pub type Authorship = pallet_authorship;

	#[runtime::pallet_index(8)]
	pub type CollatorSelection = pallet_collator_selection;

	#[runtime::pallet_index(9)]
	pub type Session = pallet_session;

	// AgentChain's own pallets start at index 20.
	#[runtime::pallet_index(20)]
	pub type Agents = pallet_agents;

	#[runtime::pallet_index(21)]
	pub type Inference = pallet_inference;

	#[runtime::pallet_index(22)]
	pub type Challenges = pallet_challenges;

	#[runtime::pallet_index(23)]
	pub type DataRewards = pallet_data_rewards;
}
