//! # Data rewards pallet
//!
//! Pays the people who contribute the data that AgentChain's models use, out of the fees that
//! the use of those models really paid.
//!
//! ## Overview
//!
//! - **Datasets.** A contributor [`register_dataset`](Pallet::register_dataset)s a content hash
//!   (unique: the same data cannot be registered twice), a URI, a license, a size and a bounded
//!   description, and a storage deposit ([`Config::DatasetDeposit`]) is held from it. The owner
//!   can [`update_dataset`](Pallet::update_dataset) the descriptive fields,
//!   [`retire_dataset`](Pallet::retire_dataset) it (it then earns nothing new) and finally
//!   [`remove_dataset`](Pallet::remove_dataset) it, which pays what it is still owed and returns
//!   the deposit.
//! - **Usage attribution.** An agent serving a model [`declare_model`](Pallet::declare_model)s
//!   the datasets the model was trained on or retrieves from (a model record, with a deposit).
//!   The record follows the model's executors: another active executor of the model takes it
//!   over when its owner no longer serves the model, or has less stake. Each time `pallet-inference` finalises a task for that model
//!   it calls [`OnTaskFinalised::on_task_finalised`] with the protocol cut the task paid; this
//!   pallet moves [`Config::UsageShare`] of that cut from the protocol account into its pot and
//!   credits the model's live datasets with equal parts of what it moved, as usage of the
//!   current epoch.
//! - **Curation.** Agents active in the curator role [`attest`](Pallet::attest) a quality score
//!   (0..=100) per dataset, at most once per dataset per epoch, reserving
//!   [`Config::CurationPenalty`] of their stake. A dataset's score in an epoch is the
//!   stake-weighted median of its attestations once [`Config::MinCurators`] curators attested
//!   it, else [`DEFAULT_SCORE`]: curators holding less than half the attesting stake cannot move
//!   it. After the epoch, a curator whose score lies more than [`Config::OutlierDistance`] from
//!   the median loses its penalty (to the reserve): curation carries a cost for being an outlier.
//! - **Epochs.** Every [`Config::EpochLength`] blocks the current epoch closes. Its pot is what
//!   the epoch's tasks paid in, topped up (only if some dataset earned a weight) from the
//!   reserve of earlier leftovers and then from [`Config::IssuancePerEpoch`], never beyond the
//!   protocol cut those tasks paid.
//! - **Rewards.** A dataset's reward for an epoch is its share of the pot by weight
//!   (`usage × score`), capped at its share of the pot by usage and at the protocol cut its
//!   usage paid. The owner [`claim`](Pallet::claim)s it; unclaimed rewards of an epoch expire
//!   [`Config::ClaimPeriod`] epochs after it closed and go to the reserve.
//!
//! ## Why wash usage does not pay
//!
//! A requester that pays fees for its own model to its own executor still pays the protocol
//! cut. Its datasets can get back at most the protocol cut their usage paid (and, while the
//! reserve is empty and no issuance is configured, at most the [`Config::UsageShare`] of it that
//! was moved into the pot). Scores can only lower a dataset's reward below its usage share,
//! never raise it above: curators can withhold rewards from poor data but cannot hand other
//! datasets' rewards to their friends. What scores withhold is recycled through the reserve
//! into later epochs. The reasoning is in `docs/data-rewards.md`.
//!
//! ## Bounded work
//!
//! Nothing loops over datasets, contributors or curators. Each dataset keeps a small
//! [`Ledger`]: its activity in its latest active epoch and what it is owed. Each epoch keeps
//! running totals ([`EpochInfo`]) updated in O(1) at every credit and attestation — the total
//! weight changes by the delta of the one dataset touched. A dataset's reward for a closed epoch
//! is then one multiplication and division, done when the dataset is next touched (a credit, an
//! attestation, a claim). `on_initialize` rolls the epoch (O(1)) and judges at most
//! [`JUDGED_PER_BLOCK`] attestations of past epochs, and the usage credit of a task touches at
//! most [`Config::MaxDatasetsPerModel`] datasets.
//!
//! ## Invariants (`try_state`)
//!
//! The pot holds at least what the pallet owes (settled and unsettled rewards, the current
//! epoch's intake and the reserve); deposits held equal the deposits recorded; every model
//! record names existing datasets and each dataset counts the records that name it; content
//! hashes map one to one to datasets; each epoch's total weight is the sum of its datasets'
//! weights.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod epochs;
mod impls;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
#[cfg(any(feature = "try-runtime", feature = "std"))]
mod try_state;
pub mod types;
pub mod weights;

pub use agentchain_primitives::{
	agents::{AgentRegistry, Role},
	inference::{OnTaskFinalised, ProtocolFlow, ProtocolTreasury, TaskId},
	ModelId,
};
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation},
	},
	PalletId,
};
use frame_system::pallet_prelude::*;
use sp_core::H256;
use sp_runtime::{
	traits::{AccountIdConversion, CheckedDiv, Saturating, Zero},
	Perbill, SaturatedConversion,
};

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::data-rewards";

/// Most epochs expired when one epoch closes: more than one, so that the expiry catches up
/// should `ClaimPeriod` ever be shortened.
pub const MAX_EXPIRIES_PER_CLOSE: u32 = 2;

/// Most attestations of past epochs judged (and their markers removed) per block.
pub const JUDGED_PER_BLOCK: u32 = 16;

/// The balance type of the currency rewards and deposits are paid in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Reasons for which this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Deposit paying for the storage of a dataset; returned when it is removed.
		#[codec(index = 0)]
		DatasetDeposit,
		/// Deposit paying for the storage of a model record; returned when it is removed.
		#[codec(index = 1)]
		ModelDeposit,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency of fees, rewards and deposits.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The agent registry: who is an active curator or executor, and with what stake.
		type AgentRegistry: AgentRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The protocol account's ledger: usage credits are taken out of the protocol account.
		type Treasury: ProtocolTreasury<Self::AccountId, BalanceOf<Self>>;

		/// Identifier of the pot account, which holds the funds of unclaimed rewards.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Blocks per reward epoch.
		#[pallet::constant]
		type EpochLength: Get<BlockNumberFor<Self>>;

		/// Epochs after its close during which an epoch's rewards can be claimed; then what is
		/// unclaimed goes to the reserve.
		#[pallet::constant]
		type ClaimPeriod: Get<EpochIndex>;

		/// Share of each finalised task's protocol cut moved into the pot when its model names
		/// live datasets.
		#[pallet::constant]
		type UsageShare: Get<Perbill>;

		/// Most new currency minted into an epoch's pot when it closes (only if some dataset
		/// earned a weight, and never beyond the protocol cut the epoch's tasks paid).
		#[pallet::constant]
		type IssuancePerEpoch: Get<BalanceOf<Self>>;

		/// Deposit held per registered dataset.
		#[pallet::constant]
		type DatasetDeposit: Get<BalanceOf<Self>>;

		/// Deposit held per model record.
		#[pallet::constant]
		type ModelDeposit: Get<BalanceOf<Self>>;

		/// Stake a curator reserves for each attestation, and loses (to the reserve) when its
		/// score lies more than [`Config::OutlierDistance`] from the dataset's median.
		#[pallet::constant]
		type CurationPenalty: Get<BalanceOf<Self>>;

		/// Points between an attested score and the dataset's median beyond which the
		/// attestation is an outlier.
		#[pallet::constant]
		type OutlierDistance: Get<u8>;

		/// Curators who must attest a dataset in an epoch for their median to be its score (and
		/// for outliers to be judged); below it the dataset scores [`DEFAULT_SCORE`].
		#[pallet::constant]
		type MinCurators: Get<u32>;

		/// Most datasets a model record names: the bound on the work of a usage credit.
		#[pallet::constant]
		type MaxDatasetsPerModel: Get<u32>;

		/// Longest dataset URI, in bytes.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Longest dataset license, in bytes.
		#[pallet::constant]
		type MaxLicenseLen: Get<u32>;

		/// Longest dataset description, in bytes.
		#[pallet::constant]
		type MaxMetadataLen: Get<u32>;

		/// Weights of this pallet's calls, hooks and usage credit.
		type WeightInfo: WeightInfo;
	}

	/// The id the next dataset gets.
	#[pallet::storage]
	pub type NextDatasetId<T: Config> = StorageValue<_, DatasetId, ValueQuery>;

	/// Datasets: owner, content hash, status, deposit and reward ledger.
	///
	/// Twox64Concat: dataset ids are assigned by the pallet in sequence, not chosen by users.
	#[pallet::storage]
	pub type Datasets<T: Config> =
		StorageMap<_, Twox64Concat, DatasetId, DatasetInfo<T>, OptionQuery>;

	/// URI, license and description of each dataset.
	///
	/// Twox64Concat: dataset ids are assigned by the pallet.
	#[pallet::storage]
	pub type Metadata<T: Config> =
		StorageMap<_, Twox64Concat, DatasetId, DatasetMetadata<T>, OptionQuery>;

	/// The dataset registered with each content hash.
	///
	/// Blake2_128Concat: content hashes are chosen by users, so the key is hashed securely.
	#[pallet::storage]
	pub type DatasetByHash<T: Config> =
		StorageMap<_, Blake2_128Concat, H256, DatasetId, OptionQuery>;

	/// The datasets each model was trained on or retrieves from.
	///
	/// Blake2_128Concat: model ids are any 32 bytes a user chooses.
	#[pallet::storage]
	pub type Models<T: Config> =
		StorageMap<_, Blake2_128Concat, ModelId, ModelRecord<T>, OptionQuery>;

	/// The current epoch and its first block.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, EpochClock<BlockNumberFor<T>>, ValueQuery>;

	/// Totals of the current epoch and of the closed epochs still in their claim period.
	///
	/// Twox64Concat: epoch indexes are sequential, not user-controlled.
	#[pallet::storage]
	pub type Epochs<T: Config> =
		StorageMap<_, Twox64Concat, EpochIndex, EpochInfo<BalanceOf<T>>, OptionQuery>;

	/// The oldest epoch whose totals have not expired yet.
	#[pallet::storage]
	pub type ExpiryCursor<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	/// Funds in the pot owed to nobody: rewards that expired unclaimed, what scores withheld,
	/// and the intake of epochs in which no dataset earned a weight. They top up later pots.
	#[pallet::storage]
	pub type Reserve<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// The score each curator (agent account) gave each dataset, by epoch, with the stake it
	/// reserved: at most one per curator, dataset and epoch. Judged and removed by
	/// `on_initialize` once the epoch is over. Each is backed by the curator's reserved stake,
	/// which bounds how many a curator can hold.
	///
	/// Twox64Concat for the epoch (sequential); Blake2_128Concat for the dataset and curator
	/// (curator accounts are chosen by users).
	#[pallet::storage]
	pub type Attestations<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EpochIndex,
		Blake2_128Concat,
		(DatasetId, T::AccountId),
		Attestation<BalanceOf<T>>,
		OptionQuery,
	>;

	/// The median score of a dataset in a closed epoch whose attestations are not all judged
	/// yet, kept when the dataset's ledger moves on to a later epoch. Removed with the epoch's
	/// last attestation.
	///
	/// Twox64Concat for both keys: epochs and dataset ids are assigned by the pallet.
	#[pallet::storage]
	pub type FinalScores<T: Config> =
		StorageDoubleMap<_, Twox64Concat, EpochIndex, Twox64Concat, DatasetId, u8, OptionQuery>;

	/// The oldest epoch whose attestations may not all be judged yet.
	#[pallet::storage]
	pub type AttestationCursor<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		_config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// The pot keeps the existential deposit of its own, so that it exists to receive
			// credits of any size and every reward can be paid out of it in full.
			let pot = Pallet::<T>::account_id();
			let minimum = T::Currency::minimum_balance();
			let balance = T::Currency::balance(&pot);
			if balance < minimum {
				let _ = T::Currency::mint_into(&pot, minimum.saturating_sub(balance));
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A dataset was registered and its deposit held.
		DatasetRegistered {
			dataset: DatasetId,
			owner: T::AccountId,
			content_hash: H256,
			size: u64,
			deposit: BalanceOf<T>,
		},
		/// A dataset's URI, license or description changed.
		DatasetUpdated { dataset: DatasetId },
		/// A dataset was retired: it earns nothing from epoch `epoch` on.
		DatasetRetired { dataset: DatasetId, epoch: EpochIndex },
		/// A retired dataset was removed: `paid` of rewards still owed went to its owner, and
		/// its deposit was returned.
		DatasetRemoved {
			dataset: DatasetId,
			owner: T::AccountId,
			paid: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
		/// A model record was created or replaced.
		ModelDeclared { model: ModelId, owner: T::AccountId, datasets: DatasetsOf<T> },
		/// An executor of the model took its record over from `from`, which no longer served the
		/// model or had less stake; `from`'s deposit was returned.
		ModelTakenOver { model: ModelId, from: T::AccountId, to: T::AccountId },
		/// A model record was removed and its deposit returned.
		ModelRemoved { model: ModelId },
		/// A retired dataset was taken out of a model record.
		DatasetUnlinked { model: ModelId, dataset: DatasetId },
		/// A curator attested a dataset's quality for `epoch`, with `stake` behind it.
		DatasetAttested {
			dataset: DatasetId,
			curator: T::AccountId,
			epoch: EpochIndex,
			score: u8,
			stake: BalanceOf<T>,
		},
		/// A finalised task's model credited `datasets` datasets with `amount`, moved into the
		/// pot out of the task's protocol cut.
		UsageCredited { task: TaskId, model: ModelId, amount: BalanceOf<T>, datasets: u32 },
		/// Moving `amount` out of the protocol account failed (it would fall below the
		/// existential deposit, say); the task credited nothing.
		UsageNotCredited { task: TaskId, model: ModelId, amount: BalanceOf<T> },
		/// A dataset's reward for a closed epoch was settled into what it is owed.
		RewardSettled { dataset: DatasetId, epoch: EpochIndex, reward: BalanceOf<T> },
		/// A dataset's activity in an epoch earned nothing: the epoch's claim period had ended.
		RewardExpired { dataset: DatasetId, epoch: EpochIndex },
		/// A dataset's owner claimed `amount`.
		RewardsClaimed { dataset: DatasetId, owner: T::AccountId, amount: BalanceOf<T> },
		/// An epoch closed: `pot` will be shared between its datasets, of which `from_reserve`
		/// came from the reserve and `minted` was newly issued.
		EpochClosed {
			epoch: EpochIndex,
			pot: BalanceOf<T>,
			from_reserve: BalanceOf<T>,
			minted: BalanceOf<T>,
		},
		/// An epoch's claim period ended; `unclaimed` went to the reserve.
		EpochExpired { epoch: EpochIndex, unclaimed: BalanceOf<T> },
		/// A curator's score of a dataset lay more than `OutlierDistance` from its median in
		/// `epoch`: `slashed` of its stake went to the reserve.
		CuratorPenalised {
			dataset: DatasetId,
			curator: T::AccountId,
			epoch: EpochIndex,
			score: u8,
			median: u8,
			slashed: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A dataset with this content hash is registered already.
		DatasetExists,
		/// No dataset has this id (it may have been removed).
		UnknownDataset,
		/// No model record exists for this model.
		UnknownModel,
		/// Only the owner of the dataset or model record may do this.
		NotOwner,
		/// The dataset is retired: it takes no updates, usage, attestations or new models.
		Retired,
		/// The dataset is not retired; retire it first.
		NotRetired,
		/// Model records still name the dataset; they must drop it first (anyone may unlink a
		/// retired dataset with `unlink_retired`).
		StillLinked,
		/// The dataset's size must be greater than zero.
		EmptyDataset,
		/// The URI is longer than [`Config::MaxUriLen`].
		UriTooLong,
		/// The license is longer than [`Config::MaxLicenseLen`].
		LicenseTooLong,
		/// The description is longer than [`Config::MaxMetadataLen`].
		MetadataTooLong,
		/// The free balance cannot cover the deposit and stay alive.
		InsufficientBalance,
		/// Dataset ids are exhausted.
		NoDatasetIdsLeft,
		/// A model record must name at least one dataset; use `remove_model` to drop it.
		NoDatasets,
		/// More datasets than [`Config::MaxDatasetsPerModel`].
		TooManyDatasets,
		/// A dataset is listed twice.
		DuplicateDataset,
		/// The model record does not name this dataset.
		NotLinked,
		/// Only the owner account of an agent actively serving the model as an executor may
		/// create, change or take over its record.
		NotModelExecutor,
		/// The record's owner still serves the model, with at least as much stake: only it may
		/// change the record.
		RecordHeld,
		/// The curator's free stake (bonded, not reserved by open work) cannot back another
		/// attestation: wait for its attestations of past epochs to be judged, or bond more.
		InsufficientFreeStake,
		/// The signer does not act for an agent that is active in the curator role.
		NotCurator,
		/// Curators may not attest datasets their own agent owns.
		OwnDataset,
		/// Scores range from 0 to 100.
		InvalidScore,
		/// This curator attested this dataset in the current epoch already.
		AlreadyAttested,
		/// The dataset's only rewards are for the current epoch; claim once it has closed.
		EpochNotOver,
		/// The dataset is owed nothing.
		NothingToClaim,
		/// The pot could not pay (the owner's free balance would stay below the existential
		/// deposit, say); the reward stays owed.
		PayoutFailed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Closes the current epoch when it has lasted [`Config::EpochLength`] blocks (O(1)),
		/// and judges at most [`JUDGED_PER_BLOCK`] attestations of past epochs.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let clock = CurrentEpoch::<T>::get();
			let mut weight = if now.saturating_sub(clock.start) < T::EpochLength::get() {
				T::WeightInfo::on_initialize_idle()
			} else {
				Self::close_epoch(clock.index, now);
				T::WeightInfo::on_initialize_epoch()
			};
			let judged = Self::judge_attestations(Self::current_epoch(), JUDGED_PER_BLOCK);
			if judged > 0 {
				weight = weight.saturating_add(T::WeightInfo::judge_attestations(judged));
			} else {
				weight = weight.saturating_add(T::DbWeight::get().reads(2));
			}
			weight
		}

		fn integrity_test() {
			assert!(!T::EpochLength::get().is_zero(), "EpochLength must be positive");
			assert!(T::ClaimPeriod::get() > 0, "ClaimPeriod must be positive");
			assert!(T::MaxDatasetsPerModel::get() > 0, "MaxDatasetsPerModel must be positive");
			assert!(!T::DatasetDeposit::get().is_zero(), "DatasetDeposit must be positive");
			assert!(!T::ModelDeposit::get().is_zero(), "ModelDeposit must be positive");
			assert!(!T::CurationPenalty::get().is_zero(), "CurationPenalty must be positive");
			assert!(T::MinCurators::get() > 0, "MinCurators must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register a dataset.
		///
		/// The origin must be signed by the contributor, who becomes the dataset's owner;
		/// [`Config::DatasetDeposit`] is held from its free balance.
		///
		/// - `content_hash`: hash of the data; no other dataset may have it.
		/// - `uri`, `license`, `description`: where to fetch it, under which terms, and what it
		///   is; each bounded in length.
		/// - `size`: in bytes, greater than zero.
		///
		/// Errors: `EmptyDataset`, `UriTooLong`, `LicenseTooLong`, `MetadataTooLong`,
		/// `DatasetExists`, `NoDatasetIdsLeft`, `InsufficientBalance`.
		///
		/// Emits `DatasetRegistered`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_dataset())]
		pub fn register_dataset(
			origin: OriginFor<T>,
			content_hash: H256,
			uri: Vec<u8>,
			license: Vec<u8>,
			size: u64,
			description: Vec<u8>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(size > 0, Error::<T>::EmptyDataset);
			let metadata = Self::bounded_metadata(uri, license, description)?;
			ensure!(!DatasetByHash::<T>::contains_key(content_hash), Error::<T>::DatasetExists);
			let id = NextDatasetId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::NoDatasetIdsLeft)?;
			let deposit = T::DatasetDeposit::get();
			Self::hold_deposit(&owner, HoldReason::DatasetDeposit, deposit)?;

			Datasets::<T>::insert(
				id,
				DatasetInfo::<T> {
					owner: owner.clone(),
					content_hash,
					size,
					deposit,
					status: DatasetStatus::Active,
					models: 0,
					registered_at: frame_system::Pallet::<T>::block_number(),
					ledger: Ledger::new(Self::current_epoch()),
				},
			);
			Metadata::<T>::insert(id, metadata);
			DatasetByHash::<T>::insert(content_hash, id);
			NextDatasetId::<T>::put(next);
			Self::deposit_event(Event::DatasetRegistered {
				dataset: id,
				owner,
				content_hash,
				size,
				deposit,
			});
			Ok(())
		}

		/// Replace the URI, license and description of a dataset. Its content hash and size
		/// identify the data and never change.
		///
		/// The origin must be signed by the dataset's owner; the dataset must not be retired.
		///
		/// Errors: `UnknownDataset`, `NotOwner`, `Retired`, `UriTooLong`, `LicenseTooLong`,
		/// `MetadataTooLong`.
		///
		/// Emits `DatasetUpdated`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_dataset())]
		pub fn update_dataset(
			origin: OriginFor<T>,
			dataset: DatasetId,
			uri: Vec<u8>,
			license: Vec<u8>,
			description: Vec<u8>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Self::owned_dataset(&who, dataset)?;
			ensure!(info.status == DatasetStatus::Active, Error::<T>::Retired);
			let metadata = Self::bounded_metadata(uri, license, description)?;
			Metadata::<T>::insert(dataset, metadata);
			Self::deposit_event(Event::DatasetUpdated { dataset });
			Ok(())
		}

		/// Retire a dataset: from now on it is credited no usage and takes no attestations, and
		/// no model record can add it. What it earned stays claimable. The deposit is returned
		/// by [`remove_dataset`](Pallet::remove_dataset).
		///
		/// The origin must be signed by the dataset's owner.
		///
		/// Errors: `UnknownDataset`, `NotOwner`, `Retired` (already).
		///
		/// Emits `DatasetRetired`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::retire_dataset())]
		pub fn retire_dataset(origin: OriginFor<T>, dataset: DatasetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::owned_dataset(&who, dataset)?;
			ensure!(info.status == DatasetStatus::Active, Error::<T>::Retired);
			let epoch = Self::current_epoch();
			info.status = DatasetStatus::Retired { since: epoch };
			Datasets::<T>::insert(dataset, info);
			Self::deposit_event(Event::DatasetRetired { dataset, epoch });
			Ok(())
		}

		/// Remove a retired dataset: pay its owner what it is still owed, return the deposit,
		/// and free its content hash.
		///
		/// The origin must be signed by the dataset's owner. No model record may name the
		/// dataset, and the epoch in which it was last active must have closed (its reward for
		/// that epoch is settled and paid here).
		///
		/// Errors: `UnknownDataset`, `NotOwner`, `NotRetired`, `StillLinked`, `EpochNotOver`,
		/// `PayoutFailed`.
		///
		/// Emits `RewardSettled` (if an epoch is settled), then `DatasetRemoved`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove_dataset())]
		pub fn remove_dataset(origin: OriginFor<T>, dataset: DatasetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::owned_dataset(&who, dataset)?;
			ensure!(info.status != DatasetStatus::Active, Error::<T>::NotRetired);
			ensure!(info.models == 0, Error::<T>::StillLinked);
			Self::settle(dataset, &mut info.ledger, Self::current_epoch());
			ensure!(info.ledger.is_idle(), Error::<T>::EpochNotOver);
			let paid = info.ledger.owed;
			Self::pay(&who, paid)?;
			T::Currency::release(
				&HoldReason::DatasetDeposit.into(),
				&who,
				info.deposit,
				Precision::BestEffort,
			)?;
			Datasets::<T>::remove(dataset);
			Metadata::<T>::remove(dataset);
			DatasetByHash::<T>::remove(info.content_hash);
			Self::deposit_event(Event::DatasetRemoved {
				dataset,
				owner: who,
				paid,
				deposit: info.deposit,
			});
			Ok(())
		}

		/// Declare the datasets a model was trained on or retrieves from: creates the model's
		/// record, replaces its list of datasets, or takes the record over.
		///
		/// The origin must be signed by the owner account of an agent that is an active executor
		/// serving `model` (staked, live, in the model's candidate set):
		/// - with no record, it becomes the record's owner and [`Config::ModelDeposit`] is held
		///   from its free balance;
		/// - as the record's owner, it replaces the list;
		/// - otherwise it takes the record over (its deposit is held, the previous owner's
		///   returned) when the previous owner no longer serves the model as an active executor,
		///   or has less bonded stake: a record follows the model's current executors.
		///
		/// `datasets`: 1..=[`Config::MaxDatasetsPerModel`] distinct registered datasets, none
		/// retired. Every task of the model finalised from now on credits them in equal parts.
		///
		/// Errors: `NoDatasets`, `TooManyDatasets`, `DuplicateDataset`, `UnknownDataset`,
		/// `Retired`, `NotModelExecutor`, `RecordHeld`, `InsufficientBalance`.
		///
		/// Emits `ModelDeclared`, after `ModelTakenOver` for a takeover.
		#[pallet::call_index(4)]
		#[pallet::weight({
			let n = (datasets.len() as u32).min(T::MaxDatasetsPerModel::get());
			T::WeightInfo::declare_model(n).max(T::WeightInfo::redeclare_model(n))
		})]
		pub fn declare_model(
			origin: OriginFor<T>,
			model: ModelId,
			datasets: Vec<DatasetId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let datasets = Self::bounded_datasets(datasets)?;
			for id in datasets.iter() {
				let info = Datasets::<T>::get(id).ok_or(Error::<T>::UnknownDataset)?;
				ensure!(info.status == DatasetStatus::Active, Error::<T>::Retired);
			}
			ensure!(Self::serves_as_executor(&who, &model), Error::<T>::NotModelExecutor);
			let record = match Models::<T>::get(model) {
				Some(mut record) => {
					if record.owner != who {
						let held = Self::serves_as_executor(&record.owner, &model)
							&& T::AgentRegistry::stake_of(&record.owner)
								>= T::AgentRegistry::stake_of(&who);
						ensure!(!held, Error::<T>::RecordHeld);
						let deposit = T::ModelDeposit::get();
						Self::hold_deposit(&who, HoldReason::ModelDeposit, deposit)?;
						T::Currency::release(
							&HoldReason::ModelDeposit.into(),
							&record.owner,
							record.deposit,
							Precision::BestEffort,
						)?;
						Self::deposit_event(Event::ModelTakenOver {
							model,
							from: record.owner.clone(),
							to: who.clone(),
						});
						record.owner = who.clone();
						record.deposit = deposit;
					}
					Self::unlink_all(&record.datasets);
					record.datasets = datasets.clone();
					record
				},
				None => {
					let deposit = T::ModelDeposit::get();
					Self::hold_deposit(&who, HoldReason::ModelDeposit, deposit)?;
					ModelRecord::<T> { owner: who.clone(), datasets: datasets.clone(), deposit }
				},
			};
			for id in datasets.iter() {
				Datasets::<T>::mutate(id, |maybe_info| {
					if let Some(info) = maybe_info {
						info.models = info.models.saturating_add(1);
					}
				});
			}
			Models::<T>::insert(model, record);
			Self::deposit_event(Event::ModelDeclared { model, owner: who, datasets });
			Ok(())
		}

		/// Remove a model record and return its deposit. Its tasks credit no dataset any more.
		///
		/// The origin must be signed by the record's owner.
		///
		/// Errors: `UnknownModel`, `NotOwner`.
		///
		/// Emits `ModelRemoved`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::remove_model())]
		pub fn remove_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.owner == who, Error::<T>::NotOwner);
			T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&who,
				record.deposit,
				Precision::BestEffort,
			)?;
			Self::unlink_all(&record.datasets);
			Models::<T>::remove(model);
			Self::deposit_event(Event::ModelRemoved { model });
			Ok(())
		}

		/// Take a retired dataset out of a model record, so that the dataset can be removed
		/// and its deposit returned. A retired dataset earns nothing, so nobody loses by it;
		/// anyone may call this.
		///
		/// The origin must be signed.
		///
		/// Errors: `UnknownModel`, `NotLinked`, `UnknownDataset`, `NotRetired`.
		///
		/// Emits `DatasetUnlinked`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::unlink_retired())]
		pub fn unlink_retired(
			origin: OriginFor<T>,
			model: ModelId,
			dataset: DatasetId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			let mut record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.datasets.binary_search(&dataset).is_ok(), Error::<T>::NotLinked);
			let mut info = Datasets::<T>::get(dataset).ok_or(Error::<T>::UnknownDataset)?;
			ensure!(info.status != DatasetStatus::Active, Error::<T>::NotRetired);
			record.datasets.retain(|id| *id != dataset);
			info.models = info.models.saturating_sub(1);
			Models::<T>::insert(model, record);
			Datasets::<T>::insert(dataset, info);
			Self::deposit_event(Event::DatasetUnlinked { model, dataset });
			Ok(())
		}

		/// Attest the quality of a dataset for the current epoch, with a score from 0 to 100.
		/// The curator's bonded stake weighs the score: the dataset's score in the epoch is the
		/// stake-weighted median of its attestations, once [`Config::MinCurators`] curators
		/// attested it.
		///
		/// [`Config::CurationPenalty`] of the curator's stake is reserved until the attestation
		/// is judged, after the epoch: a score more than [`Config::OutlierDistance`] from the
		/// dataset's median loses it.
		///
		/// The origin must be signed by an agent active in the curator role, or by its
		/// operator key. A curator attests each dataset at most once per epoch, and never a
		/// dataset its own agent owns.
		///
		/// Errors: `InvalidScore`, `NotCurator`, `UnknownDataset`, `Retired`, `OwnDataset`,
		/// `AlreadyAttested`, `InsufficientFreeStake`.
		///
		/// Emits `RewardSettled` (if the dataset's previous epoch is settled), then
		/// `DatasetAttested`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::attest())]
		pub fn attest(origin: OriginFor<T>, dataset: DatasetId, score: u8) -> DispatchResult {
			let signer = ensure_signed(origin)?;
			ensure!(score <= MAX_SCORE, Error::<T>::InvalidScore);
			let curator = T::AgentRegistry::agent_of(&signer)
				.filter(|agent| T::AgentRegistry::is_active(agent, Role::Curator, None))
				.ok_or(Error::<T>::NotCurator)?;
			let stake = T::AgentRegistry::stake_of(&curator);
			ensure!(!stake.is_zero(), Error::<T>::NotCurator);
			let mut info = Datasets::<T>::get(dataset).ok_or(Error::<T>::UnknownDataset)?;
			ensure!(info.status == DatasetStatus::Active, Error::<T>::Retired);
			ensure!(info.owner != curator && info.owner != signer, Error::<T>::OwnDataset);
			let epoch = Self::current_epoch();
			let key = (dataset, curator.clone());
			ensure!(!Attestations::<T>::contains_key(epoch, &key), Error::<T>::AlreadyAttested);

			let collateral = T::CurationPenalty::get();
			T::AgentRegistry::note_work_opened(&curator, collateral, 0)
				.map_err(|_| Error::<T>::InsufficientFreeStake)?;

			Self::settle(dataset, &mut info.ledger, epoch);
			let quorum = T::MinCurators::get();
			let before = info.ledger.weight(quorum);
			info.ledger.scores.add(score, stake.saturated_into());
			let after = info.ledger.weight(quorum);
			Epochs::<T>::mutate(epoch, |maybe_totals| {
				let totals = maybe_totals.get_or_insert_with(Default::default);
				totals.total_weight =
					totals.total_weight.saturating_sub(before).saturating_add(after);
			});
			Attestations::<T>::insert(epoch, key, Attestation { score, collateral });
			Datasets::<T>::insert(dataset, info);
			Self::deposit_event(Event::DatasetAttested { dataset, curator, epoch, score, stake });
			Ok(())
		}

		/// Claim what a dataset is owed for its closed epochs, paid from the pot to its owner.
		/// O(1): the reward of the dataset's last active epoch is settled here if it was not
		/// yet.
		///
		/// The origin must be signed by the dataset's owner (retired datasets included).
		///
		/// Errors: `UnknownDataset`, `NotOwner`, `EpochNotOver` (its only rewards are for the
		/// current epoch), `NothingToClaim`, `PayoutFailed`.
		///
		/// Emits `RewardSettled` (if an epoch is settled), then `RewardsClaimed`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>, dataset: DatasetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::owned_dataset(&who, dataset)?;
			Self::settle(dataset, &mut info.ledger, Self::current_epoch());
			let amount = info.ledger.owed;
			if amount.is_zero() {
				ensure!(info.ledger.is_idle(), Error::<T>::EpochNotOver);
				return Err(Error::<T>::NothingToClaim.into());
			}
			Self::pay(&who, amount)?;
			info.ledger.owed = Zero::zero();
			Datasets::<T>::insert(dataset, info);
			Self::deposit_event(Event::RewardsClaimed { dataset, owner: who, amount });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// What [`claim`](Pallet::claim) would pay for `dataset` now (`None`: no such dataset).
	/// Rewards of the current epoch are not included: they are known once it closes. Served to
	/// clients by the `DataRewardsApi` runtime API.
	pub fn pending_rewards(dataset: DatasetId) -> Option<BalanceOf<T>> {
		let info = Datasets::<T>::get(dataset)?;
		let ledger = &info.ledger;
		let unsettled = if ledger.epoch < Self::current_epoch() {
			Epochs::<T>::get(ledger.epoch)
				.map(|totals| ledger.reward(&totals, T::MinCurators::get()))
				.unwrap_or_else(Zero::zero)
		} else {
			Zero::zero()
		};
		Some(ledger.owed.saturating_add(unsettled))
	}

	/// The current epoch, the block it started at, and its totals so far.
	pub fn epoch_status() -> (EpochIndex, BlockNumberFor<T>, EpochInfo<BalanceOf<T>>) {
		let clock = CurrentEpoch::<T>::get();
		(clock.index, clock.start, Epochs::<T>::get(clock.index).unwrap_or_default())
	}

	/// The current epoch as the `DataRewardsApi` runtime API serves it.
	pub fn epoch_view() -> agentchain_primitives::api::EpochView {
		use sp_runtime::SaturatedConversion;
		let (index, start, info) = Self::epoch_status();
		agentchain_primitives::api::EpochView {
			index,
			start: start.saturated_into(),
			paid_in: info.paid_in.saturated_into(),
			cut: info.cut.saturated_into(),
			total_weight: info.total_weight,
			pot: info.pot.saturated_into(),
			settled: info.settled.saturated_into(),
		}
	}

	/// The pot account: holds the funds of the rewards not yet claimed and the reserve.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Index of the current epoch.
	pub fn current_epoch() -> EpochIndex {
		CurrentEpoch::<T>::get().index
	}

	/// The dataset `id`, if `who` owns it.
	fn owned_dataset(who: &T::AccountId, id: DatasetId) -> Result<DatasetInfo<T>, DispatchError> {
		let info = Datasets::<T>::get(id).ok_or(Error::<T>::UnknownDataset)?;
		ensure!(&info.owner == who, Error::<T>::NotOwner);
		Ok(info)
	}

	/// Metadata from raw bytes, each field within its bound.
	fn bounded_metadata(
		uri: Vec<u8>,
		license: Vec<u8>,
		description: Vec<u8>,
	) -> Result<DatasetMetadata<T>, DispatchError> {
		Ok(DatasetMetadata {
			uri: uri.try_into().map_err(|_| Error::<T>::UriTooLong)?,
			license: license.try_into().map_err(|_| Error::<T>::LicenseTooLong)?,
			description: description.try_into().map_err(|_| Error::<T>::MetadataTooLong)?,
		})
	}

	/// Datasets, sorted, non-empty, within the bound and without duplicates.
	fn bounded_datasets(mut datasets: Vec<DatasetId>) -> Result<DatasetsOf<T>, DispatchError> {
		ensure!(!datasets.is_empty(), Error::<T>::NoDatasets);
		ensure!(
			datasets.len() <= T::MaxDatasetsPerModel::get() as usize,
			Error::<T>::TooManyDatasets
		);
		datasets.sort_unstable();
		ensure!(
			datasets.windows(2).all(|pair| pair.first() != pair.last()),
			Error::<T>::DuplicateDataset
		);
		Ok(datasets.try_into().map_err(|_| Error::<T>::TooManyDatasets)?)
	}

	/// Holds `amount` of `who`'s free balance as a deposit, keeping the account alive.
	fn hold_deposit(
		who: &T::AccountId,
		reason: HoldReason,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		let spendable =
			T::Currency::reducible_balance(who, Preservation::Preserve, Fortitude::Polite);
		ensure!(spendable >= amount, Error::<T>::InsufficientBalance);
		T::Currency::hold(&reason.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Counts one model record fewer for each of `datasets`.
	fn unlink_all(datasets: &[DatasetId]) {
		for id in datasets {
			Datasets::<T>::mutate(id, |maybe_info| {
				if let Some(info) = maybe_info {
					info.models = info.models.saturating_sub(1);
				}
			});
		}
	}

	/// Pays `amount` from the pot to `to`. The pot keeps its existential deposit.
	fn pay(to: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::transfer(&Self::account_id(), to, amount, Preservation::Preserve)
			.map(|_| ())
			.map_err(|error| {
				log::warn!(target: LOG_TARGET, "payout of {amount:?} to {to:?} failed: {error:?}");
				Error::<T>::PayoutFailed.into()
			})
	}

	/// Whether `who` owns an agent that actively serves `model` as an executor.
	fn serves_as_executor(who: &T::AccountId, model: &ModelId) -> bool {
		T::AgentRegistry::agent_of(who).as_ref() == Some(who)
			&& T::AgentRegistry::is_active(who, Role::Executor, Some(model))
	}
}
