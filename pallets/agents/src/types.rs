//! Types stored by the agent registry.

use crate::{BalanceOf, Config};
use agentchain_primitives::{
	agents::{AgentStatus, Reputation, Role},
	ModelId,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::ConstU32, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::Saturating;

/// At most one entry per role.
pub type MaxRoles = ConstU32<4>;

/// An agent's roles: sorted, without duplicates, never empty.
pub type Roles = BoundedVec<Role, MaxRoles>;

/// The models an agent serves: sorted, without duplicates.
pub type ModelsOf<T> = BoundedVec<ModelId, <T as Config>::MaxModels>;

/// Descriptive data of an agent, shown to requesters. Bounded in length; UTF-8 by convention
/// (not checked on chain).
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct AgentMetadata<T: Config> {
	/// Human-readable name.
	pub name: BoundedVec<u8, T::MaxNameLen>,
	/// Public endpoint of the agent's inference service (informational: nodes are told their own
	/// endpoint on their command line, never from chain state).
	pub endpoint: BoundedVec<u8, T::MaxEndpointLen>,
	/// Version of the agent's software or model build.
	pub version: BoundedVec<u8, T::MaxVersionLen>,
}

/// Stake on its way out: still held and slashable until `unlock_at`.
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
pub struct UnbondingChunk<Balance, BlockNumber> {
	/// Amount unbonding.
	pub value: Balance,
	/// First block at which it can be withdrawn.
	pub unlock_at: BlockNumber,
}

/// Unbonding chunks of an agent, ordered by `unlock_at`.
pub type UnbondingOf<T> =
	BoundedVec<UnbondingChunk<BalanceOf<T>, BlockNumberFor<T>>, <T as Config>::MaxUnbondingChunks>;

/// Everything the chain records about an agent, keyed by its owner's account.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct AgentInfo<T: Config> {
	/// The hot key the agent's node signs with, if one is set.
	pub operator: Option<T::AccountId>,
	/// An account the owner named as its next operator key, which has not accepted yet
	/// (`accept_operator`). It acts for nobody until it accepts.
	pub proposed_operator: Option<T::AccountId>,
	/// Name, endpoint and version.
	pub metadata: AgentMetadata<T>,
	/// Models served, sorted.
	pub models: ModelsOf<T>,
	/// Roles held, sorted.
	pub roles: Roles,
	/// Bonded stake (held), not counting unbonding chunks.
	pub stake: BalanceOf<T>,
	/// Stake unbonding (still held and slashable).
	pub unbonding: UnbondingOf<T>,
	/// Whether the agent takes new work.
	pub status: AgentStatus,
	/// Block of registration.
	pub registered_at: BlockNumberFor<T>,
	/// Last sign of life: a heartbeat, a resume, or delivered work while live.
	pub last_seen: BlockNumberFor<T>,
	/// Pieces of work (tasks, jury seats) taken on and not yet over.
	pub open_work: u32,
	/// Bonded stake reserved by open work: the most that work can still cost in slashes. It
	/// cannot be unbonded nor back other work until the work is over.
	pub collateral: BalanceOf<T>,
	/// Blocks of work the batches it was drawn for and has not committed yet need of it: a
	/// draw for another batch counts them ([`BatchWork`](agentchain_primitives::agents::BatchWork)).
	pub batch_blocks: u32,
	/// Blocks of the chain's reference batch work its node does in a block, as the agent
	/// declared it (`set_batch_speed`; 1 until it does): a draw for a batch counts its open
	/// batches against this many times the batch's commit period.
	pub batch_speed: u32,
	/// What happened to the agent's work so far.
	pub reputation: Reputation,
	/// The storage deposit held for this record.
	pub deposit: T::Consideration,
}

impl<T: Config> AgentInfo<T> {
	/// Total of the unbonding chunks.
	pub fn unbonding_total(&self) -> BalanceOf<T> {
		self.unbonding
			.iter()
			.fold(BalanceOf::<T>::default(), |total, chunk| total.saturating_add(chunk.value))
	}

	/// Everything held as stake for this agent: bonded plus unbonding.
	pub fn total_held(&self) -> BalanceOf<T> {
		self.stake.saturating_add(self.unbonding_total())
	}

	/// Bonded stake not reserved by open work: what new work can be backed by.
	pub fn free_stake(&self) -> BalanceOf<T> {
		self.stake.saturating_sub(self.collateral)
	}

	/// Whether the agent holds `role`.
	pub fn has_role(&self, role: Role) -> bool {
		self.roles.binary_search(&role).is_ok()
	}

	/// Whether the agent serves `model`.
	pub fn serves(&self, model: &ModelId) -> bool {
		self.models.binary_search(model).is_ok()
	}
}

/// A seat in a candidate set: an agent and the weight its seat holds in a draw's sum.
///
/// While the agent is active and live, the weight is never below its bonded stake, so never below
/// its free stake, its weight in a draw (`docs/draw.md`): a seat is taken with the agent's stake
/// (nothing if it is paused), and `bond_extra`, `unbond`, `pause`, `resume`, `rejoin` and a
/// heartbeat after a silence set every seat of the agent at once; a slash leaves the seats above
/// the stake until one of those, or a draw that reads the record, lowers them. A draw that reads
/// a silent agent's record empties its seat; its next heartbeat restores every seat. A draw
/// lands on a seat in proportion to this weight and accepts its agent in proportion to the
/// agent's free stake, so the law is that of a scan of every record.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Candidate<AccountId, Balance> {
	/// The agent seated.
	pub agent: AccountId,
	/// The seat's weight: at least the agent's bonded stake while it is active and live.
	pub weight: Balance,
}

/// A candidate seat of the agents pallet's configuration.
pub type CandidateOf<T> = Candidate<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
