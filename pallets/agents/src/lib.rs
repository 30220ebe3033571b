//! # Agents pallet
//!
//! The registry of AgentChain's AI agents: who they are, which models they serve, in which roles,
//! which key their node signs with, how much stake backs them, whether they are alive, and how
//! their work has fared.
//!
//! ## Overview
//!
//! An agent is identified by its **owner** account (the cold key whose funds back it). The owner:
//!
//! - [`register`](Pallet::register)s the agent with bounded metadata (name, endpoint URL,
//!   version), the models it serves ([`ModelId`], a 32-byte hash), its [`Role`]s and an initial
//!   stake of at least the largest per-role minimum. The stake is **held** from the owner's
//!   balance under [`HoldReason::AgentStake`]; the record's storage is paid for by a deposit
//!   held through [`Config::Consideration`].
//! - sets or rotates an **operator** account ([`set_operator`](Pallet::set_operator)): the hot key
//!   in the agent node's keystore that signs the node's transactions. One operator maps to exactly
//!   one agent; funds never move to it.
//! - manages stake: [`bond_extra`](Pallet::bond_extra), [`unbond`](Pallet::unbond) (the amount
//!   stays held and slashable for [`Config::UnbondingPeriod`]), then
//!   [`withdraw_unbonded`](Pallet::withdraw_unbonded).
//! - [`pause`](Pallet::pause)s and [`resume`](Pallet::resume)s the agent, updates its metadata,
//!   models and roles, and finally [`deregister`](Pallet::deregister)s it (refused while it has
//!   open work): all its stake starts unbonding, and the record is removed, with its deposit
//!   returned, when the last of it is withdrawn.
//!
//! The owner or the operator keeps the agent **live** with a [`heartbeat`](Pallet::heartbeat);
//! delivered work keeps a live agent live too (it does not end a silence). An agent not seen for
//! [`Config::LivenessPeriod`] blocks is no longer selected for work, but keeps its registration.
//!
//! ## For other pallets
//!
//! The pallet implements [`AgentRegistry`]: whether an account is an active agent in a role for a
//! model, its stake, stake-weighted sampling of distinct agents, slashing to a beneficiary,
//! reputation counters and open-work accounting. Selection draws from a **bounded candidate set
//! per role and model** ([`Candidates`], at most [`Config::MaxCandidates`] agents), so its cost
//! never depends on the number of agents on chain. Each seat holds a weight, never below the
//! bonded stake of a live active agent, nothing for one that cannot be drawn until it acts; a
//! draw lands on seats by weight and accepts an agent by its free stake, reading the records of
//! the agents it lands on rather than every member's (`docs/draw.md`).
//!
//! ## Implementation notes
//!
//! - Candidate sets hold every non-leaving agent with the role and the model; eligibility (status,
//!   stake, liveness) is checked when selecting. A full candidate set refuses new members with
//!   [`Error::CandidateSetFull`]. `bond_extra`, `unbond`, `pause`, `resume`, `rejoin` and a
//!   heartbeat after a silence reweigh the agent's seats at once; a draw empties the seats of
//!   silent and paused agents it reads, and lowers a slashed agent's to its stake.
//! - Slashing takes bonded stake first, then unbonding chunks, latest-unlocking first.
//! - Invariants (checked by `try_state`): the stake held from each owner equals its recorded stake
//!   plus unbonding chunks; operators and agents map one to one; candidate sets hold exactly the
//!   non-leaving agents with that role and model, each seat of a live active agent weighing at
//!   least its stake.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod candidates;
mod impls;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
#[cfg(any(feature = "try-runtime", feature = "std"))]
mod try_state;
pub mod types;
mod views;
pub mod weights;

pub use agentchain_primitives::{
	agents::{
		AgentRegistry, AgentStatus, BatchWork, Outcome, Reputation, Role, SelectionError,
		MAX_BATCH_SPEED,
	},
	ModelId,
};
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
		Consideration, Footprint,
	},
};
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{Saturating, StaticLookup, Zero},
	SaturatedConversion,
};

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::agents";

/// The balance type of the currency that backs agents.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(4);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Reasons for which this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Stake backing an agent (bonded or unbonding); slashable.
		#[codec(index = 0)]
		AgentStake,
		/// Deposit paying for the storage of an agent's record; returned when it is removed.
		#[codec(index = 1)]
		AgentDeposit,
	}

	/// Default values for the configuration of a runtime using this pallet.
	pub mod config_preludes {
		use super::*;
		use frame_support::{
			derive_impl,
			traits::{ConstU32, ConstU64},
		};

		/// A test runtime's configuration (balances and block numbers are `u64`): stakes of
		/// 100 for every role, 100 blocks of unbonding, agents live for 1,000 blocks, 4 models
		/// and 8 candidates per set. The mocks of the pallets that use the registry derive it
		/// and set only the types of their runtime (currency, hold reason, deposit, keys).
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			type MinExecutorStake = ConstU64<100>;
			type MinVerifierStake = ConstU64<100>;
			type MinCuratorStake = ConstU64<100>;
			type UnbondingPeriod = ConstU64<100>;
			type LivenessPeriod = ConstU64<1_000>;
			type MaxModels = ConstU32<4>;
			type MaxCandidates = ConstU32<8>;
			type MaxUnbondingChunks = ConstU32<2>;
			type MaxNameLen = ConstU32<16>;
			type MaxEndpointLen = ConstU32<32>;
			type MaxVersionLen = ConstU32<8>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The crypto of operator keys (key type `agnt`), which agent nodes' off-chain workers
		/// sign heartbeats with.
		#[pallet::no_default]
		type OperatorCrypto: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// The currency that stake and deposits are held in.
		#[pallet::no_default]
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		#[pallet::no_default]
		type RuntimeHoldReason: From<HoldReason>;

		/// The storage deposit of an agent's record, priced by its footprint (one item, and the
		/// bytes of its metadata and models).
		#[pallet::no_default]
		type Consideration: Consideration<Self::AccountId, Footprint>;

		/// Minimum bonded stake of an executor, and of a batch executor.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinExecutorStake: Get<BalanceOf<Self>>;

		/// Minimum bonded stake of a verifier (juror).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinVerifierStake: Get<BalanceOf<Self>>;

		/// Minimum bonded stake of a curator.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinCuratorStake: Get<BalanceOf<Self>>;

		/// Blocks for which unbonded stake stays held and slashable. Must be longer than any
		/// challenge window, so that stake cannot leave before the work it backed is judged.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// An agent not seen (heartbeat, resume, delivered work while live) for this many blocks
		/// is not selected for new work. Raising it in a runtime upgrade needs a migration that
		/// sets every seat of the agents it makes live again to their stake: a draw emptied the
		/// seats of silent agents, and only a heartbeat that ends a silence restores them.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type LivenessPeriod: Get<BlockNumberFor<Self>>;

		/// Most models an agent may serve.
		#[pallet::constant]
		type MaxModels: Get<u32>;

		/// Most agents in one candidate set (per role and model): the bound on selection cost.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Most unbonding chunks an agent may have at once.
		#[pallet::constant]
		type MaxUnbondingChunks: Get<u32>;

		/// Longest agent name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest endpoint URL, in bytes.
		#[pallet::constant]
		type MaxEndpointLen: Get<u32>;

		/// Longest version string, in bytes.
		#[pallet::constant]
		type MaxVersionLen: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The registry: every agent's record, by owner account.
	///
	/// Blake2_128Concat: owner accounts are chosen by users, so the key must be hashed
	/// securely; the concatenated key lets clients list owners.
	///
	/// Stored, and named in the metadata, under its first name, `Agents` (`api.query.agents.agents`
	/// in polkadot.js): renaming it on chain would move every agent's record, work no single
	/// block can be trusted to hold once the registry is large.
	#[pallet::storage]
	#[pallet::storage_prefix = "Agents"]
	pub type Registry<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, AgentInfo<T>, OptionQuery>;

	/// The agent (owner account) that each operator key acts for.
	///
	/// Blake2_128Concat: operator accounts are chosen by users.
	#[pallet::storage]
	pub type Operators<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId, OptionQuery>;

	/// The candidate set of each model-specific role and model: non-leaving agents that hold
	/// the role and serve the model, at most [`Config::MaxCandidates`], each seated with a
	/// weight never below its bonded stake while it is active and live (see [`Candidate`]): a
	/// draw reads this list and the
	/// records of the agents it lands on, every member's only when its attempts run out. When a
	/// set is full, an eligible newcomer takes the seat of an ineligible (paused, silent) member
	/// or of the member with the least stake, if its own is larger; the evicted agent stays
	/// registered and takes a seat back with `rejoin`.
	///
	/// Twox64Concat for the role (a three-variant enum of ours, not user-controlled);
	/// Blake2_128Concat for the model id (any 32 bytes a user chooses).
	#[pallet::storage]
	pub type Candidates<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		Role,
		Blake2_128Concat,
		ModelId,
		BoundedVec<CandidateOf<T>, T::MaxCandidates>,
		ValueQuery,
	>;

	/// Number of registered agents (leaving ones included).
	#[pallet::storage]
	pub type AgentCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An agent was registered.
		AgentRegistered { agent: T::AccountId, stake: BalanceOf<T>, roles: Roles, models: u32 },
		/// Stake was added to an agent.
		StakeBonded { agent: T::AccountId, amount: BalanceOf<T>, stake: BalanceOf<T> },
		/// Stake started unbonding; it can be withdrawn from block `unlock_at`.
		StakeUnbonded { agent: T::AccountId, amount: BalanceOf<T>, unlock_at: BlockNumberFor<T> },
		/// Unbonded stake was released to the owner.
		UnbondedWithdrawn { agent: T::AccountId, amount: BalanceOf<T> },
		/// An agent named `operator` as its next operator key; it acts for the agent once it
		/// accepts (`accept_operator`).
		OperatorProposed { agent: T::AccountId, operator: T::AccountId },
		/// An agent's operator key was set or rotated.
		OperatorSet { agent: T::AccountId, operator: T::AccountId, previous: Option<T::AccountId> },
		/// An agent stopped taking new work.
		AgentPaused { agent: T::AccountId },
		/// An agent takes new work again.
		AgentResumed { agent: T::AccountId },
		/// An agent deregistered: all its stake is unbonding until `unlock_at`.
		AgentDeregistered { agent: T::AccountId, unlock_at: BlockNumberFor<T> },
		/// A deregistered agent's record was removed and its deposit returned.
		AgentRemoved { agent: T::AccountId },
		/// An agent's name, endpoint or version changed.
		MetadataUpdated { agent: T::AccountId },
		/// An agent's set of served models changed.
		ModelsSet { agent: T::AccountId, models: u32 },
		/// An agent's roles changed.
		RolesSet { agent: T::AccountId, roles: Roles },
		/// An agent signalled it is alive.
		Heartbeat { agent: T::AccountId },
		/// Stake was taken from an agent; given to `beneficiary`, or burned when `None`.
		AgentSlashed {
			agent: T::AccountId,
			amount: BalanceOf<T>,
			beneficiary: Option<T::AccountId>,
		},
		/// `agent` left the candidate set of `role` and `model` to make room for `by`: it was not
		/// eligible, or had the least stake of the full set and less than `by`.
		CandidateEvicted { agent: T::AccountId, role: Role, model: ModelId, by: T::AccountId },
		/// An agent (re)joined `joined` candidate sets.
		CandidateSetsJoined { agent: T::AccountId, joined: u32 },
		/// An outcome was counted in an agent's reputation.
		ReputationUpdated { agent: T::AccountId, outcome: Outcome },
		/// An agent declared its node's batch speed.
		BatchSpeedSet { agent: T::AccountId, speed: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account already owns an agent. Use `update_metadata`, `set_models` or
		/// `set_roles` to change it.
		AlreadyRegistered,
		/// The account owns no agent. Register one first.
		NotRegistered,
		/// The account is another agent's operator key; an operator cannot own an agent.
		AccountIsOperator,
		/// The operator key is already in use by an agent (this one or another).
		OperatorInUse,
		/// The operator key is an agent's owner account; use a separate hot key.
		OperatorIsAgent,
		/// The signer is neither the owner nor the operator of an agent.
		NotAgentOrOperator,
		/// The stake is below the minimum of the agent's roles.
		InsufficientStake,
		/// The owner's free balance cannot cover the stake (or the storage deposit) and stay
		/// alive.
		InsufficientBalance,
		/// The amount must be greater than zero.
		ZeroAmount,
		/// The amount to unbond is more than the bonded stake.
		UnbondExceedsStake,
		/// Unbonding this much would leave the stake below the minimum of the agent's roles.
		/// Unbond less, or deregister to unbond everything.
		BelowMinimumStake,
		/// Too many unbonding chunks; withdraw the unlocked ones or wait for them.
		TooManyUnbondingChunks,
		/// No unbonding chunk is unlocked yet.
		NothingToWithdraw,
		/// At least one role is required.
		NoRoles,
		/// A role is listed twice.
		DuplicateRole,
		/// More models than [`Config::MaxModels`].
		TooManyModels,
		/// A model is listed twice.
		DuplicateModel,
		/// The name is longer than [`Config::MaxNameLen`].
		NameTooLong,
		/// The endpoint is longer than [`Config::MaxEndpointLen`].
		EndpointTooLong,
		/// The version is longer than [`Config::MaxVersionLen`].
		VersionTooLong,
		/// A candidate set of one of the models is full ([`Config::MaxCandidates`] agents), every
		/// member eligible and staked at least as much as this agent: bond more stake, or serve
		/// another model.
		CandidateSetFull,
		/// The agent is paused, or leaving; only an active agent can do this.
		NotActive,
		/// The agent is not paused.
		NotPaused,
		/// The agent has deregistered and is leaving.
		Leaving,
		/// The agent still has open work (tasks or jury seats); finish it first.
		HasOpenWork,
		/// The agent's open-work counter would overflow.
		TooMuchOpenWork,
		/// The signer is not the operator key this agent proposed; the owner must name it with
		/// `set_operator` first.
		NotProposedOperator,
		/// That much stake is reserved as collateral by the agent's open work: unbond less, or
		/// wait for the work to end.
		StakeReservedByWork,
		/// The agent's free stake (bonded, not reserved by open work) cannot back this work.
		InsufficientFreeStake,
		/// A batch speed is from 1 to `MAX_BATCH_SPEED` (10,000).
		InvalidBatchSpeed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// On agent nodes: keeps the node's agents live (see [`offchain`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::send_heartbeats(now);
		}

		fn integrity_test() {
			assert!(!T::MinExecutorStake::get().is_zero(), "MinExecutorStake must be positive");
			assert!(!T::MinVerifierStake::get().is_zero(), "MinVerifierStake must be positive");
			assert!(!T::MinCuratorStake::get().is_zero(), "MinCuratorStake must be positive");
			assert!(!T::UnbondingPeriod::get().is_zero(), "UnbondingPeriod must be positive");
			assert!(!T::LivenessPeriod::get().is_zero(), "LivenessPeriod must be positive");
			assert!(T::MaxCandidates::get() > 0, "MaxCandidates must be positive");
			assert!(T::MaxUnbondingChunks::get() > 0, "MaxUnbondingChunks must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register the caller's agent.
		///
		/// The origin must be signed by the owner: the account whose balance backs the agent.
		///
		/// - `name`, `endpoint`, `version`: descriptive metadata, bounded in length.
		/// - `models`: the models served (at most [`Config::MaxModels`], no duplicates).
		/// - `roles`: at least one of executor, verifier, curator, no duplicates.
		/// - `stake`: held from the owner's free balance; at least the largest minimum of the
		///   roles. A storage deposit for the record is held as well.
		///
		/// The agent joins the candidate set of each of its model-specific roles (executor,
		/// verifier) for each model, and counts as live from this block.
		///
		/// Errors: `AlreadyRegistered`, `AccountIsOperator`, `NoRoles`, `DuplicateRole`,
		/// `TooManyModels`, `DuplicateModel`, `NameTooLong`, `EndpointTooLong`,
		/// `VersionTooLong`, `InsufficientStake`, `InsufficientBalance`, `CandidateSetFull`.
		///
		/// Emits `AgentRegistered`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register(models.len().saturated_into()))]
		pub fn register(
			origin: OriginFor<T>,
			name: Vec<u8>,
			endpoint: Vec<u8>,
			version: Vec<u8>,
			models: Vec<ModelId>,
			roles: Vec<Role>,
			stake: BalanceOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(!Registry::<T>::contains_key(&owner), Error::<T>::AlreadyRegistered);
			ensure!(!Operators::<T>::contains_key(&owner), Error::<T>::AccountIsOperator);

			let metadata = Self::bounded_metadata(name, endpoint, version)?;
			let models = Self::bounded_models(models)?;
			let roles = Self::bounded_roles(roles)?;
			ensure!(stake >= Self::min_stake(&roles), Error::<T>::InsufficientStake);
			Self::hold_stake(&owner, stake)?;
			let deposit = T::Consideration::new(&owner, Self::footprint(&metadata, &models))
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let now = frame_system::Pallet::<T>::block_number();
			let model_count = models.len() as u32;
			let info = AgentInfo::<T> {
				operator: None,
				proposed_operator: None,
				metadata,
				models,
				roles: roles.clone(),
				stake,
				unbonding: Default::default(),
				status: AgentStatus::Active,
				registered_at: now,
				last_seen: now,
				open_work: 0,
				batch_blocks: 0,
				batch_speed: 1,
				collateral: Zero::zero(),
				reputation: Default::default(),
				deposit,
			};
			Self::join_candidate_sets(&owner, &info, &info.roles, &info.models, true)?;
			Registry::<T>::insert(&owner, info);
			AgentCount::<T>::mutate(|count| *count = count.saturating_add(1));

			Self::deposit_event(Event::AgentRegistered {
				agent: owner,
				stake,
				roles,
				models: model_count,
			});
			Ok(())
		}

		/// Add stake to the caller's agent, held from the owner's free balance. The agent's
		/// seats in candidate sets weigh the new stake at once.
		///
		/// The origin must be signed by the owner. The agent must not be leaving.
		///
		/// Errors: `NotRegistered`, `Leaving`, `ZeroAmount`, `InsufficientBalance`.
		///
		/// Emits `StakeBonded`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra(T::MaxModels::get()))]
		pub fn bond_extra(
			origin: OriginFor<T>,
			amount: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let owner = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let info = Registry::<T>::try_mutate(&owner, |maybe_info| {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
				Self::hold_stake(&owner, amount)?;
				info.stake = info.stake.saturating_add(amount);
				Ok::<_, DispatchError>(info.clone())
			})?;
			Self::reweigh_seats(&owner, &info);
			Self::deposit_event(Event::StakeBonded { agent: owner, amount, stake: info.stake });
			Ok(Some(T::WeightInfo::bond_extra(info.models.len() as u32)).into())
		}

		/// Start unbonding part of the caller's stake.
		///
		/// The amount stays held, and slashable, for [`Config::UnbondingPeriod`] blocks; then
		/// `withdraw_unbonded` releases it. The stake left bonded must still meet the minimum of
		/// the agent's roles: to unbond everything, `deregister`.
		///
		/// The origin must be signed by the owner.
		///
		/// Errors: `NotRegistered`, `Leaving`, `ZeroAmount`, `UnbondExceedsStake`,
		/// `BelowMinimumStake`, `TooManyUnbondingChunks`.
		///
		/// Emits `StakeUnbonded`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond(T::MaxModels::get()))]
		pub fn unbond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResultWithPostInfo {
			let owner = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let (info, unlock_at) = Registry::<T>::try_mutate(&owner, |maybe_info| {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
				ensure!(amount <= info.stake, Error::<T>::UnbondExceedsStake);
				let remaining = info.stake.saturating_sub(amount);
				ensure!(remaining >= Self::min_stake(&info.roles), Error::<T>::BelowMinimumStake);
				ensure!(remaining >= info.collateral, Error::<T>::StakeReservedByWork);

				let unlock_at = frame_system::Pallet::<T>::block_number()
					.saturating_add(T::UnbondingPeriod::get());
				match info.unbonding.last_mut() {
					Some(last) if last.unlock_at == unlock_at => {
						last.value = last.value.saturating_add(amount)
					},
					_ => info
						.unbonding
						.try_push(UnbondingChunk { value: amount, unlock_at })
						.map_err(|_| Error::<T>::TooManyUnbondingChunks)?,
				}
				info.stake = remaining;
				Ok::<_, DispatchError>((info.clone(), unlock_at))
			})?;
			Self::reweigh_seats(&owner, &info);
			Self::deposit_event(Event::StakeUnbonded { agent: owner, amount, unlock_at });
			Ok(Some(T::WeightInfo::unbond(info.models.len() as u32)).into())
		}

		/// Release the caller's unbonding chunks whose unbonding period is over.
		///
		/// For a deregistered agent, once nothing is held any more, the record is removed, the
		/// operator key freed and the storage deposit returned.
		///
		/// The origin must be signed by the owner.
		///
		/// Errors: `NotRegistered`, `NothingToWithdraw`.
		///
		/// Emits `UnbondedWithdrawn`, and `AgentRemoved` when the record goes.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let mut info = Registry::<T>::get(&owner).ok_or(Error::<T>::NotRegistered)?;
			let now = frame_system::Pallet::<T>::block_number();

			let mut released = BalanceOf::<T>::zero();
			info.unbonding.retain(|chunk| {
				if chunk.unlock_at <= now {
					released = released.saturating_add(chunk.value);
					false
				} else {
					true
				}
			});
			let emptied = info.status == AgentStatus::Leaving && info.total_held().is_zero();
			ensure!(!released.is_zero() || emptied, Error::<T>::NothingToWithdraw);

			if !released.is_zero() {
				T::Currency::release(
					&HoldReason::AgentStake.into(),
					&owner,
					released,
					Precision::Exact,
				)?;
				Self::deposit_event(Event::UnbondedWithdrawn {
					agent: owner.clone(),
					amount: released,
				});
			}
			if emptied {
				Self::remove_agent(&owner, info)?;
			} else {
				Registry::<T>::insert(&owner, info);
			}
			Ok(())
		}

		/// Name the operator key the caller's agent should use: the hot key its node signs with.
		///
		/// Nothing changes until `operator` accepts with
		/// [`accept_operator`](Pallet::accept_operator): an account never becomes an operator
		/// without its own signature. The current operator key, if any, keeps acting for the
		/// agent until then. Naming another account replaces the proposal.
		///
		/// The origin must be signed by the owner. The operator must differ from every agent's
		/// owner and from every agent's operator.
		///
		/// Errors: `NotRegistered`, `Leaving`, `OperatorInUse`, `OperatorIsAgent`.
		///
		/// Emits `OperatorProposed`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_operator())]
		pub fn set_operator(
			origin: OriginFor<T>,
			operator: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let operator = T::Lookup::lookup(operator)?;
			Registry::<T>::try_mutate(&owner, |maybe_info| -> DispatchResult {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
				ensure!(!Operators::<T>::contains_key(&operator), Error::<T>::OperatorInUse);
				ensure!(!Registry::<T>::contains_key(&operator), Error::<T>::OperatorIsAgent);
				info.proposed_operator = Some(operator.clone());
				Self::deposit_event(Event::OperatorProposed { agent: owner.clone(), operator });
				Ok(())
			})
		}

		/// Accept to be the operator key of `agent`, which named the caller with
		/// [`set_operator`](Pallet::set_operator). The agent's previous operator key, if any,
		/// no longer acts for it.
		///
		/// The origin must be signed by the proposed operator, which must still be neither an
		/// agent's owner nor an agent's operator.
		///
		/// Errors: `NotRegistered`, `Leaving`, `NotProposedOperator`, `OperatorInUse`,
		/// `OperatorIsAgent`.
		///
		/// Emits `OperatorSet`.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::accept_operator())]
		pub fn accept_operator(
			origin: OriginFor<T>,
			agent: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			let owner = T::Lookup::lookup(agent)?;
			Registry::<T>::try_mutate(&owner, |maybe_info| -> DispatchResult {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
				ensure!(
					info.proposed_operator.as_ref() == Some(&operator),
					Error::<T>::NotProposedOperator
				);
				ensure!(!Operators::<T>::contains_key(&operator), Error::<T>::OperatorInUse);
				ensure!(!Registry::<T>::contains_key(&operator), Error::<T>::OperatorIsAgent);

				info.proposed_operator = None;
				let previous = info.operator.replace(operator.clone());
				if let Some(previous) = &previous {
					Operators::<T>::remove(previous);
				}
				Operators::<T>::insert(&operator, &owner);
				Self::deposit_event(Event::OperatorSet {
					agent: owner.clone(),
					operator,
					previous,
				});
				Ok(())
			})
		}

		/// Stop the caller's agent from being selected for new work. Open work continues. Its
		/// seats in candidate sets weigh nothing until it resumes, so that draws never land on
		/// them.
		///
		/// The origin must be signed by the owner or the operator.
		///
		/// Errors: `NotAgentOrOperator`, `NotActive`.
		///
		/// Emits `AgentPaused`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::pause(T::MaxModels::get()))]
		pub fn pause(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let agent = Self::ensure_agent_or_operator(origin)?;
			let info = Registry::<T>::try_mutate(&agent, |maybe_info| {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status == AgentStatus::Active, Error::<T>::NotActive);
				info.status = AgentStatus::Paused;
				Ok::<_, DispatchError>(info.clone())
			})?;
			Self::reweigh_seats(&agent, &info);
			Self::deposit_event(Event::AgentPaused { agent });
			Ok(Some(T::WeightInfo::pause(info.models.len() as u32)).into())
		}

		/// Let a paused agent take new work again. Counts as a sign of life. Its seats weigh its
		/// bonded stake again, and the seats it lost while paused are taken back where there is
		/// room, or an ineligible or smaller member to replace (`rejoin` tries again later).
		///
		/// The origin must be signed by the owner or the operator.
		///
		/// Errors: `NotAgentOrOperator`, `NotPaused`.
		///
		/// Emits `AgentResumed`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::resume(T::MaxModels::get()))]
		pub fn resume(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let agent = Self::ensure_agent_or_operator(origin)?;
			let info = Registry::<T>::try_mutate(&agent, |maybe_info| {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status == AgentStatus::Paused, Error::<T>::NotPaused);
				info.status = AgentStatus::Active;
				info.last_seen = frame_system::Pallet::<T>::block_number();
				Ok::<_, DispatchError>(info.clone())
			})?;
			Self::deposit_event(Event::AgentResumed { agent: agent.clone() });
			// Not all sets may have room: the call succeeds with those that had.
			let _ = Self::join_candidate_sets(&agent, &info, &info.roles, &info.models, false);
			Ok(Some(T::WeightInfo::resume(info.models.len() as u32)).into())
		}

		/// Deregister the caller's agent.
		///
		/// Refused while the agent has open work. All its stake, bonded and unbonding, starts
		/// unbonding together, until [`Config::UnbondingPeriod`] blocks from now (it stays
		/// slashable until then); the agent leaves every candidate set and takes no new work.
		/// `withdraw_unbonded` afterwards releases the stake and removes the record. An agent
		/// with nothing held is removed at once.
		///
		/// The origin must be signed by the owner.
		///
		/// Errors: `NotRegistered`, `Leaving`, `HasOpenWork`.
		///
		/// Emits `AgentDeregistered`, and `AgentRemoved` when the record goes at once.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::deregister(T::MaxModels::get()))]
		pub fn deregister(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let owner = ensure_signed(origin)?;
			let mut info = Registry::<T>::get(&owner).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
			ensure!(info.open_work == 0, Error::<T>::HasOpenWork);

			Self::leave_candidate_sets(&owner, &info.roles, &info.models);
			let unlock_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			let total = info.total_held();
			info.unbonding.clear();
			info.stake = Zero::zero();
			info.status = AgentStatus::Leaving;
			let model_count = info.models.len() as u32;
			Self::deposit_event(Event::AgentDeregistered { agent: owner.clone(), unlock_at });
			if total.is_zero() {
				Self::remove_agent(&owner, info)?;
			} else {
				// The chunk vector was just cleared, so one push always fits.
				info.unbonding
					.try_push(UnbondingChunk { value: total, unlock_at })
					.map_err(|_| Error::<T>::TooManyUnbondingChunks)?;
				Registry::<T>::insert(&owner, info);
			}
			Ok(Some(T::WeightInfo::deregister(model_count)).into())
		}

		/// Change the name, endpoint and version of the caller's agent. The storage deposit
		/// follows the new size.
		///
		/// The origin must be signed by the owner. The agent must not be leaving.
		///
		/// Errors: `NotRegistered`, `Leaving`, `NameTooLong`, `EndpointTooLong`, `VersionTooLong`,
		/// `InsufficientBalance` (for a larger deposit).
		///
		/// Emits `MetadataUpdated`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::update_metadata())]
		pub fn update_metadata(
			origin: OriginFor<T>,
			name: Vec<u8>,
			endpoint: Vec<u8>,
			version: Vec<u8>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let metadata = Self::bounded_metadata(name, endpoint, version)?;
			let mut info = Registry::<T>::get(&owner).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
			info.deposit = info
				.deposit
				.update(&owner, Self::footprint(&metadata, &info.models))
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			info.metadata = metadata;
			Registry::<T>::insert(&owner, info);
			Self::deposit_event(Event::MetadataUpdated { agent: owner });
			Ok(())
		}

		/// Replace the set of models the caller's agent serves. The agent leaves the candidate
		/// sets of models it no longer serves and joins those of new ones. The storage deposit
		/// follows the new size.
		///
		/// The origin must be signed by the owner. The agent must not be leaving.
		///
		/// Errors: `NotRegistered`, `Leaving`, `TooManyModels`, `DuplicateModel`,
		/// `CandidateSetFull`, `InsufficientBalance` (for a larger deposit).
		///
		/// Emits `ModelsSet`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_models(models.len().saturated_into()))]
		pub fn set_models(origin: OriginFor<T>, models: Vec<ModelId>) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let models = Self::bounded_models(models)?;
			let mut info = Registry::<T>::get(&owner).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);

			Self::leave_candidate_sets(&owner, &info.roles, &info.models);
			Self::join_candidate_sets(&owner, &info, &info.roles, &models, true)?;
			info.deposit = info
				.deposit
				.update(&owner, Self::footprint(&info.metadata, &models))
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			let count = models.len() as u32;
			info.models = models;
			Registry::<T>::insert(&owner, info);
			Self::deposit_event(Event::ModelsSet { agent: owner, models: count });
			Ok(())
		}

		/// Replace the roles of the caller's agent. The bonded stake must meet the minimum of
		/// the new roles. Candidate sets follow the new roles.
		///
		/// The origin must be signed by the owner. The agent must not be leaving.
		///
		/// Errors: `NotRegistered`, `Leaving`, `NoRoles`, `DuplicateRole`, `InsufficientStake`,
		/// `CandidateSetFull`.
		///
		/// Emits `RolesSet`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_roles(T::MaxModels::get()))]
		pub fn set_roles(origin: OriginFor<T>, roles: Vec<Role>) -> DispatchResultWithPostInfo {
			let owner = ensure_signed(origin)?;
			let roles = Self::bounded_roles(roles)?;
			let mut info = Registry::<T>::get(&owner).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
			ensure!(info.stake >= Self::min_stake(&roles), Error::<T>::InsufficientStake);

			Self::leave_candidate_sets(&owner, &info.roles, &info.models);
			// Eligibility for a new role is judged with the new roles.
			info.roles = roles.clone();
			Self::join_candidate_sets(&owner, &info, &roles, &info.models, true)?;
			let model_count = info.models.len() as u32;
			Registry::<T>::insert(&owner, info);
			Self::deposit_event(Event::RolesSet { agent: owner, roles });
			Ok(Some(T::WeightInfo::set_roles(model_count)).into())
		}

		/// Signal that the agent is alive, so it keeps being selected for work.
		///
		/// After a silence (no heartbeat for more than [`Config::LivenessPeriod`] blocks), the
		/// agent's seats weigh its bonded stake again at once: draws that read its record while
		/// it was silent emptied them. Only such a heartbeat is charged for the agent's models.
		///
		/// The origin must be signed by the owner or the operator (an agent node's off-chain
		/// worker sends it with the operator key).
		///
		/// Errors: `NotAgentOrOperator`, `Leaving`.
		///
		/// Emits `Heartbeat`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::heartbeat()
			.max(T::WeightInfo::heartbeat_after_silence(T::MaxModels::get())))]
		pub fn heartbeat(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let agent = Self::ensure_agent_or_operator(origin)?;
			let now = frame_system::Pallet::<T>::block_number();
			let (info, was_silent) = Registry::<T>::try_mutate(&agent, |maybe_info| {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(info.status != AgentStatus::Leaving, Error::<T>::Leaving);
				let was_silent = Self::is_silent(info, now);
				info.last_seen = now;
				Ok::<_, DispatchError>((info.clone(), was_silent))
			})?;
			let weight = if was_silent {
				Self::reweigh_seats(&agent, &info);
				T::WeightInfo::heartbeat_after_silence(info.models.len() as u32)
			} else {
				T::WeightInfo::heartbeat()
			};
			Self::deposit_event(Event::Heartbeat { agent });
			Ok(Some(weight).into())
		}

		/// Put the caller's agent back into the candidate sets of its roles and models that it
		/// is not in: sets it was evicted from while paused, silent or under-staked, or that
		/// were full when it joined. The seats it holds are set to its bonded stake (a slash
		/// left them above it).
		///
		/// A full set takes the agent in place of a member that is not eligible (paused, silent,
		/// under-staked), or else of the member with the least bonded stake if the agent has
		/// more. The agent must itself be eligible (active, live, staked the role's minimum).
		///
		/// The origin must be signed by the owner or the operator.
		///
		/// Errors: `NotAgentOrOperator`, `NotActive`, `CandidateSetFull` (no set could be
		/// joined and no seat needed setting, and at least one set is missing).
		///
		/// Emits `CandidateSetsJoined`, and `CandidateEvicted` for each member replaced.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::rejoin(T::MaxModels::get()))]
		pub fn rejoin(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let agent = Self::ensure_agent_or_operator(origin)?;
			let info = Registry::<T>::get(&agent).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.status == AgentStatus::Active, Error::<T>::NotActive);
			let joined =
				Self::join_candidate_sets(&agent, &info, &info.roles, &info.models, false)?;
			Self::deposit_event(Event::CandidateSetsJoined { agent, joined });
			Ok(Some(T::WeightInfo::rejoin(info.models.len() as u32)).into())
		}

		/// Declare the agent's node's batch speed: how many blocks of the chain's reference
		/// batch work (`ItemsPerBlock` items and `TokensPerBlock` tokens a block, what a batch's
		/// commit period is sized from) the node does in a block, 1 (the default) to
		/// `MAX_BATCH_SPEED`. A batch drawn to the agent is given, as its commit deadline, its
		/// commit period or the time the work of the batches the agent has not committed to,
		/// and the new one's, take at this speed (with a margin), whichever is longer; the agent
		/// is drawn for a batch only while that time fits in a few of its commit periods (the
		/// inference pallet's `MaxBatchStretch`, 4). The speed does not weigh in the draw (free
		/// stake does): a faster node is given shorter deadlines, and is full later. Declaring
		/// more than the node does risks the deadlines of those batches, and their slashes; it
		/// changes nothing already drawn.
		///
		/// The origin must be signed by the owner or the operator.
		///
		/// Errors: `NotAgentOrOperator`, `InvalidBatchSpeed`.
		///
		/// Emits `BatchSpeedSet`.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::set_batch_speed())]
		pub fn set_batch_speed(origin: OriginFor<T>, speed: u32) -> DispatchResult {
			let agent = Self::ensure_agent_or_operator(origin)?;
			ensure!(
				agentchain_primitives::agents::is_valid_batch_speed(speed),
				Error::<T>::InvalidBatchSpeed
			);
			Registry::<T>::try_mutate(&agent, |maybe_info| {
				let info = maybe_info.as_mut().ok_or(Error::<T>::NotRegistered)?;
				info.batch_speed = speed;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::BatchSpeedSet { agent, speed });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Whether `call`, signed by `signer`, is an agent's duty: a `heartbeat` of an active agent
	/// (by its owner or operator key) not seen for half the liveness period or more, which keeps
	/// it selectable. `None` for every other call, a heartbeat not due included (ordinary traffic,
	/// never refused for that). The runtime's transaction extension gives duties priority.
	pub fn duty_of(
		signer: &T::AccountId,
		call: &Call<T>,
	) -> agentchain_primitives::duties::DutyCheck<BlockNumberFor<T>> {
		use agentchain_primitives::duties::{duty_tag, Duty};
		if !matches!(call, Call::heartbeat {}) {
			return None;
		}
		let agent = <Self as AgentRegistry<_, _>>::agent_of(signer)?;
		let info = Registry::<T>::get(&agent)?;
		let now = frame_system::Pallet::<T>::block_number();
		let half = T::LivenessPeriod::get() / 2u32.into();
		// A paused or leaving agent is not selected: its heartbeat is ordinary traffic.
		if info.status != AgentStatus::Active || now.saturating_sub(info.last_seen) < half {
			return None;
		}
		Some(Ok(Duty {
			tag: duty_tag(b"agents", (&agent, info.last_seen)),
			last_block: info.last_seen.saturating_add(T::LivenessPeriod::get()).max(now),
		}))
	}

	/// The agent that a signed origin acts for, as its owner or its operator.
	fn ensure_agent_or_operator(origin: OriginFor<T>) -> Result<T::AccountId, DispatchError> {
		let who = ensure_signed(origin)?;
		<Self as AgentRegistry<_, _>>::agent_of(&who)
			.ok_or_else(|| Error::<T>::NotAgentOrOperator.into())
	}

	/// The minimum bonded stake of an agent holding `roles`: the largest minimum among them.
	pub fn min_stake(roles: &[Role]) -> BalanceOf<T> {
		roles
			.iter()
			.map(|role| Self::min_stake_of(*role))
			.max()
			.unwrap_or_else(Zero::zero)
	}

	/// The minimum bonded stake of `role`.
	pub fn min_stake_of(role: Role) -> BalanceOf<T> {
		match role {
			Role::Executor | Role::BatchExecutor => T::MinExecutorStake::get(),
			Role::Verifier => T::MinVerifierStake::get(),
			Role::Curator => T::MinCuratorStake::get(),
		}
	}

	/// Holds `amount` of `owner`'s free balance as stake, keeping the account alive.
	fn hold_stake(owner: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let spendable =
			T::Currency::reducible_balance(owner, Preservation::Preserve, Fortitude::Polite);
		ensure!(spendable >= amount, Error::<T>::InsufficientBalance);
		T::Currency::hold(&HoldReason::AgentStake.into(), owner, amount)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Metadata from raw bytes, each field within its bound.
	fn bounded_metadata(
		name: Vec<u8>,
		endpoint: Vec<u8>,
		version: Vec<u8>,
	) -> Result<AgentMetadata<T>, DispatchError> {
		Ok(AgentMetadata {
			name: name.try_into().map_err(|_| Error::<T>::NameTooLong)?,
			endpoint: endpoint.try_into().map_err(|_| Error::<T>::EndpointTooLong)?,
			version: version.try_into().map_err(|_| Error::<T>::VersionTooLong)?,
		})
	}

	/// Models, sorted, within the bound and without duplicates.
	fn bounded_models(mut models: Vec<ModelId>) -> Result<ModelsOf<T>, DispatchError> {
		ensure!(models.len() <= T::MaxModels::get() as usize, Error::<T>::TooManyModels);
		models.sort();
		ensure!(models.windows(2).all(|pair| pair[0] != pair[1]), Error::<T>::DuplicateModel);
		Ok(models.try_into().map_err(|_| Error::<T>::TooManyModels)?)
	}

	/// Roles, sorted, non-empty and without duplicates.
	fn bounded_roles(mut roles: Vec<Role>) -> Result<Roles, DispatchError> {
		ensure!(!roles.is_empty(), Error::<T>::NoRoles);
		// More entries than there are roles must repeat one; refuse before sorting them.
		ensure!(roles.len() <= Role::ALL.len(), Error::<T>::DuplicateRole);
		roles.sort();
		ensure!(roles.windows(2).all(|pair| pair[0] != pair[1]), Error::<T>::DuplicateRole);
		// Distinct roles always fit (`MaxRoles` is the number of roles).
		Ok(roles.try_into().map_err(|_| Error::<T>::DuplicateRole)?)
	}

	/// The storage footprint that the record's deposit pays for.
	fn footprint(metadata: &AgentMetadata<T>, models: &ModelsOf<T>) -> Footprint {
		Footprint::from_parts(1, metadata.encoded_size().saturating_add(models.encoded_size()))
	}

	/// Removes a leaving agent whose stake is all gone: frees the operator key and returns the
	/// storage deposit.
	fn remove_agent(owner: &T::AccountId, info: AgentInfo<T>) -> DispatchResult {
		if let Some(operator) = &info.operator {
			Operators::<T>::remove(operator);
		}
		info.deposit.drop(owner)?;
		Registry::<T>::remove(owner);
		AgentCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		Self::deposit_event(Event::AgentRemoved { agent: owner.clone() });
		Ok(())
	}
}
